//===- DecoderRecognizer.cpp - finds the BitNet decoder in an ONNX graph -----------------------===//
#include "frontends/onnx/DecoderRecognizer.h"

#include "frontends/onnx/OpTable.h"

#include "onnx/onnx_pb.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <climits>
#include <cmath>

using namespace tern;
using namespace tern::onnx;
using NodeProto = ::onnx::NodeProto;

namespace {

/// A value of the residual stream: an ONNX value, or the sum a SkipSimplifiedLayerNormalization
/// computes (its input + skip, output 3), which need not be an output anyone reads.
struct Stream {
  const NodeProto *skip = nullptr;
  std::string value;
  bool operator==(const Stream &o) const {
    return skip ? skip == o.skip : (!o.skip && value == o.value);
  }
  std::string str() const {
    return skip ? "the residual sum of SkipSimplifiedLayerNormalization '" + skip->name() + "'"
                : "'" + value + "'";
  }
};

struct Norm {
  Stream stream;
  std::string gamma;
  float eps = 1e-5f;
};

class Recognizer {
public:
  explicit Recognizer(const OnnxModel &model) : m(model) {}

  llvm::Expected<OnnxDecoder> run() {
    for (const NodeProto &n : m.graph().node()) {
      llvm::Expected<const OpSupport *> op = lookupOp(m, n);
      if (!op)
        return op.takeError();
    }
    if (!recognize())
      return llvm::createStringError(llvm::inconvertibleErrorCode(), m.path().str() + ": " +
                                                                         *error);
    if (!checkEverythingRecognized())
      return llvm::createStringError(llvm::inconvertibleErrorCode(), m.path().str() + ": " +
                                                                         *error);
    d.nodes = int64_t(seen.size());
    return std::move(d);
  }

private:
  //===--- errors and node access ---------------------------------------------------------===//

  bool fail(const llvm::Twine &message) {
    if (!error)
      error = message.str();
    return false;
  }
  bool failAt(const NodeProto *n, const llvm::Twine &message) {
    return fail(m.describe(*n) + ": " + message);
  }
  /// What produces `value`, for messages.
  std::string what(llvm::StringRef value) {
    Producer p = m.producer(value);
    if (p.node)
      return "'" + value.str() + "' (output " + std::to_string(p.output) + " of " +
             m.describe(*p.node) + ")";
    if (m.isInitializer(value))
      return "initializer '" + value.str() + "'";
    if (m.graphInput(value))
      return "graph input '" + value.str() + "'";
    return "'" + value.str() + "' (produced by nothing)";
  }

  /// The node producing output `index` of type `op` for `value`, looking through Identity;
  /// marks it recognized. Null (no error) if it is something else.
  const NodeProto *def(llvm::StringRef value, llvm::StringRef op, int index = 0) {
    Producer p = m.producer(value);
    while (p.node && p.node->op_type() == "Identity") {
      seen.insert(p.node);
      p = m.producer(p.node->input(0));
    }
    if (!p.node || p.node->op_type() != op || p.output != index)
      return nullptr;
    seen.insert(p.node);
    return p.node;
  }
  /// `value` looking through Identity.
  std::string resolve(llvm::StringRef value) {
    Producer p = m.producer(value);
    std::string v = value.str();
    while (p.node && p.node->op_type() == "Identity") {
      seen.insert(p.node);
      v = p.node->input(0);
      p = m.producer(v);
    }
    return v;
  }
  static std::string input(const NodeProto *n, int i) {
    return i < n->input_size() ? n->input(i) : std::string();
  }
  bool initializer(const NodeProto *n, int i, std::string &out, llvm::StringRef role) {
    out = resolve(input(n, i));
    if (out.empty() || !m.constant(out))
      return failAt(n, llvm::formatv("input {0} ({1}) must be an initializer", i, role));
    return true;
  }
  bool absent(const NodeProto *n, int from, llvm::StringRef why) {
    for (int i = from; i < n->input_size(); ++i)
      if (!n->input(i).empty())
        return failAt(n, llvm::formatv("input {0} is set; {1}", i, why));
    return true;
  }
  /// Outputs [from, to) of `n` must be read by no one (tern does not compute them).
  bool unusedOutputs(const NodeProto *n, int from, int to = INT_MAX) {
    for (int i = from; i < std::min(to, n->output_size()); ++i)
      if (!n->output(i).empty() && (!m.consumers(n->output(i)).empty() ||
                                    m.graphOutput(n->output(i))))
        return failAt(n, llvm::formatv("its output {0} ('{1}') is read; tern computes only "
                                       "the normalized, projected or attended output and a "
                                       "residual sum",
                                       i, n->output(i)));
    return true;
  }
  Stream streamOf(llvm::StringRef value) {
    std::string v = resolve(value);
    Producer p = m.producer(v);
    if (p.node && p.node->op_type() == "SkipSimplifiedLayerNormalization" && p.output == 3) {
      seen.insert(p.node);
      return Stream{p.node, ""};
    }
    return Stream{nullptr, v};
  }

