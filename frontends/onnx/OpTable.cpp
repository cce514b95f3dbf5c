//===- OpTable.cpp - the ONNX ops the importer knows ------------------------------------------===//
#include "frontends/onnx/OpTable.h"

#include "onnx/onnx_pb.h"

#include "llvm/Support/FormatVariadic.h"

using namespace tern;
using namespace tern::onnx;

llvm::ArrayRef<OpSupport> tern::onnx::supportedOps() {
  // The ai.onnx floors are the opsets from which each op means what the recognizer reads:
  // Clip's bounds and Slice's starts as inputs (11), Softmax over one axis and Unsqueeze's axes
  // as an input (13). Reductions read their axes from the attribute or, from opset 18, the
  // input.
  static const OpSupport table[] = {
      // The decoder's structure.
      {"ai.onnx", "Gather", 11, "embedding lookup; shape bookkeeping"},
      {"ai.onnx", "Add", 7, "residual add; RMSNorm's eps; RoPE; the attention mask"},
      {"ai.onnx", "Mul", 7, "RMSNorm, RoPE, relu^2, SiLU, gate * up, scales"},
      {"ai.onnx", "Div", 7, "RMSNorm; activation quantization; scales"},
      {"ai.onnx", "MatMul", 9, "ternary projections (fake-quant); attention; output head"},
      {"ai.onnx", "MatMulInteger", 10, "ternary projections (int8)"},
      {"ai.onnx", "Transpose", 1, "weights; heads; the tied output head"},
      // RMSNorm as ops, activation quantization.
      {"ai.onnx", "Pow", 7, "RMSNorm's x^2; relu^2"},
      {"ai.onnx", "ReduceMean", 1, "RMSNorm"},
      {"ai.onnx", "Sqrt", 6, "RMSNorm"},
      {"ai.onnx", "Reciprocal", 6, "RMSNorm"},
      {"ai.onnx", "Abs", 6, "tern.act_quant"},
      {"ai.onnx", "ReduceMax", 1, "tern.act_quant"},
      {"ai.onnx", "Clip", 11, "tern.act_quant"},
      {"ai.onnx", "Round", 11, "tern.act_quant"},
      {"ai.onnx", "Cast", 6, "int8 activations; positions; bookkeeping"},
      // Activations.
      {"ai.onnx", "Relu", 6, "relu^2"},
      {"ai.onnx", "Sigmoid", 6, "SiLU"},
      // RoPE and attention as ops.
      {"ai.onnx", "Reshape", 5, "heads"},
      {"ai.onnx", "Unsqueeze", 13, "RoPE; GQA's repeated heads; the mask"},
      {"ai.onnx", "Expand", 8, "GQA's repeated heads"},
      {"ai.onnx", "Concat", 11, "RoPE; past key/values"},
      {"ai.onnx", "Slice", 11, "RoPE's rotate_half"},
      {"ai.onnx", "Neg", 6, "RoPE's rotate_half"},
      {"ai.onnx", "Cos", 7, "RoPE"},
      {"ai.onnx", "Sin", 7, "RoPE"},
      {"ai.onnx", "Softmax", 13, "attention"},
      {"ai.onnx", "Where", 9, "the causal mask"},
      {"ai.onnx", "Greater", 9, "the causal mask"},
      {"ai.onnx", "Less", 9, "the causal mask"},
      {"ai.onnx", "Range", 11, "the causal mask"},
      {"ai.onnx", "Trilu", 14, "the causal mask"},
      {"ai.onnx", "ConstantOfShape", 9, "the causal mask"},
      // Shapes and constants.
      {"ai.onnx", "Shape", 1, "shape bookkeeping"},
      {"ai.onnx", "ReduceSum", 1, "attention-mask bookkeeping"},
      {"ai.onnx", "Sub", 7, "attention-mask bookkeeping"},
      {"ai.onnx", "Squeeze", 13, "shape bookkeeping"},
      {"ai.onnx", "Constant", 1, "constants"},
      {"ai.onnx", "Identity", 1, "(passed through)"},
      // ONNX Runtime's ops (onnxruntime-genai's graphs); SimplifiedLayerNormalization is in the
      // default domain from its version 1.
      {"ai.onnx", "SimplifiedLayerNormalization", 1, "tern.rms_norm"},
      {"com.microsoft", "SkipSimplifiedLayerNormalization", 1, "residual add + tern.rms_norm"},
      {"com.microsoft", "MatMulNBits", 1, "tern.act_quant + tern.bitlinear (bits = 2)"},
      {"com.microsoft", "GroupQueryAttention", 1, "tern.rope + tern.attention (KV cache)"},
      {"com.microsoft", "RotaryEmbedding", 1, "tern.rope"},
  };
  return table;
}

auto tern::onnx::lookupOp(const OnnxModel &model, const ::onnx::NodeProto &node)
    -> llvm::Expected<const OpSupport *> {
  llvm::StringRef domain = OnnxModel::domainName(node);
  std::optional<int64_t> opset = model.opset(node.domain());
  // Ops that look close to what tern imports but mean something else: say why.
  if (domain == "ai.onnx" && (node.op_type() == "DynamicQuantizeLinear" ||
                              node.op_type() == "QuantizeLinear"))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "%s: %s: quantizes activations per tensor, asymmetrically to uint8 (or by a fixed "
        "scale); BitNet b1.58 quantizes each token symmetrically to int8 (s = 127 / max|x|), so "
        "importing it as tern.act_quant would change the model's numbers. Export the "
        "quantization as ops (Abs, ReduceMax, Clip, Div, Mul, Round, Clip; docs/frontends.md)",
        model.path().str().c_str(), model.describe(node).c_str());
  std::string known;
  for (const OpSupport &op : supportedOps()) {
    if (op.domain != domain)
      continue;
    if (op.opType == node.op_type()) {
      if (!opset)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            "%s: %s: the model imports no opset of domain '%s'", model.path().str().c_str(),
            model.describe(node).c_str(), domain.str().c_str());
      if (*opset < op.minOpset)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(), "%s: %s: tern imports %s from opset %lld of '%s'",
            model.path().str().c_str(), model.describe(node).c_str(), op.opType.str().c_str(),
            (long long)op.minOpset, domain.str().c_str());
      return &op;
    }
    known += (known.empty() ? "" : ", ") + op.opType.str();
  }
  if (known.empty())
    known = "none (tern imports the domains ai.onnx and com.microsoft)";
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "%s: %s: not an op tern imports; expected one of the ops of "
                                 "'%s' tern recognizes in a decoder: %s",
                                 model.path().str().c_str(), model.describe(node).c_str(),
                                 domain.str().c_str(), known.c_str());
}
