//===- ServerRequestFuzzer.cpp - the server's request parsing and streamed text ---------------===//
//
// Any body is accepted or refused with an error naming status 400 and a message, never a crash;
// an accepted request is answered (its JSON written and read back, with log probabilities when
// it asks for them). /tokenize and /detokenize bodies the same. The same bytes, cut into
// tokens, go through TextOutput with stop sequences taken from the input: what it sends must be
// exactly the text before the first stop sequence (or everything), whole characters first.
//
//===------------------------------------------------------------------------------------------===//
#include "server/embeddings.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/text_output.h"
#include "server/tokenize.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <string>

using namespace tern::server;

static void checkRequest(const std::string &body, bool chat) {
  ApiRequest request;
  ApiError error;
  if (!parseApiRequest(body, chat, request, error)) {
    if (error.status != 400 || error.message.empty() || error.type.empty())
      std::abort();
    (void)nlohmann::json::parse(errorJson(error)); // must be valid JSON
    return;
  }
  if (chat ? request.messages.empty() : !request.promptText && request.promptTokens.empty())
    std::abort();
  Event done;
  done.kind = Event::Kind::Done;
  done.finishReason = "stop";
  ResponseHeader header{chat, "id", 0, request.model};
  std::string text = request.promptText.value_or(chat ? request.messages[0].content : "");
  // Log probabilities as asked, over the text cut into 3-byte tokens (any bytes: cut
  // characters, invalid UTF-8), the first without a value as an echoed prompt's.
  Logprobs logprobs;
  logprobs.requested = chat ? request.chatLogprobs : request.logprobs.has_value();
  for (size_t at = 0; logprobs.requested && at < text.size(); at += 3) {
    TokenLogprob t;
    t.piece = text.substr(at, 3);
    if (at > 0)
      t.logprob = -0.5 * static_cast<double>(at);
    for (int64_t k = 0; t.logprob && k < request.topLogprobs.value_or(request.logprobs.value_or(0));
         ++k)
      t.top.push_back({static_cast<int32_t>(k), text.substr(at, static_cast<size_t>(k)), -1.0});
    logprobs.tokens.push_back(std::move(t));
  }
  auto answer = nlohmann::json::parse(completionJson(header, text, done, logprobs));
  if (logprobs.requested && !chat &&
      answer["choices"][0]["logprobs"]["tokens"].size() != logprobs.tokens.size())
    std::abort();
}

/// /tokenize and /detokenize: refused with a 400 naming a message, or read.
static void checkTokenizeRequest(const std::string &body) {
  TokenizeRequest request;
  ApiError error;
  if (!parseTokenizeRequest(body, request, error) &&
      (error.status != 400 || error.message.empty()))
    std::abort();
  std::vector<int32_t> tokens;
  if (!parseDetokenizeRequest(body, tokens, error) &&
      (error.status != 400 || error.message.empty()))
    std::abort();
  std::vector<std::string> pieces(tokens.size(), body.substr(0, 2));
  (void)nlohmann::json::parse(tokenizeJson(tokens, &pieces));
}

/// /v1/embeddings: refused with a 400 naming a message, or answered with valid JSON (floats and
/// base64) for as many vectors as inputs.
static void checkEmbeddingRequest(const std::string &body) {
  EmbeddingRequest request;
  ApiError error;
  if (!parseEmbeddingRequest(body, request, error)) {
    if (error.status != 400 || error.message.empty())
      std::abort();
    return;
  }
  if (request.inputs.empty() || request.inputs.size() > kMaxEmbeddingInputs)
    std::abort();
  std::vector<std::vector<float>> vectors(request.inputs.size(), std::vector<float>{0.5f, -1});
  for (auto &v : vectors)
    truncateEmbedding(v, request.dimensions.value_or(0), true);
  auto answer = nlohmann::json::parse(embeddingsJson("m", vectors, request.base64, 1));
  if (answer["data"].size() != request.inputs.size())
    std::abort();
}

static void checkText(const uint8_t *data, size_t size) {
  if (size < 2)
    return;
  // First byte: how many stop sequences (0-3) and the token length (1-16).
  size_t stops = data[0] % 4, piece = 1 + (data[0] >> 4);
  std::string input(reinterpret_cast<const char *>(data + 1), size - 1);
  std::vector<std::string> stopList;
  for (size_t i = 0; i < stops; ++i) // stops: 1-3 byte slices of the input
    stopList.push_back(input.substr((i * 7) % input.size(), 1 + i));
  TextOutput out(stopList);
  std::string sent;
  for (size_t at = 0; at < input.size() && !out.stopped(); at += piece)
    sent += out.add(std::string_view(input).substr(at, piece));
  if (!out.stopped())
    sent += out.finish();
  size_t first = std::string::npos;
  for (const std::string &s : stopList)
    if (!s.empty())
      first = std::min(first, input.find(s));
  if (sent != input.substr(0, first))
    std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string body(reinterpret_cast<const char *>(data), size);
  checkEmbeddingRequest(body);
  checkTokenizeRequest(body);
  checkRequest(body, false);
  checkRequest(body, true);
  checkText(data, size);
  return 0;
}
