//===- DecoderRecognizer.cpp - finds the BitNet decoder in an ONNX graph ----------------------===//
//
// The walk: from the logits back through the final norm, then layer by layer along the residual
// stream (h = x + attention branch, out = h + MLP branch) to the embedding. Which form a part
// takes (com.microsoft op or ai.onnx chain) is decided by the op found there.
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/onnx/Recognizer.h"

#include "frontends/onnx/OpTable.h"

#include "onnx/onnx_pb.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace tern;
using namespace tern::onnx;
using NodeProto = ::onnx::NodeProto;

std::string Stream::str() const {
  return skip ? "the residual sum of SkipSimplifiedLayerNormalization '" + skip->name() + "'"
              : "'" + value + "'";
}

llvm::Expected<OnnxDecoder> Recognizer::run() {
  for (const NodeProto &n : m.graph().node()) {
    llvm::Expected<const OpSupport *> op = lookupOp(m, n);
    if (!op)
      return op.takeError();
  }
  if (!recognize() || !checkEverythingRecognized())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   m.path().str() + ": " + *error);
  d.nodes = int64_t(seen.size());
  return std::move(d);
}

//===--- errors and node access -----------------------------------------------------------===//

bool Recognizer::fail(const llvm::Twine &message) {
  if (!error)
    error = message.str();
  return false;
}

bool Recognizer::failAt(const NodeProto *n, const llvm::Twine &message) {
  return fail(m.describe(*n) + ": " + message);
}

