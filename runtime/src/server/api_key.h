// api_key.h - --api-key: the key a client must send as "Authorization: Bearer KEY".
#ifndef TERN_SERVER_API_KEY_H
#define TERN_SERVER_API_KEY_H

#include "openai_request.h"

#include <string>

namespace tern::server {

/// The key from --api-key, else --api-key-file's first line, else the environment variable
/// TERN_API_KEY; empty when none is set (no key required). False with a message when the file
/// cannot be read or a key is empty or holds a character a header value cannot carry.
bool loadApiKey(const char *option, const char *file, std::string &key, std::string &error);

/// Whether an Authorization header's value is "Bearer KEY" (the scheme in any case; the key
/// compared in time independent of where it differs).
bool authorized(const std::string &header, const std::string &key);

/// The 401 error in OpenAI's shape, for a request without an Authorization header (given
/// false) or with the wrong key.
ApiError unauthorizedError(bool given);

} // namespace tern::server

#endif
