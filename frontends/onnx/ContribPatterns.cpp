//===- ContribPatterns.cpp - ONNX Runtime's com.microsoft ops in a decoder --------------------===//
//
// The form onnxruntime-genai's model builder writes: SimplifiedLayerNormalization and
// SkipSimplifiedLayerNormalization (residual add + RMSNorm), MatMulNBits with bits = 2,
// GroupQueryAttention (with its own rotary embedding, or fed by RotaryEmbedding nodes) and the
// attention mask's bookkeeping.
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/onnx/Recognizer.h"

#include "onnx/onnx_pb.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace tern;
using namespace tern::onnx;
using NodeProto = ::onnx::NodeProto;

bool Recognizer::contribNorm(llvm::StringRef value, Norm &out) {
  if (const NodeProto *n = def(value, "SimplifiedLayerNormalization")) {
    int64_t axis = OnnxModel::intAttr(*n, "axis").value_or(-1);
    if (axis != -1)
      return failAt(n, llvm::formatv("axis {0}; tern normalizes the last axis (-1)", axis));
    out.stream = streamOf(input(n, 0));
    out.eps = OnnxModel::floatAttr(*n, "epsilon").value_or(1e-5f);
    return epsilon(n, out.eps) && initializer(n, 1, out.gamma, "scale") &&
           absent(n, 2, "tern's RMSNorm has no bias") && unusedOutputs(n, 1);
  }
  const NodeProto *n = def(value, "SkipSimplifiedLayerNormalization");
  if (!n)
    return fail("expected an RMSNorm at " + what(value));
  out.stream = Stream{n, ""};
  out.eps = OnnxModel::floatAttr(*n, "epsilon").value_or(1e-5f);
  return epsilon(n, out.eps) && initializer(n, 2, out.gamma, "gamma") &&
         absent(n, 3, "tern's RMSNorm has no bias") && unusedOutputs(n, 1, 3);
}

bool Recognizer::matMulNBits(const NodeProto *n, OnnxLinear &out) {
  out.kind = OnnxLinear::Kind::MatMulNBits;
  out.node = n;
  out.input = resolve(input(n, 0));
  int64_t bits = OnnxModel::intAttr(*n, "bits").value_or(4);
  if (bits != 2)
    return failAt(n, llvm::formatv("bits = {0}; tern imports ternary weights, bits = 2", bits));
  std::optional<int64_t> k = OnnxModel::intAttr(*n, "K"), nn = OnnxModel::intAttr(*n, "N");
  std::optional<int64_t> block = OnnxModel::intAttr(*n, "block_size");
  if (!k || !nn || !block || *k <= 0 || *nn <= 0 || *k > (1ll << 31) || *nn > (1ll << 31) ||
      *block < 16 || *block > (1 << 20) || (*block & (*block - 1)))
    return failAt(n, "expected attributes K and N in [1, 2^31] and block_size (a power of 2 "
                     "from 16 to 2^20)");
  int64_t level = OnnxModel::intAttr(*n, "accuracy_level").value_or(0);
  if (level != 4)
    return failAt(n, llvm::formatv("accuracy_level {0}; tern's ternary projections quantize "
                                   "activations to int8 (BitNet b1.58), which is "
                                   "accuracy_level 4",
                                   level));
  out.rows = *nn, out.cols = *k, out.blockSize = *block;
  if (!initializer(n, 1, out.weight, "B") || !initializer(n, 2, out.scales, "scales"))
    return false;
  if (!input(n, 3).empty() && !initializer(n, 3, out.zeroPoints, "zero_points"))
    return false;
  return absent(n, 4, "g_idx and bias are not supported") && unusedOutputs(n, 1);
}

