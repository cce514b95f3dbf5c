//===- gemm_mad_generator.cpp - Halide schedule around the vpmaddubsw multiply-add tile -------===//
//
// The multiply-add ternary GEMM/GEMV of gemm_i2_generator.cpp (same algorithm, layout and buffer
// ABI) for ISAs whose instruction Halide 14 cannot emit: on AVX2 and AVX-512 without VNNI the
// u8 x i8 dot product is vpmaddubsw + vpmaddwd, which Halide lowers to widening multiplies and
// shuffles (1.5x slower decode, 2.7x slower prefill, docs/kernels.md). So the tile body is the
// MLIR micro-kernel (codegen/ukernels/MadI2Avx2.cpp, madTileMlir), specialized for the shape by
// tern-ukernel-gen --kernel=mad_tile_<isa>, and Halide schedules the rest:
//
//   xq(k, t)             the activations, a stage so the tile can answer bounds queries;
//   xsum(t)              each token's sum(x), the correction of the codes' +1 offset;
//   tile(r, nt, t)       an extern stage: sum(code * x) over a region of row tiles and tokens;
//   acc(r, nt, t) = tile(r, nt, t) - xsum(t), split into parallel tasks of
//                        row_tiles * blocks_per_task row tiles and token groups of token_group
//                        tokens (a task runs every group over its rows, so its weights come
//                        from memory once).
//
// row_tiles, token_group, prefetch and unroll shape the tile (ternc passes them to both
// generators); blocks_per_task and token_group the loop nest here. The caller sends whole token
// groups (tern_gemm_i2_buckets), as to gemm_i2's GEMM.
//
//===------------------------------------------------------------------------------------------===//
#include "Halide.h"

using namespace Halide;

namespace {

void require(bool ok, const std::string &message) {
  if (!ok)
    throw CompileError(message);
}

class GemmMad : public Generator<GemmMad> {
public:
  /// The extern tile's symbol (tern-ukernel-gen --kernel=mad_tile_<isa>).
  GeneratorParam<std::string> tile_symbol{"tile", ""};
  /// 16-row tiles per step of the tile (the row split must be a multiple of it).
  GeneratorParam<int> row_tiles{"row_tiles", 4};
  /// Groups of row_tiles tiles per parallel task.
  GeneratorParam<int> blocks_per_task{"blocks_per_task", 1};
  /// Tokens per call of the tile (its step).
  GeneratorParam<int> token_group{"token_group", 1};
  /// The shape (required: the tile is specialized for it).
  GeneratorParam<int> rows{"rows", 0};
  GeneratorParam<int> cols{"cols", 0};

  Input<Buffer<uint8_t, 3>> w{"w"};      // (j: 64, kt, nt)
  Input<Buffer<int8_t, 2>> x{"x"};       // (k: k_tiles * 16, t)
  Output<Buffer<int32_t, 3>> acc{"acc"}; // (r: 16, nt, t)

  void generate() {
    require(!std::string(tile_symbol).empty(), "gemm_mad: tile (the extern symbol) is required");
    require(row_tiles == 1 || row_tiles == 2 || row_tiles == 4,
            "gemm_mad: row_tiles must be 1, 2 or 4, not " + std::to_string(row_tiles));
    require(blocks_per_task >= 1 && blocks_per_task <= 64,
            "gemm_mad: blocks_per_task must be in [1, 64], not " +
                std::to_string(blocks_per_task));
    require(token_group >= 1 && token_group <= 8,
            "gemm_mad: token_group must be in [1, 8], not " + std::to_string(token_group));
    require(rows >= 1 && cols >= 1, "gemm_mad: rows and cols (the shape) are required");
    Var k("k"), r("r"), nt("nt"), t("t");
    int kTiles = (cols + 15) / 16;
    xq(k, t) = x(k, t);
    RDom rk(0, kTiles * 16, "rk");
    xsum(t) += cast<int32_t>(xq(rk, t));
    tile.define_extern(tile_symbol, {w, xq}, Int(32), {r, nt, t}, NameMangling::C);
    acc(r, nt, t) = tile(r, nt, t) - xsum(t);
    rVar = r, ntVar = nt, tVar = t, kVar = k, sumDom = rk;
  }

  void schedule() {
    int kTiles = (cols + 15) / 16, nTiles = (rows + 63) / 64 * 4;
    w.dim(0).set_bounds(0, 64).set_stride(1);
    w.dim(1).set_bounds(0, kTiles).set_stride(64);
    w.dim(2).set_bounds(0, nTiles).set_stride(64 * kTiles);
    x.dim(0).set_min(0).set_stride(1);
    x.dim(1).set_min(0);
    acc.dim(0).set_bounds(0, 16).set_stride(1);
    acc.dim(1).set_bounds(0, nTiles).set_stride(16);
    acc.dim(2).set_min(0);

    Var r = rVar, nt = ntVar, t = tVar, task("task"), nti("nti"), to("to"), ti("ti");
    acc.split(nt, task, nti, int(row_tiles) * int(blocks_per_task), TailStrategy::GuardWithIf)
        .split(t, to, ti, token_group, TailStrategy::GuardWithIf)
        .reorder(r, nti, ti, to, task)
        .vectorize(r)
        .parallel(task);
    tile.compute_at(acc, to);
    xq.compute_root().vectorize(kVar, 64, TailStrategy::GuardWithIf);
    xsum.compute_root();
    xsum.update().atomic().vectorize(sumDom.x, 64, TailStrategy::GuardWithIf);
  }

private:
  Func xq{"xq"}, xsum{"xsum"}, tile{"tile"};
  Var rVar, ntVar, tVar, kVar;
  RDom sumDom;
};

} // namespace

HALIDE_REGISTER_GENERATOR(GemmMad, gemm_mad)
