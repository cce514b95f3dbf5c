// openai_request.cpp - see openai_request.h.
#include "openai_request.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <limits>

namespace tern::server {

using json = nlohmann::json;

namespace {

const char *typeName(const json &v) {
  switch (v.type()) {
  case json::value_t::null:
    return "null";
  case json::value_t::boolean:
    return "a boolean";
  case json::value_t::string:
    return "a string";
  case json::value_t::array:
    return "an array";
  case json::value_t::object:
    return "an object";
  case json::value_t::number_float:
    return "a decimal";
  default:
    return "an integer";
  }
}

ApiError invalidType(const std::string &name, const char *expected, const json &got) {
  return {400,
          "Invalid type for '" + name + "': expected " + expected + ", but got " +
              typeName(got) + " instead.",
          "invalid_request_error", name, "invalid_type"};
}

ApiError invalidValue(const std::string &name, const std::string &why) {
  return {400, "Invalid '" + name + "': " + why, "invalid_request_error", name, "invalid_value"};
}

ApiError unsupported(const std::string &name, const std::string &why) {
  return {400, "Unsupported value for '" + name + "': " + why, "invalid_request_error", name,
          "unsupported_value"};
}

std::string number(double v) {
  char text[64];
  snprintf(text, sizeof text, "%g", v);
  return text;
}

// Readers of one field: false with `error` when the value does not fit.
bool readBool(const std::string &name, const json &v, bool &out, ApiError &error) {
  if (!v.is_boolean())
    return error = invalidType(name, "a boolean", v), false;
  out = v.get<bool>();
  return true;
}

bool readInt(const std::string &name, const json &v, int64_t lo, int64_t hi,
             std::optional<int64_t> &out, ApiError &error) {
  // A whole number written as a decimal (5.0, or too large for 64 bits: 1e20) is a number of
  // the right type, checked against the range.
  if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()) {
    double x = v.get<double>();
    if (x < static_cast<double>(lo) || x > static_cast<double>(hi))
      return error = invalidValue(name, "expected a value " +
                                            (x < static_cast<double>(lo)
                                                 ? ">= " + std::to_string(lo)
                                                 : "<= " + std::to_string(hi)) +
                                            ", but got " + number(x) + " instead."),
             false;
    out = static_cast<int64_t>(x);
    return true;
  }
  if (!v.is_number_integer())
    return error = invalidType(name, "an integer", v), false;
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi))
    return error = invalidValue(name, "expected a value <= " + std::to_string(hi) +
                                          ", but got " + v.dump() + " instead."),
           false;
  int64_t x = v.get<int64_t>();
  if (x < lo || x > hi)
    return error = invalidValue(name, "expected a value " +
                                          (x < lo ? ">= " + std::to_string(lo)
                                                  : "<= " + std::to_string(hi)) +
                                          ", but got " + std::to_string(x) + " instead."),
           false;
  out = x;
  return true;
}

bool readNumber(const std::string &name, const json &v, double lo, double hi,
                std::optional<double> &out, ApiError &error) {
  if (!v.is_number())
    return error = invalidType(name, "a number", v), false;
  double x = v.get<double>();
  if (!(x >= lo && x <= hi))
    return error = invalidValue(name, "expected a value in [" + number(lo) + ", " + number(hi) +
                                          "], but got " + number(x) + " instead."),
           false;
  out = x;
  return true;
}

bool readString(const std::string &name, const json &v, std::string &out, ApiError &error) {
  if (!v.is_string())
    return error = invalidType(name, "a string", v), false;
  out = v.get<std::string>();
  return true;
}

// A list of token ids.
bool readTokens(const std::string &name, const json &v, std::vector<int32_t> &out,
                ApiError &error) {
  for (size_t i = 0; i < v.size(); ++i) {
    std::optional<int64_t> id;
    if (!readInt(name + "[" + std::to_string(i) + "]", v[i], 0,
                 std::numeric_limits<int32_t>::max(), id, error))
      return false;
    out.push_back(static_cast<int32_t>(*id));
  }
  return true;
}

