//===- DecoderBuilder.cpp - builds a BitNet-family decoder in tern IR -------------------------===//
#include "frontends/common/DecoderBuilder.h"

using namespace mlir;
using namespace mlir::tern;
using namespace ::tern;

::tern::DecoderWeights::~DecoderWeights() = default;

auto ::tern::floatElementType(Builder &b, DType dtype) -> Type {
  switch (dtype) {
  case DType::BF16: return b.getBF16Type();
  case DType::F16: return b.getF16Type();
  default: return b.getF32Type();
  }
}

auto ::tern::DecoderWeights::location(OpBuilder &b, WeightRole, int64_t) -> Location {
  return b.getUnknownLoc();
}

auto ::tern::roleName(WeightRole role) -> llvm::StringRef {
  switch (role) {
  case WeightRole::Embedding: return "embedding";
  case WeightRole::InputNorm: return "input_norm";
  case WeightRole::Q: return "q_proj";
  case WeightRole::K: return "k_proj";
  case WeightRole::V: return "v_proj";
  case WeightRole::O: return "o_proj";
  case WeightRole::AttnSubNorm: return "attn_sub_norm";
  case WeightRole::PostAttentionNorm: return "post_attention_norm";
  case WeightRole::Gate: return "gate_proj";
  case WeightRole::Up: return "up_proj";
  case WeightRole::Down: return "down_proj";
  case WeightRole::FfnSubNorm: return "ffn_sub_norm";
  case WeightRole::FinalNorm: return "final_norm";
  case WeightRole::Head: return "head";
  case WeightRole::QNorm: return "q_norm";
  case WeightRole::KNorm: return "k_norm";
  case WeightRole::QInNorm: return "q_proj.norm";
  case WeightRole::KInNorm: return "k_proj.norm";
  case WeightRole::VInNorm: return "v_proj.norm";
  case WeightRole::OInNorm: return "o_proj.norm";
  case WeightRole::GateInNorm: return "gate_proj.norm";
  case WeightRole::UpInNorm: return "up_proj.norm";
  case WeightRole::DownInNorm: return "down_proj.norm";
  }
  return "?";
}

auto ::tern::inputNormOf(WeightRole projection) -> WeightRole {
  switch (projection) {
  case WeightRole::Q: return WeightRole::QInNorm;
  case WeightRole::K: return WeightRole::KInNorm;
  case WeightRole::V: return WeightRole::VInNorm;
  case WeightRole::O: return WeightRole::OInNorm;
  case WeightRole::Gate: return WeightRole::GateInNorm;
  case WeightRole::Up: return WeightRole::UpInNorm;
  case WeightRole::Down: return WeightRole::DownInNorm;
  default: llvm_unreachable("not a projection");
  }
}

namespace {

class GraphBuilder {
public:
  GraphBuilder(OpBuilder &b, const DecoderSpec &spec, DecoderWeights &weights)
      : b(b), spec(spec), weights(weights) {}

  /// RMSNorm of `x` with the norm weight of `role` (of each `groupSize` elements, when
  /// given); null on a missing weight.
  Value norm(Value x, WeightRole role, int64_t layer, int64_t groupSize = 0) {
    Value g = weights.dense(b, role, layer);
    if (!g)
      return {};
    return RMSNormOp::create(b, weights.location(b, role, layer), x, g, spec.rmsNormEps,
                             groupSize);
  }

  /// Quantizes `x` once and applies each projection of `roles` to it (a float projection reads
  /// `x` itself). With projectionNorms each projection normalizes and quantizes `x` itself.
  bool project(Value x, llvm::ArrayRef<WeightRole> roles, int64_t layer,
               SmallVectorImpl<Value> &out) {
    if (spec.projectionNorms && roles.size() > 1) {
      for (WeightRole role : roles)
        if (!project(x, {role}, layer, out))
          return false;
      return true;
    }
    if (spec.projectionNorms && !(x = norm(x, inputNormOf(roles.front()), layer)))
      return false;
    auto quant =
        ActQuantOp::create(b, weights.location(b, roles.front(), layer), x, spec.activationBits);
    for (WeightRole role : roles) {
      LinearWeights w = weights.linear(b, role, layer);
      if (!w.weight)
        return false;
      Location loc = weights.location(b, role, layer);
      if (w.isFloat())
        out.push_back(MatMulOp::create(b, loc, x, w.weight));
      else
        out.push_back(BitLinearOp::create(b, loc, quant.getQuantized(), quant.getScale(),
                                          w.weight, w.scale, w.mode));
    }
    if (quant->use_empty()) // every projection of the group is float
      quant->erase();
    return true;
  }

