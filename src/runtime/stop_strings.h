// StopStringMatcher: ends a streamed reply before the first occurrence of any stop string,
// without ever showing the caller a part of a stop string that then completes.
//
// Usage:
//   StopStringMatcher stop({"\n\nUser:", "<|im_end|>"});
//   for (each generated piece) {
//     std::string out = stop.push(piece);      // safe to show now (may be empty)
//     show(out);
//     if (stop.matched()) break;               // `out` was the text before the match
//   }
//   show(stop.flush());                        // end of generation: release what was held
//
// Text that could still grow into a stop string (a suffix of what was pushed that is a proper
// prefix of some stop string) is held back until the next push decides it. Because stop
// strings are valid UTF-8, the cut points always fall on character boundaries when the pushed
// text does. Empty stop strings are ignored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pocketlm {

class StopStringMatcher {
 public:
  StopStringMatcher() = default;
  explicit StopStringMatcher(std::vector<std::string> stops);

  // Appends `text`; returns the text that can no longer be part of a stop string. After a match
  // it returns everything before the match, and later pushes return "".
  std::string push(std::string_view text);
  // Releases the held-back text (nothing can match any more) and forgets it.
  std::string flush();

  bool matched() const { return matched_; }
  size_t held() const { return held_.size(); }
  const std::vector<std::string>& stops() const { return stops_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool matched_ = false;
};

}  // namespace pocketlm
