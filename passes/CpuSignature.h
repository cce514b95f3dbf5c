//===- CpuSignature.h - which CPU a tuning database was measured on --------------*- C++ -*-===//
//
// tern-tune measures kernels on one CPU and records it; ternc --tuning refuses a database of
// another CPU (unless --force), because the winners of a search depend on the core, its ISA and
// its caches. The signature is what decides that: vendor, family and model, the ISA features
// tern's kernels use, and the cache sizes.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_PASSES_CPUSIGNATURE_H
#define TERN_PASSES_CPUSIGNATURE_H

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace mlir::tern {

struct CpuSignature {
  std::string vendor;                ///< "AuthenticAMD", "GenuineIntel", "ARM", ...
  std::string name;                  ///< the model name, for people (not compared)
  int64_t family = -1, model = -1;   ///< x86 family/model; aarch64 implementer/part
  std::vector<std::string> features; ///< the kernel-relevant ISA features, sorted
  int64_t l1d = 0, l2 = 0, l3 = 0;   ///< data cache sizes in bytes (0: unknown)

  /// The machine this runs on.
  static CpuSignature host();
  /// One line that compares equal exactly when two signatures match:
  /// "AuthenticAMD family 26 model 2 [avx2 avx512bw ...] L1d 48K L2 1024K L3 32768K".
  std::string key() const;

  llvm::json::Value toJSON() const;
  /// From a database's "cpu" object; errors say which field is wrong.
  static llvm::Expected<CpuSignature> fromJSON(const llvm::json::Value &value);
};

} // namespace mlir::tern

#endif
