//===- SearchSpace.h - the candidates tern-tune measures for one shape and bucket ---*- C++ -*-===//
//
// For a weight of rows x cols and a batch bucket (1 token, or prefill calls of up to 8, 32, 128,
// 512): the generated multiply-add schedules (gemm_i2's GeneratorParams: row tiles, tiles per
// task, token group, unroll, prefetch) and the library's variants of every family the target
// has (mad_i2, and the lookup-table families lut_tl1 / lut_tl2, whose weights are packed in
// their own layouts: choosing a family chooses the packing).
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_TOOLS_TERNTUNE_SEARCHSPACE_H
#define TERN_TOOLS_TERNTUNE_SEARCHSPACE_H

#include "passes/GeneratedKernels.h"

#include <optional>
#include <random>
#include <string>
#include <vector>

namespace tern::tune {

struct Candidate {
  std::string name;    ///< what the harness runs: gen:<symbol>, i2:<v>, tl1:<v>, tl2:<v>
  std::string family;  ///< mad_i2, lut_tl1, lut_tl2
  std::string source;  ///< generated or library
  std::string variant; ///< the runtime variant (library) or the target's mad variant
  mlir::tern::MadSchedule schedule;
  std::optional<mlir::tern::GeneratedKernel> kernel; ///< generated candidates
  bool isDefault = false; ///< what ternc uses without a database
  double us = 0;          ///< the last measurement (median per call)
  int rounds = 0;         ///< rounds it took part in
};

/// Every candidate for (rows, cols, bucket) on `target`: the default first, then the other
/// generated schedules, then the library's variants.
std::vector<Candidate> searchSpace(const mlir::tern::TargetInfo &target, int64_t rows,
                                   int64_t cols, int64_t bucket);

/// The first round's candidates: the default, the library's variants and a seeded random
/// sample of the other generated schedules, `count` in all (at least the default and library).
std::vector<Candidate> sample(std::vector<Candidate> space, size_t count, std::mt19937 &rng);

} // namespace tern::tune

#endif
