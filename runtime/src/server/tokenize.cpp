// tokenize.cpp - see tokenize.h.
#include "tokenize.h"

#include "tern/tokenizer.h"

#include <nlohmann/json.hpp>

#include <limits>

namespace tern::server {

using json = nlohmann::json;

namespace {

ApiError wrongType(const std::string &name, const char *expected) {
  return {400, "Invalid type for '" + name + "': expected " + expected + ".",
          "invalid_request_error", name, "invalid_type"};
}

std::string dump(const json &j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

} // namespace

bool parseTokenizeRequest(std::string_view body, TokenizeRequest &request, ApiError &error) {
  json root;
  if (!parseJsonObject(body, root, error))
    return false;
  request = TokenizeRequest();
  bool hasContent = false;
  for (auto &[key, value] : root.items()) {
    if (key == "content") {
      if (!value.is_string())
        return error = wrongType(key, "a string"), false;
      request.content = value.get<std::string>();
      hasContent = true;
    } else if (key == "add_special" || key == "parse_special" || key == "with_pieces") {
      if (!value.is_boolean())
        return error = wrongType(key, "a boolean"), false;
      bool v = value.get<bool>();
      (key == "add_special" ? request.addSpecial
       : key == "parse_special" ? request.parseSpecial
                                : request.withPieces) = v;
    } else {
      return error = unknownParameter(key), false;
    }
  }
  if (!hasContent)
    return error = missingParameter("content"), false;
  return true;
}

bool parseDetokenizeRequest(std::string_view body, std::vector<int32_t> &tokens,
                            ApiError &error) {
  json root;
  if (!parseJsonObject(body, root, error))
    return false;
  tokens.clear();
  bool hasTokens = false;
  for (auto &[key, value] : root.items()) {
    if (key != "tokens")
      return error = unknownParameter(key), false;
    if (!value.is_array())
      return error = wrongType(key, "an array of token ids"), false;
    for (size_t i = 0; i < value.size(); ++i) {
      const json &id = value[i];
      if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
          id.get<int64_t>() > std::numeric_limits<int32_t>::max())
        return error = wrongType("tokens[" + std::to_string(i) + "]", "a token id (an integer "
                                                                      ">= 0)"),
               false;
      tokens.push_back(static_cast<int32_t>(id.get<int64_t>()));
    }
    hasTokens = true;
  }
  if (!hasTokens)
    return error = missingParameter("tokens"), false;
  return true;
}

std::string tokenizeJson(const std::vector<int32_t> &tokens,
                         const std::vector<std::string> *pieces) {
  json list = json::array();
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!pieces) {
      list.push_back(tokens[i]);
      continue;
    }
    const std::string &piece = (*pieces)[i];
    json text;
    if (tern_utf8_invalid_at(piece.data(), piece.size()) == piece.size()) {
      text = piece;
    } else {
      text = json::array();
      for (unsigned char b : piece)
        text.push_back(b);
    }
    list.push_back({{"id", tokens[i]}, {"piece", std::move(text)}});
  }
  return dump({{"tokens", std::move(list)}});
}

std::string detokenizeJson(const std::string &content) { return dump({{"content", content}}); }

} // namespace tern::server