bool readPrompt(const json &v, ApiRequest &r, ApiError &error) {
  const std::string name = "prompt";
  if (v.is_string()) {
    r.promptText = v.get<std::string>();
    return true;
  }
  if (!v.is_array() || v.empty())
    return error = invalidType(name, "a string, an array of token ids, or one of either in an "
                                     "array",
                               v),
           false;
  if (v[0].is_number())
    return readTokens(name, v, r.promptTokens, error);
  if (v.size() > 1)
    return error = unsupported(name, "this server takes one prompt per request, got " +
                                         std::to_string(v.size()) + "."),
           false;
  if (v[0].is_string()) {
    r.promptText = v[0].get<std::string>();
    return true;
  }
  if (v[0].is_array() && !v[0].empty())
    return readTokens("prompt[0]", v[0], r.promptTokens, error);
  return error = invalidType("prompt[0]", "a string or an array of token ids", v[0]), false;
}

bool readContent(const std::string &name, const json &v, std::string &out, ApiError &error) {
  if (v.is_string()) {
    out = v.get<std::string>();
    return true;
  }
  if (!v.is_array())
    return error = invalidType(name, "a string or an array of content parts", v), false;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string part = name + "[" + std::to_string(i) + "]";
    const json &p = v[i];
    if (!p.is_object() || !p.contains("type") || !p["type"].is_string())
      return error = invalidType(part, "a content part ({\"type\": \"text\", \"text\": ...})", p),
             false;
    if (p["type"] != "text")
      return error = unsupported(part + ".type", "this server reads text parts only, got '" +
                                                     p["type"].get<std::string>() + "'."),
             false;
    for (auto &[key, value] : p.items())
      if (key != "type" && key != "text")
        return error = {400, "Unrecognized argument '" + key + "' in " + part,
                        "invalid_request_error", part + "." + key, "unknown_parameter"},
               false;
    std::string text;
    if (!p.contains("text") || !readString(part + ".text", p["text"], text, error))
      return error.message.empty() ? (error = {400, "Missing required parameter: '" + part +
                                                        ".text'.",
                                               "invalid_request_error", part + ".text",
                                               "missing_required_parameter"},
                                      false)
                                   : false;
    out += text;
  }
  return true;
}

bool readMessages(const json &v, ApiRequest &r, ApiError &error) {
  if (!v.is_array())
    return error = invalidType("messages", "an array", v), false;
  if (v.empty())
    return error = invalidValue("messages", "expected at least one message, but got an empty "
                                            "array instead."),
           false;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string name = "messages[" + std::to_string(i) + "]";
    const json &m = v[i];
    if (!m.is_object())
      return error = invalidType(name, "an object", m), false;
    ChatMessage message;
    bool hasContent = false;
    for (auto &[key, value] : m.items()) {
      std::string field = name + "." + key;
      if (key == "role") {
        if (!readString(field, value, message.role, error))
          return false;
      } else if (key == "content") {
        if (!value.is_null() && !readContent(field, value, message.content, error))
          return false;
        hasContent = !value.is_null();
      } else if (key == "name") {
        std::string ignored;
        if (!readString(field, value, ignored, error))
          return false;
      } else {
        return error = {400, "Unrecognized argument '" + key + "' in " + name,
                        "invalid_request_error", field, "unknown_parameter"},
               false;
      }
    }
    if (message.role.empty())
      return error = {400, "Missing required parameter: '" + name + ".role'.",
                      "invalid_request_error", name + ".role", "missing_required_parameter"},
             false;
    // The developer message is the system message of newer OpenAI models.
    if (message.role == "developer")
      message.role = "system";
    if (message.role != "system" && message.role != "user" && message.role != "assistant")
      return error = unsupported(name + ".role",
                                 "expected 'system', 'developer', 'user' or 'assistant', but "
                                 "got '" +
                                     message.role + "'."),
             false;
    if (!hasContent)
      return error = {400, "Missing required parameter: '" + name + ".content'.",
                      "invalid_request_error", name + ".content", "missing_required_parameter"},
             false;
    r.messages.push_back(std::move(message));
  }
  return true;
}

bool readStop(const json &v, ApiRequest &r, ApiError &error) {
  if (v.is_string()) {
    r.stop.push_back(v.get<std::string>());
    return true;
  }
  if (!v.is_array())
    return error = invalidType("stop", "a string or an array of strings", v), false;
  if (v.size() > 4)
    return error = invalidValue("stop", "expected at most 4 sequences, but got " +
                                            std::to_string(v.size()) + " instead."),
           false;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string s;
    if (!readString("stop[" + std::to_string(i) + "]", v[i], s, error))
      return false;
    r.stop.push_back(std::move(s));
  }
  return true;
}

enum Where { kBoth, kCompletions, kChat };

struct Field {
  const char *name;
  Where where;
  std::function<bool(const json &, ApiRequest &, ApiError &)> read;
};