  //===--- parts ---------------------------------------------------------------------------===//

  bool epsilon(const NodeProto *n, float &eps) {
    eps = OnnxModel::floatAttr(*n, "epsilon").value_or(1e-5f);
    if (!haveEps) {
      d.spec.rmsNormEps = eps, haveEps = true;
    } else if (eps != d.spec.rmsNormEps) {
      return failAt(n, llvm::formatv("epsilon {0} differs from the model's other norms ({1}); "
                                     "tern's decoder has one",
                                     eps, d.spec.rmsNormEps));
    }
    return true;
  }

  /// An RMSNorm producing `value`: SimplifiedLayerNormalization, or output 0 of
  /// SkipSimplifiedLayerNormalization (the norm of a residual sum).
  bool norm(llvm::StringRef value, llvm::StringRef role, Norm &out) {
    if (const NodeProto *n = def(value, "SimplifiedLayerNormalization")) {
      int64_t axis = OnnxModel::intAttr(*n, "axis").value_or(-1);
      if (axis != -1)
        return failAt(n, llvm::formatv("axis {0}; tern normalizes the last axis (-1)", axis));
      out.stream = streamOf(input(n, 0));
      return epsilon(n, out.eps) && initializer(n, 1, out.gamma, "scale") &&
             absent(n, 2, "tern's RMSNorm has no bias") && unusedOutputs(n, 1);
    }
    if (const NodeProto *n = def(value, "SkipSimplifiedLayerNormalization")) {
      out.stream = Stream{n, ""};
      return epsilon(n, out.eps) && initializer(n, 2, out.gamma, "gamma") &&
             absent(n, 3, "tern's RMSNorm has no bias") && unusedOutputs(n, 1, 3);
    }
    return fail(llvm::formatv("expected the {0} (an RMSNorm: SimplifiedLayerNormalization or "
                              "SkipSimplifiedLayerNormalization), found {1}",
                              role, what(value)));
  }

  /// Whether `value` is a ternary projection's output.
  bool isLinear(llvm::StringRef value) {
    Producer p = m.producer(resolve(value));
    return p.node && p.node->op_type() == "MatMulNBits";
  }

  bool linear(llvm::StringRef value, llvm::StringRef role, OnnxLinear &out) {
    const NodeProto *n = def(value, "MatMulNBits");
    if (!n)
      return fail(llvm::formatv("expected {0} (a ternary projection: com.microsoft "
                                "MatMulNBits with bits = 2), found {1}",
                                role, what(value)));
    out.node = n;
    out.input = resolve(input(n, 0));
    int64_t bits = OnnxModel::intAttr(*n, "bits").value_or(4);
    if (bits != 2)
      return failAt(n, llvm::formatv("bits = {0}; tern imports ternary weights, bits = 2", bits));
    std::optional<int64_t> k = OnnxModel::intAttr(*n, "K"), nn = OnnxModel::intAttr(*n, "N");
    std::optional<int64_t> block = OnnxModel::intAttr(*n, "block_size");
    if (!k || !nn || !block || *k <= 0 || *nn <= 0 || *block < 16 || (*block & (*block - 1)))
      return failAt(n, "expected attributes K > 0, N > 0 and block_size (a power of 2, at least "
                       "16)");
    int64_t level = OnnxModel::intAttr(*n, "accuracy_level").value_or(0);
    if (level != 4)
      return failAt(n, llvm::formatv(
                           "accuracy_level {0}; tern's ternary projections quantize activations "
                           "to int8 (BitNet b1.58), which is accuracy_level 4",
                           level));
    out.rows = *nn, out.cols = *k, out.blockSize = *block;
    if (!initializer(n, 1, out.weight, "B") || !initializer(n, 2, out.scales, "scales"))
      return false;
    if (!input(n, 3).empty() && !initializer(n, 3, out.zeroPoints, "zero_points"))
      return false;
    return absent(n, 4, "g_idx and bias are not supported") && unusedOutputs(n, 1);
  }

