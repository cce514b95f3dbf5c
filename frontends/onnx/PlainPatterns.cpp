//===- PlainPatterns.cpp - ai.onnx op chains of an exported decoder ---------------------------===//
//
// What torch.onnx.export writes for transformers' BitNet models, op by op:
//   RMSNorm       w * (x * 1/sqrt(mean(x^2) + eps))   (Div(1, Sqrt) or Reciprocal; Div(x, Sqrt))
//   act quant     s = qmax / Clip(ReduceMax(Abs(x)), 1e-5); q = Clip(Round(x * s), -qmax-1, qmax)
//   projection    MatMul(q / s, W), W = {-s_w, 0, s_w}     (the scale folded into the weight)
//                 MatMul(q, W) / (s * w_s) or MatMul(q, W) / s * w_s, W = {-1, 0, 1}
//                 Cast(MatMulInteger(Cast(q, int8), W int8), float), then as above
//   attention     heads by Reshape/Transpose; RoPE x * cos + rotate_half(x) * sin with cos/sin from
//                 inv_freq and the positions; past_key_values Concat; GQA by Unsqueeze/Expand/
//                 Reshape; Softmax(q k^T * 1/sqrt(d) + causal mask) v; Transpose/Reshape back.
// Each step names the node and what it expected when the graph differs.
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/onnx/Recognizer.h"

#include "onnx/onnx_pb.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstring>

using namespace tern;
using namespace tern::onnx;
using NodeProto = ::onnx::NodeProto;

namespace {
std::string list(llvm::ArrayRef<double> values) {
  std::string s = "[";
  for (size_t i = 0; i < values.size(); ++i)
    s += (i ? ", " : "") + llvm::formatv("{0}", llvm::format("%g", values[i])).str();
  return s + "]";
}
bool lastAxis(const std::optional<std::vector<double>> &axes, int rank) {
  return axes && axes->size() == 1 && ((*axes)[0] == -1 || (*axes)[0] == rank - 1);
}
/// Whether `n`'s perm attribute is exactly `want`.
bool hasPerm(const ::onnx::NodeProto &n, std::initializer_list<int64_t> want) {
  const ::onnx::AttributeProto *perm = OnnxModel::attribute(n, "perm");
  return perm && std::equal(perm->ints().begin(), perm->ints().end(), want.begin(), want.end());
}
/// A dim of a constant Reshape target that keeps the input's (0) or states one.
bool keepsOrStates(double d) { return d >= 0 && d < double(1ll << 40); }
} // namespace

bool Recognizer::plainNorm(llvm::StringRef value, Norm &out) {
  const NodeProto *n = def(value, "Mul");
  std::string gamma = resolve(input(n, 0)), y = resolve(input(n, 1));
  if (!m.constant(gamma))
    std::swap(gamma, y);
  if (!initializer(n, m.constant(resolve(input(n, 0))) ? 0 : 1, out.gamma, "the norm weight"))
    return false;
  // y = x * r, r = 1/sqrt(e) (Div(1, Sqrt) or Reciprocal(Sqrt)); or y = x / sqrt(e).
  std::string x, root;
  if (const NodeProto *div = def(y, "Div")) {
    x = resolve(input(div, 0)), root = input(div, 1);
  } else if (const NodeProto *mul = def(y, "Mul")) {
    std::string a = resolve(input(mul, 0)), b = resolve(input(mul, 1));
    if (opOf(a) == "Div" || opOf(a) == "Reciprocal")
      std::swap(a, b);
    x = a;
    if (const NodeProto *inv = def(b, "Div")) {
      std::optional<double> one = scalar(input(inv, 0));
      if (!one || *one != 1.0)
        return failAt(inv, "expected 1 / sqrt(mean(x^2) + eps)");
      root = input(inv, 1);
    } else if (const NodeProto *inv = def(b, "Reciprocal")) {
      root = input(inv, 0);
    } else {
      return failAt(mul, "expected x * 1/sqrt(mean(x^2) + eps) (an RMSNorm)");
    }
  } else {
    return failAt(n, "expected an RMSNorm: weight * (x * 1/sqrt(mean(x^2) + eps))");
  }
  const NodeProto *sqrt = def(root, "Sqrt");
  const NodeProto *add = sqrt ? def(input(sqrt, 0), "Add") : nullptr;
  if (!add)
    return failAt(n, "expected sqrt(mean(x^2) + eps) in the RMSNorm, found " + what(root));
  std::string mean = resolve(input(add, 0)), epsValue = resolve(input(add, 1));
  if (!scalar(epsValue))
    std::swap(mean, epsValue);
  std::optional<double> eps = scalar(epsValue);
  const NodeProto *reduce = def(mean, "ReduceMean");
  if (!eps || !reduce)
    return failAt(add, "expected mean(x^2) + eps with a constant eps");
  if (!lastAxis(reduceAxes(reduce), 3) || OnnxModel::intAttr(*reduce, "keepdims").value_or(1) != 1)
    return failAt(reduce, "expected the mean over the last axis, keepdims = 1; found axes " +
                              (reduceAxes(reduce) ? list(*reduceAxes(reduce)) : "(not constant)") +
                              llvm::formatv(", keepdims = {0}",
                                            OnnxModel::intAttr(*reduce, "keepdims").value_or(1))
                                  .str());
  std::string square = resolve(input(reduce, 0)), sx;
  if (const NodeProto *pow = def(square, "Pow")) {
    std::optional<double> two = scalar(input(pow, 1));
    if (!two || *two != 2.0)
      return failAt(pow, "expected x^2");
    sx = resolve(input(pow, 0));
  } else if (const NodeProto *mul = def(square, "Mul")) {
    if (resolve(input(mul, 0)) != resolve(input(mul, 1)))
      return failAt(mul, "expected x * x");
    sx = resolve(input(mul, 0));
  } else {
    return failAt(reduce, "expected the mean of x^2 (Pow(x, 2) or x * x)");
  }
  if (sx != x)
    return failAt(reduce, "the RMSNorm squares '" + sx + "' but scales '" + x + "'");
  out.stream = Stream{nullptr, x};
  out.eps = float(*eps);
  return epsilon(n, out.eps);
}

