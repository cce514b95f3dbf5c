// openai_response.cpp - see openai_response.h.
#include "openai_response.h"

#include "tern/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace tern::server {

// Insertion-ordered objects: fields in OpenAI's order, and top_logprobs best first (clients
// take the first key as the most likely token).
using json = nlohmann::ordered_json;

namespace {

// Generated text may hold invalid UTF-8 (a reply cut inside a character): replaced by U+FFFD,
// never an exception.
std::string dump(const json &j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json usage(const Event &done) {
  return {{"prompt_tokens", done.promptTokens},
          {"completion_tokens", done.completionTokens},
          {"total_tokens", done.promptTokens + done.completionTokens},
          {"prompt_tokens_details", {{"cached_tokens", done.cachedTokens}}}};
}

json base(const ResponseHeader &h, bool chunk) {
  return {{"id", h.id},
          {"object", h.chat ? (chunk ? "chat.completion.chunk" : "chat.completion")
                            : "text_completion"},
          {"created", h.created},
          {"model", h.model},
          {"system_fingerprint", nullptr}};
}

json choice(const ResponseHeader &h, json content, const json &finish) {
  json c = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish}};
  c[h.chat ? "delta" : "text"] = std::move(content);
  return c;
}

std::string event(const json &j) { return "data: " + dump(j) + "\n\n"; }

// A token's text as OpenAI writes it: itself when whole UTF-8, else "bytes:\xNN...".
std::string tokenText(const std::string &piece) {
  if (tern_utf8_invalid_at(piece.data(), piece.size()) == piece.size())
    return piece;
  std::string out = "bytes:";
  char hex[8];
  for (unsigned char b : piece) {
    snprintf(hex, sizeof hex, "\\x%02x", b);
    out += hex;
  }
  return out;
}

json bytesOf(const std::string &piece) {
  json a = json::array();
  for (unsigned char b : piece)
    a.push_back(b);
  return a;
}

// Characters in UTF-8 bytes: those that do not continue one.
int64_t characters(const std::string &bytes) {
  int64_t n = 0;
  for (unsigned char b : bytes)
    n += (b & 0xC0) != 0x80;
  return n;
}

// The log probabilities of `tokens` in the endpoint's shape; null when not requested.
json logprobsJson(bool chat, Logprobs &l) {
  if (!l.requested)
    return nullptr;
  if (chat) {
    json content = json::array();
    for (const TokenLogprob &t : l.tokens) {
      json top = json::array();
      for (const TokenLogprob::Alternative &a : t.top)
        top.push_back({{"token", tokenText(a.piece)},
                       {"logprob", a.logprob},
                       {"bytes", bytesOf(a.piece)}});
      content.push_back({{"token", tokenText(t.piece)},
                         {"logprob", t.logprob ? json(*t.logprob) : json(nullptr)},
                         {"bytes", bytesOf(t.piece)},
                         {"top_logprobs", std::move(top)}});
    }
    return {{"content", std::move(content)}, {"refusal", nullptr}};
  }
  json tokens = json::array(), values = json::array(), top = json::array(),
       offsets = json::array();
  for (const TokenLogprob &t : l.tokens) {
    tokens.push_back(tokenText(t.piece));
    values.push_back(t.logprob ? json(*t.logprob) : json(nullptr));
    if (!t.logprob) {
      top.push_back(nullptr);
    } else {
      // The alternatives, then the token itself if it is not one of them (OpenAI's
      // "logprobs + 1"); two tokens of the same text keep the likelier.
      json alternatives = json::object();
      for (const TokenLogprob::Alternative &a : t.top)
        if (!alternatives.contains(tokenText(a.piece)))
          alternatives[tokenText(a.piece)] = a.logprob;
      if (!alternatives.contains(tokenText(t.piece)))
        alternatives[tokenText(t.piece)] = *t.logprob;
      top.push_back(std::move(alternatives));
    }
    offsets.push_back(l.textOffset);
    l.textOffset += characters(t.piece);
  }
  return {{"tokens", std::move(tokens)},
          {"token_logprobs", std::move(values)},
          {"top_logprobs", std::move(top)},
          {"text_offset", std::move(offsets)}};
}

} // namespace

std::string completionJson(const ResponseHeader &h, const std::string &text, const Event &done,
                           Logprobs &logprobs) {
  json r = base(h, false);
  json c = {{"index", 0},
            {"logprobs", logprobsJson(h.chat, logprobs)},
            {"finish_reason", done.finishReason}};
  if (h.chat)
    c["message"] = {{"role", "assistant"}, {"content", text}};
  else
    c["text"] = text;
  r["choices"] = json::array({c});
  r["usage"] = usage(done);
  return dump(r);
}

std::string roleChunk(const ResponseHeader &h) {
  json r = base(h, true);
  r["choices"] = json::array({choice(h, {{"role", "assistant"}, {"content", ""}}, nullptr)});
  return event(r);
}

std::string textChunk(const ResponseHeader &h, const std::string &text, Logprobs &logprobs) {
  json r = base(h, true);
  json c = choice(h, h.chat ? json{{"content", text}} : json(text), nullptr);
  c["logprobs"] = logprobsJson(h.chat, logprobs);
  r["choices"] = json::array({std::move(c)});
  return event(r);
}

std::string finishChunk(const ResponseHeader &h, const Event &done) {
  json r = base(h, true);
  r["choices"] =
      json::array({choice(h, h.chat ? json::object() : json(""), done.finishReason)});
  return event(r);
}

std::string usageChunk(const ResponseHeader &h, const Event &done) {
  json r = base(h, true);
  r["choices"] = json::array();
  r["usage"] = usage(done);
  return event(r);
}

std::string errorJson(const ApiError &e) {
  return dump({{"error",
                {{"message", e.message},
                 {"type", e.type},
                 {"param", e.param.empty() ? json(nullptr) : json(e.param)},
                 {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}});
}

std::string errorEvent(const ApiError &e) { return "data: " + errorJson(e) + "\n\n"; }

std::string modelsJson(const std::string &model, int64_t created) {
  return dump({{"object", "list"},
               {"data", json::array({{{"id", model},
                                      {"object", "model"},
                                      {"created", created},
                                      {"owned_by", "tern"}}})}});
}

} // namespace tern::server
