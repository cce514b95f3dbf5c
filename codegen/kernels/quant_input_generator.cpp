//===- quant_input_generator.cpp - Halide generator of a bitlinear's fused input --------------===//
//
// Everything between a residual stream (or the feed-forward's gate/up products) and the int8
// operand of the next bitlinear, in one pass per token:
//
//   x = a                  (glu = 0)        RMSNorm (has_norm):  y = x / sqrt(mean(x^2) + eps) * g
//     = relu(a)^2 * b      (glu = 1)        quantization:        s = 127 / max(max|y|, 1e-5)
//     = silu(a) * b        (glu = 2)                             q = clamp(round(y s), -128, 127)
//
// for bits = 8; the `bits` GeneratorParam (2..8) quantizes to qmax = 2^(bits-1) - 1 instead:
// s = qmax / max(max|y|, 1e-5), q in [-qmax - 1, qmax] (tern_act_quant_generic's contract).
//
// with round half to even, q zero past k up to the row's padded width. The same arithmetic, in
// the same order, as tern_rms_norm_generic and tern_act_quant_generic; only the order of the
// sum of squares differs (vectorized), which is why the tests allow a one-step change of q where
// y s lies within rounding error of a .5 tie. The activation and the norm are runtime scalars,
// with one specialized loop nest per combination.
//
//===------------------------------------------------------------------------------------------===//
#include "Halide.h"

using namespace Halide;

namespace {

class QuantInput : public Generator<QuantInput> {
public:
  GeneratorParam<int> bits{"bits", 8, 2, 8};
  Input<Buffer<float, 2>> a{"a"};          // (c, t)
  Input<Buffer<float, 2>> b{"b"};          // (c, t); ignored when glu = 0
  Input<Buffer<float, 1>> g{"g"};          // (c); ignored without the norm
  Input<int32_t> glu{"glu"};               // 0 none, 1 relu2, 2 silu
  Input<bool> has_norm{"has_norm"};
  Input<float> eps{"eps"};
  Input<int32_t> k{"k"};
  Output<Buffer<int8_t, 2>> q{"q"};        // (c: padded width, t)
  Output<Buffer<float, 1>> scale{"scale"}; // (t)

  void generate() {
    Expr av = a(c, t), bv = b(c, t);
    Expr relu = max(av, 0.0f);
    x(c, t) = select(glu == 1, relu * relu * bv,
                     select(glu == 2, av / (1.0f + exp(-av)) * bv, av));
    RDom r(0, k, "r");
    sumsq(t) = 0.0f;
    sumsq(t) += x(r, t) * x(r, t);
    Expr inv = 1.0f / sqrt(sumsq(t) / cast<float>(k) + eps);
    y(c, t) = select(has_norm, x(c, t) * inv * g(c), x(c, t));
    amax(t) = 0.0f;
    amax(t) = max(amax(t), abs(y(r, t)));
    const float qmax = float((1 << (bits - 1)) - 1);
    scale(t) = qmax / max(amax(t), 1e-5f);
    // Columns past k (the row's zero padding) read column k - 1, so no input is read out of
    // bounds, and store 0.
    Expr v = clamp(round(y(min(c, k - 1), t) * scale(t)), -qmax - 1.0f, qmax);
    q(c, t) = select(c < k, cast<int8_t>(v), cast<int8_t>(0));
  }

  void schedule() {
    a.dim(0).set_min(0).set_stride(1);
    b.dim(0).set_min(0).set_stride(1);
    g.dim(0).set_min(0).set_stride(1);
    q.dim(0).set_min(0).set_stride(1);
    const int vf = natural_vector_size<float>();
    // x once per element (the activation's exp is not recomputed), the two reductions per
    // token, then q; tokens in parallel for prefill. Each loop nest is specialized on the
    // runtime activation and norm, so no select survives in the inner loops.
    x.compute_root().vectorize(c, vf, TailStrategy::GuardWithIf).parallel(t);
    x.specialize(glu == 0);
    x.specialize(glu == 1);
    x.specialize(glu == 2);
    sumsq.compute_root();
    sumsq.update().atomic().vectorize(RVar("r$x"), vf);
    amax.compute_root();
    amax.update().atomic().vectorize(RVar("r$x"), vf);
    amax.update().specialize(has_norm);
    q.split(c, co, ci, 4 * vf, TailStrategy::GuardWithIf).vectorize(ci).parallel(t);
    q.specialize(has_norm);
  }

private:
  Var c{"c"}, t{"t"}, co{"co"}, ci{"ci"};
  Func x{"x"}, sumsq{"sumsq"}, y{"y"}, amax{"amax"};
};

} // namespace

HALIDE_REGISTER_GENERATOR(QuantInput, quant_input)