/// q = Clip(Round(x * s), -qmax - 1, qmax), s = qmax / Clip(ReduceMax(Abs(x)), 1e-5).
bool Recognizer::actQuant(llvm::StringRef q, llvm::StringRef s, std::string &x, int64_t &bits) {
  const NodeProto *clip = def(q, "Clip");
  const NodeProto *round = clip ? def(input(clip, 0), "Round") : nullptr;
  const NodeProto *mul = round ? def(input(round, 0), "Mul") : nullptr;
  if (!mul)
    return fail("expected the activations' quantization Clip(Round(x * s), -qmax - 1, qmax) at " +
                what(q));
  std::string a = resolve(input(mul, 0)), b = resolve(input(mul, 1));
  if (a == resolve(s))
    std::swap(a, b);
  if (b != resolve(s))
    return failAt(mul, "expected x * s with the scale '" + resolve(s) +
                           "' the projection divides by");
  x = a;
  const NodeProto *div = def(s, "Div");
  std::optional<double> qmax = div ? scalar(input(div, 0)) : std::nullopt;
  const NodeProto *floor = div ? def(input(div, 1), "Clip") : nullptr;
  std::optional<double> eps = floor ? scalar(input(floor, 1)) : std::nullopt;
  const NodeProto *max = floor ? def(input(floor, 0), "ReduceMax") : nullptr;
  const NodeProto *abs = max ? def(input(max, 0), "Abs") : nullptr;
  if (!qmax || !eps || !abs || !input(floor, 2).empty())
    return fail("expected the activation scale qmax / Clip(ReduceMax(Abs(x)), eps) at " +
                what(s));
  if (float(*eps) != 1e-5f)
    return failAt(floor, llvm::formatv("clips max|x| at {0}; BitNet's (and tern's) "
                                       "quantization clips at 1e-5",
                                       llvm::format("%g", *eps)));
  if (!lastAxis(reduceAxes(max), 3) || OnnxModel::intAttr(*max, "keepdims").value_or(1) != 1)
    return failAt(max, "expected max|x| per token (the last axis, keepdims = 1)");
  if (resolve(input(abs, 0)) != x)
    return failAt(abs, "the scale measures '" + resolve(input(abs, 0)) + "', not '" + x +
                           "' which it quantizes");
  std::optional<double> lo = scalar(input(clip, 1)), hi = scalar(input(clip, 2));
  bits = 0;
  for (int64_t b = 2; b <= 8; ++b)
    if (*qmax == double((1 << (b - 1)) - 1))
      bits = b;
  if (!bits || !lo || !hi || *lo != -*qmax - 1 || *hi != *qmax)
    return failAt(clip, llvm::formatv("expected qmax = 2^(bits - 1) - 1 (bits 2..8) and the "
                                      "clip [-qmax - 1, qmax]; found qmax {0}, clip [{1}, {2}]",
                                      llvm::format("%g", *qmax), llvm::format("%g", lo ? *lo : NAN),
                                      llvm::format("%g", hi ? *hi : NAN)));
  return true;
}

