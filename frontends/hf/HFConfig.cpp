//===- HFConfig.cpp - config.json of BitNet-family checkpoints --------------------------------===//
#include "frontends/hf/HFConfig.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>

using namespace tern::hf;

namespace {

/// Reads typed fields of the config object, recording the first error with the field's name.
class FieldReader {
public:
  FieldReader(const llvm::json::Object &root, llvm::StringRef path) : root(root), path(path) {}

  int64_t positiveInt(llvm::StringRef key, std::optional<int64_t> fallback = std::nullopt) {
    const llvm::json::Value *v = root.get(key);
    if (!v || v->kind() == llvm::json::Value::Null) {
      if (!fallback)
        failMissing(key, "a positive integer");
      return fallback.value_or(0);
    }
    std::optional<int64_t> i = v->getAsInteger();
    if (!i || *i <= 0) {
      failInvalid(key, "a positive integer", *v);
      return 0;
    }
    return *i;
  }

  std::optional<int64_t> optionalInt(llvm::StringRef key) {
    const llvm::json::Value *v = root.get(key);
    if (!v || v->kind() == llvm::json::Value::Null)
      return std::nullopt;
    // Some configs list several end-of-sequence ids: the first one is the model's.
    if (const llvm::json::Array *a = v->getAsArray())
      if (!a->empty())
        v = &a->front();
    std::optional<int64_t> i = v->getAsInteger();
    if (!i || *i < 0) {
      failInvalid(key, "a non-negative integer", *v);
      return std::nullopt;
    }
    return i;
  }

  double positiveNumber(llvm::StringRef key, std::optional<double> fallback = std::nullopt) {
    const llvm::json::Value *v = root.get(key);
    if (!v || v->kind() == llvm::json::Value::Null) {
      if (!fallback)
        failMissing(key, "a positive number");
      return fallback.value_or(0);
    }
    std::optional<double> d = v->getAsNumber();
    if (!d || !(*d > 0) || !std::isfinite(*d)) {
      failInvalid(key, "a positive number", *v);
      return 0;
    }
    return *d;
  }

  bool boolean(llvm::StringRef key, bool fallback) {
    const llvm::json::Value *v = root.get(key);
    if (!v || v->kind() == llvm::json::Value::Null)
      return fallback;
    std::optional<bool> b = v->getAsBoolean();
    if (!b)
      failInvalid(key, "true or false", *v);
    return b.value_or(fallback);
  }

  std::string string(const llvm::json::Object &object, llvm::StringRef key,
                     llvm::StringRef where, bool required) {
    const llvm::json::Value *v = object.get(key);
    if (!v || v->kind() == llvm::json::Value::Null) {
      if (required)
        failMissing((where + key).str(), "a string");
      return "";
    }
    std::optional<llvm::StringRef> s = v->getAsString();
    if (!s)
      failInvalid((where + key).str(), "a string", *v);
    return s ? s->str() : "";
  }

  void fail(const llvm::Twine &message) {
    if (!error)
      error = message.str();
  }
  llvm::Error takeError() {
    if (!error)
      return llvm::Error::success();
    return llvm::createStringError(llvm::inconvertibleErrorCode(), path + ": " + *error);
  }

private:
  void failMissing(llvm::StringRef key, llvm::StringRef expected) {
    fail("missing field \"" + key + "\" (" + expected + ")");
  }
  void failInvalid(llvm::StringRef key, llvm::StringRef expected, const llvm::json::Value &v) {
    std::string found;
    llvm::raw_string_ostream os(found);
    os << v;
    fail("field \"" + key + "\" must be " + expected + ", found " + found);
  }

  const llvm::json::Object &root;
  std::string path;
  std::optional<std::string> error;
};

} // namespace

