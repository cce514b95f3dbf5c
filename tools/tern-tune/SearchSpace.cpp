//===- SearchSpace.cpp - the candidates tern-tune measures for one shape and bucket -----------===//
#include "tools/tern-tune/SearchSpace.h"

#include <algorithm>
#include <tuple>

using namespace tern::tune;
using mlir::tern::LutSchedule;
using mlir::tern::MadSchedule;
using mlir::tern::TargetInfo;

std::vector<Candidate> tern::tune::searchSpace(const TargetInfo &target, int64_t rows,
                                               int64_t cols, int64_t bucket) {
  std::vector<Candidate> space;
  bool generic = target.name == "generic";
  // What ternc does without a database: the library variant where generation is not the
  // default, else the heuristic schedule generated.
  bool generatedDefault = target.generatesMad;
  MadSchedule heuristic = MadSchedule::heuristic(bucket, target);
  auto generated = [&](const MadSchedule &s) {
    Candidate c;
    c.family = "mad_i2", c.source = "generated", c.variant = target.madVariant.str();
    c.schedule = s;
    std::tie(c.kernel, c.tile) = mlir::tern::madKernel(target, rows, cols, s);
    c.name = "gen:" + c.kernel->symbol;
    c.isDefault = generatedDefault && s == heuristic;
    c.seed = s == heuristic;
    return c;
  };
  if (!generic && target.madVariant != "dispatch") {
    space.push_back(generated(heuristic));
    std::vector<int64_t> groups = bucket == 1 ? std::vector<int64_t>{1}
                                              : std::vector<int64_t>{1, 2, 4, 8};
    std::vector<int64_t> blocks = bucket == 1 ? std::vector<int64_t>{1, 2, 4, 8}
                                              : std::vector<int64_t>{1, 2};
    std::vector<int64_t> unrolls = bucket == 1 ? std::vector<int64_t>{1, 2, 4}
                                               : std::vector<int64_t>{1, 2};
    std::vector<int64_t> prefetches = bucket == 1 ? std::vector<int64_t>{0, 4, 16}
                                                  : std::vector<int64_t>{0, 8};
    for (int64_t group : groups)
      for (int64_t rowTiles : {1, 2, 4})
        for (int64_t b : blocks)
          for (int64_t unroll : unrolls)
            for (int64_t prefetch : prefetches) {
              // More accumulators than registers only spills: at most 16 vector accumulators
              // (the AVX2 tile holds a row tile in two ymm halves).
              int64_t halves = target.madTileIsa == "avx2" ? 2 : 1;
              if (group > bucket || rowTiles * group * halves > 16)
                continue;
              MadSchedule s{rowTiles, b, group, unroll, prefetch};
              if (!(s == heuristic))
                space.push_back(generated(s));
            }
  }
  // Generated lookup-table pipelines of both layouts (where the target has LUT tiles).
  if (!target.lutIsa.empty()) {
    for (const char *layout : {"tl1", "tl2"}) {
      auto lut = [&](const LutSchedule &s) {
        Candidate c;
        c.family = std::string("lut_") + layout, c.source = "generated";
        c.variant = target.decoderVariant.str();
        c.lut = s;
        c.seed = s == LutSchedule::heuristic(bucket);
        auto kernels = mlir::tern::lutKernel(target, layout, rows, cols, s);
        c.kernel = kernels->first, c.tile = kernels->second;
        c.name = "gen:" + c.kernel->symbol;
        return c;
      };
      std::vector<int64_t> groups = bucket == 1 ? std::vector<int64_t>{1}
                                                : std::vector<int64_t>{1, 2, 4};
      for (int64_t rowBlocks : {1, 2, 4})
        for (int64_t blocks : {1, 2, 4, 8})
          for (int64_t group : groups)
            if (blocks >= rowBlocks) // fewer blocks per task never fill the tile's step
              space.push_back(lut(LutSchedule{rowBlocks, blocks, group}));
    }
  }
  auto library = [&](const char *prefix, const char *family, llvm::StringRef variant,
                     bool isDefault) {
    Candidate c;
    c.family = family, c.source = "library", c.variant = variant.str();
    c.name = std::string(prefix) + ":" + c.variant;
    c.isDefault = isDefault;
    space.push_back(c);
  };
  if (target.madVariant != "dispatch") {
    library("i2", "mad_i2", target.madVariant, !generatedDefault);
    if (!generic) {
      library("tl1", "lut_tl1", target.decoderVariant, false);
      library("tl2", "lut_tl2", target.decoderVariant, false);
    }
  }
  return space;
}

std::map<std::string, int64_t> tern::tune::scheduleParams(const Candidate &c) {
  if (c.family == "mad_i2")
    return {{"row_tiles", c.schedule.rowTiles},
            {"blocks_per_task", c.schedule.blocksPerTask},
            {"token_group", c.schedule.tokenGroup},
            {"unroll", c.schedule.unroll},
            {"prefetch", c.schedule.prefetch}};
  return {{"row_blocks", c.lut.rowBlocks},
          {"blocks_per_task", c.lut.blocksPerTask},
          {"token_group", c.lut.tokenGroup}};
}

void tern::tune::setScheduleParams(Candidate &c, const std::map<std::string, int64_t> &params) {
  auto get = [&](const char *key, int64_t &into) {
    auto it = params.find(key);
    if (it != params.end())
      into = it->second;
  };
  if (c.family == "mad_i2") {
    get("row_tiles", c.schedule.rowTiles);
    get("blocks_per_task", c.schedule.blocksPerTask);
    get("token_group", c.schedule.tokenGroup);
    get("unroll", c.schedule.unroll);
    get("prefetch", c.schedule.prefetch);
  } else {
    get("row_blocks", c.lut.rowBlocks);
    get("blocks_per_task", c.lut.blocksPerTask);
    get("token_group", c.lut.tokenGroup);
  }
}

int64_t tern::tune::harnessTokenGroup(const Candidate &c) {
  return c.family == "mad_i2" ? std::max<int64_t>(c.schedule.tokenGroup, 1) : 1;
}

int tern::tune::harnessLayout(const Candidate &c) {
  return c.family == "lut_tl1" ? 1 : c.family == "lut_tl2" ? 2 : 0;
}

std::vector<Candidate> tern::tune::sample(std::vector<Candidate> space, size_t count,
                                          std::mt19937 &rng) {
  std::vector<Candidate> kept, rest;
  for (Candidate &c : space)
    (c.isDefault || c.seed || c.source == "library" ? kept : rest).push_back(std::move(c));
  std::shuffle(rest.begin(), rest.end(), rng);
  for (Candidate &c : rest) {
    if (kept.size() >= count)
      break;
    kept.push_back(std::move(c));
  }
  return kept;
}
