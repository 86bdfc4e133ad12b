#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace pocketlm {
namespace {

// Token texts that mark special roles when the metadata does not say (converters often leave
// them out); the first name found in list order wins. The reference detects the same names.
constexpr const char* kEotNames[] = {
    "<|eot_id|>",      "<|im_end|>", "<|end|>", "<end_of_turn>",         "<|endoftext|>",
    "<|end_of_text|>", "<EOT>",      "_<EOT>",  "<｜end▁of▁sentence｜>", "<end_of_utterance>"};
constexpr const char* kEomNames[] = {"<|eom_id|>"};
constexpr const char* kFimPreNames[] = {"<|fim_prefix|>",  "<fim-prefix>", "<fim_prefix>",
                                        "<｜fim▁begin｜>", "<PRE>",        "▁<PRE>",
                                        "<|code_prefix|>"};
constexpr const char* kFimSufNames[] = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
                                        "<｜fim▁hole｜>", "<SUF>",        "▁<SUF>",
                                        "<|code_suffix|>"};
constexpr const char* kFimMidNames[] = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
                                        "<｜fim▁end｜>",  "<MID>",        "▁<MID>",
                                        "<|code_middle|>"};
constexpr const char* kFimPadNames[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"};
constexpr const char* kFimRepNames[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
                                        "<reponame>"};
constexpr const char* kFimSepNames[] = {"<|file_sep|>"};
// Generation stops at any of these.
constexpr const char* kEogNames[] = {"<|eot_id|>",    "<|im_end|>",      "<|end|>",
                                     "<|return|>",    "<|call|>",        "<end_of_turn>",
                                     "<|endoftext|>", "<|eom_id|>",      "<EOT>",
                                     "_<EOT>",        "<|end_of_text|>", "<end_of_utterance>"};

// C-locale isspace, as the reference uses when a special token strips whitespace.
inline bool is_c_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

}  // namespace

struct Tokenizer::EncodeScratch {
  CodepointText text;
  std::vector<TextSpan> words;
  std::string bytes;
  BpeScratch bpe;
  std::vector<Fragment> frags;
  std::vector<Fragment> next;
};

