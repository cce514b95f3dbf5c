//===- gemm_i2_generator.cpp - Halide generator of the multiply-add ternary GEMM/GEMV ---------===//
//
// acc[t][n] = sum_k W[n][k] x[t][k] with W in the i2 layout of tern/kernels.h: tiles of 16 rows x
// 16 columns, 64 bytes, byte j holding in bits 2s..2s+1 the code W + 1 of row j / 4 and column
// 4 s + j % 4. Shifting a tile right by 2s and masking gives 16 rows x 4 consecutive columns of
// codes with the SAME shift for every lane, the operand layout of a 4-way dot product:
//
//   x86 (u8 x i8, vpdpbusd / vpmaddwd):  acc = sum(code * x) - sum(x)     (code = W + 1)
//   ARM (i8 x i8, sdot):                 acc = sum((code - 1) * x)
//
// The algorithm is written over explicit tile dimensions (lane r of 16, tile nt, token t) so no
// index needs a division; variants are GeneratorParams.
//
//===------------------------------------------------------------------------------------------===//
#include "Halide.h"

using namespace Halide;

namespace {

class GemmI2 : public Generator<GemmI2> {
public:
  /// gemv: decode (few tokens); parallel over row tiles. gemm: prefill; also tiles tokens.
  GeneratorParam<std::string> schedule_kind{"schedule", "gemv"};
  /// i8 x i8 products of W itself (ARM sdot) instead of u8 codes with the sum(x) correction.
  GeneratorParam<bool> signed_weights{"signed_weights", false};

  Input<Buffer<uint8_t, 3>> w{"w"};   // (j: 64, kt, nt)
  Input<Buffer<int8_t, 2>> x{"x"};    // (k: k_tiles * 16, t)
  Output<Buffer<int32_t, 3>> acc{"acc"}; // (r: 16, nt, t)

  void generate() {
    Var r("r"), nt("nt"), t("t");
    Expr kTiles = w.dim(1).extent();
    // Reduction over one 16 x 16 tile and across tiles: kk is the column within a group of 4,
    // s the group (the shift), kt the tile.
    RDom red(0, 4, 0, 4, 0, kTiles, "red");
    Expr kk = red.x, s = red.y, kt = red.z;
    Expr byte = w(kk + 4 * r, kt, nt);
    Expr code = (byte >> cast<uint8_t>(2 * s)) & cast<uint8_t>(3);
    Expr xv = x(kt * 16 + s * 4 + kk, t);
    if (signed_weights) {
      dot(r, nt, t) += cast<int32_t>(cast<int8_t>(code) - cast<int8_t>(1)) * cast<int32_t>(xv);
      acc(r, nt, t) = dot(r, nt, t);
    } else {
      dot(r, nt, t) += cast<int32_t>(code) * cast<int32_t>(xv);
      RDom rk(0, 4, 0, 4 * kTiles, "rk");
      xsum(t) += cast<int32_t>(x(rk.y * 4 + rk.x, t));
      acc(r, nt, t) = dot(r, nt, t) - xsum(t);
    }
    rVar = r;
    ntVar = nt;
    tVar = t;
    redDom = red;
  }

  void schedule() {
    // Dense layouts: 64-byte tiles, k_tiles per tile row; activations and accumulators rows.
    // Row tiles come in groups of 4 (the layout pads N to a multiple of 64).
    w.dim(0).set_bounds(0, 64).set_stride(1);
    w.dim(1).set_min(0).set_stride(64);
    w.dim(2).set_min(0).set_stride(64 * w.dim(1).extent());
    x.dim(0).set_min(0).set_stride(1);
    x.dim(1).set_min(0);
    acc.dim(0).set_bounds(0, 16).set_stride(1);
    acc.dim(1).set_min(0).set_stride(16);
    acc.dim(2).set_min(0);

    Var r = rVar, nt = ntVar, t = tVar;
    RVar kk = redDom.x, s = redDom.y, kt = redDom.z;
    Var nto("nto"), nti("nti");
    // Four row tiles (64 rows) per task: four independent accumulator chains per token.
    acc.split(nt, nto, nti, 4, TailStrategy::RoundUp).vectorize(r).unroll(nti).parallel(nto);
    if (std::string(schedule_kind) == "gemm") {
      // Four tokens share every unpacked code: 16 accumulators, 64 dot products per tile load.
      Var to("to"), ti("ti");
      acc.split(t, to, ti, 4, TailStrategy::RoundUp).reorder(r, nti, ti, to, nto).unroll(ti);
      dot.compute_at(acc, to);
    } else {
      acc.reorder(r, nti, t, nto);
      dot.compute_at(acc, t);
    }
    dot.vectorize(r).unroll(nt).unroll(t);
    dot.update()
        .atomic()
        .reorder(kk, r, s, nt, t, kt)
        .vectorize(kk)
        .vectorize(r)
        .unroll(s)
        .unroll(nt)
        .unroll(t);
    if (!signed_weights) {
      xsum.compute_root();
      xsum.update().atomic().vectorize(RVar("rk$x"));
    }
  }

private:
  Func dot{"dot"}, xsum{"xsum"};
  Var rVar, ntVar, tVar;
  RDom redDom;
};

} // namespace

HALIDE_REGISTER_GENERATOR(GemmI2, gemm_i2)
