//===- OnnxModelFuzzer.cpp - libFuzzer target for the ONNX reader and recognizer --------------===//
//
// Any input must be rejected with an error or accepted with every tensor's bytes inside what was
// read; the oracle reads every initializer and Constant (ASan catches a bad range) and runs the
// decoder recognizer over the graph, which must end with a decoder or an error (never a crash or
// a hang). External data is not read here.
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/onnx/DecoderRecognizer.h"
#include "frontends/onnx/OnnxModel.h"

#include "onnx/onnx_pb.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  auto model = tern::onnx::OnnxModel::parse(bytes, "fuzz.onnx", "");
  if (!model) {
    llvm::consumeError(model.takeError());
    return 0;
  }
  unsigned sum = 0;
  for (const onnx::TensorProto &t : (*model)->graph().initializer()) {
    const tern::onnx::OnnxTensor *c = (*model)->constant(t.name());
    if (!c || uint64_t(c->bytes.size()) != uint64_t(c->numElements()) * tern::dtypeSize(c->dtype))
      std::abort();
    for (uint8_t v : c->bytes)
      sum += v;
  }
  auto decoder = tern::onnx::recognizeDecoder(**model);
  if (!decoder)
    llvm::consumeError(decoder.takeError());
  return int(sum & 0);
}