/// MatMul / MatMulInteger by a weight initializer: [K, N], or [N, K] under Transpose.
bool Recognizer::weightMatMul(llvm::StringRef value, OnnxLinear &out, std::string &activations) {
  const NodeProto *mm = def(value, "MatMul");
  if (!mm) {
    const NodeProto *cast = def(value, "Cast");
    mm = cast ? def(input(cast, 0), "MatMulInteger") : nullptr;
    if (!mm)
      return fail("expected a MatMul (or Cast of MatMulInteger) by a ternary weight at " +
                  what(value));
    if (OnnxModel::intAttr(*cast, "to").value_or(0) != ::onnx::TensorProto::FLOAT)
      return failAt(cast, "expected a cast to float");
    for (int i : {2, 3})
      if (!input(mm, i).empty()) {
        std::optional<std::vector<double>> zp = constant(input(mm, i));
        if (!zp || llvm::any_of(*zp, [](double z) { return z != 0; }))
          return failAt(mm, llvm::formatv("input {0} ({1} zero point) is {2}; it must be absent "
                                          "or 0 (symmetric int8)",
                                          i, i == 2 ? "a" : "b",
                                          zp ? list(*zp) : "not a constant"));
      }
    const NodeProto *toInt = def(input(mm, 0), "Cast");
    if (!toInt)
      return failAt(mm, "expected the quantized activations cast to int8 as input A, found " +
                            what(input(mm, 0)));
    if (int64_t to = OnnxModel::intAttr(*toInt, "to").value_or(0);
        to != ::onnx::TensorProto::INT8)
      return failAt(toInt, llvm::formatv("casts to data type {0}; the quantized activations "
                                         "are int8 (3)",
                                         to));
    activations = resolve(input(toInt, 0));
    out.kind = OnnxLinear::Kind::Integer;
  } else {
    activations = resolve(input(mm, 0));
    out.kind = OnnxLinear::Kind::FakeQuant;
  }
  out.node = mm;
  std::string w = resolve(input(mm, 1));
  if (const NodeProto *t = def(w, "Transpose")) {
    const ::onnx::AttributeProto *perm = OnnxModel::attribute(*t, "perm");
    if (perm && (perm->ints_size() != 2 || perm->ints(0) != 1))
      return failAt(t, "expected a 2-D transpose (perm [1, 0]) of the weight");
    w = resolve(input(t, 0));
    out.transposed = true;
  }
  const OnnxTensor *t = m.constant(w);
  if (!t || !m.isInitializer(w) || t->shape.size() != 2)
    return failAt(mm, "expected a 2-D weight initializer as input B, found " + what(w));
  out.weight = w;
  out.rows = out.transposed ? t->shape[0] : t->shape[1];
  out.cols = out.transposed ? t->shape[1] : t->shape[0];
  return true;
}

bool Recognizer::plainLinear(llvm::StringRef value, llvm::StringRef role, OnnxLinear &out) {
  std::string v = resolve(value), acts, x;
  llvm::StringRef op = opOf(v);
  if (op == "MatMul") { // MatMul(q / s, W): the scale is in W
    if (!weightMatMul(v, out, acts))
      return false;
    // Activations that are not fake-quantized (q / s): a float projection.
    const NodeProto *dq = m.producer(acts).node;
    if (!dq || dq->op_type() != "Div" || opOf(input(dq, 0)) != "Clip") {
      out.kind = OnnxLinear::Kind::Float;
      out.input = acts;
      return true;
    }
    def(acts, "Div");
    if (!actQuant(input(dq, 0), input(dq, 1), x, out.activationBits))
      return false;
    out.input = x;
    return true;
  }
  // acc / (s * w_s), or acc / s * w_s.
  std::string acc, s, ws;
  if (const NodeProto *div = def(v, "Div"); div && opOf(input(div, 1)) == "Mul") {
    const NodeProto *both = def(input(div, 1), "Mul");
    acc = resolve(input(div, 0)), s = resolve(input(both, 0)), ws = resolve(input(both, 1));
    if (m.constant(s))
      std::swap(s, ws);
    out.divide = true;
  } else if (const NodeProto *mul = def(v, "Mul")) {
    std::string a = resolve(input(mul, 0)), b = resolve(input(mul, 1));
    if (m.constant(a))
      std::swap(a, b);
    const NodeProto *div2 = def(a, "Div");
    if (!div2)
      return failAt(mul, "expected " + role.str() + " as acc / s * weight_scale");
    acc = resolve(input(div2, 0)), s = resolve(input(div2, 1)), ws = b;
  } else {
    return fail(llvm::formatv("expected {0} (a ternary projection: com.microsoft MatMulNBits, "
                              "MatMul by a ternary weight, or MatMulInteger), found {1}",
                              role, what(v)));
  }
  if (!m.constant(ws) || m.constant(ws)->numElements() != 1)
    return fail("expected " + role.str() + "'s weight scale to be a one-element initializer, "
                "found " + what(ws));
  out.scale = ws;
  if (const NodeProto *c = m.producer(ws).node)
    seen.insert(c);
  if (!weightMatMul(acc, out, acts) || !actQuant(acts, s, x, out.activationBits))
    return false;
  out.input = x;
  return true;
}

