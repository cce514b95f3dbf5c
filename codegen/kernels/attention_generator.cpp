//===- attention_generator.cpp - Halide generator of grouped-query attention over a KV cache --===//
//
// out(d, h, t) = sum_p softmax_p(q(., h, t) . k(., p, g) * scale) v(d, p, g),  g = h / (H / G)
//
// over the positions p a token sees: p <= positions(t) (causal) or p <= last (not causal), read
// from one layer's cache [kv_heads][context][head_dim] that the runtime has already appended
// the new tokens to. One task per (KV group, token), so the query heads of a group read each
// cached row while it is in L1 (one pass over the cache per token, not one per query head:
// 1.23x faster at 4096 positions on 2B4T's shapes in tern-bench-kernels, no change end to end;
// docs/performance.md). Two passes per head: the scores and their
// maximum, then the exponentials, their sum and the weighted values (vectorized over
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
  Input<Buffer<float, 3>> k_cache{"k_cache"};   // (d, p, g)
  Input<Buffer<float, 3>> v_cache{"v_cache"};   // (d, p, g)
  Input<Buffer<int32_t, 1>> positions{"positions"}; // (t)
  Input<float> scale{"scale"};
  Input<bool> causal{"causal"};
  Input<int32_t> last{"last"};                  // max(positions)
  Output<Buffer<float, 3>> out{"out"};          // (d, h, t)

  void generate() {
    Expr headDim = q.dim(0).extent(), heads = q.dim(1).extent();
    Expr group = heads / k_cache.dim(2).extent();
    Expr g = h / group;
    Expr visible = select(causal, positions(t), last) + 1;
    RDom rd(0, headDim, "rd");
    score(p, h, t) = 0.0f;
    score(p, h, t) += q(rd, h, t) * k_cache(rd, p, g);
    RDom rp(0, last + 1, "rp");
    rp.where(rp.x < visible);
    top(h, t) = -std::numeric_limits<float>::infinity();
    top(h, t) = max(top(h, t), score(rp, h, t) * scale);
    weight(p, h, t) = exp(score(p, h, t) * scale - top(h, t));
    total(h, t) = 0.0f;
    total(h, t) += weight(rp, h, t);
    acc(d, h, t) = 0.0f;
    acc(d, h, t) += weight(rp, h, t) * v_cache(d, rp, g);
    out(d, h, t) = acc(d, h, t) / total(h, t);
    rdDom = rd;
    rpDom = rp;
  }

  void schedule() {
    for (auto *b : {&q, &k_cache, &v_cache})
      b->dim(0).set_min(0).set_stride(1);
    out.dim(0).set_min(0).set_stride(1);
    const int vf = natural_vector_size<float>();
    // One task per (KV group, token): the group's query heads read each key and value row
    // while it is in L1, so the cache is read once per token instead of once per query head.
    // Within a task, the scores of every visible position (each position's key row against
    // every head of the group), then the weighted sums of values, vectorized over head_dim.
    Expr group = q.dim(1).extent() / k_cache.dim(2).extent();
    Var go("go"), hi("hi"), gt("gt");
    out.split(h, go, hi, group, TailStrategy::GuardWithIf)
        .reorder(d, hi, go, t)
        .fuse(go, t, gt)
        .parallel(gt)
        .vectorize(d, vf, TailStrategy::GuardWithIf);
    score.compute_at(out, gt);
    score.update().atomic().vectorize(rdDom.x, vf).reorder(rdDom.x, h, p);
    top.compute_at(out, gt);
    weight.compute_at(out, gt);
    total.compute_at(out, gt);
    acc.compute_at(out, gt).vectorize(d, vf, TailStrategy::GuardWithIf);
    acc.update().reorder(d, h, rpDom.x).vectorize(d, vf, TailStrategy::GuardWithIf);
  }

private:
  Var d{"d"}, p{"p"}, h{"h"}, t{"t"};
  Func score{"score"}, top{"top"}, weight{"weight"}, total{"total"}, acc{"acc"};
  RDom rdDom, rpDom;
};

} // namespace

HALIDE_REGISTER_GENERATOR(Attention, attention)