std::string Recognizer::what(llvm::StringRef value) {
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

const NodeProto *Recognizer::def(llvm::StringRef value, llvm::StringRef op, int index) {
  Producer p = m.producer(resolve(value));
  if (!p.node || p.node->op_type() != op || p.output != index)
    return nullptr;
  seen.insert(p.node);
  return p.node;
}

llvm::StringRef Recognizer::opOf(llvm::StringRef value) {
  // Output 0 only, as def() matches: a pattern never reads another output by its op type.
  Producer p = m.producer(resolve(value));
  return p.node && p.output == 0 ? llvm::StringRef(p.node->op_type()) : llvm::StringRef();
}

std::string Recognizer::resolve(llvm::StringRef value) {
  Producer p = m.producer(value);
  std::string v = value.str();
  while (p.node && p.node->op_type() == "Identity") {
    seen.insert(p.node);
    v = p.node->input_size() ? p.node->input(0) : std::string();
    p = m.producer(v);
  }
  return v;
}

std::string Recognizer::input(const NodeProto *n, int i) {
  return i < n->input_size() ? n->input(i) : std::string();
}

bool Recognizer::initializer(const NodeProto *n, int i, std::string &out, llvm::StringRef role) {
  out = resolve(input(n, i));
  if (out.empty())
    return failAt(n, llvm::formatv("input {0} ({1}) is missing; expected an initializer", i,
                                   role));
  if (!m.constant(out))
    return failAt(n, llvm::formatv("input {0} ({1}) must be an initializer, found {2}", i, role,
                                   what(out)));
  if (const NodeProto *c = m.producer(out).node)
    seen.insert(c); // a Constant node
  return true;
}

bool Recognizer::absent(const NodeProto *n, int from, llvm::StringRef why) {
  for (int i = from; i < n->input_size(); ++i)
    if (!n->input(i).empty())
      return failAt(n, llvm::formatv("input {0} is set; {1}", i, why));
  return true;
}

bool Recognizer::unusedOutputs(const NodeProto *n, int from, int to) {
  for (int i = from; i < std::min(to, n->output_size()); ++i)
    if (!n->output(i).empty() &&
        (!m.consumers(n->output(i)).empty() || m.graphOutput(n->output(i))))
      return failAt(n, llvm::formatv("its output {0} ('{1}') is read; tern computes only the "
                                     "normalized, projected or attended output and a residual "
                                     "sum",
                                     i, n->output(i)));
  return true;
}

std::optional<std::vector<double>> Recognizer::constant(llvm::StringRef value) {
  std::string v = resolve(value);
  const OnnxTensor *t = m.constant(v);
  if (!t)
    return std::nullopt;
  if (const NodeProto *c = m.producer(v).node)
    seen.insert(c);
  std::vector<double> out;
  for (int64_t i = 0; i < t->numElements(); ++i)
    out.push_back(t->at(i));
  return out;
}

std::optional<double> Recognizer::scalar(llvm::StringRef value) {
  const OnnxTensor *t = m.constant(resolve(value));
  if (!t || t->numElements() != 1)
    return std::nullopt;
  std::optional<std::vector<double>> c = constant(value);
  if (!c || c->size() != 1)
    return std::nullopt;
  return (*c)[0];
}

std::optional<std::vector<double>> Recognizer::reduceAxes(const NodeProto *n) {
  if (const ::onnx::AttributeProto *a = OnnxModel::attribute(*n, "axes"))
    return std::vector<double>(a->ints().begin(), a->ints().end());
  if (!input(n, 1).empty())
    return constant(input(n, 1));
  return std::nullopt;
}

Stream Recognizer::streamOf(llvm::StringRef value) {
  std::string v = resolve(value);
  Producer p = m.producer(v);
  if (p.node && p.node->op_type() == "SkipSimplifiedLayerNormalization" && p.output == 3) {
    seen.insert(p.node);
    return Stream{p.node, ""};
  }
  return Stream{nullptr, v};
}

bool Recognizer::epsilon(const NodeProto *n, float eps) {
  if (!haveEps) {
    d.spec.rmsNormEps = eps, haveEps = true;
    return true;
  }
  if (eps != d.spec.rmsNormEps)
    return failAt(n, llvm::formatv("epsilon {0} differs from the model's other norms ({1}); "
                                   "tern's decoder has one",
                                   llvm::format("%g", eps), llvm::format("%g", d.spec.rmsNormEps)));
  return true;
}

bool Recognizer::setTheta(const NodeProto *n, double theta, int64_t dim) {
  if (!haveTheta) {
    d.spec.ropeTheta = float(theta), rotaryDim = dim, haveTheta = true;
    return true;
  }
  if (float(theta) != d.spec.ropeTheta || dim != rotaryDim)
    return failAt(n, llvm::formatv("rotary theta {0} over {1} dims differs from the other "
                                   "layers' ({2} over {3})",
                                   llvm::format("%g", theta), dim,
                                   llvm::format("%g", d.spec.ropeTheta), rotaryDim));
  return true;
}

//===--- the decoder ----------------------------------------------------------------------===//

bool Recognizer::norm(llvm::StringRef value, llvm::StringRef role, Norm &out) {
  llvm::StringRef op = opOf(value);
  if (op == "SimplifiedLayerNormalization" || op == "SkipSimplifiedLayerNormalization")
    return contribNorm(value, out);
  if (op == "Mul")
    return plainNorm(value, out);
  return fail(llvm::formatv("expected the {0} (an RMSNorm: SimplifiedLayerNormalization, "
                            "SkipSimplifiedLayerNormalization, or x * 1/sqrt(mean(x^2) + eps) * "
                            "weight), found {1}",
                            role, what(value)));
}

bool Recognizer::linear(llvm::StringRef value, llvm::StringRef role, OnnxLinear &out) {
  if (const NodeProto *n = def(value, "MatMulNBits"))
    return matMulNBits(n, out);
  return plainLinear(value, role, out);
}

/// The stream side of a residual Add: the embedding, an earlier residual sum.
bool Recognizer::isStream(llvm::StringRef value) {
  std::string v = resolve(value);
  Producer p = m.producer(v);
  if (!p.node)
    return false;
  llvm::StringRef op = p.node->op_type();
  return op == "Gather" || op == "Add" ||
         (op == "SkipSimplifiedLayerNormalization" && p.output == 3);
}

bool Recognizer::residual(const Stream &s, Stream &prev, std::string &branch) {
  const NodeProto *n = s.skip;
  if (!n && !(n = def(s.value, "Add")))
    return fail("expected the residual stream (an Add or SkipSimplifiedLayerNormalization's "
                "sum) at " + what(s.value));
  std::string a = resolve(input(n, 0)), b = resolve(input(n, 1));
  if (isStream(a) && !isStream(b))
    std::swap(a, b);
  if (!isStream(b))
    return failAt(n, "expected one input to be the residual stream (the embedding or an "
                     "earlier residual sum) and the other a layer's branch");
  branch = a;
  prev = streamOf(b);
  return true;
}

/// Whether `value` is an RMSNorm's output (not a product of activations): a norm op, or a Mul
/// by a constant (the norm weight).
static bool looksLikeNorm(const OnnxModel &m, llvm::StringRef op, const NodeProto *n) {
  if (op == "SimplifiedLayerNormalization")
    return true;
  return op == "Mul" && n && n->input_size() == 2 &&
         (m.constant(n->input(0)) || m.constant(n->input(1)));
}

/// A sub-norm before a projection, if `x` is a norm's output: `x` becomes the norm's input and
/// `gamma` its weight.
bool Recognizer::subNorm(std::string &x, llvm::StringRef role, std::string &gamma) {
  if (!looksLikeNorm(m, opOf(x), m.producer(x).node))
    return true;
  Norm sub;
  if (!norm(x, role, sub))
    return false;
  if (sub.stream.skip)
    return fail("the " + role + " reads a residual sum");
  gamma = sub.gamma;
  x = sub.stream.value;
  return true;
}

bool Recognizer::mlp(llvm::StringRef down, OnnxLayer &l, std::string &normed) {
  if (!linear(down, "down_proj", l.down))
    return false;
  std::string x = l.down.input;
  if (!subNorm(x, "ffn sub-norm", l.ffnSubNorm))
    return false;
  const NodeProto *mul = def(x, "Mul");
  if (!mul)
    return fail("expected act(gate_proj) * up_proj (a Mul) at " + what(x));
  std::string act = resolve(input(mul, 0)), up = resolve(input(mul, 1));
  std::string gate;
  DecoderActivation kind;
  // Which factor is the activation (relu^2 or SiLU), which up_proj.
  auto isActivation = [&](llvm::StringRef v) {
    const NodeProto *n = m.producer(resolve(v)).node;
    if (!n || n->input_size() != 2)
      return false;
    std::string a = resolve(n->input(0)), b = resolve(n->input(1));
    if (n->op_type() == "Pow")
      return opOf(a) == "Relu";
    if (n->op_type() != "Mul")
      return false;
    auto sigmoidOf = [&](llvm::StringRef s, llvm::StringRef x) {
      const NodeProto *sig = m.producer(s).node;
      return sig && sig->op_type() == "Sigmoid" && resolve(input(sig, 0)) == x;
    };
    return (a == b && opOf(a) == "Relu") || sigmoidOf(a, b) || sigmoidOf(b, a);
  };
  if (!isActivation(act))
    std::swap(act, up);
  if (!activation(act, gate, kind))
    return false;
  if (!layersSeen)
    d.spec.activation = kind;
  else if (kind != d.spec.activation)
    return fail("layers use different activations at " + what(act));
  if (!linear(gate, "gate_proj", l.gate) || !linear(up, "up_proj", l.up))
    return false;
  if (l.gate.input != l.up.input)
    return fail("gate_proj and up_proj read different inputs ('" + l.gate.input + "', '" +
                l.up.input + "')");
  normed = l.gate.input;
  return true;
}

/// relu^2 (Relu then Mul by itself or Pow 2) or SiLU (x * Sigmoid(x)) of `value`.
bool Recognizer::activation(llvm::StringRef value, std::string &x, DecoderActivation &kind) {
  if (const NodeProto *mul = def(value, "Mul")) {
    std::string a = resolve(input(mul, 0)), b = resolve(input(mul, 1));
    if (a == b) {
      if (const NodeProto *relu = def(a, "Relu")) {
        x = resolve(input(relu, 0)), kind = DecoderActivation::ReLU2;
        return true;
      }
    }
    for (int i = 0; i < 2; ++i, std::swap(a, b))
      if (opOf(b) == "Sigmoid" && resolve(input(m.producer(b).node, 0)) == a) {
        def(b, "Sigmoid");
        x = a, kind = DecoderActivation::SiLU;
        return true;
      }
    return failAt(mul, "expected relu^2 (Relu(x) * Relu(x)) or SiLU (x * Sigmoid(x))");
  }
  if (const NodeProto *pow = def(value, "Pow")) {
    std::optional<double> e = scalar(input(pow, 1));
    const NodeProto *relu = def(input(pow, 0), "Relu");
    if (!e || *e != 2.0 || !relu)
      return failAt(pow, "expected relu^2: Pow(Relu(x), 2)");
    x = resolve(input(relu, 0)), kind = DecoderActivation::ReLU2;
    return true;
  }
  return fail("expected the MLP's activation (relu^2 or SiLU) at " + what(value));
}

bool Recognizer::attentionBranch(llvm::StringRef oValue, int64_t layer, OnnxLayer &l,
                                 std::string &normed) {
  if (!linear(oValue, "o_proj", l.o))
    return false;
  std::string a = l.o.input;
  if (!subNorm(a, "attention sub-norm", l.attnSubNorm))
    return false;
  Attention att;
  if (const NodeProto *gqa = def(a, "GroupQueryAttention")) {
    if (!groupQueryAttention(gqa, l, att))
      return false;
  } else if (!eagerAttention(a, layer, l, att)) {
    return false;
  }
  if (!linear(att.q, "q_proj", l.q) || !linear(att.k, "k_proj", l.k) ||
      !linear(att.v, "v_proj", l.v))
    return false;
  if (l.q.input != l.k.input || l.q.input != l.v.input)
    return fail(llvm::formatv("q_proj, k_proj and v_proj of layer {0} (counted from the output) "
                              "read different inputs",
                              layer));
  // Heads the graph leaves to inference (-1 in a Reshape) follow from the rows.
  if (att.headDim > 0 && att.heads <= 0)
    att.heads = l.q.rows / att.headDim;
  if (att.headDim > 0 && att.kvHeads <= 0)
    att.kvHeads = l.k.rows / att.headDim;
  if (att.heads <= 0 || att.kvHeads <= 0 ||
      (att.repeats && att.heads != att.kvHeads * att.repeats))
    return fail(llvm::formatv("layer {0} (counted from the output): {1} query heads are not {2} "
                              "key/value heads repeated "
                              "{3} times",
                              layer, att.heads, att.kvHeads, att.repeats));
  if (l.q.rows % att.heads || l.k.rows * att.heads != l.q.rows * att.kvHeads ||
      l.v.rows != l.k.rows || (att.headDim && att.headDim * att.heads != l.q.rows))
    return fail(llvm::formatv("layer {0} (counted from the output): projections of {1}, {2} and "
                              "{3} rows do not split "
                              "into {4} query and {5} key/value heads of one size",
                              layer, l.q.rows, l.k.rows, l.v.rows, att.heads, att.kvHeads));
  int64_t headDim = l.q.rows / att.heads;
  float expected = float(1.0 / std::sqrt(double(headDim)));
  if (att.scale != 0.0f && std::fabs(att.scale - expected) > 1e-6f * expected)
    return failAt(att.scaleNode, llvm::formatv("scale {0}; tern's attention scales by "
                                               "1/sqrt(head_dim) = {1}",
                                               llvm::format("%g", att.scale),
                                               llvm::format("%g", expected)));
  if (!layersSeen) {
    d.spec.heads = att.heads, d.spec.kvHeads = att.kvHeads, d.spec.headDim = headDim;
  } else if (d.spec.heads != att.heads || d.spec.kvHeads != att.kvHeads ||
             d.spec.headDim != headDim) {
    return fail(llvm::formatv("layer {0} (counted from the output): heads differ from the other "
                              "layers'",
                              layer));
  }
  normed = l.q.input;
  return true;
}

bool Recognizer::embedding(const Stream &s) {
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
  d.tokenIds = ids;
  return true;
}

/// The head: the table itself (transposed) is the tied form; an [H, V] initializer equal to the
/// table's transpose is tied too (an exporter's copy); any other [H, V] initializer is untied.
bool Recognizer::head(const NodeProto *matmul) {
  std::string weight = resolve(input(matmul, 1));
  if (const NodeProto *transpose = def(weight, "Transpose")) {
    weight = resolve(input(transpose, 0));
    const ::onnx::AttributeProto *perm = OnnxModel::attribute(*transpose, "perm");
    if (weight != d.embedding || (perm && (perm->ints_size() != 2 || perm->ints(0) != 1)))
      return failAt(transpose, "expected the transposed embedding table (perm [1, 0])");
    d.spec.tiedHead = true;
    return true;
  }
  const OnnxTensor *w = m.constant(weight);
  if (!w)
    return failAt(matmul, "expected its weight to be an initializer (or a Transpose of the "
                          "embedding table), found " + what(weight));
  if (w->shape.size() != 2 || w->shape[0] != d.spec.hidden || w->shape[1] != d.spec.vocab ||
      !isFloat(w->dtype))
    return failAt(matmul, "the head weight '" + weight + "' has shape " + shapeString(w->shape) +
                              llvm::formatv("; expected float [{0}, {1}]", d.spec.hidden,
                                            d.spec.vocab)
                                  .str());
  const OnnxTensor *table = m.constant(d.embedding);
  bool same = table->dtype == w->dtype;
  for (int64_t r = 0; same && r < d.spec.vocab; ++r)
    for (int64_t c = 0; same && c < d.spec.hidden; ++c)
      same = table->at(r * d.spec.hidden + c) == w->at(c * d.spec.vocab + r);
  d.spec.tiedHead = same;
  if (!same)
    d.head = weight;
  return true;
}

bool Recognizer::recognize() {
  // The logits: the output called "logits", or the only output that is not a KV cache.
  std::string logits;
  int others = 0;
  for (const ::onnx::ValueInfoProto &o : m.graph().output()) {
    if (o.name() == "logits")
      logits = o.name();
    others += !llvm::StringRef(o.name()).starts_with("present");
  }
  if (logits.empty() && others == 1)
    for (const ::onnx::ValueInfoProto &o : m.graph().output())
      if (!llvm::StringRef(o.name()).starts_with("present"))
        logits = o.name();
  if (logits.empty())
    return fail("expected one graph output 'logits' (besides present.* KV cache outputs)");
  d.logits = logits;
  const NodeProto *headMatMul = def(logits, "MatMul");
  if (!headMatMul)
    return fail("expected the logits to be the output head (a MatMul), found " + what(logits));
  Norm final;
  if (!norm(input(headMatMul, 0), "final norm", final))
    return false;
  d.finalNorm = final.gamma;

  Stream s = final.stream;
  std::vector<OnnxLayer> reversed;
  while (s.skip || opOf(s.value) != "Gather") {
    OnnxLayer l;
    Stream h, x;
    std::string down, o, n2, n1;
    int64_t layer = int64_t(reversed.size()); // counted from the end in messages
    if (!residual(s, h, down) || !mlp(down, l, n2))
      return false;
    Norm post;
    if (!norm(n2, "post-attention norm", post))
      return false;
    if (!(post.stream == h))
      return fail("the post-attention norm reads " + post.stream.str() +
                  ", not the residual stream " + h.str());
    l.postAttentionNorm = post.gamma;
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
    for (const OnnxLinear *w : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down})
      if (w->activationBits != l.q.activationBits || (layersSeen &&
                                                      w->activationBits != d.spec.activationBits))
        return failAt(w->node, "its activations are quantized to a different number of bits "
                               "than the model's other projections");
    d.spec.activationBits = l.q.activationBits;
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
    for (auto [past, kind] : {std::pair{l.pastKey, "key"}, std::pair{l.pastValue, "value"}}) {
      std::string want = "past_key_values." + std::to_string(i) + "." + kind;
      if (!past.empty() && past != want)
        return fail(llvm::formatv("layer {0} reads the past {1} '{2}'; expected '{3}'", i, kind,
                                  past, want));
    }
  }
  if (!head(headMatMul))
    return false;
  if (rotaryDim != d.spec.headDim)
    return fail(llvm::formatv("the rotary embedding covers {0} of each head's {1} dims; tern "
                              "rotates whole heads",
                              rotaryDim, d.spec.headDim));
  return true;
}

/// Every node some output depends on must be one the recognizer took apart.
bool Recognizer::checkEverythingRecognized() {
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
    // A Constant computes nothing: its readers are what must be recognized.
    if (!seen.count(&n) && n.op_type() != "Constant")
      return failAt(&n, "not part of the decoder tern recognized (a model output depends on "
                        "it, so ignoring it would change the model)");
  }
  return true;
}

auto tern::onnx::recognizeDecoder(const OnnxModel &model) -> llvm::Expected<OnnxDecoder> {
  return Recognizer(model).run();
}
