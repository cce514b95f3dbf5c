//===- GeneratedKernels.cpp - the kernels ternc generates per model, named once ---------------===//
#include "passes/GeneratedKernels.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/xxhash.h"

using namespace mlir;
using namespace mlir::tern;

MadSchedule MadSchedule::heuristic(int64_t bucket, const TargetInfo &target) {
  // The library's schedules: 64 rows per task, and groups of 4 tokens for prefill
  // (gemm_i2_generator.cpp's defaults). The vpmaddubsw micro-kernels' GEMM steps 1 row tile
  // by 4 tokens (gemm_i2_mlir.c): 4 x 4 would need more accumulators than AVX2 has registers.
  MadSchedule s;
  s.tokenGroup = bucket == 1 ? 1 : 4;
  if (!target.madTileIsa.empty() && bucket > 1)
    s.rowTiles = 1, s.blocksPerTask = 4;
  return s;
}

DictionaryAttr MadSchedule::toAttr(MLIRContext *ctx) const {
  Builder b(ctx);
  auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
  SmallVector<NamedAttribute> attrs{b.getNamedAttr("blocks_per_task", i64(blocksPerTask)),
                                    b.getNamedAttr("prefetch", i64(prefetch)),
                                    b.getNamedAttr("row_tiles", i64(rowTiles)),
                                    b.getNamedAttr("token_group", i64(tokenGroup)),
                                    b.getNamedAttr("unroll", i64(unroll))};
  return b.getDictionaryAttr(attrs);
}

MadSchedule MadSchedule::fromAttr(DictionaryAttr attr) {
  MadSchedule s;
  auto get = [&](StringRef key, int64_t &into) {
    if (auto v = attr.getAs<IntegerAttr>(key))
      into = v.getInt();
  };
  get("row_tiles", s.rowTiles);
  get("blocks_per_task", s.blocksPerTask);
  get("token_group", s.tokenGroup);
  get("unroll", s.unroll);
  get("prefetch", s.prefetch);
  return s;
}

bool MadSchedule::operator==(const MadSchedule &o) const {
  return rowTiles == o.rowTiles && blocksPerTask == o.blocksPerTask &&
         tokenGroup == o.tokenGroup && unroll == o.unroll && prefetch == o.prefetch;
}

LutSchedule LutSchedule::heuristic(int64_t bucket) {
  (void)bucket;
  return LutSchedule();
}

DictionaryAttr LutSchedule::toAttr(MLIRContext *ctx) const {
  Builder b(ctx);
  auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
  SmallVector<NamedAttribute> attrs{b.getNamedAttr("blocks_per_task", i64(blocksPerTask)),
                                    b.getNamedAttr("row_blocks", i64(rowBlocks)),
                                    b.getNamedAttr("token_group", i64(tokenGroup))};
  return b.getDictionaryAttr(attrs);
}

LutSchedule LutSchedule::fromAttr(DictionaryAttr attr) {
  LutSchedule s;
  auto get = [&](StringRef key, int64_t &into) {
    if (auto v = attr.getAs<IntegerAttr>(key))
      into = v.getInt();
  };
  get("row_blocks", s.rowBlocks);
  get("blocks_per_task", s.blocksPerTask);
  get("token_group", s.tokenGroup);
  return s;
}

bool LutSchedule::operator==(const LutSchedule &o) const {
  return rowBlocks == o.rowBlocks && blocksPerTask == o.blocksPerTask &&
         tokenGroup == o.tokenGroup;
}

std::string mlir::tern::bucketName(int64_t bucket) { return "t" + std::to_string(bucket); }

/// The kernel's symbol: its generator and a hash of everything that shapes its code.
static GeneratedKernel named(std::string generator, std::string target,
                             std::vector<std::string> params) {
  std::string key = generator + "|" + target;
  for (const std::string &p : params)
    key += "|" + p;
  uint64_t hash = llvm::xxh3_64bits(key);
  std::string symbol = llvm::formatv("tern_gen_{0}_{1:x-16}", generator, hash).str();
  return {symbol, std::move(generator), target + "-no_runtime", std::move(params)};
}

std::pair<GeneratedKernel, std::optional<GeneratedKernel>>
mlir::tern::madKernel(const TargetInfo &target, int64_t rows, int64_t cols, const MadSchedule &s) {
  if (!target.madTileIsa.empty()) {
    // The vpmaddubsw tile specialized for the shape, its step and inner loop; the pipeline
    // splits tasks and token groups around it.
    std::string tileKernel = "mad_tile_" + target.madTileIsa.str();
    GeneratedKernel tile =
        named("mad_tile", tileKernel,
              {"--rows=" + std::to_string(rows), "--cols=" + std::to_string(cols),
               "--row-tiles=" + std::to_string(s.rowTiles),
               "--tokens=" + std::to_string(std::max<int64_t>(s.tokenGroup, 1)),
               "--prefetch=" + std::to_string(s.prefetch),
               "--unroll=" + std::to_string(s.unroll)});
    tile.generator = tileKernel;
    tile.target.clear();
    tile.tool = GeneratedKernel::Tool::Mlir;
    GeneratedKernel pipeline = named(
        "gemm_mad", target.halideTarget.str(),
        {"tile=" + tile.symbol, "rows=" + std::to_string(rows), "cols=" + std::to_string(cols),
         "row_tiles=" + std::to_string(s.rowTiles),
         "blocks_per_task=" + std::to_string(s.blocksPerTask),
         "token_group=" + std::to_string(std::max<int64_t>(s.tokenGroup, 1))});
    return {std::move(pipeline), std::move(tile)};
  }
  std::vector<std::string> params{
      "schedule=" + std::string(s.tokenGroup > 1 ? "gemm" : "gemv"),
      "rows=" + std::to_string(rows),
      "cols=" + std::to_string(cols),
      "row_tiles=" + std::to_string(s.rowTiles),
      "blocks_per_task=" + std::to_string(s.blocksPerTask),
      "token_group=" + std::to_string(std::max<int64_t>(s.tokenGroup, 1)),
      "unroll=" + std::to_string(s.unroll),
      "prefetch=" + std::to_string(s.prefetch)};
  if (!target.madParams.empty())
    params.push_back(target.madParams.str());
  return {named("gemm_i2", target.halideTarget.str(), std::move(params)), std::nullopt};
}

