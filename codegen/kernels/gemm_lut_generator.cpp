//===- gemm_lut_generator.cpp - Halide schedule of the lookup-table ternary GEMM/GEMV ---------===//
//
// acc[t][n] = sum_k W[n][k] x[t][k] with W in the tl1 or tl2 layout of tern/lut_kernels.h, for
// one rows x cols weight. Halide 14 cannot emit the table lookups (pshufb / tbl become gathers),
// so the pipeline splits the work the way T-MAC does and leaves only the tile body to MLIR:
//
//   tables(e, plane, g, t)  per token, the 16 int16 dot products of group g's activations with
//                           every pattern, as a low-byte and a high-byte plane (a Halide stage);
//   tile(n, t)              an extern stage: the MLIR micro-kernel specialized for this shape
//                           (codegen/ukernels/GemvLut.cpp, lutTileMlir), called on whole 64-row
//                           blocks and a group of tokens;
//   acc(n, t) = tile(n, t)  scheduled: blocks_per_task blocks per parallel task, token_group
//                           tokens per call, every token of a task before the next task, so a
//                           task's weights come from memory once.
//
// The schedule's knobs are GeneratorParams (docs/tuning.md): ternc generates one per model shape
// and batch bucket from the op's #tern.kernel, tern-tune searches them. `tile` names the extern
// symbol, which ternc emits with the same row_blocks (the micro-kernel's blocks per iteration).
//
//===------------------------------------------------------------------------------------------===//
#include "Halide.h"

using namespace Halide;

namespace {

void require(bool ok, const std::string &message) {
  if (!ok)
    throw CompileError(message);
}

class GemmLut : public Generator<GemmLut> {
public:
  /// tl1 (pairs of columns, 2 bits a weight) or tl2 (triples with a sign plane, 5/3 bits).
  GeneratorParam<std::string> layout{"layout", "tl1"};
  /// The extern tile's symbol (tern-ukernel-gen --kernel=lut_tile_<layout>_<isa>).
  GeneratorParam<std::string> tile_symbol{"tile", ""};
  /// 64-row blocks per parallel task (the parallel split; the last task may be short).
  GeneratorParam<int> blocks_per_task{"blocks_per_task", 2};
  /// Tokens per call of the tile (1..8): a call runs its tokens over the same weight rows.
  GeneratorParam<int> token_group{"token_group", 1};
  /// The shape (required: the tile is specialized for it): N rows and K columns of W.
  GeneratorParam<int> rows{"rows", 0};
  GeneratorParam<int> cols{"cols", 0};

  Input<Buffer<uint8_t, 1>> w{"w"};      // the packed blob
  Input<Buffer<int8_t, 2>> x{"x"};       // (k, t)
  Output<Buffer<int32_t, 2>> acc{"acc"}; // (n: rows padded to 64, t)

  void generate() {
    std::string kind = layout;
    require(kind == "tl1" || kind == "tl2", "gemm_lut: layout must be tl1 or tl2, not " + kind);
    require(!std::string(tile_symbol).empty(), "gemm_lut: tile (the extern symbol) is required");
    require(blocks_per_task >= 1 && blocks_per_task <= 64,
            "gemm_lut: blocks_per_task must be in [1, 64], not " +
                std::to_string(blocks_per_task));
    require(token_group >= 1 && token_group <= 8,
            "gemm_lut: token_group must be in [1, 8], not " + std::to_string(token_group));
    require(rows >= 1 && cols >= 1, "gemm_lut: rows and cols (the shape) are required");
    tl2 = kind == "tl2";
    int k = cols;
    Var e("e"), plane("plane"), g("g"), t("t"), n("n");
    // The activation of column c, 0 past K (the layouts pad K with zero weights).
    auto xa = [&](Expr c) {
      return select(c < k, cast<int16_t>(x(clamp(c, 0, k - 1), t)), cast<int16_t>(0));
    };
    // Entry e's pattern: tl1 e = 3 (w0 + 1) + (w1 + 1) for e < 9; tl2 the code 13 + e for
    // e < 14 (tern/lut_kernels.h). Unused entries are 0.
    Expr entry;
    if (!tl2) {
      Expr live = e < 9;
      Expr w0 = select(live, e / 3 - 1, 0), w1 = select(live, e % 3 - 1, 0);
      entry = cast<int16_t>(w0) * xa(2 * g) + cast<int16_t>(w1) * xa(2 * g + 1);
    } else {
      Expr live = e < 14, code = e + 13;
      Expr w0 = select(live, code / 9 - 1, 0), w1 = select(live, code / 3 % 3 - 1, 0),
           w2 = select(live, code % 3 - 1, 0);
      entry = cast<int16_t>(w0) * xa(3 * g) + cast<int16_t>(w1) * xa(3 * g + 1) +
              cast<int16_t>(w2) * xa(3 * g + 2);
    }
    Expr bits = reinterpret<uint16_t>(entry);
    tables(e, plane, g, t) =
        cast<uint8_t>(select(plane == 0, bits & cast<uint16_t>(0xFF), bits >> 8));
    tile.define_extern(tile_symbol, {w, tables}, Int(32), {n, t}, NameMangling::C);
    acc(n, t) = tile(n, t);
    nVar = n, tVar = t, eVar = e, planeVar = plane, gVar = g;
  }

  void schedule() {
    int k = cols, paddedRows = (rows + 63) / 64 * 64;
    int units = tl2 ? (k + 23) / 24 : (k + 3) / 4;
    int blob = paddedRows / 64 * units * (tl2 ? 320 : 64) + (tl2 ? paddedRows * 4 : 0);
    w.dim(0).set_bounds(0, blob).set_stride(1);
    x.dim(0).set_min(0).set_stride(1);
    x.dim(1).set_min(0);
    acc.dim(0).set_bounds(0, paddedRows).set_stride(1);
    acc.dim(1).set_min(0);

    Var n = nVar, t = tVar, task("task"), ri("ri"), to("to"), ti("ti");
    acc.split(n, task, ri, 64 * blocks_per_task, TailStrategy::GuardWithIf)
        .split(t, to, ti, token_group, TailStrategy::GuardWithIf)
        .reorder(ri, ti, to, task)
        .vectorize(ri, 16)
        .parallel(task);
    tile.compute_at(acc, to);
    // Every token's tables before the GEMM (a token's tables are 16 bytes a column).
    tables.compute_root()
        .reorder(eVar, planeVar, gVar, tVar)
        .bound(eVar, 0, 16)
        .bound(planeVar, 0, 2)
        .vectorize(eVar)
        .unroll(planeVar)
        .parallel(tVar);
  }

private:
  bool tl2 = false;
  Func tables{"tables"}, tile{"tile"};
  Var nVar, tVar, eVar, planeVar, gVar;
};

} // namespace

HALIDE_REGISTER_GENERATOR(GemmLut, gemm_lut)
