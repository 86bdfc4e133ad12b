// Unicode helpers: categories, White_Space, lenient UTF-8, the GPT-2 byte alphabet.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tokenizer/unicode.h"
#include "tokenizer/unicode_data.h"

namespace pocketlm {
namespace {

TEST(UnicodeTest, MajorCategories) {
  using C = UnicodeCategory;
  const struct {
    uint32_t cp;
    C cat;
  } cases[] = {
      {'a', C::kLetter},          {'Z', C::kLetter},        {0x00E9, C::kLetter},  // é
      {0x01C5, C::kLetter},       {0x02B0, C::kLetter},     {0x4E00, C::kLetter},  // Lt Lm Lo
      {0x20000, C::kLetter},      {0xAC00, C::kLetter},     {'5', C::kNumber},     // CJK ext B
      {0x00BD, C::kNumber},       {0x216B, C::kNumber},     {0x0663, C::kNumber},  // ½ Ⅻ ٣
      {'!', C::kPunctuation},     {'_', C::kPunctuation},   {0x2026, C::kPunctuation},
      {0x3002, C::kPunctuation},  {'$', C::kSymbol},        {'~', C::kSymbol},
      {'+', C::kSymbol},          {0x1F999, C::kSymbol},    {0x2705, C::kSymbol},  // 🦙 ✅
      {0x0301, C::kMark},         {0xFE0F, C::kMark},       {' ', C::kSeparator},
      {0x00A0, C::kSeparator},    {0x3000, C::kSeparator},  {0x2028, C::kSeparator},
      {'\t', C::kOther},          {0x0085, C::kOther},      {0x200D, C::kOther},  // Cc Cc Cf
      {0xE000, C::kOther},        {0x0378, C::kUnassigned}, {0x10FFFF, C::kUnassigned},
      {0x110000, C::kUnassigned},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(unicode_flags(c.cp).category(), c.cat) << std::hex << "U+" << c.cp;
  }
  EXPECT_STREQ(unicode_version(), "15.1.0");
}

TEST(UnicodeTest, WhiteSpaceIsTheUnicodeProperty) {
  std::set<uint32_t> expected = {0x09,   0x0A,   0x0B,   0x0C,   0x0D,   0x20,   0x85,
                                 0xA0,   0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
                                 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028,
                                 0x2029, 0x202F, 0x205F, 0x3000};
  std::set<uint32_t> found;
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (unicode_flags(cp).is_whitespace()) found.insert(cp);
  }
  EXPECT_EQ(found, expected);
  // Python's isspace() would add these; \s in the reference does not.
  EXPECT_FALSE(unicode_flags(0x1C).is_whitespace());
  EXPECT_FALSE(unicode_flags(0x180E).is_whitespace());
}

TEST(UnicodeTest, TablesAreSortedRuns) {
  using namespace unicode_data;
  ASSERT_GT(kCategoryRunCount, 1000u);
  EXPECT_EQ(kCategoryRuns[0] >> 8, 0u);
  for (size_t i = 1; i < kCategoryRunCount; ++i) {
    EXPECT_LT(kCategoryRuns[i - 1] >> 8, kCategoryRuns[i] >> 8);
    EXPECT_NE(kCategoryRuns[i - 1] & 0xFF, kCategoryRuns[i] & 0xFF);  // runs are maximal
  }
  EXPECT_EQ(kWhitespaceCount, 25u);
  // The supplementary planes go through the binary search, the BMP through the flat table:
  // both must agree with the runs at every run boundary.
  for (size_t i = 0; i < kCategoryRunCount; ++i) {
    uint32_t cp = kCategoryRuns[i] >> 8;
    EXPECT_EQ(static_cast<uint32_t>(unicode_flags(cp).category()), kCategoryRuns[i] & 0xFF);
    if (cp > 0) {
      EXPECT_EQ(static_cast<uint32_t>(unicode_flags(cp - 1).category()),
                kCategoryRuns[i - 1] & 0xFF);
    }
  }
}

std::vector<uint32_t> decode_all(const std::string& s) {
  std::vector<uint32_t> cps;
  size_t pos = 0;
  while (pos < s.size()) cps.push_back(utf8_decode(s, pos));
  return cps;
}

TEST(UnicodeTest, DecodesValidUtf8) {
  EXPECT_EQ(decode_all("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\xA6\x99"),
            (std::vector<uint32_t>{'a', 0xE9, 0x20AC, 0x1F999}));
  EXPECT_EQ(decode_all(std::string("\0", 1)), (std::vector<uint32_t>{0}));
}

TEST(UnicodeTest, InvalidBytesBecomeReplacementCharactersOneByteEach) {
  constexpr uint32_t R = kReplacementChar;
  // Stray continuation bytes, an invalid lead, a lead at the very end.
  EXPECT_EQ(decode_all("\x80\xBF"), (std::vector<uint32_t>{R, R}));
  EXPECT_EQ(decode_all("a\xFF"
                       "b"),
            (std::vector<uint32_t>{'a', R, 'b'}));
  EXPECT_EQ(decode_all("x\xC3"), (std::vector<uint32_t>{'x', R}));
  // A truncated sequence: the lead fails, then each continuation byte fails on its own.
  EXPECT_EQ(decode_all("\xE2\x82z"), (std::vector<uint32_t>{R, R, 'z'}));
  EXPECT_EQ(decode_all("\xF0\x9F\xA6"), (std::vector<uint32_t>{R, R, R}));
  // Accepted like the reference does: overlong forms and surrogates decode to their value.
  EXPECT_EQ(decode_all("\xC0\x80"), (std::vector<uint32_t>{0}));
  EXPECT_EQ(decode_all("\xED\xA0\x80"), (std::vector<uint32_t>{0xD800}));
  // Past U+10FFFF there is nothing to encode back: one replacement for the whole sequence.
  EXPECT_EQ(decode_all("\xF5\x80\x80\x80"), (std::vector<uint32_t>{R}));
}

TEST(UnicodeTest, EncodesAtEveryLengthBoundary) {
  for (uint32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    std::string s;
    utf8_append(s, cp);
    size_t pos = 0;
    EXPECT_EQ(utf8_decode(s, pos), cp);
    EXPECT_EQ(pos, s.size());
  }
  std::string s;
  utf8_append(s, 0x110000);
  EXPECT_EQ(s, "\xEF\xBF\xBD");
}

TEST(UnicodeTest, CompletePrefixHoldsBackOnlyAPendingSequence) {
  EXPECT_EQ(utf8_complete_prefix(""), 0u);
  EXPECT_EQ(utf8_complete_prefix("abc"), 3u);
  EXPECT_EQ(utf8_complete_prefix("a\xF0"), 1u);
  EXPECT_EQ(utf8_complete_prefix("a\xF0\x9F"), 1u);
  EXPECT_EQ(utf8_complete_prefix("a\xF0\x9F\xA6"), 1u);
  EXPECT_EQ(utf8_complete_prefix("a\xF0\x9F\xA6\x99"), 5u);
  EXPECT_EQ(utf8_complete_prefix("\xC3"), 0u);
  EXPECT_EQ(utf8_complete_prefix("\xC3\xA9"), 2u);
  EXPECT_EQ(utf8_complete_prefix("\xE2\x82"), 0u);
  // Nothing could complete these, so they are not held.
  EXPECT_EQ(utf8_complete_prefix("a\xFF"), 2u);
  EXPECT_EQ(utf8_complete_prefix("\x80\x80"), 2u);
  EXPECT_EQ(utf8_complete_prefix("\xC3\xA9\x80"), 3u);
}

TEST(UnicodeTest, ByteAlphabetIsTheGpt2Map) {
  std::set<std::string> seen;
  for (int b = 0; b < 256; ++b) {
    std::string_view s = byte_to_unicode_utf8(static_cast<uint8_t>(b));
    seen.insert(std::string(s));
    size_t pos = 0;
    uint32_t cp = utf8_decode(s, pos);
    EXPECT_EQ(pos, s.size());
    EXPECT_EQ(unicode_to_byte(cp), b);
  }
  EXPECT_EQ(seen.size(), 256u);
  EXPECT_EQ(byte_to_unicode_utf8('A'), "A");
  EXPECT_EQ(byte_to_unicode_utf8(' '), "\xC4\xA0");   // U+0120 'Ġ'
  EXPECT_EQ(byte_to_unicode_utf8('\n'), "\xC4\x8A");  // U+010A 'Ċ'
  EXPECT_EQ(byte_to_unicode_utf8(0x00), "\xC4\x80");  // U+0100
  EXPECT_EQ(byte_to_unicode_utf8(0x7F), "\xC4\xA1");  // U+0121
  EXPECT_EQ(byte_to_unicode_utf8(0xAD), "\xC5\x83");  // U+0143, the last one
  EXPECT_EQ(byte_to_unicode_utf8(0xE9), "\xC3\xA9");  // printable Latin-1 stays
  EXPECT_EQ(unicode_to_byte(' '), -1);
  EXPECT_EQ(unicode_to_byte(0x144), -1);
  EXPECT_EQ(unicode_to_byte(0x4E00), -1);
}

}  // namespace
}  // namespace pocketlm