// Fields the OpenAI API has that this server accepts only at their default.
bool onlyDefault(const char *name, const json &v, const json &fallback, const std::string &why,
                 ApiError &error) {
  if (v == fallback)
    return true;
  return error = unsupported(name, why), false;
}

const std::vector<Field> &fields() {
  using R = ApiRequest;
  using E = ApiError;
  static const std::vector<Field> table = {
      {"model", kBoth, [](const json &v, R &r, E &e) { return readString("model", v, r.model, e); }},
      {"prompt", kCompletions, readPrompt},
      {"messages", kChat, readMessages},
      // 0 only for completions: the prompt alone, scored with echo and logprobs.
      {"max_tokens", kCompletions,
       [](const json &v, R &r, E &e) {
         return readInt("max_tokens", v, 0, std::numeric_limits<int32_t>::max(), r.maxTokens, e);
       }},
      {"max_tokens", kChat,
       [](const json &v, R &r, E &e) {
         return readInt("max_tokens", v, 1, std::numeric_limits<int32_t>::max(), r.maxTokens, e);
       }},
      {"max_completion_tokens", kChat,
       [](const json &v, R &r, E &e) {
         return readInt("max_completion_tokens", v, 1, std::numeric_limits<int32_t>::max(),
                        r.maxTokens, e);
       }},
      {"stream", kBoth, [](const json &v, R &r, E &e) { return readBool("stream", v, r.stream, e); }},
      {"stream_options", kBoth,
       [](const json &v, R &r, E &e) {
         if (!v.is_object())
           return e = invalidType("stream_options", "an object", v), false;
         for (auto &[key, value] : v.items()) {
           if (key != "include_usage")
             return e = {400, "Unrecognized argument '" + key + "' in stream_options",
                         "invalid_request_error", "stream_options." + key, "unknown_parameter"},
                    false;
           if (!value.is_null() &&
               !readBool("stream_options.include_usage", value, r.includeUsage, e))
             return false;
         }
         return true;
       }},
      {"stop", kBoth, readStop},
      {"temperature", kBoth,
       [](const json &v, R &r, E &e) { return readNumber("temperature", v, 0, 2, r.temperature, e); }},
      {"top_p", kBoth, [](const json &v, R &r, E &e) { return readNumber("top_p", v, 0, 1, r.topP, e); }},
      {"presence_penalty", kBoth,
       [](const json &v, R &r, E &e) {
         return readNumber("presence_penalty", v, -2, 2, r.presencePenalty, e);
       }},
      {"frequency_penalty", kBoth,
       [](const json &v, R &r, E &e) {
         return readNumber("frequency_penalty", v, -2, 2, r.frequencyPenalty, e);
       }},
      {"seed", kBoth,
       [](const json &v, R &r, E &e) {
         return readInt("seed", v, std::numeric_limits<int64_t>::min(),
                        std::numeric_limits<int64_t>::max(), r.seed, e);
       }},
      {"n", kBoth,
       [](const json &v, R &, E &e) {
         std::optional<int64_t> n;
         if (!readInt("n", v, 1, 128, n, e))
           return false;
         return *n == 1 || (e = unsupported("n", "this server generates one choice per "
                                                 "request (n = 1)."),
                            false);
       }},
      {"user", kBoth, [](const json &v, R &, E &e) { std::string s; return readString("user", v, s, e); }},
      {"logit_bias", kBoth,
       [](const json &v, R &, E &e) {
         if (!v.is_object())
           return e = invalidType("logit_bias", "an object", v), false;
         return onlyDefault("logit_bias", v, json::object(), "this server has no logit bias.", e);
       }},
      {"logprobs", kCompletions,
       [](const json &v, R &r, E &e) { return readInt("logprobs", v, 0, 5, r.logprobs, e); }},
      {"logprobs", kChat,
       [](const json &v, R &r, E &e) { return readBool("logprobs", v, r.chatLogprobs, e); }},
      {"top_logprobs", kChat,
       [](const json &v, R &r, E &e) {
         return readInt("top_logprobs", v, 0, 20, r.topLogprobs, e);
       }},
      {"echo", kCompletions,
       [](const json &v, R &r, E &e) { return readBool("echo", v, r.echo, e); }},
      {"best_of", kCompletions,
       [](const json &v, R &, E &e) {
         return onlyDefault("best_of", v, json(1), "this server generates one choice (best_of = "
                                                   "1).",
                            e);
       }},
      {"suffix", kCompletions,
       [](const json &v, R &, E &e) {
         return onlyDefault("suffix", v, json(""), "this server does not insert text.", e);
       }},
      {"response_format", kChat,
       [](const json &v, R &, E &e) {
         return onlyDefault("response_format", v, json{{"type", "text"}},
                            "this server writes text ({\"type\": \"text\"}).", e);
       }},
      {"tools", kChat,
       [](const json &v, R &, E &e) {
         return onlyDefault("tools", v, json::array(), "this server has no tool calls.", e);
       }},
      {"tool_choice", kChat,
       [](const json &v, R &, E &e) {
         return onlyDefault("tool_choice", v, json("none"), "this server has no tool calls.", e);
       }},
      {"parallel_tool_calls", kChat,
       [](const json &v, R &, E &e) { bool b; return readBool("parallel_tool_calls", v, b, e); }},
      // llama.cpp's server's sampling fields.
      {"top_k", kBoth,
       [](const json &v, R &r, E &e) {
         return readInt("top_k", v, 0, std::numeric_limits<int32_t>::max(), r.topK, e);
       }},
      {"min_p", kBoth, [](const json &v, R &r, E &e) { return readNumber("min_p", v, 0, 1, r.minP, e); }},
      {"repeat_penalty", kBoth,
       [](const json &v, R &r, E &e) {
         if (!readNumber("repeat_penalty", v, 0, 1e6, r.repeatPenalty, e))
           return false;
         return *r.repeatPenalty > 0 ||
                (e = invalidValue("repeat_penalty", "expected a positive value, but got 0 "
                                                    "instead."),
                 false);
       }},
      {"repeat_last_n", kBoth,
       [](const json &v, R &r, E &e) {
         return readInt("repeat_last_n", v, -1, std::numeric_limits<int32_t>::max(),
                        r.repeatLastN, e);
       }},
      {"ignore_eos", kBoth,
       [](const json &v, R &r, E &e) { return readBool("ignore_eos", v, r.ignoreEos, e); }},
  };
  return table;
}

} // namespace