bool Recognizer::heads(llvm::StringRef value, llvm::StringRef role, std::string &projection,
                       int64_t &count, int64_t &dim) {
  const NodeProto *t = def(value, "Transpose");
  const ::onnx::AttributeProto *perm = t ? OnnxModel::attribute(*t, "perm") : nullptr;
  const NodeProto *r = t ? def(input(t, 0), "Reshape") : nullptr;
  std::optional<std::vector<double>> shape = r ? constant(input(r, 1)) : std::nullopt;
  if (!r || !perm || !hasPerm(*t, {0, 2, 1, 3}))
    return fail("expected the " + role.str() + " split into heads: Transpose(Reshape(x, [batch, "
                "sequence, heads, head_dim]), perm [0, 2, 1, 3]), at " + what(value));
  if (!shape || shape->size() != 4 || !keepsOrStates((*shape)[0]) ||
      !keepsOrStates((*shape)[1]) || (*shape)[3] <= 0 || (*shape)[3] > 65536 ||
      (*shape)[2] < -1 || (*shape)[2] == 0 || (*shape)[2] > 65536)
    return failAt(r, "expected the shape [batch, sequence, heads (or -1), head_dim] as a "
                     "constant, found " + (shape ? list(*shape) : std::string("a computed one")));
  projection = resolve(input(r, 0));
  count = int64_t((*shape)[2]) == -1 ? 0 : int64_t((*shape)[2]);
  dim = int64_t((*shape)[3]);
  return true;
}

/// x * cos + rotate_half(x) * sin, rotate_half(x) = Concat(-x[..., d/2:], x[..., :d/2]).
bool Recognizer::rotated(llvm::StringRef value, std::string &x) {
  const NodeProto *add = def(value, "Add");
  if (!add)
    return fail("expected RoPE (x * cos + rotate_half(x) * sin) at " + what(value));
  std::string a = resolve(input(add, 0)), b = resolve(input(add, 1));
  const NodeProto *ma = def(a, "Mul"), *mb = def(b, "Mul");
  if (!ma || !mb)
    return failAt(add, "expected x * cos + rotate_half(x) * sin");
  // The Mul with a Concat (rotate_half) factor is the sine's.
  auto concatIn = [&](const NodeProto *mul) {
    return opOf(input(mul, 0)) == "Concat" ? 0 : opOf(input(mul, 1)) == "Concat" ? 1 : -1;
  };
  if (concatIn(ma) >= 0)
    std::swap(ma, mb);
  int rc = concatIn(mb);
  if (rc < 0)
    return failAt(add, "expected rotate_half(x) * sin as one term");
  std::string rot = resolve(input(mb, rc)), sin = resolve(input(mb, 1 - rc));
  std::string x0 = resolve(input(ma, 0)), cos = resolve(input(ma, 1));
  if (opOf(x0) == "Unsqueeze" && opOf(cos) != "Unsqueeze")
    std::swap(x0, cos);
  const NodeProto *cat = def(rot, "Concat");
  int64_t axis = OnnxModel::intAttr(*cat, "axis").value_or(0);
  const NodeProto *neg = cat->input_size() == 2 ? def(input(cat, 0), "Neg") : nullptr;
  const NodeProto *hi = neg ? def(input(neg, 0), "Slice") : nullptr;
  const NodeProto *lo = def(input(cat, 1), "Slice");
  if ((axis != -1 && axis != 3) || !hi || !lo)
    return failAt(cat, "expected rotate_half: Concat(Neg(x[..., d/2:]), x[..., :d/2]) on the "
                       "last axis");
  for (const NodeProto *s : {hi, lo}) {
    std::optional<double> start = scalar(input(s, 1)), end = scalar(input(s, 2));
    std::optional<double> ax = scalar(input(s, 3));
    std::optional<double> step = input(s, 4).empty() ? 1.0 : scalar(input(s, 4));
    if (resolve(input(s, 0)) != x0 || !start || !end || !ax || (*ax != -1 && *ax != 3) ||
        !step || *step != 1)
      return failAt(s, "expected a slice of '" + x0 + "' along the last axis");
    bool upper = s == hi;
    if (upper ? *end < 1e9 : *start != 0)
      return failAt(s, upper ? "expected x[..., d/2:]" : "expected x[..., :d/2]");
  }
  if (scalar(input(hi, 1)) != scalar(input(lo, 2)))
    return failAt(cat, "the halves of rotate_half do not meet in the middle");
  x = x0;
  if (!rotaryAngles(cos, sin))
    return false;
  if (*scalar(input(hi, 1)) * 2 != double(rotaryDim))
    return failAt(cat, llvm::formatv("rotate_half splits at {0}; the rotary frequencies cover "
                                     "{1} dims",
                                     *scalar(input(hi, 1)), rotaryDim));
  return true;
}

