//===- head_matmul_generator.cpp - Halide generator of the output head's float GEMV -----------===//
//
// out[t][n] = sum_c W[n][c] x[t][c] for `tokens` tokens at once (GeneratorParam: 1, or 4 for
// batched decoding, where one call carries several sessions' tokens), W a stored 16-bit (f16,
// bf16) or f32 table [N][K]: the tied 128256 x 2560 head of 2B4T, the largest single read of a
// decoded token, so every weight loaded serves every token. Each row is a stream of converted
// weights times the activations: `lanes` partial sums per row and token (one vector), 8 rows per
// step (8 x tokens independent FMA chains sharing each weight and activation load), 64 rows per
// parallel task, then a horizontal sum and the K % lanes tail.
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

  GeneratorParam<int> tokens{"tokens", 1, 1, 4};
  Input<Buffer<uint16_t, 2>> w{"w"};   // (c: K or 2K halves, n)
  Input<Buffer<float, 2>> x{"x"};      // (c: K, t: tokens)
  Output<Buffer<float, 2>> out{"out"}; // (n, t: tokens)

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
    partial(l, n, t) = 0.0f;
    partial(l, n, t) += weight(rv * lanes + l, n) * x(rv * lanes + l, t);
    RDom rl(0, lanes, "rl");
    RDom rt(chunks * lanes, k - chunks * lanes, "rt");
    tail(n, t) = 0.0f;
    tail(n, t) += weight(rt, n) * x(rt, t);
    // The lanes are summed in order, strictly: Halide lets LLVM reassociate float sums, which
    // it does differently in the 1- and the 4-token kernel; strict, both round alike, so a
    // token's logits do not depend on how many tokens share its call.
    total(n, t) = 0.0f;
    total(n, t) = strict_float(total(n, t) + partial(rl, n, t));
    out(n, t) = strict_float(total(n, t) + tail(n, t));
    rvDom = rv;
  }

  void schedule() {
    w.dim(0).set_min(0).set_stride(1);
    w.dim(1).set_min(0);
    const int count = tokens;
    x.dim(0).set_min(0).set_stride(1);
    x.dim(1).set_min(0).set_extent(count);
    out.dim(0).set_min(0).set_stride(1);
    out.dim(1).set_min(0).set_extent(count);
    // 8 rows per step for any token count. With 4 tokens the 32 accumulators exceed the vector
    // registers and some spill to L1, yet measured faster than 4 or 2 rows per step (T4 took
    // 1.36x T1's time against 1.76x with 4 rows on AVX-512, 1.7x against 2.3x with 2 rows on
    // AVX2; bench/KernelBench head_bf16 T1/T4): the loop waits on memory, and 8 rows keep 8
    // streams of weights in flight. 16 rows measured no better.
    const int rows = 8;
    Var no("no"), ni("ni"), nb("nb");
    // 64-row tasks; the runtime passes N as a multiple of 64. Every token of a row block is
    // done before the next block, so each weight is read once.
    out.split(n, no, ni, 64, TailStrategy::RoundUp)
        .split(ni, nb, ni, rows)
        .reorder(ni, t, nb, no)
        .unroll(t)
        .parallel(no);
    partial.compute_at(out, nb).vectorize(l).unroll(n).unroll(t);
    partial.update().reorder(l, t, n, rvDom).vectorize(l).unroll(t).unroll(n);
    total.compute_at(out, nb);
    total.update().unroll(RVar("rl$x"));
    tail.compute_at(out, nb);
  }

private:
  Var l{"l"}, n{"n"}, t{"t"};
  Func partial{"partial"}, total{"total"}, tail{"tail"};
  RDom rvDom;
  int lanes = 8;
};

} // namespace

HALIDE_REGISTER_GENERATOR(HeadMatmul, head_matmul)
