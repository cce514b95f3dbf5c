//===- attention_generator.cpp - Halide generator of grouped-query attention over a KV cache --===//
//
// out(d, h, t) = sum_p softmax_p(q(., h, t) . k(., p, g) * scale) v(d, p, g),  g = h / (H / G)
//
// over the positions p a token sees: p <= positions(t) (causal) or p <= last (not causal), read
// from one layer's cache (tern/decoder_kernels.h's layout: keys in blocks of 64 positions, each
// [head_dim][64]; values a row per position) that the runtime has already appended the new
// tokens to. One task per (KV group, token), so the query heads of a group share each block
// while it is in L1. Per head: the scores of each block (vectorized over its 64 positions),
// their maximum, then the exponentials, their sum and the weighted values (vectorized over
// head_dim). The scalar kernel does the same in one online pass; the results agree within
// float rounding.
//
//===------------------------------------------------------------------------------------------===//
#include "Halide.h"

using namespace Halide;

namespace {

class Attention : public Generator<Attention> {
public:
  Input<Buffer<float, 3>> q{"q"};               // (d, h, t)
  Input<Buffer<float, 4>> k_cache{"k_cache"};   // (pi: 64, d, pb, g): position 64 pb + pi
  Input<Buffer<float, 3>> v_cache{"v_cache"};   // (d, p, g)
  Input<Buffer<int32_t, 1>> positions{"positions"}; // (t)
  Input<float> scale{"scale"};
  Input<bool> causal{"causal"};
  Input<int32_t> last{"last"};                  // max(positions)
  Output<Buffer<float, 3>> out{"out"};          // (d, h, t)

  void generate() {
    Expr headDim = q.dim(0).extent(), heads = q.dim(1).extent();
    Expr group = heads / k_cache.dim(3).extent();
    Expr g = h / group;
    Expr visible = select(causal, positions(t), last) + 1;
    // The scores of a block of 64 positions: one query element times a row of the key block
    // (64 positions' element d, contiguous) per step, no sum across vector lanes.
    RDom rd(0, headDim, "rd");
    dot(pi, pb, h, t) = 0.0f;
    dot(pi, pb, h, t) += q(rd, h, t) * k_cache(pi, rd, pb, g);
    Expr score = dot(p % 64, p / 64, h, t) * scale;
    RDom rp(0, last + 1, "rp");
    rp.where(rp.x < visible);
    scaled(p, h, t) = score;
    top(h, t) = -std::numeric_limits<float>::infinity();
    top(h, t) = max(top(h, t), scaled(rp, h, t));
    weight(p, h, t) = exp(scaled(p, h, t) - top(h, t));
    total(h, t) = 0.0f;
    total(h, t) += weight(rp, h, t);
    acc(d, h, t) = 0.0f;
    acc(d, h, t) += weight(rp, h, t) * v_cache(d, rp, g);
    out(d, h, t) = acc(d, h, t) / total(h, t);
    rdDom = rd;
    rpDom = rp;
  }

  void schedule() {
    for (auto *b : {&q, &v_cache})
      b->dim(0).set_min(0).set_stride(1);
    k_cache.dim(0).set_bounds(0, 64).set_stride(1);
    k_cache.dim(1).set_min(0).set_stride(64);
    out.dim(0).set_min(0).set_stride(1);
    const int vf = natural_vector_size<float>();
    // One task per (KV group, token): the cache is read once per token, not once per query
    // head. Within a task, per block of 64 positions and head, the block's 64 scores are 64 / vf
    // vector accumulators over head_dim steps (the block, 32 KB at head_dim 128, stays in L1
    // for the group's other heads); then the softmax; then the weighted sum of value rows, per
    // 64 rows and head.
    Expr group = q.dim(1).extent() / k_cache.dim(3).extent();
    Var go("go"), hi("hi"), gt("gt"), pio("pio"), pii("pii"), dO("dO"), dI("dI");
    RVar rpo("rpo"), rpi("rpi");
    out.split(h, go, hi, group, TailStrategy::GuardWithIf)
        .reorder(d, hi, go, t)
        .fuse(go, t, gt)
        .parallel(gt)
        .vectorize(d, vf, TailStrategy::GuardWithIf);
    dot.compute_at(out, gt).vectorize(pi, vf);
    dot.update()
        .split(pi, pio, pii, vf)
        .reorder(pii, pio, rdDom.x, h, pb)
        .vectorize(pii)
        .unroll(pio);
    scaled.compute_at(out, gt).vectorize(p, vf, TailStrategy::GuardWithIf);
    top.compute_at(out, gt);
    weight.compute_at(out, gt).vectorize(p, vf, TailStrategy::GuardWithIf);
    total.compute_at(out, gt);
    acc.compute_at(out, gt).vectorize(d, vf, TailStrategy::GuardWithIf);
    // head_dim 128 (2B4T's and most models'): the head's 128 / vf accumulators stay in
    // registers over a block of 64 value rows (unrolling needs the constant).
    acc.update()
        .specialize(out.dim(0).extent() == 128)
        .split(rpDom.x, rpo, rpi, 64, TailStrategy::GuardWithIf)
        .reorder(d, rpi, h, rpo)
        .split(d, dO, dI, vf)
        .vectorize(dI)
        .unroll(dO);
    acc.update()
        .split(rpDom.x, rpo, rpi, 64, TailStrategy::GuardWithIf)
        .reorder(d, rpi, h, rpo)
        .vectorize(d, vf, TailStrategy::GuardWithIf);
  }

private:
  Var d{"d"}, p{"p"}, h{"h"}, t{"t"}, pi{"pi"}, pb{"pb"};
  Func dot{"dot"}, scaled{"scaled"}, top{"top"}, weight{"weight"}, total{"total"}, acc{"acc"};
  RDom rdDom, rpDom;
};

} // namespace

HALIDE_REGISTER_GENERATOR(Attention, attention)