/// cos/sin: Unsqueeze(Cos(emb), 1), emb = Concat(f, f), f = positions x inv_freq (MatMul of the
/// unsqueezed inv_freq by the positions, transposed, or a Mul).
bool Recognizer::rotaryAngles(llvm::StringRef cos, llvm::StringRef sin) {
  if (checkedAngles == (cos + "|" + sin).str())
    return true;
  const NodeProto *uc = def(cos, "Unsqueeze"), *us = def(sin, "Unsqueeze");
  const NodeProto *c = uc ? def(input(uc, 0), "Cos") : nullptr;
  const NodeProto *s = us ? def(input(us, 0), "Sin") : nullptr;
  if (!c || !s || resolve(input(c, 0)) != resolve(input(s, 0)))
    return fail("expected RoPE's cos and sin of one angle table (Unsqueeze(Cos(emb)), "
                "Unsqueeze(Sin(emb))) at " + what(cos));
  for (const NodeProto *u : {uc, us}) // [batch, positions, dim] -> [batch, 1 (heads), ...]
    if (std::optional<std::vector<double>> axes = constant(input(u, 1));
        !axes || axes->size() != 1 || (*axes)[0] != 1)
      return failAt(u, "expected cos/sin unsqueezed at axis 1 (the heads)");
  const NodeProto *cat = def(input(c, 0), "Concat");
  int64_t catAxis = cat ? OnnxModel::intAttr(*cat, "axis").value_or(0) : 0;
  if (!cat || cat->input_size() != 2 || resolve(input(cat, 0)) != resolve(input(cat, 1)) ||
      (catAxis != -1 && catAxis != 2))
    return fail("expected the angles Concat(freqs, freqs) on the last axis at " +
                what(input(c, 0)));
  std::string f = resolve(input(cat, 0)), invName, pos;
  if (const NodeProto *t = def(f, "Transpose")) {
    const NodeProto *mm = def(input(t, 0), "MatMul");
    const NodeProto *ui = mm ? def(input(mm, 0), "Unsqueeze") : nullptr;
    const NodeProto *up = mm ? def(input(mm, 1), "Unsqueeze") : nullptr;
    std::optional<std::vector<double>> ai = ui ? constant(input(ui, 1)) : std::nullopt;
    std::optional<std::vector<double>> ap = up ? constant(input(up, 1)) : std::nullopt;
    if (!ui || !up || !hasPerm(*t, {0, 2, 1}) || ai != std::vector<double>{0, 2} ||
        ap != std::vector<double>{1})
      return failAt(t, "expected (inv_freq[None, :, None] @ positions[:, None, :]) transposed "
                       "by [0, 2, 1]");
    invName = resolve(input(ui, 0)), pos = resolve(input(up, 0));
  } else if (const NodeProto *mul = def(f, "Mul")) {
    std::string a = resolve(input(mul, 0)), b = resolve(input(mul, 1));
    if (m.constant(a))
      std::swap(a, b);
    const NodeProto *up = def(a, "Unsqueeze");
    std::optional<std::vector<double>> ap = up ? constant(input(up, 1)) : std::nullopt;
    if (!up || !ap || ap->size() != 1 || ((*ap)[0] != -1 && (*ap)[0] != 2))
      return failAt(mul, "expected positions[..., None] * inv_freq");
    invName = b, pos = resolve(input(up, 0));
  } else {
    return fail("expected the rotary frequencies (positions x inv_freq) at " + what(f));
  }
  if (const NodeProto *cast = def(pos, "Cast"))
    pos = resolve(input(cast, 0));
  if (!m.graphInput(pos))
    return fail("expected RoPE's positions to be a graph input (position_ids), found " +
                what(pos));
  const OnnxTensor *inv = m.constant(invName);
  if (!inv || inv->numElements() < 2 || !isFloat(inv->dtype))
    return fail("expected inv_freq, a float initializer, found " + what(invName));
  int64_t half = inv->numElements(), dim = 2 * half;
  double theta = std::round(std::pow(inv->at(1), -double(dim) / 2.0));
  if (!(inv->at(1) > 0) || !(theta >= 2) || !std::isfinite(theta))
    return fail("inv_freq '" + invName + "' does not hold a rotary embedding (no theta fits "
                "its element 1)");
  for (int64_t i = 0; i < half; ++i) {
    double want = double(float(1.0 / std::pow(theta, double(2 * i) / double(dim))));
    if (!(std::fabs(inv->at(i) - want) <= 1e-6 * want))
      return fail(llvm::formatv("inv_freq '{0}'[{1}] is {2}; rotate-half RoPE with theta {3} "
                                "(the value element 1 gives) has {4}",
                                invName, i, llvm::format("%g", inv->at(i)),
                                llvm::format("%g", theta), llvm::format("%g", want)));
  }
  if (!setTheta(cat, theta, dim))
    return false;
  checkedAngles = (cos + "|" + sin).str();
  return true;
}

