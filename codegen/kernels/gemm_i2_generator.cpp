//===- gemm_i2_generator.cpp - Halide generator of the multiply-add ternary
//GEMM/GEMV ---------===//
//
// acc[t][n] = sum_k W[n][k] x[t][k] with W in the i2 layout of tern/kernels.h:
// tiles of 16 rows x 16 columns, 64 bytes, byte j holding in bits 2s..2s+1 the
// code W + 1 of row j / 4 and column 4 s + j % 4. Shifting a tile right by 2s
// and masking gives 16 rows x 4 consecutive columns of codes with the SAME
// shift for every lane, the operand layout of a 4-way dot product:
//
//   x86 (u8 x i8, vpdpbusd / vpmaddwd):  acc = sum(code * x) - sum(x)     (code
//   = W + 1) ARM (i8 x i8, sdot):                 acc = sum((code - 1) * x)
//
// The algorithm is written over explicit tile dimensions (lane r of 16, tile
// nt, token t) so no index needs a division; variants are GeneratorParams. The
// schedule's knobs are GeneratorParams too (docs/tuning.md): the prebuilt
// library uses their defaults, ternc generates one kernel per model shape and
// batch bucket with the values of the op's #tern.kernel, and tern-tune searches
// them.
//
//===------------------------------------------------------------------------------------------===//
#include "Halide.h"

using namespace Halide;

namespace {

/// A GeneratorParam out of range: the generator exits with the message
/// (tern-kernel-gen's caller shows it).
void require(bool ok, const std::string &message) {
  if (!ok)
    throw CompileError(message);
}

class GemmI2 : public Generator<GemmI2> {
public:
  /// gemv: decode (few tokens); parallel over row tiles. gemm: prefill; also
  /// tiles tokens.
  GeneratorParam<std::string> schedule_kind{"schedule", "gemv"};
  /// i8 x i8 products of W itself (ARM sdot) instead of u8 codes with the
  /// sum(x) correction.
  GeneratorParam<bool> signed_weights{"signed_weights", false};
  /// Row tiles (16 rows each) whose accumulators stay in registers together: 1,
  /// 2 or 4 (the layout pads N to 64 rows, so every value divides the tile
  /// count).
  GeneratorParam<int> row_tiles{"row_tiles", 4};
  /// Groups of row_tiles per parallel task (the parallel split; the last task
  /// may be short).
  GeneratorParam<int> blocks_per_task{"blocks_per_task", 1};
  /// gemm: tokens sharing every unpacked code (the caller sends multiples of
  /// it).
  GeneratorParam<int> token_group{"token_group", 4};
  /// Unroll factor of the loop over 16-column tiles (1, 2, 4 or 8).
  GeneratorParam<int> unroll{"unroll", 1};
  /// Prefetch the weights this many 16-column tiles ahead (0: none).
  GeneratorParam<int> prefetch_tiles{"prefetch", 0};
  /// The shape this kernel is specialized for (0: any): N rows and K columns of
  /// W.
  GeneratorParam<int> rows{"rows", 0};
  GeneratorParam<int> cols{"cols", 0};

  Input<Buffer<uint8_t, 3>> w{"w"};      // (j: 64, kt, nt)
  Input<Buffer<int8_t, 2>> x{"x"};       // (k: k_tiles * 16, t)
  Output<Buffer<int32_t, 3>> acc{"acc"}; // (r: 16, nt, t)

