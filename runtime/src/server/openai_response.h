// openai_response.h - the JSON the OpenAI API answers with: completions and chat completions
// whole or as stream chunks (Server-Sent Events), the model list and errors.
#ifndef TERN_SERVER_OPENAI_RESPONSE_H
#define TERN_SERVER_OPENAI_RESPONSE_H

#include "openai_request.h"
#include "scheduler.h"

#include <cstdint>
#include <string>

namespace tern::server {

/// What every response of one request shares.
struct ResponseHeader {
  bool chat = false;
  std::string id;    // "cmpl-..." or "chatcmpl-..."
  int64_t created = 0; // Unix seconds
  std::string model;
};

/// The log probabilities a response carries, in its endpoint's shape: /v1/completions' legacy
/// {tokens, token_logprobs, top_logprobs, text_offset} (each top_logprobs object holds the
/// alternatives and the token itself, as OpenAI's "logprobs + 1"), /v1/chat/completions'
/// {content: [{token, logprob, bytes, top_logprobs}]}. A token that is not whole UTF-8 is
/// written "bytes:\xNN..." (OpenAI's form); chat also gives its bytes. text_offset counts the
/// characters (UTF-8 lead bytes) of the choice's text before each token, across a stream's
/// chunks (`textOffset`).
struct Logprobs {
  bool requested = false;
  std::vector<TokenLogprob> tokens;
  int64_t textOffset = 0;
};

/// The whole response of a non-streamed request.
std::string completionJson(const ResponseHeader &h, const std::string &text, const Event &done,
                           Logprobs &logprobs);

/// One Server-Sent Event ("data: ...\n\n") of a streamed request: the role (chat's first
/// chunk), a piece of text (with its tokens' log probabilities when requested), the finish
/// reason, or the usage (stream_options.include_usage).
std::string roleChunk(const ResponseHeader &h);
std::string textChunk(const ResponseHeader &h, const std::string &text, Logprobs &logprobs);
std::string finishChunk(const ResponseHeader &h, const Event &done);
std::string usageChunk(const ResponseHeader &h, const Event &done);
/// An error inside a stream, and the stream's end.
std::string errorEvent(const ApiError &error);
inline const char *kDoneEvent = "data: [DONE]\n\n";

std::string errorJson(const ApiError &error);
std::string modelsJson(const std::string &model, int64_t created);

} // namespace tern::server

#endif