/// Unsqueeze(x, 2) -> Expand [.., .., repeats, .., ..] -> Reshape [batch, heads, -1, d]; or x.
bool Recognizer::repeatedKV(llvm::StringRef value, int64_t repeats, std::string &x) {
  x = resolve(value);
  if (opOf(x) != "Reshape")
    return repeats == 1 || fail(llvm::formatv("expected the key/value heads repeated {0} times "
                                              "(Unsqueeze, Expand, Reshape) at {1}",
                                              repeats, what(x)));
  const NodeProto *r = def(x, "Reshape");
  const NodeProto *e = def(input(r, 0), "Expand");
  const NodeProto *u = e ? def(input(e, 0), "Unsqueeze") : nullptr;
  std::optional<std::vector<double>> shape = e ? constant(input(e, 1)) : std::nullopt;
  std::optional<std::vector<double>> axes = u ? constant(input(u, 1)) : std::nullopt;
  std::optional<std::vector<double>> target = constant(input(r, 1));
  auto ones = [](const std::vector<double> &s) { // Expand's dims other than the repeats
    return s[0] == 1 && s[1] == 1 && s[3] == 1 && s[4] == 1;
  };
  if (!u || !shape || shape->size() != 5 || !ones(*shape) || !axes || axes->size() != 1 ||
      (*axes)[0] != 2 || repeats < 1 || (*shape)[2] != double(repeats) || !target ||
      target->size() != 4 || !keepsOrStates((*target)[0]) || (*target)[1] <= 0 ||
      ((*target)[2] != -1 && !keepsOrStates((*target)[2])) || (*target)[3] <= 0)
    return failAt(r, "expected the key/value heads repeated: Reshape(Expand(Unsqueeze(x, 2), a "
                     "constant [1, 1, repeats, 1, 1]), [batch, heads, -1, head_dim]), with the "
                     "keys' and the values' repeats equal");
  x = resolve(input(u, 0));
  return true;
}

/// The causal mask, in the forms exporters write (then Unsqueeze'd to [batch, 1, queries, keys]
/// and maybe Expand'ed):
///   Where(later, -big, 0)                       later = Greater(Range(0, T, 1), positions)
///   Mul(Trilu(fill(-big), 1), Cast(later))      transformers' mask with a cache position
///   Trilu(fill(-big), 1)                        queries at 0.. (a graph without past only)
/// where -big is -inf or the float minimum, and a key is masked when it is later than the
/// query's position.
bool Recognizer::causalMask(llvm::StringRef value) {
  if (checkedMask == resolve(value))
    return true;
  std::string v = resolve(value);
  while (opOf(v) == "Unsqueeze" || opOf(v) == "Expand") {
    const NodeProto *n = def(v, opOf(v));
    if (n->op_type() == "Expand" && !maskBookkeeping(n, input(n, 1)))
      return false;
    v = resolve(input(n, 0));
  }
  auto big = [](std::optional<double> x) { return x && *x <= -1e30; };
  auto show = [](std::optional<double> x) {
    return x ? llvm::formatv("{0}", llvm::format("%g", *x)).str() : "(not a constant)";
  };
  if (const NodeProto *w = def(v, "Where")) {
    std::optional<double> masked = scalar(input(w, 1)), kept = scalar(input(w, 2));
    if (!big(masked) || !kept || *kept != 0)
      return failAt(w, llvm::formatv("expected Where(key later than query, -inf or the float "
                                     "minimum, 0); found the values {0} and {1}",
                                     show(masked), show(kept)));
    if (!laterKey(w, input(w, 0)))
      return false;
  } else if (const NodeProto *mul = def(v, "Mul")) {
    std::string a = resolve(input(mul, 0)), b = resolve(input(mul, 1));
    if (opOf(a) != "Trilu")
      std::swap(a, b);
    const NodeProto *cast = def(b, "Cast");
    if (opOf(a) != "Trilu" || !cast)
      return failAt(mul, "expected a causal mask Trilu(fill(-inf), 1) * Cast(key later than "
                         "query)");
    if (!triangle(def(a, "Trilu")) || !laterKey(cast, input(cast, 0)))
      return false;
  } else if (const NodeProto *t = def(v, "Trilu")) {
    if (!triangle(t))
      return false;
    maskTriangle = t; // right only without past key/values (checked by the attention)
  } else {
    return fail("expected a causal mask (Where(Greater(Range(0, T), position_ids), -inf, 0), "
                "or Trilu(fill(-inf), 1)), at " + what(v));
  }
  checkedMask = resolve(value);
  return true;
}