  void generate() {
    require(row_tiles == 1 || row_tiles == 2 || row_tiles == 4,
            "gemm_i2: row_tiles must be 1, 2 or 4, not " +
                std::to_string(row_tiles));
    require(blocks_per_task >= 1 && blocks_per_task <= 64,
            "gemm_i2: blocks_per_task must be in [1, 64], not " +
                std::to_string(blocks_per_task));
    require(token_group >= 1 && token_group <= 8,
            "gemm_i2: token_group must be in [1, 8], not " +
                std::to_string(token_group));
    require(unroll == 1 || unroll == 2 || unroll == 4 || unroll == 8,
            "gemm_i2: unroll must be 1, 2, 4 or 8, not " +
                std::to_string(unroll));
    require(prefetch_tiles >= 0 && prefetch_tiles <= 64,
            "gemm_i2: prefetch must be in [0, 64], not " +
                std::to_string(prefetch_tiles));
    require(rows >= 0 && cols >= 0,
            "gemm_i2: rows and cols must not be negative");
    Var r("r"), nt("nt"), t("t");
    Expr kTiles = w.dim(1).extent();
    // Reduction over one 16 x 16 tile and across tiles: kk is the column within
    // a group of 4, s the group (the shift), kt the tile.
    RDom red(0, 4, 0, 4, 0, kTiles, "red");
    Expr kk = red.x, s = red.y, kt = red.z;
    Expr byte = w(kk + 4 * r, kt, nt);
    Expr code = (byte >> cast<uint8_t>(2 * s)) & cast<uint8_t>(3);
    Expr xv = x(kt * 16 + s * 4 + kk, t);
    if (signed_weights) {
      dot(r, nt, t) += cast<int32_t>(cast<int8_t>(code) - cast<int8_t>(1)) *
                       cast<int32_t>(xv);
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
    // Dense layouts: 64-byte tiles, k_tiles per tile row; activations and
    // accumulators rows. Row tiles come in groups of 4 (the layout pads N to a
    // multiple of 64).
    w.dim(0).set_bounds(0, 64).set_stride(1);
    w.dim(1).set_min(0).set_stride(64);
    w.dim(2).set_min(0).set_stride(64 * w.dim(1).extent());
    // A shape-specialized kernel knows its trip counts: no loop over an unknown
    // extent.
    if (cols > 0)
      w.dim(1).set_extent((cols + 15) / 16);
    if (rows > 0)
      w.dim(2).set_extent((rows + 63) / 64 * 4);
    x.dim(0).set_min(0).set_stride(1);
    x.dim(1).set_min(0);
    acc.dim(0).set_bounds(0, 16).set_stride(1);
    acc.dim(1).set_min(0).set_stride(16);
    acc.dim(2).set_min(0);

    Var r = rVar, nt = ntVar, t = tVar;
    RVar kk = redDom.x, s = redDom.y, kt = redDom.z;
    Var nto("nto"), nti("nti"), task("task");
    // row_tiles row tiles per block: independent accumulator chains per token.
    // Blocks go to tasks blocks_per_task at a time.
    acc.split(nt, nto, nti, row_tiles, TailStrategy::RoundUp)
        .vectorize(r)
        .unroll(nti);
    if (std::string(schedule_kind) == "gemm") {
      // token_group tokens share every unpacked code: row_tiles x token_group
      // accumulators.
      Var to("to"), ti("ti");
      acc.split(t, to, ti, token_group, TailStrategy::RoundUp)
          .reorder(r, nti, ti, to, nto)
          .unroll(ti);
      dot.compute_at(acc, to);
    } else {
      acc.reorder(r, nti, t, nto);
      dot.compute_at(acc, t);
    }
    if (blocks_per_task > 1) {
      Var block("block");
      acc.split(nto, task, block, blocks_per_task, TailStrategy::GuardWithIf)
          .parallel(task);
    } else {
      acc.parallel(nto);
    }
    dot.vectorize(r).unroll(nt).unroll(t);
    Stage update = dot.update();
    update.atomic().reorder(kk, r, s, nt, t, kt);
    if (unroll > 1) {
      RVar kto("kto"), kti("kti");
      update.split(kt, kto, kti, unroll, TailStrategy::GuardWithIf).unroll(kti);
    }
    if (prefetch_tiles > 0)
      update.prefetch(w, kt, kt, prefetch_tiles,
                      PrefetchBoundStrategy::NonFaulting);
    update.vectorize(kk).vectorize(r).unroll(s).unroll(nt).unroll(t);
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
