#include "tokenizer/vocab.h"

namespace pocketlm {

uint32_t token_attr_from_type(int32_t token_type) {
  switch (static_cast<TokenType>(token_type)) {
    case TokenType::kNormal:
      return TokenAttr::kNormal;
    case TokenType::kUnknown:
      return TokenAttr::kUnknown;
    case TokenType::kControl:
      return TokenAttr::kControl;
    case TokenType::kUserDefined:
      return TokenAttr::kUserDefined;
    case TokenType::kUnused:
      return TokenAttr::kUnused;
    case TokenType::kByte:
      return TokenAttr::kByte;
    case TokenType::kUndefined:
      break;
  }
  return TokenAttr::kUndefined;
}

Status validate_vocab(const Vocab& vocab) {
  const size_t n = vocab.tokens.size();
  if (n == 0) return invalid_argument("vocabulary: no tokens");
  // Token ids are int32 everywhere they travel.
  if (n > static_cast<size_t>(INT32_MAX)) {
    return invalid_argument(strfmt("vocabulary: %zu tokens is more than ids can address", n));
  }
  if (!vocab.token_types.empty() && vocab.token_types.size() != n) {
    return invalid_argument(
        strfmt("vocabulary: %zu token types for %zu tokens", vocab.token_types.size(), n));
  }
  if (!vocab.scores.empty() && vocab.scores.size() != n) {
    return invalid_argument(
        strfmt("vocabulary: %zu scores for %zu tokens", vocab.scores.size(), n));
  }
  if (vocab.merges.size() > static_cast<size_t>(INT32_MAX)) {
    return invalid_argument("vocabulary: too many merges");
  }
  const struct {
    const char* name;
    int32_t id;
  } ids[] = {
      {"bos", vocab.special.bos},         {"eos", vocab.special.eos},
      {"eot", vocab.special.eot},         {"eom", vocab.special.eom},
      {"unk", vocab.special.unk},         {"sep", vocab.special.sep},
      {"pad", vocab.special.pad},         {"mask", vocab.special.mask},
      {"fim_pre", vocab.special.fim_pre}, {"fim_suf", vocab.special.fim_suf},
      {"fim_mid", vocab.special.fim_mid}, {"fim_pad", vocab.special.fim_pad},
      {"fim_rep", vocab.special.fim_rep}, {"fim_sep", vocab.special.fim_sep},
  };
  for (const auto& s : ids) {
    if (s.id != kNoToken && (s.id < 0 || static_cast<size_t>(s.id) >= n)) {
      return invalid_argument(
          strfmt("vocabulary: %s token id %d is outside 0..%zu", s.name, s.id, n - 1));
    }
  }
  return Status();
}

}  // namespace pocketlm
