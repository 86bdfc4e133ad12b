#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace pocketlm {
namespace {

// Token texts that mark special roles when the metadata does not say (converters often leave
// them out); the first name found in list order wins. The reference detects the same names.
constexpr const char* kEotNames[] = {
    "<|eot_id|>",        "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>",   "<EOT>",      "_<EOT>",  "[EOT]",         "<｜end▁of▁sentence｜>",
    "<end_of_utterance>"};
constexpr const char* kEomNames[] = {"<|eom_id|>"};
constexpr const char* kFimPreNames[] = {"<|fim_prefix|>",  "<fim-prefix>", "<fim_prefix>",
                                        "<｜fim▁begin｜>", "<PRE>",        "▁<PRE>",
                                        "<|code_prefix|>", "<|prefix|>"};
constexpr const char* kFimSufNames[] = {"<|fim_suffix|>",  "<fim-suffix>", "<fim_suffix>",
                                        "<｜fim▁hole｜>",  "<SUF>",        "▁<SUF>",
                                        "<|code_suffix|>", "<|suffix|>"};
constexpr const char* kFimMidNames[] = {"<|fim_middle|>",  "<fim-middle>", "<fim_middle>",
                                        "<｜fim▁end｜>",   "<MID>",        "▁<MID>",
                                        "<|code_middle|>", "<|middle|>"};
constexpr const char* kFimPadNames[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"};
constexpr const char* kFimRepNames[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
                                        "<reponame>"};
constexpr const char* kFimSepNames[] = {"<|file_sep|>"};
// Generation stops at any of these (and at EOS, EOT, EOM and the FIM pad/repo/separator).
// "</s>" is PaddleOCR's; Gemma 3 has "</s>" as an HTML-tag token, which thereby becomes an
// end-of-generation control token there too, as in the reference.
constexpr const char* kEogNames[] = {"<|eot_id|>",
                                     "<|im_end|>",
                                     "<|end|>",
                                     "<|return|>",
                                     "<|call|>",
                                     "<|flush|>",
                                     "<|calls|>",
                                     "<end_of_turn>",
                                     "<|endoftext|>",
                                     "</s>",
                                     "<|eom_id|>",
                                     "<EOT>",
                                     "_<EOT>",
                                     "[EOT]",
                                     "[EOS]",
                                     "<|end_of_text|>",
                                     "<end_of_utterance>",
                                     "<eos>",
                                     "<turn|>",
                                     "<|tool_response>",
                                     "<｜end▁of▁sentence｜>",
                                     "[e~["};

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
  SpmScratch spm;
  std::vector<Fragment> frags;
  std::vector<Fragment> next;
  NgramFilter filter;
};

Result<Tokenizer> Tokenizer::create(Vocab vocab) {
  PLM_RETURN_IF_ERROR(validate_vocab(vocab));
  Tokenizer t;
  if (vocab.model == "gpt2") {
    t.model_ = TokenizerModel::kBpe;
    Result<PreTokenizerInfo> info = pre_tokenizer_info(vocab.pre);
    if (!info.ok()) return info.status();
    t.pre_info_ = *info;
  } else if (vocab.model == "llama") {
    // SentencePiece has no pre-tokenizer (tokenizer.ggml.pre is ignored) and no clean-up.
    t.model_ = TokenizerModel::kSpm;
    t.pre_info_.add_bos = true;
    t.pre_info_.clean_spaces = false;
  } else {
    return unsupported(
        strfmt("tokenizer model '%s' is not supported (tokenizer.ggml.model must be gpt2, "
               "byte-level BPE, or llama, SentencePiece)",
               vocab.model.c_str()));
  }
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

  if (t.model_ == TokenizerModel::kSpm) {
    Result<SpmModel> spm = SpmModel::build(t.texts_, vocab.scores);
    if (!spm.ok()) return spm.status();
    t.spm_ = std::move(*spm);
    t.add_space_prefix_ = vocab.add_space_prefix.value_or(true);
  } else {
    Result<BpeModel> bpe = BpeModel::build(t.texts_, vocab.merges);
    if (!bpe.ok()) return bpe.status();
    t.bpe_ = std::move(*bpe);
  }

  t.add_bos_ = vocab.add_bos.value_or(t.pre_info_.add_bos);
  t.add_eos_ = vocab.add_eos.value_or(false);
  t.resolve_special_tokens(vocab);

  std::vector<int32_t> by_length;
  for (int32_t id = 0; id < n; ++id) {
    if (t.attrs_[id] & (TokenAttr::kControl | TokenAttr::kUserDefined | TokenAttr::kUnknown)) {
      by_length.push_back(id);
    }
  }
  std::stable_sort(by_length.begin(), by_length.end(),
                   [&](int32_t a, int32_t b) { return t.texts_[a].size() > t.texts_[b].size(); });
  for (int32_t id : by_length) {
    const SpecialText s{id, NgramFilter::keys(t.texts_[id])};
    t.match_parsed_.push_back(s);
    if (!(t.attrs_[id] & (TokenAttr::kControl | TokenAttr::kUnknown))) t.match_always_.push_back(s);
  }

  t.build_pieces();

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
    for (int32_t id : by_length) t.attrs_[id] |= TokenAttr::kRstrip;
    set_attr("</s>", TokenAttr::kRstrip, true);
    for (const char* s : {"<unk>", "<s>", "<|endoftext|>"}) set_attr(s, TokenAttr::kRstrip, false);
  } else if (contains(name_lower, "modern-bert")) {
    set_attr("[MASK]", TokenAttr::kLstrip, true);
  }

