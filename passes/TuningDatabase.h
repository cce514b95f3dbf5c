//===- TuningDatabase.h - tern-tune's results, read by tern-select-kernels --------*- C++ -*-===//
//
// A versioned JSON file (docs/tuning.md):
//
//   {"format": "tern-tuning", "version": 1,
//    "cpu": {...CpuSignature...}, "target": "x86-64-avx512-vnni",
//    "kernels": [
//      {"op": "tern.bitlinear", "rows": 2560, "cols": 2560, "bucket": 1,
//       "family": "mad_i2", "variant": "x86_64_avx512vnni", "source": "generated",
//       "params": {"row_tiles": 4, "blocks_per_task": 1, "token_group": 1, "unroll": 2,
//                  "prefetch": 0},
//       "time_us": 41.2, "default_us": 47.9, "candidates": 18},
//      {"op": "tern.attention", "family": "generic", "variant": "generic"}]}
//
// An entry matches ops by name and, when given, the weight's rows and columns; "bucket" (1, 8,
// 32, 128, 512) names the batch bucket a generated kernel's schedule is for. "source" is
// "generated" (a kernel generated with params) or "library" (the prebuilt variant). The timing
// fields are the search's record; selection reads op, shape, bucket, family, variant, source and
// params.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_PASSES_TUNINGDATABASE_H
#define TERN_PASSES_TUNINGDATABASE_H

#include "passes/CpuSignature.h"

#include "llvm/Support/Error.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlir::tern {

struct TuningEntry {
  std::string op;
  std::optional<int64_t> rows, cols, bucket;
  std::string family, variant;
  std::string source = "library"; ///< "generated" or "library"
  std::map<std::string, int64_t> params;
  std::optional<double> timeUs, defaultUs;
  std::optional<int64_t> candidates;
};

struct TuningDatabase {
  static constexpr int64_t kVersion = 1;
  CpuSignature cpu;
  std::string target;
  std::vector<TuningEntry> kernels;

  /// Reads and checks a database; errors name the file and the field.
  static llvm::Expected<TuningDatabase> load(llvm::StringRef path);
  /// Writes it (atomically: a temporary file renamed over `path`).
  llvm::Error save(llvm::StringRef path) const;
};

} // namespace mlir::tern

#endif
