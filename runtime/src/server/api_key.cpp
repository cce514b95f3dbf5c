// api_key.cpp - see api_key.h.
#include "api_key.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace tern::server {

namespace {

bool checkKey(const std::string &key, const std::string &source, std::string &error) {
  if (key.empty()) {
    error = source + ": the API key is empty";
    return false;
  }
  for (unsigned char c : key)
    if (c <= 0x20 || c == 0x7f) {
      error = source + ": the API key holds a space or a control character";
      return false;
    }
  return true;
}

} // namespace

bool loadApiKey(const char *option, const char *file, std::string &key, std::string &error) {
  key.clear();
  if (option) {
    key = option;
    return checkKey(key, "--api-key", error);
  }
  if (file) {
    std::ifstream in(file);
    if (!in) {
      error = std::string("--api-key-file ") + file + ": " + strerror(errno);
      return false;
    }
    std::getline(in, key);
    if (!key.empty() && key.back() == '\r')
      key.pop_back();
    return checkKey(key, std::string("--api-key-file ") + file, error);
  }
  if (const char *env = getenv("TERN_API_KEY")) {
    key = env;
    return checkKey(key, "TERN_API_KEY", error);
  }
  return true;
}

bool authorized(const std::string &header, const std::string &key) {
  static const char kScheme[] = "bearer ";
  const size_t scheme = sizeof kScheme - 1;
  if (header.size() < scheme)
    return false;
  for (size_t i = 0; i < scheme; ++i)
    if (tolower(static_cast<unsigned char>(header[i])) != kScheme[i])
      return false;
  std::string given = header.substr(scheme);
  // Every byte of the longer string is looked at, whatever differs first.
  unsigned diff = given.size() != key.size();
  size_t n = std::max(given.size(), key.size());
  for (size_t i = 0; i < n; ++i)
    diff |= static_cast<unsigned char>(i < given.size() ? given[i] : 0) ^
            static_cast<unsigned char>(i < key.size() ? key[i] : 0);
  return diff == 0;
}

ApiError unauthorizedError(bool given) {
  ApiError e;
  e.status = 401;
  e.type = "invalid_request_error";
  e.code = "invalid_api_key";
  e.message = given ? "Incorrect API key provided. Send the server's key (--api-key) as "
                      "'Authorization: Bearer KEY'."
                    : "You didn't provide an API key. Send the server's key (--api-key) as "
                      "'Authorization: Bearer KEY'.";
  return e;
}

} // namespace tern::server
