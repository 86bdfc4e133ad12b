// A regular expression over tensor names, for `quantize --tensor-type REGEX=TYPE`.
//
// Usage:
//   Result<NamePattern> p = NamePattern::compile("blk\\.(0|1)\\.attn_v");
//   if (p.ok() && p->search("blk.0.attn_v.weight")) { ... }
//
// ECMAScript syntax, matched anywhere in the name (as llama.cpp's --tensor-type does). A wrapper
// rather than std::regex in the plan's header: the regex engine is instantiated in one source
// file only (name_pattern.cpp says why that matters), and a bad pattern is an error, not a throw.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"

namespace pocketlm::toolkit {

class NamePattern {
 public:
  NamePattern() = default;  // matches nothing

  static Result<NamePattern> compile(const std::string& pattern);

  // True when the pattern matches somewhere in `name`.
  bool search(const std::string& name) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;  // immutable once compiled, so copies may share it
};

}  // namespace pocketlm::toolkit