/// `value` = key position > query position: Greater(Range(0, T, 1), positions) or Less with
/// the operands swapped, each maybe Unsqueeze'd or Reshape'd; positions a graph input.
bool Recognizer::laterKey(const NodeProto *user, llvm::StringRef value) {
  std::string later = resolve(value), keys, queries;
  if (const NodeProto *g = def(later, "Greater")) {
    keys = resolve(input(g, 0)), queries = resolve(input(g, 1));
  } else if (const NodeProto *l = def(later, "Less")) {
    keys = resolve(input(l, 1)), queries = resolve(input(l, 0));
  } else {
    return failAt(user, "expected its condition key position > query position (Greater or "
                        "Less), found " + what(later));
  }
  // The keys' positions must stay on the last axis (Unsqueeze'd in front), the queries' be
  // made a column (Unsqueeze'd at the end, or Reshape'd to [..., 1]).
  std::optional<double> queryAxis; // where the queries were Unsqueeze'd
  auto unwrap = [&](std::string x, bool keyAxisLast, bool &ok) {
    while (ok && (opOf(x) == "Unsqueeze" || opOf(x) == "Reshape" || opOf(x) == "Cast")) {
      const NodeProto *n = def(x, opOf(x));
      std::optional<std::vector<double>> c =
          n->op_type() == "Cast" ? std::vector<double>{} : constant(input(n, 1));
      if (!c)
        ok = false;
      else if (n->op_type() == "Unsqueeze")
        ok = keyAxisLast ? llvm::all_of(*c, [&](double a) { return a == 0 || a == 1; })
                         : c->size() == 1 && (queryAxis = c->front(), true);
      else if (n->op_type() == "Reshape")
        ok = !keyAxisLast && !c->empty() && c->back() == 1;
      x = resolve(input(n, 0));
    }
    return x;
  };
  bool ok = true;
  keys = unwrap(keys, true, ok), queries = unwrap(queries, false, ok);
  if (ok && queryAxis && *queryAxis != -1) { // at the end of the positions' dims
    const ::onnx::ValueInfoProto *in = m.graphInput(queries);
    ok = in && in->type().tensor_type().has_shape() &&
         double(in->type().tensor_type().shape().dim_size()) == *queryAxis;
  }
  if (!ok)
    return failAt(user, "expected the key positions along the last axis against the query "
                        "positions as a column (keys Unsqueeze'd at the front, queries at the "
                        "end)");
  const NodeProto *range = def(keys, "Range");
  std::optional<double> start = range ? scalar(input(range, 0)) : std::nullopt;
  std::optional<double> delta = range ? scalar(input(range, 2)) : std::nullopt;
  if (!range || !start || *start != 0 || !delta || *delta != 1 || !m.graphInput(queries))
    return failAt(user, "expected key positions Range(0, keys, 1) against the query positions "
                        "(a graph input: position_ids or cache_position)");
  return maskBookkeeping(range, input(range, 1));
}

/// Trilu(fill, 1), upper: -big above the diagonal, 0 elsewhere, fill a constant -big of any
/// shape (ConstantOfShape, or a constant Expand'ed).
bool Recognizer::triangle(const NodeProto *t) {
  std::optional<double> k = input(t, 1).empty() ? 0.0 : scalar(input(t, 1));
  if (OnnxModel::intAttr(*t, "upper").value_or(1) != 1 || !k || *k != 1)
    return failAt(t, "expected the strict upper triangle (upper = 1, k = 1)");
  std::string fill = resolve(input(t, 0));
  std::optional<double> value;
  if (const NodeProto *c = def(fill, "ConstantOfShape")) {
    const ::onnx::AttributeProto *a = OnnxModel::attribute(*c, "value");
    if (a && a->has_t() && a->t().float_data_size() == 1)
      value = a->t().float_data(0);
    else if (a && a->has_t() && a->t().raw_data().size() == 4) {
      float f;
      std::memcpy(&f, a->t().raw_data().data(), 4);
      value = f;
    }
    if (!maskBookkeeping(c, input(c, 0)))
      return false;
  } else if (const NodeProto *e = def(fill, "Expand")) {
    value = scalar(input(e, 0));
    if (!maskBookkeeping(e, input(e, 1)))
      return false;
  } else {
    value = scalar(fill);
  }
  if (!value || *value > -1e30)
    return failAt(t, "expected a triangle of -inf or the float minimum (ConstantOfShape or "
                     "Expand of a constant)");
  return true;
}

