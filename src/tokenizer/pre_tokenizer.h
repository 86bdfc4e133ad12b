// Pre-tokenizers: split text into the words that byte-level BPE then encodes one at a time.
//
// Usage:
//   Result<PreTokenizerType> t = pre_tokenizer_type_from_name(vocab.pre);   // "smollm", ...
//   PreTokenizer pre(*t);
//   CodepointText text;
//   text.assign("Hello world");                  // decodes once (lenient, see unicode.h)
//   std::vector<TextSpan> words;
//   pre.split(text, 0, text.size(), words);      // {0,5} "Hello", {5,11} " world"
//
// Each family's splitting rule is a regular expression in the reference tokenizer (a list of
// them, applied one after another, each to the pieces the previous one produced). We do not
// carry a regex engine: every pattern is a small hand-written matcher that reproduces the
// pattern's leftmost-first, greedy, backtracking result exactly, with full Unicode categories.
// The driver reproduces how a regex split works: matches become pieces, and the runs between
// matches become pieces of their own. Because a later pattern only ever sees one piece, a
// lookahead such as (?!\S) stops at the piece's end, as it does in the reference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/unicode.h"

namespace pocketlm {

// One pattern family per value; several `tokenizer.ggml.pre` names share a family.
enum class PreTokenizerType {
  kDefault,    // missing/unknown names and "default"
  kGpt2,       // gpt-2, mpt, olmo, jais, phi-2, roberta-bpe, ...
  kStarcoder,  // single digits, then GPT-2: starcoder, refact, smollm, command-r, ...
  kLlama3,     // llama-bpe, llama3, dbrx, smaug-bpe, chatglm-bpe, ...
  kQwen2,      // Llama 3's pattern with single digits: qwen2, stablelm2, deepseek-r1-qwen, ...
  kSeedCoder,  // Qwen2's without the newlines after punctuation
  kFalcon,
  kDeepseekLlm,
  kDeepseekCoder,
  kDeepseek3,  // deepseek-v3, hunyuan-dense
  kBloom,      // bloom, poro-chat, gpt3-finnish
  kViking,
  kTekken,
  kGpt4o,  // gpt-4o, llama4, minimax-m2
};

// Per-name behaviour besides the split.
struct PreTokenizerInfo {
  PreTokenizerType type = PreTokenizerType::kDefault;
  bool recognized = true;      // false: unknown name, the default split is used
  bool ignore_merges = false;  // a word that is itself a token is emitted whole
  bool add_bos = false;        // default for tokenizer.ggml.add_bos_token when absent
  bool clean_spaces = true;    // detokenizer removes " ," " ." " 's" ... (clean_up_tokenization)
  bool no_bos = false;         // the family has no BOS token whatever the metadata says
};

// Maps a `tokenizer.ggml.pre` value. Unknown and empty names give the default split with
// recognized = false (as the reference does); names whose split we do not implement are
// kUnsupported.
Result<PreTokenizerInfo> pre_tokenizer_info(std::string_view name);

// Text as code points with their flags, decoded once and shared by all patterns.
class CodepointText {
 public:
  void assign(std::string_view utf8);
  size_t size() const { return cps_.size(); }
  uint32_t cp(size_t i) const { return cps_[i]; }
  CodepointFlags flags(size_t i) const { return flags_[i]; }
  // Appends the UTF-8 of code points [begin, end) (re-encoded, so U+FFFD for bad bytes).
  void append_utf8(size_t begin, size_t end, std::string& out) const;

 private:
  std::vector<uint32_t> cps_;
  std::vector<CodepointFlags> flags_;
};

struct TextSpan {
  uint32_t begin = 0;  // code point index
  uint32_t end = 0;
  friend bool operator==(const TextSpan& a, const TextSpan& b) {
    return a.begin == b.begin && a.end == b.end;
  }
};

// A matcher returns the length of the pattern's match starting exactly at `pos` within the piece
// that ends at `end`, or 0 when the pattern does not match there.
using PatternMatcher = size_t (*)(const CodepointText& text, size_t pos, size_t end);

class PreTokenizer {
 public:
  explicit PreTokenizer(PreTokenizerType type);

  PreTokenizerType type() const { return type_; }

  // Appends the words of code points [begin, end) to `out`, in order, covering the range.
  void split(const CodepointText& text, size_t begin, size_t end, std::vector<TextSpan>& out) const;

 private:
  PreTokenizerType type_;
  std::vector<PatternMatcher> stages_;
};

// The matchers (pre_tokenizer_patterns.cpp), exposed for the unit tests.
namespace patterns {
size_t gpt2(const CodepointText& t, size_t pos, size_t end);
size_t llama3(const CodepointText& t, size_t pos, size_t end);
size_t qwen2(const CodepointText& t, size_t pos, size_t end);
size_t seed_coder(const CodepointText& t, size_t pos, size_t end);
size_t tekken(const CodepointText& t, size_t pos, size_t end);
size_t gpt4o(const CodepointText& t, size_t pos, size_t end);
size_t deepseek3_words(const CodepointText& t, size_t pos, size_t end);
size_t one_number(const CodepointText& t, size_t pos, size_t end);         // \p{N}
size_t number_run(const CodepointText& t, size_t pos, size_t end);         // \p{N}+
size_t numbers_upto3(const CodepointText& t, size_t pos, size_t end);      // \p{N}{1,3}
size_t ascii_digits3(const CodepointText& t, size_t pos, size_t end);      // [0-9]{3}
size_t default_punct_run(const CodepointText& t, size_t pos, size_t end);  // [\p{P}$+<=>^~|]+
size_t falcon_punct_run(const CodepointText& t, size_t pos, size_t end);   // ...and `
size_t one_newline(const CodepointText& t, size_t pos, size_t end);        // [\r\n]
size_t space_letters(const CodepointText& t, size_t pos, size_t end);      // \s?\p{L}+
size_t space_punct(const CodepointText& t, size_t pos, size_t end);        // \s?\p{P}+
size_t deepseek_latin(const CodepointText& t, size_t pos, size_t end);     // \s?[A-Za-z...]+
size_t deepseek_punct(const CodepointText& t, size_t pos, size_t end);     // \s?[!-/:-~...]+
size_t trailing_space(const CodepointText& t, size_t pos, size_t end);     // \s+$
size_t deepseek_cjk(const CodepointText& t, size_t pos, size_t end);   // [一-龥ࠀ-一가-퟿]+
size_t deepseek3_cjk(const CodepointText& t, size_t pos, size_t end);  // [一-龥぀-ゟ゠-ヿ]+
size_t bloom(const CodepointText& t, size_t pos, size_t end);          // ?[^(\s|.,!?…)]+
}  // namespace patterns

}  // namespace pocketlm
