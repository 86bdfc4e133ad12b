#include "runtime/stop_strings.h"

#include <algorithm>
#include <utility>

namespace pocketlm {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) {
  for (std::string& s : stops) {
    if (!s.empty() && std::find(stops_.begin(), stops_.end(), s) == stops_.end()) {
      stops_.push_back(std::move(s));
    }
  }
}

std::string StopStringMatcher::push(std::string_view text) {
  if (matched_) return std::string();
  held_.append(text);
  // The held text never contains a whole stop string (it would have matched earlier), so a
  // match found now ends inside the new text; the earliest one wins.
  size_t first = std::string::npos;
  for (const std::string& s : stops_) first = std::min(first, held_.find(s));
  if (first != std::string::npos) {
    matched_ = true;
    std::string out = held_.substr(0, first);
    held_.clear();
    return out;
  }
  // Hold back the longest tail that is the beginning of some stop string.
  size_t hold = 0;
  for (const std::string& s : stops_) {
    const size_t longest = std::min(s.size() - 1, held_.size());
    for (size_t k = longest; k > hold; --k) {
      if (std::string_view(held_).substr(held_.size() - k) == std::string_view(s).substr(0, k)) {
        hold = k;
        break;
      }
    }
  }
  std::string out = held_.substr(0, held_.size() - hold);
  held_.erase(0, held_.size() - hold);
  return out;
}

std::string StopStringMatcher::flush() {
  std::string out = std::move(held_);
  held_.clear();
  return out;
}

}  // namespace pocketlm
