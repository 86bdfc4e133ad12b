// NgramFilter: a one-hash Bloom filter of the 1-, 2- and 3-byte substrings of a text, to rule
// out special-token texts that cannot occur in it before searching for them.
//
// Usage:
//   NgramFilter f;
//   f.assign(prompt);
//   const NgramFilter::Keys k = NgramFilter::keys("<end_of_turn>");   // precomputable
//   if (f.may_contain(k)) search(prompt, "<end_of_turn>");             // else: surely absent
//
// Gemma's vocabulary has 6,400 special texts (6,000 of them "<unusedN>"), and the reference's
// matching searches the input for each in turn. A text occurs only if its first and its last
// three bytes do, so most are ruled out by two bit tests. No false negatives: a text reported
// absent is absent.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

namespace pocketlm {

class NgramFilter {
 public:
  struct Keys {
    uint16_t first = 0;  // key of the first min(3, size) bytes
    uint16_t last = 0;   // key of the last min(3, size) bytes
  };

  // Keys of a non-empty text.
  static Keys keys(std::string_view s) {
    const size_t n = std::min<size_t>(3, s.size());
    return {key(s.substr(0, n)), key(s.substr(s.size() - n))};
  }

  // Forgets the previous text and records every 1-, 2- and 3-byte window of `text`.
  void assign(std::string_view text) {
    bits_.fill(0);
    for (size_t i = 0; i < text.size(); ++i) {
      for (size_t n = 1; n <= 3 && i + n <= text.size(); ++n) set(key(text.substr(i, n)));
    }
  }

  // False only when a text with these keys does not occur in the recorded text.
  bool may_contain(Keys k) const { return test(k.first) && test(k.last); }

 private:
  static constexpr size_t kBits = size_t(1) << 16;

  // 1..3 bytes -> 16 bits; the length is part of the key, so "a" and "a\0" differ.
  static uint16_t key(std::string_view gram) {
    uint32_t v = static_cast<uint32_t>(gram.size()) << 24;
    for (size_t i = 0; i < gram.size(); ++i) {
      v |= static_cast<uint32_t>(static_cast<uint8_t>(gram[i])) << (8 * (2 - i));
    }
    return static_cast<uint16_t>((v * 0x9E3779B1u) >> 16);
  }
  void set(uint16_t k) { bits_[k >> 6] |= uint64_t(1) << (k & 63); }
  bool test(uint16_t k) const { return (bits_[k >> 6] >> (k & 63)) & 1; }

  std::array<uint64_t, kBits / 64> bits_{};
};

}  // namespace pocketlm