  //===--- the decoder --------------------------------------------------------------------===//

  /// Splits a residual sum into (previous stream, branch output).
  bool residual(const Stream &s, Stream &prev, std::string &branch) {
    std::string a, b;
    const NodeProto *n = s.skip;
    if (!n && !(n = def(s.value, "Add")))
      return fail("expected the residual stream (an Add or SkipSimplifiedLayerNormalization's "
                  "sum) at " + what(s.value));
    a = input(n, 0), b = input(n, 1);
    if (!isLinear(a) && isLinear(b))
      std::swap(a, b);
    if (!isLinear(a))
      return failAt(n, "expected one of its inputs to be a ternary projection (the residual "
                       "branch)");
    branch = resolve(a);
    prev = streamOf(b);
    return true;
  }

  bool mlp(llvm::StringRef down, OnnxLayer &l, std::string &normed) {
    if (!linear(down, "down_proj", l.down))
      return false;
    std::string x = l.down.input;
    if (m.producer(x).node && m.producer(x).node->op_type() == "SimplifiedLayerNormalization") {
      Norm sub;
      if (!norm(x, "ffn sub-norm", sub))
        return false;
      if (sub.stream.skip)
        return fail("the ffn sub-norm reads a residual sum");
      l.ffnSubNorm = sub.gamma;
      x = sub.stream.value;
    }
    const NodeProto *mul = def(x, "Mul");
    if (!mul)
      return fail("expected act(gate_proj) * up_proj (a Mul) at " + what(x));
    std::string act = resolve(input(mul, 0)), up = resolve(input(mul, 1));
    if (isLinear(act))
      std::swap(act, up);
    std::string gate;
    DecoderActivation kind;
    if (!activation(act, gate, kind))
      return false;
    if (!layersSeen)
      d.spec.activation = kind;
    else if (kind != d.spec.activation)
      return fail("layers use different activations at " + what(act));
    if (!linear(gate, "gate_proj", l.gate) || !linear(up, "up_proj", l.up))
      return false;
    if (l.gate.input != l.up.input)
      return failAt(l.up.node, "gate_proj and up_proj read different inputs ('" + l.gate.input +
                                   "', '" + l.up.input + "')");
    normed = l.gate.input;
    return true;
  }

  /// relu^2 (Relu then Mul by itself or Pow 2) or SiLU (x * Sigmoid(x)) of `value`.
  bool activation(llvm::StringRef value, std::string &x, DecoderActivation &kind) {
    if (const NodeProto *mul = def(value, "Mul")) {
      std::string a = resolve(input(mul, 0)), b = resolve(input(mul, 1));
      if (a == b) {
        if (const NodeProto *relu = def(a, "Relu")) {
          x = resolve(input(relu, 0)), kind = DecoderActivation::ReLU2;
          return true;
        }
      }
      for (int i = 0; i < 2; ++i, std::swap(a, b))
        if (const NodeProto *sig = def(b, "Sigmoid"))
          if (resolve(input(sig, 0)) == a) {
            x = a, kind = DecoderActivation::SiLU;
            return true;
          }
      return failAt(mul, "expected relu^2 (Relu(x) * Relu(x)) or SiLU (x * Sigmoid(x))");
    }
    if (const NodeProto *pow = def(value, "Pow")) {
      const OnnxTensor *e = m.constant(resolve(input(pow, 1)));
      const NodeProto *relu = def(input(pow, 0), "Relu");
      if (!e || e->numElements() != 1 || e->at(0) != 2.0 || !relu)
        return failAt(pow, "expected relu^2: Pow(Relu(x), 2)");
      x = resolve(input(relu, 0)), kind = DecoderActivation::ReLU2;
      return true;
    }
    return fail("expected the MLP's activation (relu^2 or SiLU) at " + what(value));
  }