bool parseJsonObject(std::string_view body, json &root, ApiError &error) {
  try {
    root = json::parse(body.begin(), body.end());
  } catch (const json::exception &e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." without the tag
    // (also out_of_range.406, a number too large for a double).
    std::string what = e.what();
    size_t tag = what.find("] ");
    error = {400, "We could not parse the JSON body of your request: " +
                      (tag == std::string::npos ? what : what.substr(tag + 2)),
             "invalid_request_error", "", "invalid_json"};
    return false;
  }
  if (!root.is_object()) {
    error = {400, std::string("The request body must be a JSON object, but got ") +
                      typeName(root) + ".",
             "invalid_request_error", "", "invalid_json"};
    return false;
  }
  return true;
}

ApiError unknownParameter(const std::string &key) {
  return {400, "Unrecognized request argument supplied: " + key, "invalid_request_error", key,
          "unknown_parameter"};
}

ApiError missingParameter(const std::string &key) {
  return {400, "Missing required parameter: '" + key + "'.", "invalid_request_error", key,
          "missing_required_parameter"};
}

bool parseApiRequest(std::string_view body, bool chat, ApiRequest &request, ApiError &error) {
  json root;
  if (!parseJsonObject(body, root, error))
    return false;
  request = ApiRequest();
  request.chat = chat;
  for (auto &[key, value] : root.items()) {
    const Field *field = nullptr;
    for (const Field &f : fields())
      if (key == f.name && (f.where == kBoth || f.where == (chat ? kChat : kCompletions)))
        field = &f;
    if (!field) {
      error = unknownParameter(key);
      return false;
    }
    // null is the default of every optional field.
    if (value.is_null() && key != "prompt" && key != "messages")
      continue;
    if (!field->read(value, request, error))
      return false;
  }
  const char *required = chat ? "messages" : "prompt";
  if (!root.contains(required)) {
    error = missingParameter(required);
    return false;
  }
  if (request.topLogprobs && !request.chatLogprobs) {
    error = invalidValue("top_logprobs", "'logprobs' must be set to true when 'top_logprobs' "
                                         "is used.");
    return false;
  }
  if (request.includeUsage && !request.stream) {
    error = invalidValue("stream_options", "stream_options is only allowed when 'stream' is "
                                           "true.");
    return false;
  }
  return true;
}

} // namespace tern::server