bool Recognizer::groupQueryAttention(const NodeProto *gqa, OnnxLayer &l, Attention &a) {
  std::optional<int64_t> heads = OnnxModel::intAttr(*gqa, "num_heads");
  std::optional<int64_t> kvHeads = OnnxModel::intAttr(*gqa, "kv_num_heads");
  if (!heads || !kvHeads || *heads <= 0 || *kvHeads <= 0 || *heads % *kvHeads)
    return failAt(gqa, "expected num_heads and kv_num_heads > 0, num_heads a multiple of "
                       "kv_num_heads");
  a.heads = *heads, a.kvHeads = *kvHeads;
  if (OnnxModel::intAttr(*gqa, "rotary_interleaved").value_or(0) != 0)
    return failAt(gqa, "rotary_interleaved = 1; tern's RoPE rotates halves (interleaved = 0)");
  if (int64_t window = OnnxModel::intAttr(*gqa, "local_window_size").value_or(-1); window != -1)
    return failAt(gqa, llvm::formatv("local_window_size {0}; tern's attention is global (-1)",
                                     window));
  if (OnnxModel::floatAttr(*gqa, "softcap").value_or(0.0f) != 0.0f)
    return failAt(gqa, "softcap is set; tern's attention has none");
  if (OnnxModel::intAttr(*gqa, "smooth_softmax").value_or(0) != 0)
    return failAt(gqa, "smooth_softmax is set; tern's attention uses softmax");
  bool rotary = OnnxModel::intAttr(*gqa, "do_rotary").value_or(0) != 0;
  if (!absent(gqa, rotary ? 9 : 7,
              rotary ? "tern takes positions from seqlens_k (no position_ids, attention_bias "
                       "or head_sink)"
                     : "cos/sin caches are read only with do_rotary = 1 (no position_ids, "
                       "attention_bias or head_sink)"))
    return false;
  if (input(gqa, 1).empty() || input(gqa, 2).empty())
    return failAt(gqa, "key or value is absent: a packed QKV query (q, k and v in one input) is "
                       "not supported; export separate q, k and v projections");
  a.q = resolve(input(gqa, 0)), a.k = resolve(input(gqa, 1)), a.v = resolve(input(gqa, 2));
  if (rotary) {
    if (!ropeCaches(gqa, 7))
      return false;
  } else {
    const NodeProto *rq = def(a.q, "RotaryEmbedding"), *rk = def(a.k, "RotaryEmbedding");
    if (!rq || !rk)
      return failAt(gqa, "with do_rotary = 0, query and key must come from com.microsoft "
                         "RotaryEmbedding (tern's RoPE)");
    for (const NodeProto *r : {rq, rk})
      if (!rotaryNode(r) || !ropeCaches(r, 2))
        return false;
    a.q = resolve(input(rq, 0)), a.k = resolve(input(rk, 0));
  }
  // The KV cache: past_key_values.<i>.key/value in, present.<i>.key/value out.
  l.pastKey = resolve(input(gqa, 3)), l.pastValue = resolve(input(gqa, 4));
  if (l.pastKey.empty() != l.pastValue.empty())
    return failAt(gqa, "past_key and past_value must both be given or both be absent");
  for (const std::string &past : {l.pastKey, l.pastValue})
    if (!past.empty() && !m.graphInput(past))
      return failAt(gqa, "past key/value '" + past + "' must be a graph input (tern's KV "
                                                     "cache)");
  l.presentKey = gqa->output_size() > 1 ? gqa->output(1) : "";
  l.presentValue = gqa->output_size() > 2 ? gqa->output(2) : "";
  for (const std::string &present : {l.presentKey, l.presentValue})
    if (!present.empty() && !m.consumers(present).empty())
      return failAt(gqa, "present key/value '" + present + "' is read by a node; only the "
                                                           "caller may read the KV cache");
  if (!unusedOutputs(gqa, 3))
    return false;
  // 1/sqrt(head_dim): checked once the projections tell the head dim.
  a.scale = OnnxModel::floatAttr(*gqa, "scale").value_or(0.0f);
  a.scaleNode = gqa;
  return maskBookkeeping(gqa, input(gqa, 5)) && maskBookkeeping(gqa, input(gqa, 6));
}

bool Recognizer::rotaryNode(const NodeProto *r) {
  if (OnnxModel::intAttr(*r, "interleaved").value_or(0) != 0)
    return failAt(r, "interleaved = 1; tern's RoPE rotates halves (interleaved = 0)");
  if (OnnxModel::floatAttr(*r, "scale").value_or(1.0f) != 1.0f)
    return failAt(r, "scale is set; tern's RoPE has none");
  std::string pos = resolve(input(r, 1));
  if (!m.graphInput(pos))
    return failAt(r, "position_ids must be a graph input (the binary supplies positions)");
  return unusedOutputs(r, 1);
}

