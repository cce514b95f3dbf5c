//===- Results.h - what a tuning run measured, and what it decides ---------------*- C++ -*-===//
//
// Every (shape, bucket) a run measures is appended to a journal beside the database
// (<db>.journal.jsonl, one JSON object a line: every candidate's time), so an interrupted run
// resumes where it stopped and the reports can show every candidate. The database is derived
// from the journal: per shape, the family (one packing per weight), then per bucket the best
// schedule.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_TOOLS_TERNTUNE_RESULTS_H
#define TERN_TOOLS_TERNTUNE_RESULTS_H

#include "passes/TuningDatabase.h"
#include "tools/tern-tune/SearchSpace.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace tern::tune {

/// One (shape, bucket) measured: every candidate with its last time.
struct GroupResult {
  int64_t rows = 0, cols = 0, bucket = 0;
  std::vector<Candidate> candidates; ///< best first
  double defaultUs = 0;              ///< the default, measured in the final round
  const Candidate &best() const { return candidates.front(); }
};

/// The journal's groups measured for this CPU and target (others are ignored: a journal of
/// another machine does not resume here).
llvm::Expected<std::vector<GroupResult>> readJournal(llvm::StringRef path,
                                                      llvm::StringRef cpuKey,
                                                      llvm::StringRef target);
llvm::Error appendJournal(llvm::StringRef path, llvm::StringRef cpuKey, llvm::StringRef target,
                          const GroupResult &group);

/// The database entries the groups decide, per shape: the family and source (generated or
/// library) of the decode bucket's winner (a weight has one packing for every bucket), then,
/// for a generated kernel, each bucket's winning schedule.
std::vector<mlir::tern::TuningEntry> decide(const std::vector<GroupResult> &groups);

/// <db>.report.md (best against default per shape and bucket) and <db>.svg (every candidate's
/// time relative to the default, per shape and bucket).
llvm::Error writeReports(llvm::StringRef dbPath, const std::vector<GroupResult> &groups,
                         const std::vector<mlir::tern::TuningEntry> &entries,
                         llvm::StringRef cpuKey, llvm::StringRef target);

} // namespace tern::tune

#endif
