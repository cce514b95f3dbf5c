//===- OnnxModel.h - a validating ONNX model reader ---------------------------------*- C++ -*-===//
//
// Reads a ModelProto (Debian's onnx_proto) and gives the importer what it needs of it: the
// opsets, the nodes with their producers and consumers, and every initializer or Constant as a
// typed, shaped view of its bytes, from `raw_data`, the typed fields (float_data, int32_data,
// ...) or an external data file beside the model. The file is treated as hostile: sizes,
// offsets and paths are checked before use, and every error names the file and the tensor.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_ONNX_ONNXMODEL_H
#define TERN_FRONTENDS_ONNX_ONNXMODEL_H

#include "dialects/weights/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
class GraphProto;
class NodeProto;
class TensorProto;
class AttributeProto;
class ValueInfoProto;
} // namespace onnx

namespace tern::onnx {

/// An initializer or a Constant node's value, decoded.
struct OnnxTensor {
  std::string name;
  DType dtype = DType::F32;
  llvm::SmallVector<int64_t, 4> shape;
  llvm::ArrayRef<uint8_t> bytes; ///< little-endian, row-major; owned by the model
  std::string origin;            ///< the file the bytes came from
  int64_t numElements() const;
  /// Element `i` as double (any numeric dtype).
  double at(int64_t i) const;
};

/// The producer of a value: a node and which of its outputs it is.
struct Producer {
  const ::onnx::NodeProto *node = nullptr;
  int output = 0;
};

class OnnxModel {
public:
  ~OnnxModel();
  /// Reads and validates `path`; external data files are looked up beside it.
  static llvm::Expected<std::unique_ptr<OnnxModel>> open(llvm::StringRef path);
  /// Validates a model in memory. `path` names it in messages; external data is read from
  /// `baseDir` (none if empty).
  static llvm::Expected<std::unique_ptr<OnnxModel>>
  parse(llvm::StringRef bytes, llvm::StringRef path, llvm::StringRef baseDir);

  /// Reads a file holding one TensorProto (as ONNX's node tests store their inputs and
  /// outputs): a model without nodes whose only constant is that tensor, under its own name
  /// (or "tensor" if it has none).
  static llvm::Expected<std::unique_ptr<OnnxModel>> openTensor(llvm::StringRef path);
  /// The tensor of a model openTensor read.
  const OnnxTensor &onlyTensor() const { return constants.begin()->second; }

  llvm::StringRef path() const { return modelPath; }
  const ::onnx::GraphProto &graph() const;
  /// The opset the model imports for `domain` ("" and "ai.onnx" are one); nullopt if none.
  std::optional<int64_t> opset(llvm::StringRef domain) const;
  /// "ai.onnx" for the default domain.
  static llvm::StringRef domainName(const ::onnx::NodeProto &node);

  /// The initializer or Constant node output called `value`, or null.
  const OnnxTensor *constant(llvm::StringRef value) const;
  bool isInitializer(llvm::StringRef value) const;
  Producer producer(llvm::StringRef value) const;
  llvm::ArrayRef<const ::onnx::NodeProto *> consumers(llvm::StringRef value) const;
  const ::onnx::ValueInfoProto *graphInput(llvm::StringRef value) const;
  const ::onnx::ValueInfoProto *graphOutput(llvm::StringRef value) const;

  /// "node 'name' (Op, domain 'd', opset N)", for messages.
  std::string describe(const ::onnx::NodeProto &node) const;
  /// Attribute `name` of `node`, or null.
  static const ::onnx::AttributeProto *attribute(const ::onnx::NodeProto &node,
                                                 llvm::StringRef name);
  static std::optional<int64_t> intAttr(const ::onnx::NodeProto &node, llvm::StringRef name);
  static std::optional<float> floatAttr(const ::onnx::NodeProto &node, llvm::StringRef name);

  /// The dims of a value-info ("batch" for a symbolic one, "?" for an unknown one).
  static std::string shapeOf(const ::onnx::ValueInfoProto &info);

private:
  OnnxModel();
  llvm::Error index();
  llvm::Expected<OnnxTensor> decode(const ::onnx::TensorProto &t, llvm::StringRef what);
  llvm::Expected<llvm::ArrayRef<uint8_t>> externalBytes(const ::onnx::TensorProto &t,
                                                        uint64_t expected, llvm::StringRef what);

  std::string modelPath, baseDir;
  std::unique_ptr<::onnx::ModelProto> model;
  llvm::StringMap<int64_t> opsets;
  llvm::StringMap<OnnxTensor> constants;
  llvm::StringMap<bool> initializers;
  llvm::StringMap<Producer> producers;
  llvm::StringMap<llvm::SmallVector<const ::onnx::NodeProto *, 2>> users;
  llvm::StringMap<const ::onnx::ValueInfoProto *> inputs, outputs;
  llvm::StringMap<std::unique_ptr<llvm::MemoryBuffer>> externalFiles;
  std::vector<std::vector<uint8_t>> owned; ///< decoded typed fields
};

} // namespace tern::onnx

#endif // TERN_FRONTENDS_ONNX_ONNXMODEL_H
