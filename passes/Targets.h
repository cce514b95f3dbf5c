//===- Targets.h - what each ternc --target means, in one table ---------------------*- C++ -*-===//
//
// A target names the runtime variants its ops call (tern-select-kernels), the CPU features
// those kernels need (checked by the program at start; tern-lower-to-runtime records them), and
// how its code is generated and linked (ternc).
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_PASSES_TARGETS_H
#define TERN_PASSES_TARGETS_H

#include "tern/cpu.h"

#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::tern {

struct TargetInfo {
  llvm::StringRef name;           ///< as --target spells it
  llvm::StringRef madVariant;     ///< the multiply-add table's variant ("dispatch": at run time)
  llvm::StringRef decoderVariant; ///< the decoder table's variant
  tern_cpu_features_t features;   ///< what its kernels need (0: anything of its architecture)
  llvm::StringRef triple, cpu;    ///< the graph code's LLVM target
  llvm::StringRef arch;           ///< the runtime archive's folder (lib/tern/<arch>/)
  /// Halide's target for the kernels ternc generates per model (tern-kernel-gen target=...;
  /// every implied feature listed, ../docs/kernels.md). A target without one ISA
  /// (x86-64-multi, generic) gets its architecture's baseline: only the kernels the library
  /// lacks (quant_input with bits != 8) are generated for it.
  llvm::StringRef halideTarget;
  /// Whether the multiply-add kernels are generated per model by default (no tuning database):
  /// on every single-ISA target, where the generated kernel with the heuristic schedule is the
  /// library's algorithm and schedule specialized for the shape (Halide's nest, or on AVX2 and
  /// AVX-512 without VNNI a Halide schedule around the vpmaddubsw tile, madTileIsa).
  bool generatesMad;
  /// Extra GeneratorParams of this ISA's gemm_i2 kernels (sdot's signed weights on aarch64).
  llvm::StringRef madParams;
  /// The ISA of the lookup-table tiles ternc generates (tern-ukernel-gen lut_tile_<layout>_<isa>:
  /// avx2, avx512 or neon); empty where the LUT family runs only the library's kernels.
  llvm::StringRef lutIsa;
  /// The ISA of the multiply-add tiles (tern-ukernel-gen mad_tile_<isa>: avx2, avx512) where a
  /// generated mad_i2 kernel is a Halide schedule around the vpmaddubsw micro-kernel rather
  /// than Halide's own nest; empty where Halide's nest is the kernel (VNNI, aarch64).
  llvm::StringRef madTileIsa;
};

/// The target called `name`, or null ("host" is resolved with hostTargetName first).
const TargetInfo *lookupTarget(llvm::StringRef name);

/// The best target the compiling machine runs (LLVM's view of the host's features).
std::string hostTargetName();

} // namespace mlir::tern

#endif