  bool attentionBranch(llvm::StringRef oValue, int64_t layer, OnnxLayer &l, std::string &normed) {
    if (!linear(oValue, "o_proj", l.o))
      return false;
    std::string a = l.o.input;
    if (m.producer(a).node && m.producer(a).node->op_type() == "SimplifiedLayerNormalization") {
      Norm sub;
      if (!norm(a, "attention sub-norm", sub))
        return false;
      if (sub.stream.skip)
        return fail("the attention sub-norm reads a residual sum");
      l.attnSubNorm = sub.gamma;
      a = sub.stream.value;
    }
    const NodeProto *gqa = def(a, "GroupQueryAttention");
    if (!gqa)
      return fail("expected the attention (com.microsoft GroupQueryAttention) at " + what(a));
    std::optional<int64_t> heads = OnnxModel::intAttr(*gqa, "num_heads");
    std::optional<int64_t> kvHeads = OnnxModel::intAttr(*gqa, "kv_num_heads");
    if (!heads || !kvHeads || *heads <= 0 || *kvHeads <= 0 || *heads % *kvHeads)
      return failAt(gqa, "expected num_heads and kv_num_heads > 0, num_heads a multiple of "
                         "kv_num_heads");
    if (OnnxModel::intAttr(*gqa, "rotary_interleaved").value_or(0) != 0)
      return failAt(gqa, "rotary_interleaved = 1; tern's RoPE rotates halves (interleaved = 0)");
    if (OnnxModel::intAttr(*gqa, "local_window_size").value_or(-1) != -1)
      return failAt(gqa, "local_window_size is set; tern's attention is global (-1)");
    if (OnnxModel::floatAttr(*gqa, "softcap").value_or(0.0f) != 0.0f)
      return failAt(gqa, "softcap is set; tern's attention has none");
    if (OnnxModel::intAttr(*gqa, "smooth_softmax").value_or(0) != 0)
      return failAt(gqa, "smooth_softmax is set; tern's attention uses softmax");
    bool rotary = OnnxModel::intAttr(*gqa, "do_rotary").value_or(0) != 0;
    if (!absent(gqa, rotary ? 9 : 7, rotary ? "tern takes positions from seqlens_k (no "
                                              "position_ids, attention_bias or head_sink)"
                                            : "cos/sin caches are read only with do_rotary = 1 "
                                              "(no position_ids, attention_bias or head_sink)"))
      return false;
    std::string q = resolve(input(gqa, 0)), k = resolve(input(gqa, 1));
    if (rotary) {
      if (!rope(gqa, 7, *heads, *kvHeads, l))
        return false;
    } else {
      const NodeProto *rq = def(q, "RotaryEmbedding"), *rk = def(k, "RotaryEmbedding");
      if (!rq || !rk)
        return failAt(gqa, "with do_rotary = 0, query and key must come from com.microsoft "
                           "RotaryEmbedding (tern's RoPE)");
      for (const NodeProto *r : {rq, rk})
        if (!rotaryNode(r) || !rope(r, 2, *heads, *kvHeads, l))
          return false;
      q = resolve(input(rq, 0)), k = resolve(input(rk, 0));
    }
    if (!linear(q, "q_proj", l.q) || !linear(k, "k_proj", l.k) ||
        !linear(input(gqa, 2), "v_proj", l.v))
      return false;
    if (l.q.input != l.k.input || l.q.input != l.v.input)
      return failAt(gqa, "q_proj, k_proj and v_proj read different inputs");
    if (l.q.rows % *heads || l.k.rows != l.q.rows / *heads * *kvHeads || l.v.rows != l.k.rows)
      return failAt(gqa, llvm::formatv("projections of {0}, {1} and {2} rows do not split into "
                                       "{3} query and {4} key/value heads of one size",
                                       l.q.rows, l.k.rows, l.v.rows, *heads, *kvHeads));
    int64_t headDim = l.q.rows / *heads;
    if (!layersSeen) {
      d.spec.heads = *heads, d.spec.kvHeads = *kvHeads, d.spec.headDim = headDim;
    } else if (d.spec.heads != *heads || d.spec.kvHeads != *kvHeads || d.spec.headDim != headDim) {
      return failAt(gqa, "heads differ from the other layers'");
    }
    float scale = OnnxModel::floatAttr(*gqa, "scale").value_or(0.0f);
    float expected = float(1.0 / std::sqrt(double(headDim)));
    if (scale != 0.0f && std::fabs(scale - expected) > 1e-6f * expected)
      return failAt(gqa, llvm::formatv("scale {0}; tern's attention scales by 1/sqrt(head_dim) "
                                       "= {1}",
                                       scale, expected));
    if (!kvCache(gqa, layer, l) || !maskBookkeeping(gqa, 5) || !maskBookkeeping(gqa, 6))
      return false;
    normed = l.q.input;
    return true;
  }

