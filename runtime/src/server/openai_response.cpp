// openai_response.cpp - see openai_response.h.
#include "openai_response.h"

#include <nlohmann/json.hpp>

namespace tern::server {

using json = nlohmann::json;

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

} // namespace

std::string completionJson(const ResponseHeader &h, const std::string &text, const Event &done) {
  json r = base(h, false);
  json c = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", done.finishReason}};
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

std::string textChunk(const ResponseHeader &h, const std::string &text) {
  json r = base(h, true);
  r["choices"] =
      json::array({choice(h, h.chat ? json{{"content", text}} : json(text), nullptr)});
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
