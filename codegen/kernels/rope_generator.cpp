//===- rope_generator.cpp - Halide generator of the rotary position embedding -----------------===//
//
// out(d, h, t) = x(d) cos(a) -+ x(partner(d)) sin(a),  a = positions(t) * inv_freq(pair(d))
//
// rotate-half (HF Llama / BitNet): pair(d) = d mod D/2, partner = d +- D/2, minus in the first
// half; interleaved: pair(d) = d / 2, partner = d xor 1, minus on even d. The runtime passes
// inv_freq computed once in float32 as the HF modules do (theta^(-2i/D)), so only the angle,
// its cosine and sine are computed here: once per (pair, token), shared by every head.
//
//===------------------------------------------------------------------------------------------===//
#include "Halide.h"

using namespace Halide;

namespace {

class RoPE : public Generator<RoPE> {
public:
  Input<Buffer<float, 3>> x{"x"};                   // (d, h, t)
  Input<Buffer<int32_t, 1>> positions{"positions"}; // (t)
  Input<Buffer<float, 1>> inv_freq{"inv_freq"};     // (D / 2)
  Input<bool> interleaved{"interleaved"};
  Output<Buffer<float, 3>> out{"out"};              // (d, h, t)

  void generate() {
    Expr half = x.dim(0).extent() / 2;
    Expr angle = cast<float>(positions(t)) * inv_freq(i);
    cosine(i, t) = cos(angle);
    sine(i, t) = sin(angle);
    Expr pair = select(interleaved, d / 2, d % half);
    // Clamped only so bounds inference sees [0, D): partner(d) always lies there.
    Expr partner = clamp(select(interleaved, d ^ 1, select(d < half, d + half, d - half)), 0,
                         x.dim(0).extent() - 1);
    Expr first = select(interleaved, d % 2 == 0, d < half);
    Expr rotated = x(partner, h, t) * sine(pair, t);
    out(d, h, t) = select(first, x(d, h, t) * cosine(pair, t) - rotated,
                          x(d, h, t) * cosine(pair, t) + rotated);
  }

  void schedule() {
    x.dim(0).set_min(0).set_stride(1);
    out.dim(0).set_min(0).set_stride(1);
    const int vf = natural_vector_size<float>();
    out.parallel(t).vectorize(d, vf, TailStrategy::GuardWithIf);
    cosine.compute_at(out, t).vectorize(i, vf, TailStrategy::GuardWithIf);
    sine.compute_at(out, t).vectorize(i, vf, TailStrategy::GuardWithIf);
    out.specialize(interleaved);
  }

private:
  Var d{"d"}, h{"h"}, t{"t"}, i{"i"};
  Func cosine{"cosine"}, sine{"sine"};
};

} // namespace

HALIDE_REGISTER_GENERATOR(RoPE, rope)
