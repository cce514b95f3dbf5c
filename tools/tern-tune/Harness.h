//===- Harness.h - time a round of candidates in a process linked for it ---------*- C++ -*-===//
//
// A round links the timing harness (tune_harness.c, built into lib/tern/<arch>/) with the
// runtime archive, the round's generated kernel objects and a table naming them, runs it once
// and reads one timing line per candidate. The harness is the runtime's code, not the
// compiler's: candidates are timed on the thread pool and buffer wrappers a compiled model uses.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_TOOLS_TERNTUNE_HARNESS_H
#define TERN_TOOLS_TERNTUNE_HARNESS_H

#include "tools/common/Link.h"
#include "tools/tern-tune/SearchSpace.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace tern::tune {

struct HarnessSetup {
  std::string linker;     ///< clang driver
  std::string runtimeDir; ///< lib/tern
  tern::driver::Platform platform;
  std::string workDir; ///< scratch folder of the run
  bool verbose = false;
};

/// Times `candidates` (their `us` is set; one listed twice is timed twice, interleaved, and gets
/// the mean) on rows x cols with `tokens` tokens; `objects` are the generated candidates'
/// objects. Each candidate gets
/// `reps` calls (more while its timings are noisy), at most about `maxMs` of them.
llvm::Error runRound(const HarnessSetup &setup, int64_t rows, int64_t cols, int64_t tokens,
                     int64_t reps, double maxMs, std::vector<Candidate *> &candidates,
                     const std::vector<std::string> &objects);

} // namespace tern::tune

#endif
