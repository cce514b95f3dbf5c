// text_output.cpp - see text_output.h.
#include "text_output.h"

#include "tern/tokenizer.h"

#include <algorithm>

namespace tern::server {

TextOutput::TextOutput(std::vector<std::string> stops) {
  for (std::string &s : stops)
    if (!s.empty())
      stops_.push_back(std::move(s));
}

std::string TextOutput::add(std::string_view bytes) {
  if (stopped_)
    return {};
  pending_.append(bytes);
  size_t first = std::string::npos;
  for (const std::string &stop : stops_)
    first = std::min(first, pending_.find(stop));
  if (first != std::string::npos) {
    stopped_ = true;
    std::string out = pending_.substr(0, first);
    pending_.clear();
    return out;
  }
  // Hold back the longest end of the text that a stop sequence begins with.
  size_t hold = pending_.size() - tern_utf8_whole_prefix(pending_.data(), pending_.size());
  for (const std::string &stop : stops_)
    for (size_t k = std::min(stop.size() - 1, pending_.size()); k > hold; --k)
      if (std::string_view(pending_).substr(pending_.size() - k) ==
          std::string_view(stop).substr(0, k)) {
        hold = k;
        break;
      }
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string TextOutput::finish() {
  std::string out;
  out.swap(pending_);
  return out;
}

} // namespace tern::server