/// The divisors of RoPE's inverse frequencies theta^(-2i/d) that transformers'
/// modeling_rope_utils applies for `type` (computed in double, stored in float).
static std::vector<float> ropeFactors(llvm::StringRef type, double theta, int64_t headDim,
                                      double factor, double lowFreqFactor, double highFreqFactor,
                                      double originalPositions) {
  std::vector<float> factors(size_t(headDim / 2), float(factor));
  if (type == "linear")
    return factors;
  // llama3: wavelengths below original / high_freq_factor keep their frequency, those above
  // original / low_freq_factor are divided by the factor, those between blend the two.
  const double pi = 3.14159265358979323846;
  for (int64_t i = 0; i < headDim / 2; ++i) {
    double invFreq = std::pow(theta, -2.0 * double(i) / double(headDim));
    double wavelen = 2 * pi / invFreq;
    double scaled;
    if (wavelen < originalPositions / highFreqFactor)
      scaled = invFreq;
    else if (wavelen > originalPositions / lowFreqFactor)
      scaled = invFreq / factor;
    else {
      double smooth =
          (originalPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
      scaled = (1 - smooth) * invFreq / factor + smooth * invFreq;
    }
    factors[size_t(i)] = float(invFreq / scaled);
  }
  return factors;
}

llvm::Expected<HFConfig> HFConfig::load(llvm::StringRef path) {
  auto text = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!text)
    return llvm::createStringError(text.getError(), "%s: cannot open: %s", path.str().c_str(),
                                   text.getError().message().c_str());
  return parse((*text)->getBuffer(), path);
}

llvm::StringRef HFConfig::familyName() const {
  switch (family) {
  case ModelFamily::BitNet:
    return "bitnet-2b4t";
  case ModelFamily::OneBitLLM:
    return "1bitllm";
  case ModelFamily::LlamaBitNet:
    return "llama-bitnet";
  case ModelFamily::Qwen3:
    return "qwen3";
  }
  return "?";
}

