//===- attention_generator.cpp - Halide generator of grouped-query attention over a KV cache --===//
//
// out(d, h, t) = sum_p softmax_p(q(., h, t) . k(., p, g) * scale) v(d, p, g),  g = h / (H / G)
//
// over the positions p a token sees: p <= positions(t) (causal) or p <= last (not causal), read
// from one layer's cache [kv_heads][context][head_dim] that the runtime has already appended
// the new tokens to. Two passes per (head, token): the scores and their maximum, then the
// exponentials, their sum and the weighted values (vectorized over head_dim). The scalar kernel
// does the same in one online pass; the results agree within float rounding.
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
    // One task per (head, token); within it the scores of every visible position, then the
    // weighted sum of values vectorized over head_dim.
    Var ht("ht");
    out.fuse(h, t, ht).parallel(ht).vectorize(d, vf, TailStrategy::GuardWithIf);
    score.compute_at(out, ht);
    score.update().atomic().vectorize(rdDom.x, vf);
    top.compute_at(out, ht);
    weight.compute_at(out, ht);
    total.compute_at(out, ht);
    acc.compute_at(out, ht).vectorize(d, vf, TailStrategy::GuardWithIf);
    acc.update().reorder(d, rpDom.x).vectorize(d, vf, TailStrategy::GuardWithIf);
  }

private:
  Var d{"d"}, p{"p"}, h{"h"}, t{"t"};
  Func score{"score"}, top{"top"}, weight{"weight"}, total{"total"}, acc{"acc"};
  RDom rdDom, rpDom;
};

} // namespace

HALIDE_REGISTER_GENERATOR(Attention, attention)
