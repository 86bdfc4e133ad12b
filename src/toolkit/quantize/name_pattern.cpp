#include "toolkit/quantize/name_pattern.h"

#include <string>

// GCC 12 builds with -fsanitize=address report -Wmaybe-uninitialized inside libstdc++'s regex
// compiler (a std::function member of its NFA states, moved while ASan instruments the copy): a
// false positive in the standard library, not in this file, and an error under -Werror. The
// suppression is scoped to the regex header and the few lines that instantiate it, which is why
// the engine lives in this file alone.
// (clang has no such warning and would reject the unknown name.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>

namespace pocketlm::toolkit {

struct NamePattern::Impl {
  std::regex re;
};

Result<NamePattern> NamePattern::compile(const std::string& pattern) {
  auto impl = std::make_shared<Impl>();
  try {
    impl->re = std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return invalid_argument("invalid regular expression '" + pattern + "': " + e.what());
  }
  NamePattern p;
  p.impl_ = std::move(impl);
  return p;
}

bool NamePattern::search(const std::string& name) const {
  return impl_ && std::regex_search(name, impl_->re);
}

}  // namespace pocketlm::toolkit

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
