// openai_request.h - the body of an OpenAI /v1/completions or /v1/chat/completions request,
// checked the way the OpenAI API checks it: an unknown field, a value of the wrong type or out
// of range is an error naming the field (param); a field the API has but this server does not
// implement is refused unless it asks for the default.
#ifndef TERN_SERVER_OPENAI_REQUEST_H
#define TERN_SERVER_OPENAI_REQUEST_H

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::server {

/// An OpenAI-style error: the HTTP status and the "error" object.
struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param; // the offending field, "" for none
  std::string code;  // a machine-readable reason, "" for none
};

struct ChatMessage {
  std::string role, content;
};

struct ApiRequest {
  bool chat = false;
  std::string model;
  // /v1/completions: the prompt as text, or as token ids.
  std::optional<std::string> promptText;
  std::vector<int32_t> promptTokens;
  // /v1/chat/completions
  std::vector<ChatMessage> messages;
  std::optional<int64_t> maxTokens;
  bool stream = false, includeUsage = false;
  std::vector<std::string> stop;
  // Sampling: unset fields take the server's defaults (its command line's).
  std::optional<double> temperature, topP, minP, repeatPenalty, presencePenalty,
      frequencyPenalty;
  std::optional<int64_t> topK, repeatLastN, seed;
  bool ignoreEos = false;
  // Log probabilities. /v1/completions: `logprobs` is the number of alternatives (0-5), and
  // `echo` sends the prompt back first. /v1/chat/completions: `logprobs` true, with
  // `top_logprobs` alternatives (0-20).
  std::optional<int64_t> logprobs, topLogprobs;
  bool chatLogprobs = false, echo = false;
};

/// Parses `body` for /v1/chat/completions (chat) or /v1/completions; false with `error`.
bool parseApiRequest(std::string_view body, bool chat, ApiRequest &request, ApiError &error);

/// The body as a JSON object; false with OpenAI's invalid_json error (its line and column).
bool parseJsonObject(std::string_view body, nlohmann::json &root, ApiError &error);
/// OpenAI's errors naming a field: one the endpoint does not have, one it needs.
ApiError unknownParameter(const std::string &key);
ApiError missingParameter(const std::string &key);

} // namespace tern::server

#endif
