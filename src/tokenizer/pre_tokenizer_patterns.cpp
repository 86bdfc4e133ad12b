// The hand-written matchers behind PreTokenizer: one function per pattern, each returning the
// length of the match at exactly `pos` (0: none), the way a backtracking regex engine would
// choose it (alternatives in order, quantifiers greedy). The pattern is quoted above each one.
//
// Character classes follow the reference's runtime semantics, which decide the ids the engine
// must reproduce:
//  - \s is the White_Space property; \p{L} \p{N} \p{P} \p{S} \p{M} are major general categories.
//  - Literal code point classes (the DeepSeek and BLOOM ones) never match a non-ASCII White_Space
//    character, because the reference substitutes U+000B for those before matching.
//  - In the patterns that use \p{S}, '~' does not count as a symbol (the reference's ASCII
//    stand-in for \p{S} leaves it out), which matters only for deepseek-v3.
#include "tokenizer/pre_tokenizer.h"

#include <algorithm>

namespace pocketlm::patterns {
namespace {

inline bool is_cr_lf(uint32_t c) { return c == '\r' || c == '\n'; }
inline bool is_ascii_lower(uint32_t c) { return c >= 'a' && c <= 'z'; }
inline bool is_ascii_upper(uint32_t c) { return c >= 'A' && c <= 'Z'; }
inline bool is_ascii_digit(uint32_t c) { return c >= '0' && c <= '9'; }
inline uint32_t ascii_fold(uint32_t c) { return is_ascii_upper(c) ? c + 32 : c; }

// [^\s\p{L}\p{N}]
inline bool is_other(CodepointFlags f) {
  return !f.is_whitespace() && !f.is_letter() && !f.is_number();
}

template <typename Pred>
inline size_t run_end(size_t pos, size_t end, Pred pred) {
  while (pos < end && pred(pos)) ++pos;
  return pos;
}

// 's|'t|'re|'ve|'m|'ll|'d, optionally with ASCII case folding. (Folding is exact: no non-ASCII
// code point lowercases to one of these letters; scripts/gen_unicode_tables.py checks it.)
size_t contraction(const CodepointText& t, size_t pos, size_t end, bool fold) {
  if (t.cp(pos) != '\'' || pos + 1 >= end) return 0;
  uint32_t a = fold ? ascii_fold(t.cp(pos + 1)) : t.cp(pos + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (pos + 2 >= end) return 0;
  uint32_t b = fold ? ascii_fold(t.cp(pos + 2)) : t.cp(pos + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// \s*[\r\n]+ (when `newlines`) | \s+(?!\S) | \s+
// \s*[\r\n]+ backtracks to the last CR/LF of the whitespace run; \s+(?!\S) gives back one
// character when the run is followed by non-space, so the next word can take its space.
size_t whitespace_tail(const CodepointText& t, size_t pos, size_t end, bool newlines) {
  size_t n = pos;
  size_t after_last_newline = 0;
  while (n < end && t.flags(n).is_whitespace()) {
    if (newlines && is_cr_lf(t.cp(n))) after_last_newline = n + 1;
    ++n;
  }
  if (after_last_newline != 0) return after_last_newline - pos;
  size_t count = n - pos;
  if (count > 1 && n < end) return count - 1;
  return count;
}

// (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}|
// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
size_t llama3_like(const CodepointText& t, size_t pos, size_t end, size_t max_digits,
                   bool newlines_after_punct) {
  if (size_t n = contraction(t, pos, end, true)) return n;
  const uint32_t c = t.cp(pos);
  const CodepointFlags f = t.flags(pos);
  const auto letter = [&](size_t i) { return t.flags(i).is_letter(); };
  if (!is_cr_lf(c) && !f.is_number()) {
    if (f.is_letter() || (pos + 1 < end && letter(pos + 1))) {
      return run_end(pos + 1, end, letter) - pos;
    }
  }
  if (f.is_number()) {
    size_t n = run_end(pos, end, [&](size_t i) { return t.flags(i).is_number(); }) - pos;
    return std::min(n, max_digits);
  }
  const size_t q = pos + (c == ' ' ? 1 : 0);
  if (q < end && is_other(t.flags(q))) {
    size_t p = run_end(q, end, [&](size_t i) { return is_other(t.flags(i)); });
    if (newlines_after_punct) p = run_end(p, end, [&](size_t i) { return is_cr_lf(t.cp(i)); });
    return p - pos;
  }
  return whitespace_tail(t, pos, end, true);
}

// Tekken / GPT-4o: words split at case changes.
//   [^\r\n\p{L}\p{N}]?U*W+C?|[^\r\n\p{L}\p{N}]?U+W*C?|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n/]*|
//   \s*[\r\n]+|\s+(?!\S)|\s+
// where U = a letter that is not a-z, W = a letter that is not A-Z (the reference spells them
// (?=[\p{L}])([^a-z]) and (?=[\p{L}])([^A-Z]); a non-ASCII letter is both) and C is the optional
// contraction suffix (GPT-4o only).
size_t cased_words(const CodepointText& t, size_t pos, size_t end, size_t max_digits,
                   bool contraction_suffix) {
  const uint32_t c = t.cp(pos);
  const CodepointFlags f = t.flags(pos);
  const auto upperish = [&](size_t i) {
    return t.flags(i).is_letter() && !is_ascii_lower(t.cp(i));
  };
  const auto lowerish = [&](size_t i) {
    return t.flags(i).is_letter() && !is_ascii_upper(t.cp(i));
  };
  const auto suffix = [&](size_t e) {
    return contraction_suffix && e < end ? e + contraction(t, e, end, true) : e;
  };
  const bool lead = !is_cr_lf(c) && !f.is_letter() && !f.is_number();
  // With a lead character the words start after it; without one, at pos (a lead cannot be a
  // letter, so giving it back never helps the letter runs).
  const size_t start = lead ? pos + 1 : pos;
  if (start < end) {
    const size_t u_end = run_end(start, end, upperish);
    // U*W+: the W run follows the U run, or else U* gives back up to its last W-capable letter.
    if (u_end < end && lowerish(u_end)) return suffix(run_end(u_end, end, lowerish)) - pos;
    for (size_t k = u_end; k > start; --k) {
      if (lowerish(k - 1)) return suffix(k) - pos;
    }
    // U+W*
    if (u_end > start) return suffix(run_end(u_end, end, lowerish)) - pos;
  }
  if (f.is_number()) {
    size_t n = run_end(pos, end, [&](size_t i) { return t.flags(i).is_number(); }) - pos;
    return std::min(n, max_digits);
  }
  const size_t q = pos + (c == ' ' ? 1 : 0);
  if (q < end && is_other(t.flags(q))) {
    size_t p = run_end(q, end, [&](size_t i) { return is_other(t.flags(i)); });
    p = run_end(p, end, [&](size_t i) { return is_cr_lf(t.cp(i)) || t.cp(i) == '/'; });
    return p - pos;
  }
  return whitespace_tail(t, pos, end, true);
}

struct Range {
  uint32_t first;
  uint32_t last;
};

template <size_t N>
bool in_ranges(const Range (&ranges)[N], uint32_t cp) {
  for (const Range& r : ranges) {
    if (cp >= r.first && cp <= r.last) return true;
  }
  return false;
}

// Literal-class membership as the reference evaluates it (non-ASCII White_Space never matches).
template <size_t N>
bool in_literal_class(const CodepointText& t, size_t i, const Range (&ranges)[N]) {
  const uint32_t cp = t.cp(i);
  if (cp > 0x7F && t.flags(i).is_whitespace()) return false;
  return in_ranges(ranges, cp);
}

// \s?X+ for a class X that never contains whitespace itself.
template <typename InClass>
size_t optional_space_run(const CodepointText& t, size_t pos, size_t end, InClass in_class) {
  if (t.flags(pos).is_whitespace()) {
    if (pos + 1 < end && in_class(pos + 1)) return run_end(pos + 1, end, in_class) - pos;
    return 0;
  }
  return in_class(pos) ? run_end(pos, end, in_class) - pos : 0;
}

// Cased Latin, Greek, Cyrillic, Armenian, Georgian, Cherokee, Glagolitic, Coptic, Deseret, ...
// letters: the class DeepSeek LLM's tokenizer lists explicitly.
constexpr Range kDeepseekLatin[] = {
    {0x0041, 0x005A},   {0x0061, 0x007A},   {0x00B5, 0x00B5},   {0x00C0, 0x00D6},
    {0x00D8, 0x00F6},   {0x00F8, 0x01BA},   {0x01BC, 0x01BF},   {0x01C4, 0x0293},
    {0x0295, 0x02AF},   {0x0370, 0x0373},   {0x0376, 0x0377},   {0x037B, 0x037D},
    {0x037F, 0x037F},   {0x0386, 0x0386},   {0x0388, 0x038A},   {0x038C, 0x038C},
    {0x038E, 0x03A1},   {0x03A3, 0x03F5},   {0x03F7, 0x0481},   {0x048A, 0x052F},
    {0x0531, 0x0556},   {0x10A0, 0x10C5},   {0x13A0, 0x13F5},   {0x13F8, 0x13FD},
    {0x1C90, 0x1CBA},   {0x1CBD, 0x1CBF},   {0x1D00, 0x1D2B},   {0x1D6B, 0x1D77},
    {0x1D79, 0x1D9A},   {0x1E00, 0x1F15},   {0x1F18, 0x1F1D},   {0x1F20, 0x1F45},
    {0x1F48, 0x1F4D},   {0x1F50, 0x1F57},   {0x1F59, 0x1F59},   {0x1F5B, 0x1F5B},
    {0x1F5D, 0x1F5D},   {0x1F5F, 0x1F7D},   {0x1F80, 0x1FB4},   {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE},   {0x1FC2, 0x1FC4},   {0x1FC6, 0x1FCC},   {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB},   {0x1FE0, 0x1FEC},   {0x1FF2, 0x1FF4},   {0x1FF6, 0x1FFC},
    {0x2102, 0x2102},   {0x2107, 0x2107},   {0x210A, 0x2113},   {0x2115, 0x2115},
    {0x2119, 0x211D},   {0x2124, 0x2124},   {0x2126, 0x2126},   {0x2128, 0x2128},
    {0x212A, 0x212D},   {0x212F, 0x2134},   {0x2139, 0x2139},   {0x213C, 0x213F},
    {0x2145, 0x2149},   {0x214E, 0x214E},   {0x2183, 0x2184},   {0x2C00, 0x2C7B},
    {0x2C7E, 0x2CE4},   {0x2CEB, 0x2CEE},   {0x2CF2, 0x2CF3},   {0xA640, 0xA66D},
    {0xA680, 0xA69B},   {0xA722, 0xA76F},   {0xA771, 0xA787},   {0xA78B, 0xA78E},
    {0xAB70, 0xABBF},   {0xFB00, 0xFB06},   {0xFB13, 0xFB17},   {0xFF21, 0xFF3A},
    {0xFF41, 0xFF5A},   {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};

// ASCII and full-width punctuation, curly quotes, ideographic space/comma/full stop.
constexpr Range kDeepseekPunct[] = {{0x0021, 0x002F}, {0x003A, 0x007E}, {0xFF01, 0xFF0F},
                                    {0xFF1A, 0xFF5E}, {0x2018, 0x201F}, {0x3000, 0x3002}};

// CJK ideographs (to U+9FA5), everything from U+0800 up to them, and Hangul syllables.
constexpr Range kDeepseekCjk[] = {{0x0800, 0x9FA5}, {0xAC00, 0xD7FF}};

// CJK ideographs (to U+9FA5), Hiragana, Katakana.
constexpr Range kDeepseek3Cjk[] = {{0x4E00, 0x9FA5}, {0x3040, 0x309F}, {0x30A0, 0x30FF}};

// What BLOOM's [^(\s|.,!?…。，、।۔،)] excludes besides whitespace.
constexpr Range kBloomExcluded[] = {
    {'(', ')'},       {'|', '|'},       {'.', '.'},       {',', ','},       {'!', '!'},
    {'?', '?'},       {0x2026, 0x2026}, {0x3002, 0x3002}, {0xFF0C, 0xFF0C}, {0x3001, 0x3001},
    {0x0964, 0x0964}, {0x06D4, 0x06D4}, {0x060C, 0x060C}};

// ASCII characters of \p{S} as the reference's patterns see them: no '~'.
inline bool is_symbol_no_tilde(const CodepointText& t, size_t i) {
  return t.flags(i).is_symbol() && t.cp(i) != '~';
}

inline bool is_ascii_punct_or_symbol(uint32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

size_t class_run(const CodepointText& t, size_t pos, size_t end,
                 bool (*pred)(uint32_t, CodepointFlags)) {
  size_t p = pos;
  while (p < end && pred(t.cp(p), t.flags(p))) ++p;
  return p - pos;
}

}  // namespace

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
size_t gpt2(const CodepointText& t, size_t pos, size_t end) {
  if (size_t n = contraction(t, pos, end, false)) return n;
  const size_t q = pos + (t.cp(pos) == ' ' ? 1 : 0);
  if (q < end) {
    const CodepointFlags f = t.flags(q);
    if (f.is_letter())
      return run_end(q, end, [&](size_t i) { return t.flags(i).is_letter(); }) - pos;
    if (f.is_number())
      return run_end(q, end, [&](size_t i) { return t.flags(i).is_number(); }) - pos;
    if (is_other(f)) return run_end(q, end, [&](size_t i) { return is_other(t.flags(i)); }) - pos;
  }
  // A lone whitespace character before non-space matches nothing in the pattern; as a gap it
  // becomes a piece of its own all the same, which is what this returns.
  return whitespace_tail(t, pos, end, false);
}

size_t llama3(const CodepointText& t, size_t pos, size_t end) {
  return llama3_like(t, pos, end, 3, true);
}

size_t qwen2(const CodepointText& t, size_t pos, size_t end) {
  return llama3_like(t, pos, end, 1, true);
}

// Qwen2's pattern with ` ?[^\s\p{L}\p{N}\r\n]+` (no newlines taken after punctuation).
size_t seed_coder(const CodepointText& t, size_t pos, size_t end) {
  return llama3_like(t, pos, end, 1, false);
}

size_t tekken(const CodepointText& t, size_t pos, size_t end) {
  return cased_words(t, pos, end, 1, false);
}

size_t gpt4o(const CodepointText& t, size_t pos, size_t end) {
  return cased_words(t, pos, end, 3, true);
}

// [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|
// ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
size_t deepseek3_words(const CodepointText& t, size_t pos, size_t end) {
  const uint32_t c = t.cp(pos);
  const auto ascii_alpha = [&](size_t i) {
    return is_ascii_lower(t.cp(i)) || is_ascii_upper(t.cp(i));
  };
  if (is_ascii_punct_or_symbol(c) && pos + 1 < end && ascii_alpha(pos + 1)) {
    return run_end(pos + 1, end, ascii_alpha) - pos;
  }
  const auto punct_or_symbol = [&](size_t i) {
    return t.flags(i).is_punctuation() || is_symbol_no_tilde(t, i);
  };
  const auto letter_or_mark = [&](size_t i) {
    return t.flags(i).is_letter() || t.flags(i).is_mark();
  };
  const bool lead = !is_cr_lf(c) && !t.flags(pos).is_letter() && !punct_or_symbol(pos);
  if (lead && pos + 1 < end && letter_or_mark(pos + 1)) {
    return run_end(pos + 1, end, letter_or_mark) - pos;
  }
  if (letter_or_mark(pos)) return run_end(pos, end, letter_or_mark) - pos;
  const size_t q = pos + (c == ' ' ? 1 : 0);
  if (q < end && punct_or_symbol(q)) {
    size_t p = run_end(q, end, punct_or_symbol);
    p = run_end(p, end, [&](size_t i) { return is_cr_lf(t.cp(i)); });
    return p - pos;
  }
  return whitespace_tail(t, pos, end, true);
}

size_t one_number(const CodepointText& t, size_t pos, size_t) {
  return t.flags(pos).is_number() ? 1 : 0;
}

size_t number_run(const CodepointText& t, size_t pos, size_t end) {
  return class_run(t, pos, end, [](uint32_t, CodepointFlags f) { return f.is_number(); });
}

size_t numbers_upto3(const CodepointText& t, size_t pos, size_t end) {
  return std::min<size_t>(number_run(t, pos, end), 3);
}

size_t ascii_digits3(const CodepointText& t, size_t pos, size_t end) {
  if (pos + 3 > end) return 0;
  for (size_t i = pos; i < pos + 3; ++i) {
    if (!is_ascii_digit(t.cp(i))) return 0;
  }
  return 3;
}

// [\p{P}\$\+<=>\^~\|]+
size_t default_punct_run(const CodepointText& t, size_t pos, size_t end) {
  return class_run(t, pos, end, [](uint32_t c, CodepointFlags f) {
    return f.is_punctuation() || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' ||
           c == '^' || c == '~' || c == '|';
  });
}

// [\p{P}\$\+<=>\^~\|`]+
size_t falcon_punct_run(const CodepointText& t, size_t pos, size_t end) {
  return class_run(t, pos, end, [](uint32_t c, CodepointFlags f) {
    return f.is_punctuation() || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' ||
           c == '^' || c == '~' || c == '|' || c == '`';
  });
}

size_t one_newline(const CodepointText& t, size_t pos, size_t) {
  return is_cr_lf(t.cp(pos)) ? 1 : 0;
}

size_t space_letters(const CodepointText& t, size_t pos, size_t end) {
  return optional_space_run(t, pos, end, [&](size_t i) { return t.flags(i).is_letter(); });
}

size_t space_punct(const CodepointText& t, size_t pos, size_t end) {
  return optional_space_run(t, pos, end, [&](size_t i) { return t.flags(i).is_punctuation(); });
}

size_t deepseek_latin(const CodepointText& t, size_t pos, size_t end) {
  return optional_space_run(t, pos, end,
                            [&](size_t i) { return in_literal_class(t, i, kDeepseekLatin); });
}

size_t deepseek_punct(const CodepointText& t, size_t pos, size_t end) {
  return optional_space_run(t, pos, end,
                            [&](size_t i) { return in_literal_class(t, i, kDeepseekPunct); });
}

size_t trailing_space(const CodepointText& t, size_t pos, size_t end) {
  size_t p = run_end(pos, end, [&](size_t i) { return t.flags(i).is_whitespace(); });
  return p == end ? end - pos : 0;
}

size_t deepseek_cjk(const CodepointText& t, size_t pos, size_t end) {
  return run_end(pos, end, [&](size_t i) { return in_literal_class(t, i, kDeepseekCjk); }) - pos;
}

size_t deepseek3_cjk(const CodepointText& t, size_t pos, size_t end) {
  return run_end(pos, end, [&](size_t i) { return in_literal_class(t, i, kDeepseek3Cjk); }) - pos;
}

//  ?[^(\s|.,!?…。，、।۔،)]+
size_t bloom(const CodepointText& t, size_t pos, size_t end) {
  const auto in_class = [&](size_t i) {
    return !t.flags(i).is_whitespace() && !in_ranges(kBloomExcluded, t.cp(i));
  };
  if (t.cp(pos) == ' ' && pos + 1 < end && in_class(pos + 1)) {
    return run_end(pos + 1, end, in_class) - pos;
  }
  return in_class(pos) ? run_end(pos, end, in_class) - pos : 0;
}

}  // namespace pocketlm::patterns
