// tokenize.h - llama-server's POST /tokenize and /detokenize: the model's tokenizer over HTTP,
// so a client that scores text (an evaluation harness) can cut a context and a continuation
// into the token ids it then sends to /v1/completions.
//
//   /tokenize    {"content": str, "add_special": false, "parse_special": true,
//                 "with_pieces": false}  ->  {"tokens": [id...]} or, with_pieces,
//                 {"tokens": [{"id": id, "piece": str or [bytes]}...]}
//   /detokenize  {"tokens": [id...]}  ->  {"content": str}
// add_special puts the BOS first (as /v1/completions does for a text prompt); parse_special
// recognizes added tokens written in the text.
#ifndef TERN_SERVER_TOKENIZE_H
#define TERN_SERVER_TOKENIZE_H

#include "openai_request.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tern::server {

struct TokenizeRequest {
  std::string content;
  bool addSpecial = false, parseSpecial = true, withPieces = false;
};

/// Parses a /tokenize body; false with an OpenAI-style `error` naming the field.
bool parseTokenizeRequest(std::string_view body, TokenizeRequest &request, ApiError &error);
/// Parses a /detokenize body (ids not checked against a vocabulary here).
bool parseDetokenizeRequest(std::string_view body, std::vector<int32_t> &tokens,
                            ApiError &error);

/// {"tokens": [...]}; with pieces, each id with its text (an array of its bytes when they are
/// not whole UTF-8, as llama-server writes them).
std::string tokenizeJson(const std::vector<int32_t> &tokens,
                         const std::vector<std::string> *pieces);
std::string detokenizeJson(const std::string &content);

} // namespace tern::server

#endif
