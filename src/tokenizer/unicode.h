// Unicode helpers for the tokenizer: lenient UTF-8 decoding, general categories, White_Space,
// and the GPT-2 byte <-> code point map that byte-level BPE vocabularies are written in.
//
// Usage:
//   size_t pos = 0;
//   while (pos < text.size()) {
//     uint32_t cp = utf8_decode(text, pos);           // advances pos; bad bytes give U+FFFD
//     if (unicode_flags(cp).is_letter()) ...
//   }
//   std::string mapped;
//   for (unsigned char b : bytes) mapped += byte_to_unicode_utf8(b);   // "Ġ" for ' '
//   int byte = unicode_to_byte(0x120);                                 // 32
//
// Decoding follows the reference tokenizer the engine is checked against, byte for byte: a lead
// byte with the right number of continuation bytes is accepted even when overlong or a
// surrogate (so re-encoding can change the bytes), anything else becomes U+FFFD and consumes one
// byte. Tokenizing therefore never fails on malformed text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/utf8.h"  // utf8_append

namespace pocketlm {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// Major general categories; values are the generated table's.
enum class UnicodeCategory : uint8_t {
  kUnassigned = 0,   // Cn
  kLetter = 1,       // L*
  kNumber = 2,       // N*
  kPunctuation = 3,  // P*
  kSymbol = 4,       // S*
  kMark = 5,         // M*
  kSeparator = 6,    // Z*
  kOther = 7,        // Cc, Cf, Cs, Co
};

class CodepointFlags {
 public:
  static constexpr uint8_t kCategoryMask = 0x07;
  static constexpr uint8_t kWhitespaceBit = 0x08;

  constexpr CodepointFlags() = default;
  constexpr explicit CodepointFlags(uint8_t bits) : bits_(bits) {}

  constexpr UnicodeCategory category() const {
    return static_cast<UnicodeCategory>(bits_ & kCategoryMask);
  }
  constexpr bool is_letter() const { return category() == UnicodeCategory::kLetter; }
  constexpr bool is_number() const { return category() == UnicodeCategory::kNumber; }
  constexpr bool is_punctuation() const { return category() == UnicodeCategory::kPunctuation; }
  constexpr bool is_symbol() const { return category() == UnicodeCategory::kSymbol; }
  constexpr bool is_mark() const { return category() == UnicodeCategory::kMark; }
  // \s: the White_Space property (U+0009..U+000D, U+0020, U+0085, U+00A0, U+1680, ...).
  constexpr bool is_whitespace() const { return (bits_ & kWhitespaceBit) != 0; }
  constexpr uint8_t bits() const { return bits_; }

 private:
  uint8_t bits_ = 0;
};

// Category and White_Space of a code point; code points past U+10FFFF are unassigned.
CodepointFlags unicode_flags(uint32_t cp);

// The Unicode version the tables were generated from ("15.1.0").
const char* unicode_version();

// Bytes in the UTF-8 sequence a lead byte announces (1 for continuation and invalid bytes, as
// the reference does when it walks a string of BPE symbols).
inline size_t utf8_sequence_length(uint8_t lead) {
  static constexpr uint8_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLengths[lead >> 4];
}

// Decodes one code point at `pos` and advances it (see the header comment for the leniency).
uint32_t utf8_decode(std::string_view text, size_t& pos);

// Length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence: the tail
// that is cut is the start of a multi-byte sequence still waiting for continuation bytes.
// Invalid bytes are not held back (waiting could never complete them).
size_t utf8_complete_prefix(std::string_view bytes);

// GPT-2 byte-level map: the printable code point standing for each byte, as UTF-8 (1 or 2 bytes).
std::string_view byte_to_unicode_utf8(uint8_t byte);
// Inverse: the byte a code point stands for, or -1 when it stands for none.
int unicode_to_byte(uint32_t cp);

}  // namespace pocketlm