bool Recognizer::eagerAttention(llvm::StringRef value, int64_t layer, OnnxLayer &l,
                                Attention &att) {
  const NodeProto *r = def(value, "Reshape");
  const NodeProto *t = r ? def(input(r, 0), "Transpose") : nullptr;
  const NodeProto *pv = t ? def(input(t, 0), "MatMul") : nullptr;
  if (!pv)
    return fail("expected the attention (com.microsoft GroupQueryAttention, or "
                "Reshape(Transpose(Softmax(q k^T * scale + mask) v))) at " + what(value));
  std::optional<std::vector<double>> shape = constant(input(r, 1));
  if (!hasPerm(*t, {0, 2, 1, 3}))
    return failAt(t, "expected the heads transposed back to [batch, sequence, heads, head_dim] "
                     "(perm [0, 2, 1, 3])");
  if (!shape || shape->size() != 3 || !keepsOrStates((*shape)[0]) ||
      !keepsOrStates((*shape)[1]) || ((*shape)[2] != -1 && (*shape)[2] != double(l.o.cols)))
    return failAt(r, llvm::formatv("expected the heads merged back to [batch, sequence, {0}]",
                                   l.o.cols));
  const NodeProto *sm = def(input(pv, 0), "Softmax");
  int64_t axis = sm ? OnnxModel::intAttr(*sm, "axis").value_or(-1) : 0;
  const NodeProto *add = sm ? def(input(sm, 0), "Add") : nullptr;
  if (sm && axis != -1 && axis != 3)
    return failAt(sm, llvm::formatv("axis {0}; the attention's softmax runs over the keys (axis "
                                    "-1)",
                                    axis));
  if (!sm || !add)
    return failAt(pv, "expected Softmax(scores + causal mask) over the keys (axis -1) as input");
  std::string scores = resolve(input(add, 0)), mask = resolve(input(add, 1));
  if (opOf(scores) == "Unsqueeze")
    std::swap(scores, mask);
  if (!causalMask(mask))
    return false;
  // scores = (q @ k^T) * c or / c'.
  const NodeProto *scale = def(scores, "Mul");
  bool divides = !scale && (scale = def(scores, "Div"));
  if (!scale)
    return fail("expected the scaled scores q k^T * 1/sqrt(d) at " + what(scores));
  std::string qk = resolve(input(scale, 0)), cValue = resolve(input(scale, 1));
  if (!divides && opOf(qk) != "MatMul")
    std::swap(qk, cValue);
  std::optional<double> c = scalar(cValue);
  const NodeProto *mm = def(qk, "MatMul");
  const NodeProto *kt = mm ? def(input(mm, 1), "Transpose") : nullptr;
  const ::onnx::AttributeProto *perm = kt ? OnnxModel::attribute(*kt, "perm") : nullptr;
  if (!c || !mm || !perm || perm->ints_size() != 4 || perm->ints(2) != 3 || perm->ints(3) != 2)
    return failAt(scale, "expected (q @ Transpose(k, [0, 1, 3, 2])) times a constant");
  double factor = divides ? 1.0 / *c : *c;

  std::string q4, kRep, vRep = resolve(input(pv, 1)), kAll, vAll, k4, v4, qProj, kProj, vProj;
  int64_t hq, hk, hv, dq, dk, dv;
  if (!rotated(input(mm, 0), q4) || !heads(q4, "query", qProj, hq, dq))
    return false;
  kRep = resolve(input(kt, 0));
  // Repeats are known from the Expand; check them against the head counts below.
  int64_t repeats = opOf(kRep) == "Reshape" ? 0 : 1; // 0: not readable from the graph
  if (opOf(kRep) == "Reshape")
    if (const NodeProto *e = m.producer(resolve(input(m.producer(kRep).node, 0))).node)
      if (e->op_type() == "Expand")
        if (auto s = constant(input(e, 1)); s && s->size() == 5 && (*s)[2] >= 1 &&
                                                (*s)[2] <= 4096)
          repeats = int64_t((*s)[2]);
  if (!repeatedKV(kRep, repeats, kAll) || !repeatedKV(vRep, repeats, vAll))
    return false;
  // past_key_values.<i> Concat the new keys/values on the sequence axis: present.<i>.
  auto cache = [&](std::string &all, std::string &past, std::string &present) {
    present = all;
    const NodeProto *cat = def(all, "Concat");
    if (!cat)
      return true;
    int64_t ax = OnnxModel::intAttr(*cat, "axis").value_or(0);
    past = resolve(input(cat, 0));
    if (cat->input_size() != 2 || (ax != 2 && ax != -2) || !m.graphInput(past))
      return failAt(cat, "expected Concat(past_key_values.<layer>, new, axis 2)");
    all = resolve(input(cat, 1));
    return true;
  };
  if (!cache(kAll, l.pastKey, l.presentKey) || !cache(vAll, l.pastValue, l.presentValue))
    return false;
  if (maskTriangle && !l.pastKey.empty())
    return failAt(maskTriangle, "a triangle alone masks by offsets within one call; with past "
                                "key/values the mask must compare key positions with the "
                                "queries' (Greater(Range(0, T), position_ids))");
  if (!m.graphOutput(l.presentKey))
    l.presentKey.clear();
  if (!m.graphOutput(l.presentValue))
    l.presentValue.clear();
  if (!rotated(kAll, k4) || !heads(k4, "key", kProj, hk, dk) ||
      !heads(vAll, "value", vProj, hv, dv))
    return false;
  if (dq != dk || dq != dv)
    return fail(llvm::formatv("layer {0}: query, key and value heads have {1}, {2} and {3} "
                              "dims",
                              layer, dq, dk, dv));
  float expected = float(1.0 / std::sqrt(double(dq)));
  if (std::fabs(float(factor) - expected) > 1e-6f * expected)
    return failAt(scale, llvm::formatv("scales the scores by {0}; tern's attention scales by "
                                       "1/sqrt(head_dim) = {1}",
                                       llvm::format("%g", factor), llvm::format("%g", expected)));
  att.q = qProj, att.k = kProj, att.v = vProj, att.headDim = dq;
  att.heads = hq, att.kvHeads = hk ? hk : hv, att.repeats = repeats; // 0: from the rows
  return true;
}