llvm::Expected<HFConfig> HFConfig::parse(llvm::StringRef text, llvm::StringRef path) {
  auto error = [&](const llvm::Twine &message) -> llvm::Error {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), path + ": " + message);
  };
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(text);
  if (!json)
    return error("not valid JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return error("expected a JSON object");

  HFConfig c;
  c.path = path.str();
  const llvm::json::Array *architectures = root->getArray("architectures");
  if (!architectures || architectures->empty() || !architectures->front().getAsString())
    return error("missing field \"architectures\" (a list naming the model class, e.g. "
                 "[\"BitNetForCausalLM\"])");
  c.architecture = architectures->front().getAsString()->str();
  if (c.architecture == "BitNetForCausalLM")
    c.family = ModelFamily::BitNet;
  else if (c.architecture == "BitnetForCausalLM")
    c.family = ModelFamily::OneBitLLM;
  else if (c.architecture == "LlamaForCausalLM")
    c.family = ModelFamily::LlamaBitNet;
  else if (c.architecture == "Qwen3ForCausalLM")
    c.family = ModelFamily::Qwen3;
  else if (c.architecture == "Qwen3Model")
    c.family = ModelFamily::Qwen3, c.embedding = true;
  else
    return error("unsupported architecture '" + c.architecture +
                 "'; tern imports BitNetForCausalLM (BitNet b1.58 2B4T), BitnetForCausalLM "
                 "(1bitLLM), LlamaForCausalLM with a bitnet quantization_config, "
                 "Qwen3ForCausalLM with ternary weights (Ternary-Bonsai) and Qwen3Model "
                 "(BitNet embedding models)");

  FieldReader r(*root, path);
  c.modelType = r.string(*root, "model_type", "", /*required=*/false);

  // Quantization: packed U8 weights unless the config says the weights are latent.
  const llvm::json::Value *quantValue = root->get("quantization_config");
  const llvm::json::Object *quant = quantValue ? quantValue->getAsObject() : nullptr;
  if (quantValue && !quant && quantValue->kind() != llvm::json::Value::Null)
    return error("field \"quantization_config\" must be an object");
  if (quant) {
    std::string method = r.string(*quant, "quant_method", "quantization_config.", true);
    if (!method.empty() && method != "bitnet")
      return error("quantization_config.quant_method '" + method +
                   "' is not supported; expected \"bitnet\"");
    std::string mode = r.string(*quant, "quantization_mode", "quantization_config.", false);
    if (mode.empty() || mode == "offline")
      c.storage = WeightStorage::Packed;
    else if (mode == "online")
      c.storage = WeightStorage::Latent;
    else
      return error("quantization_config.quantization_mode '" + mode +
                   "' is not supported; expected \"offline\" or \"online\"");
    std::string linearClass = r.string(*quant, "linear_class", "quantization_config.", false);
    if (linearClass == "autobitlinear")
      c.scaleMultiplies = true;
    else if (linearClass.empty() || linearClass == "bitlinear")
      c.scaleMultiplies = false;
    else
      return error("quantization_config.linear_class '" + linearClass +
                   "' is not supported; expected \"autobitlinear\" or \"bitlinear\"");
  } else if (c.family == ModelFamily::LlamaBitNet) {
    return error("LlamaForCausalLM without a bitnet quantization_config is not a ternary "
                 "model; tern imports only BitNet-quantized Llama checkpoints");
  } else if (c.family == ModelFamily::Qwen3) {
    // Without a bitnet quantization_config the float weights must be ternary already (the
    // importer checks every group; a dense Qwen3 is refused there, by tensor), unless the
    // projections have norms of their own (BitNet embedding models' BitLinear): then they are
    // latent weights, ternarized at import (the importer decides from the tensors).
    c.storage = WeightStorage::Ternary;
  } else {
    c.storage = WeightStorage::Latent;
  }
  if (c.family == ModelFamily::Qwen3 && !c.embedding && c.storage == WeightStorage::Latent)
    return error("Qwen3ForCausalLM with quantization_mode 'online' is not supported; expected "
                 "packed weights (offline) or float weights that are ternary per group");
  if (r.boolean("attention_bias", false))
    return error("attention_bias true is not supported; tern's projections have no bias");
  if (r.boolean("use_sliding_window", false))
    return error("use_sliding_window true is not supported; tern's attention sees the whole "
                 "context");

  std::string act = r.string(*root, "hidden_act", "", /*required=*/true);
  if (act == "relu2")
    c.activation = Activation::ReLU2;
  else if (act == "silu")
    c.activation = Activation::SiLU;
  else if (!act.empty())
    return error("hidden_act '" + act + "' is not supported; expected \"relu2\" or \"silu\"");

  c.hiddenSize = r.positiveInt("hidden_size");
  c.intermediateSize = r.positiveInt("intermediate_size");
  c.numLayers = r.positiveInt("num_hidden_layers");
  c.numHeads = r.positiveInt("num_attention_heads");
  c.numKVHeads = r.positiveInt("num_key_value_heads", c.numHeads);
  c.vocabSize = r.positiveInt("vocab_size");
  c.maxPositions = r.positiveInt("max_position_embeddings", 2048);
  c.rmsNormEps = r.positiveNumber("rms_norm_eps");
  c.ropeTheta = r.positiveNumber("rope_theta", 10000.0);
  c.tieWordEmbeddings = r.boolean("tie_word_embeddings", false);
  c.bosTokenId = r.optionalInt("bos_token_id");
  c.eosTokenId = r.optionalInt("eos_token_id");
  // The activation width of every bitlinear input (1bitLLM's configs write input_bits: 8;
  // BitNet a4.8 / v2 style models use 4).
  c.activationBits = r.positiveInt("input_bits", 8);
  if (llvm::Error e = r.takeError())
    return std::move(e);
  if (c.activationBits < 2 || c.activationBits > 8)
    return error("input_bits " + std::to_string(c.activationBits) +
                 " is not supported; expected 2 to 8 (activations are quantized to int8 "
                 "storage)");
  c.headDim = 0;
  if (const llvm::json::Value *hd = root->get("head_dim"); hd && hd->getAsInteger())
    c.headDim = *hd->getAsInteger();
  if (c.headDim <= 0) {
    if (c.hiddenSize % c.numHeads != 0)
      return error(llvm::formatv("hidden_size {0} is not a multiple of num_attention_heads {1}",
                                 c.hiddenSize, c.numHeads)
                       .str());
    c.headDim = c.hiddenSize / c.numHeads;
  }
  if (c.headDim % 2 != 0)
    return error(llvm::formatv("head dimension {0} must be even for RoPE", c.headDim).str());
  // The runtime rotates heads of up to 1024 (TERN_ROPE_MAX_HEAD_DIM); no model comes near it.
  if (c.headDim > 1024)
    return error(llvm::formatv("head dimension {0} is above the 1024 tern supports", c.headDim)
                     .str());
  if (c.numHeads % c.numKVHeads != 0)
    return error(llvm::formatv("num_attention_heads {0} is not a multiple of "
                               "num_key_value_heads {1}",
                               c.numHeads, c.numKVHeads)
                     .str());
  // RoPE scaling: "rope_scaling" (transformers 4; its type as "type" or "rope_type") or
  // "rope_parameters" (transformers 5, rope_theta inside it).
  const llvm::json::Value *params = root->get("rope_parameters");
  const llvm::json::Value *scalingValue = root->get("rope_scaling");
  llvm::StringRef field = "rope_scaling";
  if (params && params->kind() != llvm::json::Value::Null) {
    field = "rope_parameters";
    scalingValue = params;
  }
  if (scalingValue && scalingValue->kind() != llvm::json::Value::Null) {
    const llvm::json::Object *scaling = scalingValue->getAsObject();
    if (!scaling)
      return error("field \"" + field + "\" must be an object");
    std::optional<llvm::StringRef> type = scaling->getString("rope_type");
    if (!type)
      type = scaling->getString("type");
    if (!type)
      return error(field + ": missing field \"rope_type\" (a string)");
    auto number = [&](llvm::StringRef key, std::optional<double> fallback)
        -> llvm::Expected<double> {
      const llvm::json::Value *v = scaling->get(key);
      if (!v || v->kind() == llvm::json::Value::Null) {
        if (fallback)
          return *fallback;
        return error(field + ": missing field \"" + key + "\" (a positive number) for rope_type '" +
                     *type + "'");
      }
      std::optional<double> d = v->getAsNumber();
      if (!d || !(*d > 0) || !std::isfinite(*d))
        return error(field + "." + key + " must be a positive number");
      return *d;
    };
    // transformers 5 reads rope_theta from rope_parameters when it is there.
    if (field == "rope_parameters" && scaling->get("rope_theta")) {
      llvm::Expected<double> theta = number("rope_theta", 10000.0);
      if (!theta)
        return theta.takeError();
      c.ropeTheta = *theta;
    }
    if (*type == "linear" || *type == "llama3") {
      llvm::Expected<double> factor = number("factor", std::nullopt);
      if (!factor)
        return factor.takeError();
      double low = 1, high = 1, original = 0;
      if (*type == "llama3") {
        llvm::Expected<double> l = number("low_freq_factor", std::nullopt);
        if (!l)
          return l.takeError();
        llvm::Expected<double> h = number("high_freq_factor", std::nullopt);
        if (!h)
          return h.takeError();
        llvm::Expected<double> o = number("original_max_position_embeddings", std::nullopt);
        if (!o)
          return o.takeError();
        low = *l, high = *h, original = *o;
        if (!(high > low))
          return error(field + ": high_freq_factor must be above low_freq_factor");
      }
      c.ropeFreqFactors = ropeFactors(*type, c.ropeTheta, c.headDim, *factor, low, high, original);
      for (float f : c.ropeFreqFactors)
        if (!(f > 0) || !std::isfinite(f))
          return error(field + ": factor " + std::to_string(*factor) +
                       " gives a frequency divisor outside float's range");
    } else if (*type != "default") {
      return error(field + ".rope_type '" + *type +
                   "' is not supported; tern maps default, linear and llama3");
    }
  }
  for (std::optional<int64_t> id : {c.bosTokenId, c.eosTokenId})
    if (id && *id >= c.vocabSize)
      return error(llvm::formatv("token id {0} (bos/eos) is outside the vocabulary of {1}", *id,
                                 c.vocabSize)
                       .str());
  return c;
}