Result<Tokenizer> Tokenizer::create(Vocab vocab) {
  PLM_RETURN_IF_ERROR(validate_vocab(vocab));
  if (vocab.model != "gpt2") {
    return unsupported(
        strfmt("tokenizer model '%s' is not supported (only byte-level BPE, "
               "tokenizer.ggml.model = gpt2)",
               vocab.model.c_str()));
  }
  Result<PreTokenizerInfo> info = pre_tokenizer_info(vocab.pre);
  if (!info.ok()) return info.status();

  Tokenizer t;
  t.pre_info_ = *info;
  t.pre_ = PreTokenizer(t.pre_info_.type);
  t.warnings_ = std::move(vocab.warnings);
  if (!t.pre_info_.recognized) {
    t.warnings_.push_back(
        strfmt("tokenizer.ggml.pre '%s' is not known: using the default split", vocab.pre.c_str()));
  }

  const int32_t n = static_cast<int32_t>(vocab.tokens.size());
  t.texts_ = std::move(vocab.tokens);
  t.attrs_.resize(n);
  for (int32_t id = 0; id < n; ++id) {
    // An empty text could never be matched or merged; the reference renames it the same way.
    if (t.texts_[id].empty()) t.texts_[id] = strfmt("[EMPTY_%d]", id);
    t.attrs_[id] = vocab.token_types.empty() ? TokenAttr::kNormal
                                             : token_attr_from_type(vocab.token_types[id]);
  }

  Result<BpeModel> bpe = BpeModel::build(t.texts_, vocab.merges);
  if (!bpe.ok()) return bpe.status();
  t.bpe_ = std::move(*bpe);

  t.add_bos_ = vocab.add_bos.value_or(t.pre_info_.add_bos);
  t.add_eos_ = vocab.add_eos.value_or(false);
  t.resolve_special_tokens(vocab);

  for (int32_t id = 0; id < n; ++id) {
    if (t.attrs_[id] & (TokenAttr::kControl | TokenAttr::kUserDefined | TokenAttr::kUnknown)) {
      t.special_by_length_.push_back(id);
    }
  }
  std::stable_sort(t.special_by_length_.begin(), t.special_by_length_.end(),
                   [&](int32_t a, int32_t b) { return t.texts_[a].size() > t.texts_[b].size(); });

  t.pieces_.resize(n);
  for (int32_t id = 0; id < n; ++id) t.pieces_[id] = t.render_piece(id);

  // Whitespace-stripping special tokens, which the metadata cannot express (after the piece
  // cache on purpose: they change matching, not rendering).
  const auto set_attr = [&](const char* text, uint32_t bit, bool on) {
    int32_t id = t.find_token(text);
    if (id < 0) return;
    t.attrs_[id] = on ? (t.attrs_[id] | bit) : (t.attrs_[id] & ~bit);
  };
  const auto contains = [](const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
  };
  std::string name_lower = vocab.name;
  for (char& c : name_lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (contains(vocab.pre, "jina-v2-de") || contains(vocab.pre, "jina-v2-es") ||
      contains(vocab.pre, "jina-v2-code") || contains(vocab.architecture, "nomic-bert-moe") ||
      contains(vocab.architecture, "jina-bert-v3")) {
    set_attr("<mask>", TokenAttr::kLstrip, true);
  } else if (contains(name_lower, "phi-3") || contains(name_lower, "phi3")) {
    for (int32_t id : t.special_by_length_) t.attrs_[id] |= TokenAttr::kRstrip;
    set_attr("</s>", TokenAttr::kRstrip, true);
    for (const char* s : {"<unk>", "<s>", "<|endoftext|>"}) set_attr(s, TokenAttr::kRstrip, false);
  }

  std::vector<int32_t> nl = t.encode("\n", false, false);
  t.newline_ = nl.empty() ? t.special_.pad : nl[0];
  return t;
}

void Tokenizer::resolve_special_tokens(const Vocab& vocab) {
  const int32_t n = n_tokens();
  special_ = vocab.special;
  // Byte-level BPE's historical defaults when the metadata has no BOS/EOS.
  constexpr int32_t kDefaultBosEos = 11;
  if (special_.bos == kNoToken && !pre_info_.no_bos && kDefaultBosEos < n) {
    special_.bos = kDefaultBosEos;
  }
  if (special_.eos == kNoToken && kDefaultBosEos < n) special_.eos = kDefaultBosEos;

  // A role token that is not typed control is a converter bug; it is made control so that it
  // renders as a special token and is not matched in plain text.
  const auto make_control = [&](int32_t id) { attrs_[id] = TokenAttr::kControl; };
  const auto detect = [&](int32_t& slot, const auto& names) {
    if (slot != kNoToken) return;
    for (const char* name : names) {
      int32_t id = find_token(name);
      if (id < 0) continue;
      slot = id;
      if (!(attrs_[id] & TokenAttr::kControl)) make_control(id);
      return;
    }
  };
  detect(special_.eot, kEotNames);
  detect(special_.eom, kEomNames);
  detect(special_.fim_pre, kFimPreNames);
  detect(special_.fim_suf, kFimSufNames);
  detect(special_.fim_mid, kFimMidNames);
  detect(special_.fim_pad, kFimPadNames);
  detect(special_.fim_rep, kFimRepNames);
  detect(special_.fim_sep, kFimSepNames);

  std::vector<int32_t> eog;
  for (int32_t id : {special_.fim_pad, special_.fim_rep, special_.fim_sep}) {
    if (id != kNoToken) eog.push_back(id);
  }
  for (const char* name : kEogNames) {
    int32_t id = find_token(name);
    if (id < 0) continue;
    eog.push_back(id);
    if (!(attrs_[id] & TokenAttr::kControl)) make_control(id);
  }
  // gpt-oss renders these channel markers even when special tokens are hidden.
  for (const char* name : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
    int32_t id = find_token(name);
    if (id >= 0) attrs_[id] = TokenAttr::kUserDefined;
  }
  for (int32_t id : {special_.eos, special_.eot, special_.eom}) {
    if (id != kNoToken) eog.push_back(id);
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  // In the harmony format "<|end|>" ends a message, not the generation, when the format's
  // "<|return|>" and "<|call|>" are there.
  const auto has_text = [&](const char* s) {
    return std::any_of(eog.begin(), eog.end(), [&](int32_t id) { return texts_[id] == s; });
  };
  if (has_text("<|return|>") && has_text("<|call|>") && has_text("<|end|>")) {
    auto it =
        std::find_if(eog.begin(), eog.end(), [&](int32_t id) { return texts_[id] == "<|end|>"; });
    attrs_[*it] = TokenAttr::kUserDefined;
    eog.erase(it);
  }
  eog_ids_ = std::move(eog);
}

bool Tokenizer::is_eog(int32_t id) const {
  return id != kNoToken && std::binary_search(eog_ids_.begin(), eog_ids_.end(), id);
}

// Splits the input at special-token texts: each special token in turn (longest first) claims
// every occurrence, left to right, in the fragments still raw. That order is the reference's;
// it differs from a leftmost-longest scan when two special texts overlap.
void Tokenizer::partition(std::string_view text, bool parse_special, std::vector<Fragment>& frags,
                          std::vector<Fragment>& next) const {
  frags.clear();
  if (text.empty()) return;
  frags.push_back({kNoToken, 0, text.size()});
  for (int32_t id : special_by_length_) {
    const uint32_t attr = attrs_[id];
    // Control and unknown texts are plain text unless asked for; user-defined ones never are.
    if (!parse_special && (attr & (TokenAttr::kControl | TokenAttr::kUnknown))) continue;
    const std::string& special = texts_[id];
    next.clear();
    bool found = false;
    for (const Fragment& f : frags) {
      if (f.token != kNoToken) {
        next.push_back(f);
        continue;
      }
      size_t begin = f.begin;
      const size_t end = f.end;
      while (begin < end) {
        size_t match = text.substr(0, end).find(special, begin);
        if (match == std::string_view::npos) break;
        found = true;
        size_t left_end = match;
        if (attr & TokenAttr::kLstrip) {
          while (left_end > begin && is_c_space(text[left_end - 1])) --left_end;
        }
        if (left_end > begin) next.push_back({kNoToken, begin, left_end});
        next.push_back({id, match, match + special.size()});
        begin = match + special.size();
        if (attr & TokenAttr::kRstrip) {
          while (begin < end && is_c_space(text[begin])) ++begin;
        }
      }
      if (begin < end) next.push_back({kNoToken, begin, end});
    }
    if (found) std::swap(frags, next);
  }
}

void Tokenizer::encode_raw(std::string_view text, EncodeScratch& s,
                           std::vector<int32_t>& out) const {
  s.text.assign(text);
  s.words.clear();
  pre_.split(s.text, 0, s.text.size(), s.words);
  for (const TextSpan& w : s.words) {
    s.bytes.clear();
    s.text.append_utf8(w.begin, w.end, s.bytes);
    bpe_.encode_word(s.bytes, pre_info_.ignore_merges, s.bpe, out);
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  std::vector<int32_t> out;
  encode(text, add_special, parse_special, out);
  return out;
}

void Tokenizer::encode(std::string_view text, bool add_special, bool parse_special,
                       std::vector<int32_t>& out) const {
  EncodeScratch s;
  if (add_special && add_bos_ && special_.bos != kNoToken) out.push_back(special_.bos);
  partition(text, parse_special, s.frags, s.next);
  for (const Fragment& f : s.frags) {
    if (f.token != kNoToken) {
      out.push_back(f.token);
    } else {
      encode_raw(text.substr(f.begin, f.end - f.begin), s, out);
    }
  }
  if (add_special && add_eos_ && special_.eos != kNoToken) out.push_back(special_.eos);
}

}  // namespace pocketlm
