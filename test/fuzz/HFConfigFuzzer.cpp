//===- HFConfigFuzzer.cpp - libFuzzer target for config.json parsing -------------------------===//
//
// Any input is rejected with an error or gives a config whose sizes a model can be built from.
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/hf/HFConfig.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  auto config = tern::hf::HFConfig::parse(text, "config.json");
  if (!config) {
    llvm::consumeError(config.takeError());
    return 0;
  }
  const tern::hf::HFConfig &c = *config;
  if (c.hiddenSize <= 0 || c.numHeads <= 0 || c.numKVHeads <= 0 || c.headDim <= 0 ||
      c.headDim % 2 != 0 || c.numHeads % c.numKVHeads != 0 || c.vocabSize <= 0 ||
      !(c.rmsNormEps > 0) || !(c.ropeTheta > 0))
    std::abort();
  return 0;
}