  if (t.model_ == TokenizerModel::kSpm) {
    const int32_t nl = t.spm_.byte_token('\n');
    t.newline_ = nl >= 0 ? nl : t.special_.pad;
  } else {
    std::vector<int32_t> nl = t.encode("\n", false, false);
    t.newline_ = nl.empty() ? t.special_.pad : nl[0];
  }
  return t;
}

void Tokenizer::resolve_special_tokens(const Vocab& vocab) {
  const int32_t n = n_tokens();
  special_ = vocab.special;
  // The reference's defaults when the metadata has no id (dropped when outside the vocabulary):
  // byte-level BPE uses 11 for BOS and EOS, SentencePiece Llama's <unk> <s> </s> = 0, 1, 2.
  const auto set_default = [&](int32_t& slot, int32_t id) {
    if (slot == kNoToken && id < n) slot = id;
  };
  if (model_ == TokenizerModel::kSpm) {
    set_default(special_.bos, 1);
    set_default(special_.eos, 2);
    set_default(special_.unk, 0);
  } else {
    constexpr int32_t kDefaultBosEos = 11;
    if (!pre_info_.no_bos) set_default(special_.bos, kDefaultBosEos);
    set_default(special_.eos, kDefaultBosEos);
  }

  // A role token that is not typed control is a converter bug; it is made control so that it
  // renders as a special token and is not matched in plain text.
  const auto make_control = [&](int32_t id) { attrs_[id] |= TokenAttr::kControl; };
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
  // Control tokens named "unused" (Gemma's <unused0> ..) are marked unused, as the reference
  // does; they still match and render as control tokens.
  for (int32_t id = 0; id < n; ++id) {
    if ((attrs_[id] & TokenAttr::kControl) && texts_[id].find("unused") != std::string::npos) {
      attrs_[id] |= TokenAttr::kUnused;
    }
  }

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
  const auto drop = [&](const char* text, uint32_t attr) {
    auto it = std::find_if(eog.begin(), eog.end(), [&](int32_t id) { return texts_[id] == text; });
    attrs_[*it] = attr;
    eog.erase(it);
  };
  // (solar-open's "<|calls|>" and "<|flush|>" play the same part.)
  const bool has_call = has_text("<|call|>") || has_text("<|calls|>");
  if (has_text("<|end|>") && has_call && (has_text("<|return|>") || has_text("<|flush|>"))) {
    drop("<|end|>", TokenAttr::kUserDefined);
  }
  // Where "<|tool_response>" marks Gemma 4's format, "</s>" is ordinary text again.
  if (has_text("<|tool_response>") && has_text("</s>")) drop("</s>", TokenAttr::kNormal);
  eog_ids_ = std::move(eog);
}

bool Tokenizer::is_eog(int32_t id) const {
  return id != kNoToken && std::binary_search(eog_ids_.begin(), eog_ids_.end(), id);
}

// Splits the input at special-token texts: each special token in turn (longest first) claims
// every occurrence, left to right, in the fragments still raw. That order is the reference's;
// it differs from a leftmost-longest scan when two special texts overlap.
void Tokenizer::partition(std::string_view text, bool parse_special, EncodeScratch& s) const {
  std::vector<Fragment>& frags = s.frags;
  std::vector<Fragment>& next = s.next;
  frags.clear();
  if (text.empty()) return;
  frags.push_back({kNoToken, 0, text.size()});
  // Control and unknown texts are plain text unless asked for; user-defined ones never are.
  // Texts absent from the whole input are absent from its fragments: most are ruled out
  // without a search.
  const std::vector<SpecialText>& candidates = parse_special ? match_parsed_ : match_always_;
  if (candidates.empty()) return;
  s.filter.assign(text);
  for (const SpecialText& st : candidates) {
    if (!s.filter.may_contain(st.keys)) continue;
    const int32_t id = st.id;
    const uint32_t attr = attrs_[id];
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
  partition(text, parse_special, s);
  // SentencePiece: the text at the start and after each special token gets the space prefix.
  bool after_special = true;
  for (const Fragment& f : s.frags) {
    if (f.token != kNoToken) {
      out.push_back(f.token);
      after_special = true;
    } else if (model_ == TokenizerModel::kSpm) {
      spm_.encode(text.substr(f.begin, f.end - f.begin), add_space_prefix_ && after_special,
                  special_.unk, s.spm, out);
      after_special = false;
    } else {
      encode_raw(text.substr(f.begin, f.end - f.begin), s, out);
    }
  }
  if (add_special && add_eos_ && special_.eos != kNoToken) out.push_back(special_.eos);
}

}  // namespace pocketlm