  bool rotaryNode(const NodeProto *r) {
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
  bool rope(const NodeProto *n, int first, int64_t heads, int64_t kvHeads, OnnxLayer &) {
    std::string cosName, sinName;
    if (!initializer(n, first, cosName, "cos_cache") ||
        !initializer(n, first + 1, sinName, "sin_cache"))
      return false;
    if (cosName == checkedCos && sinName == checkedSin)
      return true;
    const OnnxTensor *c = m.constant(cosName), *s = m.constant(sinName);
    if (c->shape.size() != 2 || c->shape != s->shape || c->shape[1] < 2 || c->shape[0] < 2 ||
        !isFloat(c->dtype) || !isFloat(s->dtype))
      return failAt(n, "cos_cache and sin_cache must be float [max positions, head_dim / 2] "
                       "of one shape, found " + shapeString(c->shape) + " and " +
                       shapeString(s->shape));
    int64_t half = c->shape[1], rows = c->shape[0], dim = 2 * half;
    // inv_freq[1] = theta^(-2/d) from position 1: theta = f^(-d/2). Published values are whole
    // numbers; the caches then must match that theta everywhere.
    double f = std::atan2(s->at(half + 1), c->at(half + 1));
    double theta = std::round(std::pow(f, -double(dim) / 2.0));
    if (!(f > 0) || !(theta >= 2) || !std::isfinite(theta))
      return failAt(n, "cos_cache/sin_cache do not hold a rotary embedding (no theta fits "
                       "position 1)");
    for (int64_t p = 0; p < rows; ++p)
      for (int64_t i = 0; i < half; ++i) {
        float inv = float(1.0 / std::pow(theta, double(2 * i) / double(dim)));
        double angle = double(float(p) * inv);
        double dc = std::fabs(c->at(p * half + i) - std::cos(angle));
        double ds = std::fabs(s->at(p * half + i) - std::sin(angle));
        if (dc > 2e-3 || ds > 2e-3)
          return failAt(n, llvm::formatv("cos_cache/sin_cache at position {0}, frequency {1} "
                                         "differ from rotate-half RoPE with theta {2} (the "
                                         "value position 1 gives) by {3}",
                                         p, i, theta, std::max(dc, ds)));
      }
    if (checkedCos.empty())
      d.spec.ropeTheta = float(theta);
    else if (float(theta) != d.spec.ropeTheta)
      return failAt(n, "rotary theta differs from the other layers'");
    d.maxPositions = rows, rotaryDim = dim;
    checkedCos = cosName, checkedSin = sinName;
    (void)heads, (void)kvHeads;
    return true;
  }

  /// past_key_values.<i>.key/value in, present.<i>.key/value out: tern's KV cache.
  bool kvCache(const NodeProto *gqa, int64_t layer, OnnxLayer &l) {
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
    (void)layer;
    return unusedOutputs(gqa, 3);
  }

  /// seqlens_k and total_sequence_length: computed from the attention mask (or a graph input)
  /// by shape and reduction ops; tern's runtime knows both.
  bool maskBookkeeping(const NodeProto *gqa, int index) {
    llvm::SmallVector<std::string, 8> work{input(gqa, index)};
    static const llvm::StringRef allowed[] = {"ReduceSum", "Sub", "Cast", "Shape", "Gather",
                                              "Identity", "Constant"};
    while (!work.empty()) {
      std::string v = work.pop_back_val();
      if (v.empty() || m.graphInput(v) || m.isInitializer(v))
        continue;
      Producer p = m.producer(v);
      if (!p.node)
        return failAt(gqa, "input '" + v + "' is produced by nothing");
      if (!llvm::is_contained(allowed, p.node->op_type()))
        return failAt(p.node, "expected the attention mask's bookkeeping (seqlens_k, "
                              "total_sequence_length: ReduceSum, Sub, Cast, Shape, Gather)");
      if (!seen.insert(p.node).second)
        continue;
      for (const std::string &in : p.node->input())
        work.push_back(in);
    }
    return true;
  }

  bool embedding(const Stream &s) {
    const NodeProto *gather = s.skip ? nullptr : def(s.value, "Gather");
    if (!gather)
      return fail("expected the embedding (Gather of a [vocab, hidden] initializer by "
                  "input_ids) at " + (s.skip ? s.str() : what(s.value)));
    if (OnnxModel::intAttr(*gather, "axis").value_or(0) != 0)
      return failAt(gather, "expected axis 0 (rows of the table)");
    if (!initializer(gather, 0, d.embedding, "the embedding table"))
      return false;
    const OnnxTensor *t = m.constant(d.embedding);
    if (t->shape.size() != 2 || !isFloat(t->dtype))
      return failAt(gather, "the embedding table '" + d.embedding + "' has shape " +
                                shapeString(t->shape) + "; expected float [vocab, hidden]");
    std::string ids = resolve(input(gather, 1));
    if (!m.graphInput(ids))
      return failAt(gather, "the token ids '" + ids + "' must be a graph input");
    d.spec.vocab = t->shape[0], d.spec.hidden = t->shape[1];
    return true;
  }

  bool recognize() {
    // The logits: the output called "logits", or the only output that is not a KV cache.
    std::string logits;
    for (const ::onnx::ValueInfoProto &o : m.graph().output())
      if (o.name() == "logits")
        logits = o.name();
    if (logits.empty()) {
      for (const ::onnx::ValueInfoProto &o : m.graph().output())
        if (!llvm::StringRef(o.name()).starts_with("present"))
          logits = logits.empty() ? o.name() : "\x01";
      if (logits.empty() || logits == "\x01")
        return fail("expected one graph output 'logits' (besides present.* KV cache outputs)");
    }
    const NodeProto *head = def(logits, "MatMul");
    if (!head)
      return fail("expected the logits to be the output head (a MatMul), found " + what(logits));
    Norm final;
    if (!norm(input(head, 0), "final norm", final))
      return false;
    d.finalNorm = final.gamma;
    std::string headWeight = resolve(input(head, 1));
    const NodeProto *transpose = def(headWeight, "Transpose");
    if (transpose)
      headWeight = resolve(input(transpose, 0));

    Stream s = final.stream;
    std::vector<OnnxLayer> reversed;
    while (true) {
      Producer p = s.skip ? Producer{} : m.producer(s.value);
      if (!s.skip && p.node && p.node->op_type() == "Gather")
        break;
      OnnxLayer l;
      Stream h, x;
      std::string down, o, n2, n1;
      if (!residual(s, h, down) || !mlp(down, l, n2))
        return false;
      Norm post;
      if (!norm(n2, "post-attention norm", post))
        return false;
      if (!(post.stream == h))
        return fail("the post-attention norm reads " + post.stream.str() +
                    ", not the residual stream " + h.str());
      l.postAttentionNorm = post.gamma;
      int64_t layer = int64_t(reversed.size()); // counted from the end; renumbered below
      if (!residual(h, x, o) || !attentionBranch(o, layer, l, n1))
        return false;
      Norm in;
      if (!norm(n1, "input norm", in))
        return false;
      if (!(in.stream == x))
        return fail("the input norm reads " + in.stream.str() + ", not the residual stream " +
                    x.str());
      l.inputNorm = in.gamma;
      bool sub = !l.attnSubNorm.empty(), ffnSub = !l.ffnSubNorm.empty();
      if (!layersSeen) {
        d.spec.attnSubNorm = sub, d.spec.ffnSubNorm = ffnSub;
      } else if (sub != d.spec.attnSubNorm || ffnSub != d.spec.ffnSubNorm) {
        return fail("layers differ in their sub-norms (at " + what(o) + ")");
      }
      ++layersSeen;
      reversed.push_back(std::move(l));
      s = x;
    }
    if (!embedding(s))
      return false;
    if (reversed.empty())
      return fail("the graph has no decoder layer between the embedding and the head");
    d.layers.assign(reversed.rbegin(), reversed.rend());
    d.spec.layers = int64_t(d.layers.size());
    d.spec.intermediate = d.layers[0].gate.rows;
    // The KV cache names are per layer; a layer reading another layer's cache is not tern's.
    for (size_t i = 0; i < d.layers.size(); ++i) {
      const OnnxLayer &l = d.layers[i];
      std::string want = "past_key_values." + std::to_string(i) + ".key";
      if (!l.pastKey.empty() && l.pastKey != want)
        return fail(llvm::formatv("layer {0} reads the past key '{1}'; expected '{2}'", i,
                                  l.pastKey, want));
    }
    // Head: the table itself (transposed) is the tied form; an [H, V] initializer equal to the
    // table's transpose is tied too (an exporter's copy).
    const OnnxTensor *w = m.constant(headWeight);
    if (!w)
      return failAt(head, "expected its weight to be an initializer (or a Transpose of the "
                          "embedding table), found " + what(headWeight));
    if (transpose) {
      auto perm = OnnxModel::attribute(*transpose, "perm");
      if (headWeight != d.embedding || (perm && (perm->ints_size() != 2 || perm->ints(0) != 1)))
        return failAt(transpose, "expected the transposed embedding table (perm [1, 0])");
      d.spec.tiedHead = true;
    } else if (w->shape.size() != 2 || w->shape[0] != d.spec.hidden ||
               w->shape[1] != d.spec.vocab || !isFloat(w->dtype)) {
      return failAt(head, "the head weight '" + headWeight + "' has shape " +
                              shapeString(w->shape) + llvm::formatv("; expected float [{0}, {1}]",
                                                                    d.spec.hidden, d.spec.vocab)
                                                          .str());
    } else {
      const OnnxTensor *table = m.constant(d.embedding);
      bool same = table->dtype == w->dtype;
      for (int64_t r = 0; same && r < d.spec.vocab; ++r)
        for (int64_t c = 0; same && c < d.spec.hidden; ++c)
          same = table->at(r * d.spec.hidden + c) == w->at(c * d.spec.vocab + r);
      d.spec.tiedHead = same;
      if (!same)
        d.head = headWeight;
    }
    if (rotaryDim != d.spec.headDim)
      return fail(llvm::formatv("the rotary caches cover {0} of each head's {1} dims; tern "
                                "rotates whole heads",
                                rotaryDim, d.spec.headDim));
    d.spec.activationBits = 8;
    return true;
  }

  /// Every node some output depends on must be one the recognizer took apart.
  bool checkEverythingRecognized() {
    llvm::DenseSet<const NodeProto *> live;
    llvm::SmallVector<std::string, 16> work;
    for (const ::onnx::ValueInfoProto &o : m.graph().output())
      work.push_back(o.name());
    while (!work.empty()) {
      Producer p = m.producer(work.pop_back_val());
      if (!p.node || !live.insert(p.node).second)
        continue;
      for (const std::string &in : p.node->input())
        work.push_back(in);
    }
    for (const NodeProto &n : m.graph().node()) {
      if (!live.count(&n)) {
        ++d.deadNodes;
        continue;
      }
      if (!seen.count(&n) && n.op_type() != "Constant")
        return failAt(&n, "not part of the decoder tern recognized (a model output depends on "
                          "it, so ignoring it would change the model)");
    }
    return true;
  }

  const OnnxModel &m;
  OnnxDecoder d;
  std::optional<std::string> error;
  llvm::DenseSet<const NodeProto *> seen;
  bool haveEps = false;
  int64_t layersSeen = 0, rotaryDim = 0;
  std::string checkedCos, checkedSin;
};

} // namespace

auto tern::onnx::recognizeDecoder(const OnnxModel &model) -> llvm::Expected<OnnxDecoder> {
  return Recognizer(model).run();
}
