//===- head_matmul_generator.cpp - Halide generator of the output head's float GEMV -----------===//
//
// out[n] = sum_c W[n][c] x[c] for one token, W a stored 16-bit (f16, bf16) or f32 table [N][K]:
// the tied 128256 x 2560 head of 2B4T, the largest single read of a decoded token. Each row is
// a stream of converted weights times the activations: `lanes` partial sums per row (one
// vector) and 8 rows per step (8 independent FMA chains sharing each activation load), 64 rows
// per parallel task, then a horizontal sum and the K % lanes tail.
//
// The table is always passed as uint16: f16 and bf16 elements directly, f32 elements as their
// (low, high) halves, so one input type serves every dtype (GeneratorParam `dtype`). The runtime
// passes N rounded down to a multiple of 64 and finishes the remaining rows itself.
//
//===------------------------------------------------------------------------------------------===//
#include "Halide.h"

using namespace Halide;

namespace {

enum class TableType { F16, BF16, F32 };

class HeadMatmul : public Generator<HeadMatmul> {
public:
  GeneratorParam<TableType> dtype{"dtype",
                                  TableType::BF16,
                                  {{"f16", TableType::F16},
                                   {"bf16", TableType::BF16},
                                   {"f32", TableType::F32}}};

  Input<Buffer<uint16_t, 2>> w{"w"};   // (c: K or 2K halves, n)
  Input<Buffer<float, 1>> x{"x"};      // (c: K)
  Output<Buffer<float, 1>> out{"out"}; // (n)

  Expr weight(Expr c, Expr n) {
    if (dtype == TableType::BF16)
      return reinterpret<float>(cast<uint32_t>(w(c, n)) << 16);
    if (dtype == TableType::F16)
      return halfToFloat(cast<uint32_t>(w(c, n)));
    Expr lo = cast<uint32_t>(w(2 * c, n)), hi = cast<uint32_t>(w(2 * c + 1, n));
    return reinterpret<float>(lo | (hi << 16));
  }

  /// IEEE half bits to float, exactly, in integer and float vector ops: Halide 14 emulates
  /// cast<float>(float16) with compares and selects on every target (no vcvtph2ps / fcvtl),
  /// which made an F16 table's head (the official 2B4T GGUF's) ~25 % slower than a BF16 one;
  /// this costs ~8 %. The magnitude's bits moved into a float's place are the value times
  /// 2^-112 (subnormal halves land on float subnormals, so the multiply keeps them exact as
  /// long as denormals are not flushed, which tern never enables). Infinities and NaNs are not
  /// handled: the importers refuse a float table holding one (firstNonFinite, DType.h).
  static Expr halfToFloat(Expr bits) {
    Expr magnitude = reinterpret<float>((bits & 0x7fff) << 13) * Expr(0x1p112f);
    return reinterpret<float>(reinterpret<uint32_t>(magnitude) | ((bits & 0x8000) << 16));
  }

  void generate() {
    lanes = natural_vector_size<float>();
    Expr k = x.dim(0).extent();
    Expr chunks = k / lanes;
    RDom rv(0, chunks, "rv");
    partial(l, n) = 0.0f;
    partial(l, n) += weight(rv * lanes + l, n) * x(rv * lanes + l);
    RDom rl(0, lanes, "rl");
    RDom rt(chunks * lanes, k - chunks * lanes, "rt");
    tail(n) = 0.0f;
    tail(n) += weight(rt, n) * x(rt);
    total(n) = 0.0f;
    total(n) += partial(rl, n);
    out(n) = total(n) + tail(n);
    rvDom = rv;
  }

  void schedule() {
    w.dim(0).set_min(0).set_stride(1);
    w.dim(1).set_min(0);
    x.dim(0).set_min(0).set_stride(1);
    out.dim(0).set_min(0).set_stride(1);
    Var no("no"), ni("ni"), nb("nb");
    // 64-row tasks of 8 rows x 8 steps; the runtime passes N as a multiple of 64.
    out.split(n, no, ni, 64, TailStrategy::RoundUp).split(ni, nb, ni, 8).parallel(no);
    partial.compute_at(out, nb).vectorize(l).unroll(n);
    partial.update().reorder(l, n, rvDom).vectorize(l).unroll(n);
    total.compute_at(out, nb);
    total.update().unroll(RVar("rl$x"));
    tail.compute_at(out, nb);
  }

private:
  Var l{"l"}, n{"n"};
  Func partial{"partial"}, total{"total"}, tail{"tail"};
  RDom rvDom;
  int lanes = 8;
};

} // namespace

HALIDE_REGISTER_GENERATOR(HeadMatmul, head_matmul)
