#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>
#include <vector>

#include "tokenizer/unicode_data.h"

namespace pocketlm {
namespace {

inline constexpr uint32_t kMaxCodepoint = 0x10FFFF;
inline constexpr uint32_t kBmpSize = 0x10000;

CodepointFlags flags_from_tables(uint32_t cp) {
  using namespace unicode_data;
  // Last run whose start <= cp.
  const uint32_t* end = kCategoryRuns + kCategoryRunCount;
  const uint32_t* it = std::upper_bound(kCategoryRuns, end, cp,
                                        [](uint32_t c, uint32_t run) { return c < (run >> 8); });
  uint8_t bits = static_cast<uint8_t>(it[-1] & CodepointFlags::kCategoryMask);
  if (std::binary_search(kWhitespace, kWhitespace + kWhitespaceCount, cp)) {
    bits |= CodepointFlags::kWhitespaceBit;
  }
  return CodepointFlags(bits);
}

// The Basic Multilingual Plane is where nearly all text lives, so it gets a flat 64 KiB table
// (built once, in well under a millisecond); the rest is a binary search over the runs.
const std::vector<uint8_t>& bmp_table() {
  static const std::vector<uint8_t> table = [] {
    std::vector<uint8_t> t(kBmpSize);
    using namespace unicode_data;
    size_t run = 0;
    for (uint32_t cp = 0; cp < kBmpSize; ++cp) {
      while (run + 1 < kCategoryRunCount && (kCategoryRuns[run + 1] >> 8) <= cp) ++run;
      t[cp] = static_cast<uint8_t>(kCategoryRuns[run] & CodepointFlags::kCategoryMask);
    }
    for (size_t i = 0; i < kWhitespaceCount; ++i) {
      if (kWhitespace[i] < kBmpSize) t[kWhitespace[i]] |= CodepointFlags::kWhitespaceBit;
    }
    return t;
  }();
  return table;
}

struct ByteMap {
  std::array<std::string, 256> byte_to_utf8;
  std::array<int16_t, 324> cp_to_byte;  // the map's code points all lie below 256 + 68
};

// Bytes that are printable Latin-1 stand for themselves; the other 68 get 256, 257, ... in byte
// order. This is the table every byte-level BPE vocabulary is written in.
const ByteMap& byte_map() {
  static const ByteMap map = [] {
    ByteMap m;
    m.cp_to_byte.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      uint32_t cp = printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(next++);
      utf8_append(m.byte_to_utf8[b], cp);
      m.cp_to_byte[cp] = static_cast<int16_t>(b);
    }
    return m;
  }();
  return map;
}

}  // namespace

CodepointFlags unicode_flags(uint32_t cp) {
  if (cp < kBmpSize) return CodepointFlags(bmp_table()[cp]);
  if (cp > kMaxCodepoint) return CodepointFlags();
  return flags_from_tables(cp);
}

const char* unicode_version() { return unicode_data::kUnicodeVersion; }

uint32_t utf8_decode(std::string_view text, size_t& pos) {
  const size_t n = text.size();
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const auto cont = [&](size_t i) { return i < n && (byte(i) & 0xC0) == 0x80; };
  const uint8_t b0 = byte(pos);
  if (b0 < 0x80) {
    pos += 1;
    return b0;
  }
  if ((b0 & 0xE0) == 0xC0 && cont(pos + 1)) {
    uint32_t cp = (uint32_t(b0 & 0x1F) << 6) | (byte(pos + 1) & 0x3F);
    pos += 2;
    return cp;
  }
  if ((b0 & 0xF0) == 0xE0 && cont(pos + 1) && cont(pos + 2)) {
    uint32_t cp = (uint32_t(b0 & 0x0F) << 12) | (uint32_t(byte(pos + 1) & 0x3F) << 6) |
                  (byte(pos + 2) & 0x3F);
    pos += 3;
    return cp;
  }
  if ((b0 & 0xF8) == 0xF0 && cont(pos + 1) && cont(pos + 2) && cont(pos + 3)) {
    uint32_t cp = (uint32_t(b0 & 0x07) << 18) | (uint32_t(byte(pos + 1) & 0x3F) << 12) |
                  (uint32_t(byte(pos + 2) & 0x3F) << 6) | (byte(pos + 3) & 0x3F);
    pos += 4;
    // F5..F7 leads decode past the Unicode range, which has no encoding to write back; the
    // reference would fail there, we substitute instead.
    return cp > kMaxCodepoint ? kReplacementChar : cp;
  }
  pos += 1;
  return kReplacementChar;
}

size_t utf8_complete_prefix(std::string_view bytes) {
  const size_t n = bytes.size();
  // A pending sequence starts at most 3 bytes before the end.
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const uint8_t b = static_cast<uint8_t>(bytes[n - back]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: keep looking for its lead
    size_t need = 0;
    if ((b & 0xE0) == 0xC0) {
      need = 2;
    } else if ((b & 0xF0) == 0xE0) {
      need = 3;
    } else if ((b & 0xF8) == 0xF0) {
      need = 4;
    }
    // ASCII or an invalid lead: nothing is pending. A lead whose sequence is already complete
    // (or overfull) is not pending either.
    return (need > back) ? n - back : n;
  }
  return n;  // only continuation bytes at the end: stray, nothing will complete them
}

std::string_view byte_to_unicode_utf8(uint8_t byte) { return byte_map().byte_to_utf8[byte]; }

int unicode_to_byte(uint32_t cp) {
  const ByteMap& m = byte_map();
  return cp < m.cp_to_byte.size() ? m.cp_to_byte[cp] : -1;
}

}  // namespace pocketlm