std::optional<std::pair<GeneratedKernel, GeneratedKernel>>
mlir::tern::lutKernel(const TargetInfo &target, llvm::StringRef layout, int64_t rows,
                      int64_t cols, const LutSchedule &s) {
  if (target.lutIsa.empty())
    return std::nullopt;
  // The tile: tern-ukernel-gen's kernel name (layout and ISA) stands where a Halide target
  // would, in the hash and in the command.
  std::string tileKernel = "lut_tile_" + layout.str() + "_" + target.lutIsa.str();
  GeneratedKernel tile = named("lut_tile", tileKernel,
                               {"--rows=" + std::to_string(rows), "--cols=" + std::to_string(cols),
                                "--row-blocks=" + std::to_string(s.rowBlocks)});
  tile.generator = tileKernel;
  tile.target.clear();
  tile.tool = GeneratedKernel::Tool::Mlir;
  GeneratedKernel pipeline =
      named("gemm_lut", target.halideTarget.str(),
            {"layout=" + layout.str(), "tile=" + tile.symbol, "rows=" + std::to_string(rows),
             "cols=" + std::to_string(cols), "blocks_per_task=" + std::to_string(s.blocksPerTask),
             "token_group=" + std::to_string(s.tokenGroup)});
  return std::make_pair(std::move(pipeline), std::move(tile));
}

std::vector<GeneratedBucket> mlir::tern::bitlinearBuckets(BitLinearOp op,
                                                          const TargetInfo &target) {
  std::vector<GeneratedBucket> buckets;
  auto kernel = op->getAttrOfType<KernelAttr>("tern.kernel");
  if (!kernel)
    return buckets;
  StringRef family = kernel.getFamily().getValue();
  auto weight = cast<TernaryWeightTypeInterface>(op.getWeight().getType());
  if (family == "lut_tl1" || family == "lut_tl2") {
    for (int64_t bucket : kBatchBuckets) {
      auto dict = kernel.getParams().getAs<DictionaryAttr>(bucketName(bucket));
      if (!dict)
        continue;
      LutSchedule s = LutSchedule::fromAttr(dict);
      auto kernels = lutKernel(target, family.drop_front(4), weight.getRows(), weight.getCols(), s);
      if (!kernels)
        return {};
      // The pipeline takes any number of tokens (its token groups guard their tail).
      buckets.push_back({bucket, 1, kernels->first, kernels->second});
    }
    return buckets;
  }
  if (family != "mad_i2")
    return buckets;
  for (int64_t bucket : kBatchBuckets) {
    auto dict = kernel.getParams().getAs<DictionaryAttr>(bucketName(bucket));
    if (!dict)
      continue;
    MadSchedule s = MadSchedule::fromAttr(dict);
    // A group-wise scaled weight runs its kernel once per group of columns.
    int64_t cols = op.getScaleGroup() ? op.getScaleGroup() : weight.getCols();
    auto [kernel, tile] = madKernel(target, weight.getRows(), cols, s);
    buckets.push_back({bucket, std::max<int64_t>(s.tokenGroup, 1), kernel, tile});
  }
  return buckets;
}

std::optional<GeneratedKernel> mlir::tern::quantInputKernel(QuantInputOp op,
                                                            const TargetInfo &target) {
  if (op.getBits() == 8)
    return std::nullopt;
  return named("quant_input", target.halideTarget.str(),
               {"bits=" + std::to_string(op.getBits())});
}

std::vector<GeneratedKernel> mlir::tern::collectGeneratedKernels(ModuleOp module) {
  std::vector<GeneratedKernel> kernels;
  auto targetAttr = module->getAttrOfType<StringAttr>("tern.target");
  const TargetInfo *target = targetAttr ? lookupTarget(targetAttr.getValue()) : nullptr;
  if (!target)
    return kernels;
  llvm::StringSet<> seen;
  auto add = [&](const GeneratedKernel &k) {
    if (seen.insert(k.symbol).second)
      kernels.push_back(k);
  };
  module.walk([&](Operation *op) {
    if (auto b = dyn_cast<BitLinearOp>(op))
      for (const GeneratedBucket &bucket : bitlinearBuckets(b, *target)) {
        add(bucket.kernel);
        if (bucket.tile)
          add(*bucket.tile);
      }
    if (auto q = dyn_cast<QuantInputOp>(op))
      if (std::optional<GeneratedKernel> k = quantInputKernel(q, *target))
        add(*k);
  });
  return kernels;
}