  Value layer(int64_t i, Value x, Value positions, Value &kv) {
    weights.beginLayer(i);
    Value n = norm(x, WeightRole::InputNorm, i);
    SmallVector<Value> qkv;
    if (!n || !project(n, {WeightRole::Q, WeightRole::K, WeightRole::V}, i, qkv))
      return {};
    Location attnLoc = weights.location(b, WeightRole::O, i);
    if (spec.qkNorm && (!(qkv[0] = norm(qkv[0], WeightRole::QNorm, i, spec.headDim)) ||
                        !(qkv[1] = norm(qkv[1], WeightRole::KNorm, i, spec.headDim))))
      return {};
    float theta = spec.ropeTheta;
    Value q = RoPEOp::create(b, weights.location(b, WeightRole::Q, i), qkv[0], positions,
                             spec.headDim, theta, RopeStyle::rotate_half, spec.ropeFreqFactors);
    Value k = RoPEOp::create(b, weights.location(b, WeightRole::K, i), qkv[1], positions,
                             spec.headDim, theta, RopeStyle::rotate_half, spec.ropeFreqFactors);
    auto attention = AttentionOp::create(b, attnLoc, q, k, qkv[2], kv, positions, i);
    kv = attention.getNewCache();
    Value attn = attention.getOutput();
    if (spec.attnSubNorm && !(attn = norm(attn, WeightRole::AttnSubNorm, i)))
      return {};
    SmallVector<Value> o;
    if (!project(attn, {WeightRole::O}, i, o))
      return {};
    Value h = AddOp::create(b, attnLoc, x, o[0]);

    Value n2 = norm(h, WeightRole::PostAttentionNorm, i);
    SmallVector<Value> gateUp;
    if (!n2 || !project(n2, {WeightRole::Gate, WeightRole::Up}, i, gateUp))
      return {};
    Location mlpLoc = weights.location(b, WeightRole::Down, i);
    Value act = spec.activation == DecoderActivation::ReLU2
                    ? Value(Relu2Op::create(b, mlpLoc, gateUp[0]))
                    : Value(SiLUOp::create(b, mlpLoc, gateUp[0]));
    Value m = MulOp::create(b, mlpLoc, act, gateUp[1]);
    if (spec.ffnSubNorm && !(m = norm(m, WeightRole::FfnSubNorm, i)))
      return {};
    SmallVector<Value> down;
    if (!project(m, {WeightRole::Down}, i, down))
      return {};
    return AddOp::create(b, mlpLoc, h, down[0]);
  }

  func::FuncOp build(Location loc, llvm::StringRef name) {
    MLIRContext *ctx = b.getContext();
    auto ids = RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type());
    auto cache = KVCacheType::get(ctx, spec.layers, spec.kvHeads, spec.headDim,
                                  spec.contextLength, b.getF32Type());
    int64_t width = spec.embeddingOutput ? spec.hidden : spec.vocab;
    auto logits = RankedTensorType::get({ShapedType::kDynamic, width}, b.getF32Type());
    auto fn = func::FuncOp::create(b, loc, name,
                                   b.getFunctionType({ids, ids, cache}, {logits, cache}));
    fn.setArgAttr(0, "tern.name", b.getStringAttr("tokens"));
    fn.setArgAttr(1, "tern.name", b.getStringAttr("positions"));
    fn.setArgAttr(2, "tern.name", b.getStringAttr("kv_cache"));
    Block *entry = fn.addEntryBlock();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(entry);

    Value table = weights.dense(b, WeightRole::Embedding, -1);
    if (!table)
      return erase(fn);
    Value h = EmbeddingOp::create(b, weights.location(b, WeightRole::Embedding, -1), table,
                                  entry->getArgument(0));
    Value kv = entry->getArgument(2);
    for (int64_t i = 0; i < spec.layers; ++i)
      if (!(h = layer(i, h, entry->getArgument(1), kv)))
        return erase(fn);
    Value n = norm(h, WeightRole::FinalNorm, -1);
    if (n && spec.embeddingOutput) {
      func::ReturnOp::create(b, loc, ValueRange{n, kv});
      return fn;
    }
    Value head = spec.tiedHead ? table : weights.dense(b, WeightRole::Head, -1);
    if (!n || !head)
      return erase(fn);
    Value out = MatMulOp::create(b, weights.location(b, WeightRole::Head, -1), n, head);
    func::ReturnOp::create(b, loc, ValueRange{out, kv});
    return fn;
  }

private:
  static func::FuncOp erase(func::FuncOp fn) {
    fn.erase();
    return {};
  }

  OpBuilder &b;
  const DecoderSpec &spec;
  DecoderWeights &weights;
};

} // namespace

auto ::tern::buildDecoder(OpBuilder &b, Location loc, llvm::StringRef name,
                          const DecoderSpec &spec, DecoderWeights &weights) -> func::FuncOp {
  return GraphBuilder(b, spec, weights).build(loc, name);
}
