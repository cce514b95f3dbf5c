//===- Recognizer.h - the decoder recognizer's state and patterns -------------------*- C++ -*-===//
//
// Private to the ONNX frontend. DecoderRecognizer.cpp walks the residual stream layer by layer;
// the parts of a layer have one pattern per form: ContribPatterns.cpp for ONNX Runtime's
// com.microsoft ops (onnxruntime-genai's graphs), PlainPatterns.cpp for the ai.onnx op chains
// torch.onnx.export writes (fake quantization, MatMulInteger, eager attention).
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_ONNX_RECOGNIZER_H
#define TERN_FRONTENDS_ONNX_RECOGNIZER_H

#include "frontends/onnx/DecoderRecognizer.h"

#include "llvm/ADT/DenseSet.h"

#include <climits>
#include <optional>

namespace tern::onnx {

/// A value of the residual stream: an ONNX value, or the sum a SkipSimplifiedLayerNormalization
/// computes (its input + skip, output 3), which need not be an output anyone reads.
struct Stream {
  const ::onnx::NodeProto *skip = nullptr;
  std::string value;
  bool operator==(const Stream &o) const {
    return skip ? skip == o.skip : (!o.skip && value == o.value);
  }
  std::string str() const;
};

struct Norm {
  Stream stream;
  std::string gamma;
  float eps = 1e-5f;
};

/// What the attention of one layer reads: the projections (their inputs are the layer's
/// normalized input) and the sizes it implies.
struct Attention {
  std::string q, k, v; ///< the projections' outputs
  int64_t heads = 0, kvHeads = 0;
  int64_t headDim = 0; ///< 0 when only the projections' sizes can tell
  int64_t repeats = 0; ///< query heads per key/value head, when the graph says
  float scale = 0.0f;  ///< the scores' scale the graph states (0: 1/sqrt(head_dim))
  const ::onnx::NodeProto *scaleNode = nullptr;
};

class Recognizer {
public:
  explicit Recognizer(const OnnxModel &model) : m(model) {}
  llvm::Expected<OnnxDecoder> run();

private:
  using NodeProto = ::onnx::NodeProto;

  // --- errors and node access (DecoderRecognizer.cpp) ---
  bool fail(const llvm::Twine &message);
  bool failAt(const NodeProto *n, const llvm::Twine &message);
  std::string what(llvm::StringRef value);
  /// The node producing output `index` of type `op` for `value`, looking through Identity;
  /// marks it recognized. Null (no error) if it is something else.
  const NodeProto *def(llvm::StringRef value, llvm::StringRef op, int index = 0);
  /// The op type producing `value` (through Identity), or "".
  llvm::StringRef opOf(llvm::StringRef value);
  std::string resolve(llvm::StringRef value);
  static std::string input(const NodeProto *n, int i);
  bool initializer(const NodeProto *n, int i, std::string &out, llvm::StringRef role);
  bool absent(const NodeProto *n, int from, llvm::StringRef why);
  /// Outputs [from, to) of `n` must be read by no one (tern does not compute them).
  bool unusedOutputs(const NodeProto *n, int from, int to = INT_MAX);
  /// A constant's elements (a Constant node or an initializer), or nullopt.
  std::optional<std::vector<double>> constant(llvm::StringRef value);
  std::optional<double> scalar(llvm::StringRef value);
  /// The reduction axes of ReduceMean/ReduceMax/ReduceSum (attribute, or input 1 from opset 18).
  std::optional<std::vector<double>> reduceAxes(const NodeProto *n);
  Stream streamOf(llvm::StringRef value);
  bool epsilon(const NodeProto *n, float eps);
  bool setTheta(const NodeProto *n, double theta, int64_t dim);

  // --- the decoder (DecoderRecognizer.cpp) ---
  bool recognize();
  bool residual(const Stream &s, Stream &prev, std::string &branch);
  bool isStream(llvm::StringRef value);
  bool norm(llvm::StringRef value, llvm::StringRef role, Norm &out);
  bool linear(llvm::StringRef value, llvm::StringRef role, OnnxLinear &out);
  bool subNorm(std::string &x, llvm::StringRef role, std::string &gamma);
  bool mlp(llvm::StringRef down, OnnxLayer &l, std::string &normed);
  bool activation(llvm::StringRef value, std::string &x, DecoderActivation &kind);
  bool attentionBranch(llvm::StringRef oValue, int64_t layer, OnnxLayer &l, std::string &normed);
  bool embedding(const Stream &s);
  bool head(const NodeProto *matmul);
  bool checkEverythingRecognized();

  // --- com.microsoft ops (ContribPatterns.cpp) ---
  bool contribNorm(llvm::StringRef value, Norm &out);
  bool matMulNBits(const NodeProto *n, OnnxLinear &out);
  bool groupQueryAttention(const NodeProto *gqa, OnnxLayer &l, Attention &a);
  bool rotaryNode(const NodeProto *r);
  bool ropeCaches(const NodeProto *n, int first);
  bool maskBookkeeping(const NodeProto *user, llvm::StringRef value);

  // --- ai.onnx op chains (PlainPatterns.cpp) ---
  bool plainNorm(llvm::StringRef value, Norm &out);
  bool plainLinear(llvm::StringRef value, llvm::StringRef role, OnnxLinear &out);
  bool actQuant(llvm::StringRef q, llvm::StringRef s, std::string &x, int64_t &bits);
  bool weightMatMul(llvm::StringRef value, OnnxLinear &out, std::string &activations);
  bool eagerAttention(llvm::StringRef value, int64_t layer, OnnxLayer &l, Attention &a);
  bool heads(llvm::StringRef value, llvm::StringRef role, std::string &projection,
             int64_t &count, int64_t &dim);
  bool rotated(llvm::StringRef value, std::string &x);
  bool rotaryAngles(llvm::StringRef cos, llvm::StringRef sin);
  bool repeatedKV(llvm::StringRef value, int64_t repeats, std::string &x);
  bool causalMask(llvm::StringRef value);
  bool laterKey(const NodeProto *user, llvm::StringRef value);
  bool triangle(const NodeProto *t);

  const OnnxModel &m;
  OnnxDecoder d;
  std::optional<std::string> error;
  llvm::DenseSet<const NodeProto *> seen;
  bool haveEps = false, haveTheta = false;
  int64_t layersSeen = 0, rotaryDim = 0;
  std::string checkedCos, checkedSin, checkedMask, checkedAngles;
  const NodeProto *maskTriangle = nullptr; ///< a Trilu-only causal mask
};

} // namespace tern::onnx

#endif // TERN_FRONTENDS_ONNX_RECOGNIZER_H