/// The cos/sin caches at inputs `first`, `first + 1` of `n`: [positions, head_dim / 2] of
/// cos(p * theta^(-2i/d)) and sin(...). theta is recovered and every entry checked.
bool Recognizer::ropeCaches(const NodeProto *n, int first) {
  std::string cosName, sinName;
  if (!initializer(n, first, cosName, "cos_cache") ||
      !initializer(n, first + 1, sinName, "sin_cache"))
    return false;
  if (cosName == checkedCos && sinName == checkedSin)
    return true;
  const OnnxTensor *c = m.constant(cosName), *s = m.constant(sinName);
  if (c->shape.size() != 2 || c->shape != s->shape || c->shape[1] < 2 || c->shape[0] < 2 ||
      !isFloat(c->dtype) || !isFloat(s->dtype))
    return failAt(n, "cos_cache '" + cosName + "' and sin_cache '" + sinName +
                         "' must be float [max positions, head_dim / 2] of one shape, found " +
                         shapeString(c->shape) + " and " + shapeString(s->shape));
  int64_t half = c->shape[1], rows = c->shape[0], dim = 2 * half;
  // inv_freq[1] = theta^(-2/d) from position 1: theta = f^(-d/2). Published values are whole
  // numbers; the caches then must match that theta everywhere.
  double f = std::atan2(s->at(half + 1), c->at(half + 1));
  double theta = std::round(std::pow(f, -double(dim) / 2.0));
  if (!(f > 0) || !(theta >= 2) || !std::isfinite(theta))
    return failAt(n, "cos_cache '" + cosName + "' and sin_cache '" + sinName +
                         "' do not hold a rotary embedding (no theta fits position 1)");
  for (int64_t p = 0; p < rows; ++p)
    for (int64_t i = 0; i < half; ++i) {
      float inv = float(1.0 / std::pow(theta, double(2 * i) / double(dim)));
      double angle = double(float(p) * inv);
      double dc = std::fabs(c->at(p * half + i) - std::cos(angle));
      double ds = std::fabs(s->at(p * half + i) - std::sin(angle));
      if (dc > 2e-3 || ds > 2e-3)
        return failAt(n, llvm::formatv("cos_cache '{4}' / sin_cache '{5}' at position {0}, "
                                       "frequency {1} differ from rotate-half RoPE with theta "
                                       "{2} (the value position 1 gives) by {3}",
                                       p, i, llvm::format("%g", theta),
                                       llvm::format("%g", std::max(dc, ds)), cosName,
                                       sinName));
    }
  if (!setTheta(n, theta, dim))
    return false;
  d.maxPositions = rows;
  checkedCos = cosName, checkedSin = sinName;
  return true;
}

/// Lengths tern's runtime knows itself (GroupQueryAttention's seqlens_k and
/// total_sequence_length, the causal mask's number of keys): computed from the attention mask,
/// graph inputs or shapes by shape and reduction ops. A Shape's input is not followed: only its
/// dimensions are read.
bool Recognizer::maskBookkeeping(const NodeProto *user, llvm::StringRef value) {
  llvm::SmallVector<std::string, 8> work{value.str()};
  static const llvm::StringRef allowed[] = {"ReduceSum", "Sub", "Add", "Cast", "Shape",
                                            "Gather", "Squeeze", "Unsqueeze", "Concat",
                                            "Identity", "Constant"};
  while (!work.empty()) {
    std::string v = work.pop_back_val();
    if (v.empty() || m.graphInput(v) || m.isInitializer(v))
      continue;
    Producer p = m.producer(v);
    if (!p.node)
      return failAt(user, "input '" + v + "' is produced by nothing");
    if (!llvm::is_contained(allowed, p.node->op_type()))
      return failAt(p.node, "expected a length computed from shapes or the attention mask "
                            "(ReduceSum, Sub, Add, Cast, Shape, Gather, Squeeze, Unsqueeze, "
                            "Concat) "
                            "for " +
                                m.describe(*user));
    if (!seen.insert(p.node).second || p.node->op_type() == "Shape")
      continue;
    for (const std::string &in : p.node->input())
      work.push_back(in);
  }
  return true;
}
