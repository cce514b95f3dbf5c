// embeddings.h - OpenAI's POST /v1/embeddings: the request checked as the API checks it, and
// the answer (each vector as floats, or base64 of little-endian float32).
#ifndef TERN_SERVER_EMBEDDINGS_H
#define TERN_SERVER_EMBEDDINGS_H

#include "openai_request.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::server {

/// One input: a text, or token ids given as they are.
struct EmbeddingInput {
  std::optional<std::string> text;
  std::vector<int32_t> tokens;
};

struct EmbeddingRequest {
  std::string model;
  std::vector<EmbeddingInput> inputs;
  bool base64 = false;            // encoding_format "base64"
  std::optional<int64_t> dimensions; // keep the first N (renormalized), as OpenAI's models do
};

/// The most inputs one request may carry (OpenAI's limit).
inline constexpr size_t kMaxEmbeddingInputs = 2048;

/// Parses a /v1/embeddings body: `input` is a string, an array of strings, an array of token
/// ids or an array of arrays of them; false with an OpenAI-style `error` naming the field.
bool parseEmbeddingRequest(std::string_view body, EmbeddingRequest &request, ApiError &error);

/// Truncates `v` to `dimensions` floats and, for a model whose vectors have unit length, scales
/// it back to unit length (the Matryoshka truncation OpenAI's `dimensions` performs).
void truncateEmbedding(std::vector<float> &v, int64_t dimensions, bool normalized);

/// The answer: {"object": "list", "data": [{"object": "embedding", "index": i, "embedding":
/// [...] or "base64"}], "model", "usage": {"prompt_tokens", "total_tokens"}}.
std::string embeddingsJson(const std::string &model, const std::vector<std::vector<float>> &vectors,
                           bool base64, int64_t promptTokens);

} // namespace tern::server

#endif
