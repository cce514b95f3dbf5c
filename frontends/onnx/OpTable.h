//===- OpTable.h - the ONNX ops the importer knows ----------------------------------*- C++ -*-===//
//
// The dispatch table of the ONNX frontend: which (domain, op type) pairs tern imports, from
// which opset on, and in which role. Every node is looked up before recognition starts, so an
// op tern does not import is reported by name, type, domain and opset before anything else.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_ONNX_OPTABLE_H
#define TERN_FRONTENDS_ONNX_OPTABLE_H

#include "frontends/onnx/OnnxModel.h"

namespace tern::onnx {

struct OpSupport {
  llvm::StringRef domain; ///< "ai.onnx" or "com.microsoft"
  llvm::StringRef opType;
  int64_t minOpset;       ///< the first opset of the domain whose semantics tern implements
  llvm::StringRef role;   ///< what it becomes (docs/frontends.md)
};

/// Every op the importer recognizes somewhere in a decoder.
llvm::ArrayRef<OpSupport> supportedOps();

/// The entry of `node`, or an error naming the node and listing the ops of its domain.
llvm::Expected<const OpSupport *> lookupOp(const OnnxModel &model, const ::onnx::NodeProto &node);

} // namespace tern::onnx

#endif // TERN_FRONTENDS_ONNX_OPTABLE_H
