// embeddings.cpp - see embeddings.h.
#include "embeddings.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <limits>

namespace tern::server {

using json = nlohmann::json;

namespace {

ApiError invalid(const std::string &param, const std::string &message,
                 const char *code = "invalid_value") {
  return {400, message, "invalid_request_error", param, code};
}

/// A token id list: every element a non-negative integer that fits int32.
bool readTokens(const std::string &param, const json &list, std::vector<int32_t> &out,
                ApiError &error) {
  for (size_t i = 0; i < list.size(); ++i) {
    const json &t = list[i];
    if (!t.is_number_integer() || t.get<int64_t>() < 0 ||
        t.get<int64_t>() > std::numeric_limits<int32_t>::max())
      return error = invalid(param + "[" + std::to_string(i) + "]",
                             "Invalid '" + param + "[" + std::to_string(i) +
                                 "]': expected a token id (an integer >= 0)."),
             false;
    out.push_back(static_cast<int32_t>(t.get<int64_t>()));
  }
  if (out.empty())
    return error = invalid(param, "Invalid '" + param + "': an input must not be empty."),
           false;
  return true;
}

const char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(const std::vector<float> &v) {
  std::string bytes(v.size() * 4, '\0');
  for (size_t i = 0; i < v.size(); ++i) { // little-endian float32, as numpy's frombuffer reads
    uint32_t u;
    std::memcpy(&u, &v[i], 4);
    for (int b = 0; b < 4; ++b)
      bytes[4 * i + b] = static_cast<char>((u >> (8 * b)) & 0xff);
  }
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t chunk = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size())
      chunk |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size())
      chunk |= static_cast<uint8_t>(bytes[i + 2]);
    out += kBase64[(chunk >> 18) & 63];
    out += kBase64[(chunk >> 12) & 63];
    out += i + 1 < bytes.size() ? kBase64[(chunk >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kBase64[chunk & 63] : '=';
  }
  return out;
}

} // namespace

bool parseEmbeddingRequest(std::string_view body, EmbeddingRequest &request, ApiError &error) {
  json root = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded())
    return error = invalid("", "We could not parse the JSON body of your request.",
                           "invalid_json"),
           false;
  if (!root.is_object())
    return error = invalid("", "The request body must be a JSON object.", "invalid_type"), false;
  for (const auto &[key, value] : root.items()) {
    if (value.is_null() && key != "input")
      continue; // null is the default of every optional field, as in the other endpoints
    if (key == "model") {
      if (!value.is_string())
        return error = invalid("model", "Invalid type for 'model': expected a string.",
                               "invalid_type"),
               false;
      request.model = value.get<std::string>();
    } else if (key == "input") {
      if (value.is_string()) {
        request.inputs.push_back({value.get<std::string>(), {}});
      } else if (value.is_array() && !value.empty() && value[0].is_number()) {
        EmbeddingInput in;
        if (!readTokens("input", value, in.tokens, error))
          return false;
        request.inputs.push_back(std::move(in));
      } else if (value.is_array() && !value.empty()) {
        for (size_t i = 0; i < value.size(); ++i) {
          std::string param = "input[" + std::to_string(i) + "]";
          EmbeddingInput in;
          if (value[i].is_string())
            in.text = value[i].get<std::string>();
          else if (!value[i].is_array() || !readTokens(param, value[i], in.tokens, error))
            return value[i].is_array()
                       ? false
                       : (error = invalid(param, "Invalid type for '" + param +
                                                     "': expected a string or an array of "
                                                     "token ids.",
                                          "invalid_type"),
                          false);
          request.inputs.push_back(std::move(in));
        }
      } else {
        return error = invalid("input",
                               value.is_array()
                                   ? "Invalid 'input': an empty array has nothing to embed."
                                   : "Invalid type for 'input': expected a string, an array "
                                     "of strings, an array of token ids or an array of "
                                     "arrays of token ids.",
                               value.is_array() ? "invalid_value" : "invalid_type"),
               false;
      }
    } else if (key == "encoding_format") {
      if (!value.is_string() || (value != "float" && value != "base64"))
        return error = invalid("encoding_format",
                               "Invalid 'encoding_format': expected 'float' or 'base64'."),
               false;
      request.base64 = value == "base64";
    } else if (key == "dimensions") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1)
        return error = invalid("dimensions",
                               "Invalid 'dimensions': expected an integer >= 1."),
               false;
      request.dimensions = value.get<int64_t>();
    } else if (key == "user") {
      if (!value.is_string())
        return error = invalid("user", "Invalid type for 'user': expected a string.",
                               "invalid_type"),
               false;
    } else {
      return error = invalid(key, "Unrecognized request argument supplied: " + key,
                             "unknown_parameter"),
             false;
    }
  }
  if (request.inputs.empty())
    return error = invalid("input", "Missing required parameter: 'input'.",
                           "missing_required_parameter"),
           false;
  if (request.inputs.size() > kMaxEmbeddingInputs)
    return error = invalid("input", "Invalid 'input': at most " +
                                        std::to_string(kMaxEmbeddingInputs) +
                                        " inputs per request."),
           false;
  for (size_t i = 0; i < request.inputs.size(); ++i)
    if (request.inputs[i].text && request.inputs[i].text->empty())
      return error = invalid(request.inputs.size() == 1 ? "input"
                                                        : "input[" + std::to_string(i) + "]",
                             "Invalid 'input': an empty string has nothing to embed."),
             false;
  return true;
}

void truncateEmbedding(std::vector<float> &v, int64_t dimensions, bool normalized) {
  if (dimensions <= 0 || static_cast<size_t>(dimensions) >= v.size())
    return;
  v.resize(static_cast<size_t>(dimensions));
  if (!normalized)
    return;
  double norm = 0;
  for (float x : v)
    norm += static_cast<double>(x) * x;
  double length = std::max(std::sqrt(norm), 1e-12);
  for (float &x : v)
    x = static_cast<float>(x / length);
}

std::string embeddingsJson(const std::string &model, const std::vector<std::vector<float>> &vectors,
                           bool asBase64, int64_t promptTokens) {
  json data = json::array();
  for (size_t i = 0; i < vectors.size(); ++i) {
    json item = {{"object", "embedding"}, {"index", i}};
    if (asBase64)
      item["embedding"] = base64(vectors[i]);
    else
      item["embedding"] = vectors[i];
    data.push_back(std::move(item));
  }
  json root = {{"object", "list"},
               {"data", std::move(data)},
               {"model", model},
               {"usage", {{"prompt_tokens", promptTokens}, {"total_tokens", promptTokens}}}};
  return root.dump();
}

} // namespace tern::server
