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
      {"ai.onnx", "Gather", 14, "embedding lookup; attention-mask bookkeeping"},
      {"ai.onnx", "MatMul", 14, "output head"},
      {"ai.onnx", "Transpose", 14, "tied output head (the embedding table transposed)"},
      {"ai.onnx", "Mul", 14, "relu^2 (Relu then Mul), SiLU (x * Sigmoid(x)), gate * up"},
      {"ai.onnx", "Pow", 15, "relu^2 (Relu then Pow 2)"},
      {"ai.onnx", "Relu", 14, "relu^2"},
      {"ai.onnx", "Sigmoid", 14, "SiLU"},
      {"ai.onnx", "SimplifiedLayerNormalization", 1, "tern.rms_norm"},
      {"ai.onnx", "ReduceSum", 14, "attention-mask bookkeeping"},
      {"ai.onnx", "Sub", 14, "attention-mask bookkeeping"},
      {"ai.onnx", "Cast", 14, "attention-mask bookkeeping"},
      {"ai.onnx", "Shape", 14, "attention-mask bookkeeping"},
      {"ai.onnx", "Constant", 14, "constants"},
      {"ai.onnx", "Identity", 14, "(passed through)"},
      {"com.microsoft", "MatMulNBits", 1, "tern.act_quant + tern.bitlinear (bits = 2)"},
      {"com.microsoft", "SkipSimplifiedLayerNormalization", 1, "residual add + tern.rms_norm"},
      {"com.microsoft", "GroupQueryAttention", 1, "tern.rope + tern.attention (KV cache)"},
      {"com.microsoft", "RotaryEmbedding", 1, "tern.rope"},
  };
  return table;
}

auto tern::onnx::lookupOp(const OnnxModel &model, const ::onnx::NodeProto &node)
    -> llvm::Expected<const OpSupport *> {
  llvm::StringRef domain = OnnxModel::domainName(node);
  std::optional<int64_t> opset = model.opset(node.domain());
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
