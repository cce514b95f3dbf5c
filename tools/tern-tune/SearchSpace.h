//===- SearchSpace.h - the candidates tern-tune measures for one shape and bucket ---*- C++ -*-===//
//
// For a weight of rows x cols and a batch bucket (1 token, or prefill calls of up to 8, 32, 128,
// 512): the generated multiply-add schedules (gemm_i2's GeneratorParams: row tiles, tiles per
// task, token group, unroll, prefetch), the generated lookup-table schedules of both layouts
// (gemm_lut's: tile row blocks, blocks per task, token group) and the library's variants of
// every family the target has (mad_i2, lut_tl1, lut_tl2). Each family packs its weights in its
// own layout: choosing a family chooses the packing.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_TOOLS_TERNTUNE_SEARCHSPACE_H
#define TERN_TOOLS_TERNTUNE_SEARCHSPACE_H

#include "passes/GeneratedKernels.h"

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace tern::tune {

struct Candidate {
  std::string name;    ///< what the harness runs: gen:<symbol>, i2:<v>, tl1:<v>, tl2:<v>
  std::string family;  ///< mad_i2, lut_tl1, lut_tl2
  std::string source;  ///< generated or library
  std::string variant; ///< the runtime variant (library) or the target's mad / decoder variant
  mlir::tern::MadSchedule schedule; ///< generated mad_i2
  mlir::tern::LutSchedule lut;      ///< generated lut_tl1 / lut_tl2
  std::optional<mlir::tern::GeneratedKernel> kernel; ///< generated candidates
  std::optional<mlir::tern::GeneratedKernel> tile;   ///< the MLIR tile of a generated LUT one
  bool isDefault = false; ///< what ternc uses without a database
  bool seed = false;      ///< a family's heuristic schedule: every first round measures it
  double us = 0;          ///< the last measurement (median per call)
  int rounds = 0;         ///< rounds it took part in
};

/// A generated candidate's schedule as GeneratorParams (the database's and journal's "params").
std::map<std::string, int64_t> scheduleParams(const Candidate &c);
/// And back, for the candidate's family (missing keys keep the defaults).
void setScheduleParams(Candidate &c, const std::map<std::string, int64_t> &params);
/// The token group the harness sends a generated candidate's calls in (1 for LUT pipelines,
/// which take any count).
int64_t harnessTokenGroup(const Candidate &c);
/// 0 for multiply-add (i2), 1 for tl1, 2 for tl2: the packing a generated candidate reads.
int harnessLayout(const Candidate &c);

/// Every candidate for (rows, cols, bucket) on `target`: the default first, then the other
/// generated schedules, then the library's variants.
std::vector<Candidate> searchSpace(const mlir::tern::TargetInfo &target, int64_t rows,
                                   int64_t cols, int64_t bucket);

/// The first round's candidates: the default, each family's heuristic schedule, the library's
/// variants and a seeded random sample of the other generated schedules, `count` in all (at
/// least the default, the heuristics and the library).
std::vector<Candidate> sample(std::vector<Candidate> space, size_t count, std::mt19937 &rng);

} // namespace tern::tune

#endif
