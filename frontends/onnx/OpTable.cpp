//===- OpTable.cpp - the ONNX ops the importer knows -------------------------------------------===//
#include "frontends/onnx/OpTable.h"

#include "onnx/onnx_pb.h"

#include "llvm/Support/FormatVariadic.h"

using namespace tern;
using namespace tern::onnx;

llvm::ArrayRef<OpSupport> tern::onnx::supportedOps() {
  // ai.onnx from opset 14 (the floor: Add/Mul/Relu/Reshape semantics settled there);
  // SimplifiedLayerNormalization is ONNX Runtime's op in the default domain (since 1).
  static const OpSupport table[] = {
      // The decoder's structure.
      {"ai.onnx", "Gather", 14, "embedding lookup; shape bookkeeping"},
      {"ai.onnx", "Add", 14, "residual add; RMSNorm's eps; RoPE; the attention mask"},
      {"ai.onnx", "Mul", 14, "RMSNorm, RoPE, relu^2, SiLU, gate * up, scales"},
      {"ai.onnx", "Div", 14, "RMSNorm; activation quantization; scales"},
      {"ai.onnx", "MatMul", 14, "ternary projections (fake-quant); attention; output head"},
      {"ai.onnx", "MatMulInteger", 14, "ternary projections (int8)"},
      {"ai.onnx", "Transpose", 14, "weights; heads; the tied output head"},
      // RMSNorm as ops, activation quantization.
      {"ai.onnx", "Pow", 15, "RMSNorm's x^2; relu^2"},
      {"ai.onnx", "ReduceMean", 14, "RMSNorm"},
      {"ai.onnx", "Sqrt", 14, "RMSNorm"},
      {"ai.onnx", "Reciprocal", 14, "RMSNorm"},
      {"ai.onnx", "Abs", 14, "tern.act_quant"},
      {"ai.onnx", "ReduceMax", 14, "tern.act_quant"},
      {"ai.onnx", "Clip", 14, "tern.act_quant"},
      {"ai.onnx", "Round", 14, "tern.act_quant"},
      {"ai.onnx", "Cast", 14, "int8 activations; positions; bookkeeping"},
      // Activations.
      {"ai.onnx", "Relu", 14, "relu^2"},
      {"ai.onnx", "Sigmoid", 14, "SiLU"},
      // RoPE and attention as ops.
      {"ai.onnx", "Reshape", 14, "heads"},
      {"ai.onnx", "Unsqueeze", 14, "RoPE; GQA's repeated heads; the mask"},
      {"ai.onnx", "Expand", 14, "GQA's repeated heads"},
      {"ai.onnx", "Concat", 14, "RoPE; past key/values"},
      {"ai.onnx", "Slice", 14, "RoPE's rotate_half"},
      {"ai.onnx", "Neg", 14, "RoPE's rotate_half"},
      {"ai.onnx", "Cos", 14, "RoPE"},
      {"ai.onnx", "Sin", 14, "RoPE"},
      {"ai.onnx", "Softmax", 14, "attention"},
      {"ai.onnx", "Where", 14, "the causal mask"},
      {"ai.onnx", "Greater", 14, "the causal mask"},
      {"ai.onnx", "Less", 14, "the causal mask"},
      {"ai.onnx", "Range", 14, "the causal mask"},
      // Shapes and constants.
      {"ai.onnx", "Shape", 14, "shape bookkeeping"},
      {"ai.onnx", "ReduceSum", 14, "attention-mask bookkeeping"},
      {"ai.onnx", "Sub", 14, "attention-mask bookkeeping"},
      {"ai.onnx", "Squeeze", 14, "shape bookkeeping"},
      {"ai.onnx", "Constant", 14, "constants"},
      {"ai.onnx", "Identity", 14, "(passed through)"},
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
