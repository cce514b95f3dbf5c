//===- GeneratedKernels.h - the kernels ternc generates per model, named once ----*- C++ -*-===//
//
// A bitlinear whose #tern.kernel carries batch-bucket schedules (`{t1 = {...}, t8 = {...}}`) runs
// kernels generated for its shape: one gemm_i2 pipeline per distinct schedule, emitted by
// tern-kernel-gen with the schedule as GeneratorParams. A quant_input that quantizes to fewer
// than 8 bits runs a quant_input pipeline generated for its bits. This file decides, for both
// ternc (which runs the generator) and tern-lower-to-runtime (which calls the kernels), what
// each kernel is and its symbol, so the two cannot disagree.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_PASSES_GENERATEDKERNELS_H
#define TERN_PASSES_GENERATEDKERNELS_H

#include "dialects/tern/TernOps.h"
#include "passes/Targets.h"

#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlir::tern {

/// The batch buckets of a generated GEMM: decode (1 token), then prefill calls of up to 8, 32,
/// 128 and 512 tokens (the last also takes larger calls).
inline constexpr int64_t kBatchBuckets[] = {1, 8, 32, 128, 512};

/// One bucket's schedule: gemm_i2's GeneratorParams (codegen/kernels/gemm_i2_generator.cpp).
struct MadSchedule {
  int64_t rowTiles = 4;      ///< 16-row tiles whose accumulators stay in registers together
  int64_t blocksPerTask = 1; ///< groups of rowTiles per parallel task
  int64_t tokenGroup = 1;    ///< tokens sharing each unpacked weight (1: the decode nest)
  int64_t unroll = 1;        ///< unroll of the loop over 16-column tiles
  int64_t prefetch = 0;      ///< weight prefetch distance in 16-column tiles (0: none)

  /// The library's schedule for a bucket on `target`: what ternc generates without a tuning
  /// database.
  static MadSchedule heuristic(int64_t bucket, const TargetInfo &target);
  /// As a #tern.kernel bucket dictionary, and back (the dialect verified its keys and values).
  DictionaryAttr toAttr(MLIRContext *ctx) const;
  static MadSchedule fromAttr(DictionaryAttr attr);
  bool operator==(const MadSchedule &o) const;
};

/// One bucket's schedule of a lookup-table kernel: gemm_lut's GeneratorParams
/// (codegen/kernels/gemm_lut_generator.cpp) and its tile's blocks per iteration.
struct LutSchedule {
  int64_t rowBlocks = 2;     ///< 64-row blocks sharing each table load in the tile
  int64_t blocksPerTask = 2; ///< 64-row blocks per parallel task
  int64_t tokenGroup = 1;    ///< tokens per call of the tile

  /// The library's schedule (gemm_lut_mlir.c): 2 blocks per iteration and per task.
  static LutSchedule heuristic(int64_t bucket);
  DictionaryAttr toAttr(MLIRContext *ctx) const;
  static LutSchedule fromAttr(DictionaryAttr attr);
  bool operator==(const LutSchedule &o) const;
};

/// The bucket dictionary's name: t1, t8, ...
std::string bucketName(int64_t bucket);

/// A kernel ternc generates. A Halide pipeline: `tern-kernel-gen -g <generator> -f <symbol>
/// target=<target> <params...>`; an MLIR tile: `tern-ukernel-gen --kernel=<generator>
/// --symbol=<symbol> <params...>`.
struct GeneratedKernel {
  enum class Tool { Halide, Mlir };
  std::string symbol;
  std::string generator;
  std::string target;              ///< Halide's target string, "-no_runtime" appended
  std::vector<std::string> params; ///< key=value GeneratorParams, or tern-ukernel-gen flags
  Tool tool = Tool::Halide;
};

/// One bucket of a generated bitlinear: calls of up to maxTokens tokens. A lookup-table kernel
/// is a Halide pipeline (`kernel`) calling an MLIR tile (`tile`).
struct GeneratedBucket {
  int64_t maxTokens;
  int64_t tokenGroup;
  GeneratedKernel kernel;
  std::optional<GeneratedKernel> tile;
};

/// The generated multiply-add kernel for a rows x cols weight with `schedule` (tern-tune builds
/// its candidates with this too): a gemm_i2 pipeline, or, where the target has multiply-add
/// tiles (Targets.h, madTileIsa), a gemm_mad pipeline and the tile it calls.
std::pair<GeneratedKernel, std::optional<GeneratedKernel>>
madKernel(const TargetInfo &target, int64_t rows, int64_t cols, const MadSchedule &schedule);

/// A gemm_lut pipeline for a rows x cols weight in `layout` (tl1 or tl2) and the tile it calls;
/// empty if the target has no LUT tiles (Targets.h, lutIsa).
std::optional<std::pair<GeneratedKernel, GeneratedKernel>>
lutKernel(const TargetInfo &target, llvm::StringRef layout, int64_t rows, int64_t cols,
          const LutSchedule &schedule);

/// The buckets of a bitlinear whose tern.kernel asks for generated kernels, in bucket order;
/// empty if it runs a library kernel.
std::vector<GeneratedBucket> bitlinearBuckets(BitLinearOp op, const TargetInfo &target);

/// The generated kernel of a quant_input with bits != 8, if it has one.
std::optional<GeneratedKernel> quantInputKernel(QuantInputOp op, const TargetInfo &target);

/// Every distinct kernel the module's ops need generated (its tern.target decides the ISA).
std::vector<GeneratedKernel> collectGeneratedKernels(ModuleOp module);

} // namespace mlir::tern

#endif
