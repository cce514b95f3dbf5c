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
};

/// The target called `name`, or null ("host" is resolved with hostTargetName first).
const TargetInfo *lookupTarget(llvm::StringRef name);

/// The best target the compiling machine runs (LLVM's view of the host's features).
std::string hostTargetName();

} // namespace mlir::tern

#endif
