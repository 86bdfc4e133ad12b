// The SentencePiece-style tokenizer (tokenizer.ggml.model = llama) over hand-made vocabularies:
// merge order by score, byte fallback, the "▁" space marker and the space prefix, special and
// user-defined tokens, defaults, and detokenization.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/status.h"
#include "tokenizer/detokenizer.h"
#include "tokenizer/spm.h"
#include "tokenizer/tokenizer.h"

namespace pocketlm {
namespace {

constexpr int32_t kUnknown = static_cast<int32_t>(TokenType::kUnknown);
constexpr int32_t kNormal = static_cast<int32_t>(TokenType::kNormal);
constexpr int32_t kControl = static_cast<int32_t>(TokenType::kControl);
constexpr int32_t kUserDefined = static_cast<int32_t>(TokenType::kUserDefined);
constexpr int32_t kUnused = static_cast<int32_t>(TokenType::kUnused);
constexpr int32_t kByte = static_cast<int32_t>(TokenType::kByte);

struct Entry {
  std::string text;
  float score = 0.0f;
  int32_t type = kNormal;
};

// Llama's layout: <unk> <s> </s>, the 256 byte tokens <0x00>..<0xFF> (ids 3..258), then the
// entries given (ids from 259 on).
constexpr int32_t kFirst = 259;
int32_t byte_id(uint8_t b) { return 3 + b; }

Vocab spm_vocab(const std::vector<Entry>& extra, bool with_bytes = true) {
  Vocab v;
  v.model = "llama";
  const auto add = [&](const std::string& text, float score, int32_t type) {
    v.tokens.push_back(text);
    v.scores.push_back(score);
    v.token_types.push_back(type);
  };
  add("<unk>", 0.0f, kUnknown);
  add("<s>", 0.0f, kControl);
  add("</s>", 0.0f, kControl);
  if (with_bytes) {
    for (int b = 0; b < 256; ++b) add(strfmt("<0x%02X>", b), 0.0f, kByte);
  }
  for (const Entry& e : extra) add(e.text, e.score, e.type);
  return v;
}

Tokenizer make(Vocab v) {
  Result<Tokenizer> t = Tokenizer::create(std::move(v));
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? std::move(*t) : Tokenizer();
}

using Ids = std::vector<int32_t>;

TEST(SpmTokenizerTest, HighestScoreMergesFirstAndLeftmostOnTies) {
  const int32_t a = kFirst, c = kFirst + 2, ab = kFirst + 3, bc = kFirst + 4;
  // "abc": "bc" outscores "ab", so b+c merge first and "ab" can no longer form.
  Vocab v = spm_vocab({{"a", -5}, {"b", -5}, {"c", -5}, {"ab", -2}, {"bc", -1}});
  v.add_space_prefix = false;
  EXPECT_EQ(make(v).encode("abc", false, false), (Ids{a, bc}));
  // Equal scores: the leftmost pair wins.
  Vocab tie = spm_vocab({{"a", -5}, {"b", -5}, {"c", -5}, {"ab", -1}, {"bc", -1}});
  tie.add_space_prefix = false;
  EXPECT_EQ(make(tie).encode("abc", false, false), (Ids{ab, c}));
  // A merged symbol merges on: "abc" is reached through "ab", whatever its own score.
  Vocab chain = spm_vocab({{"a", -5}, {"b", -5}, {"c", -5}, {"ab", -1}, {"abc", -3}});
  chain.add_space_prefix = false;
  EXPECT_EQ(make(chain).encode("abcab", false, false), (Ids{kFirst + 4, kFirst + 3}));
  // Pairs only: "abc" alone cannot form from a, b, c without "ab" or "bc".
  Vocab no_pair = spm_vocab({{"a", -5}, {"b", -5}, {"c", -5}, {"abc", 0}});
  no_pair.add_space_prefix = false;
  EXPECT_EQ(make(no_pair).encode("abc", false, false), (Ids{a, kFirst + 1, c}));
}

TEST(SpmTokenizerTest, SpacesBecomeTheMarkerAndThePrefixFollowsTheFlag) {
  const std::vector<Entry> pieces = {{"\xE2\x96\x81", -10},
                                     {"a", -5},
                                     {"b", -5},
                                     {"\xE2\x96\x81"
                                      "a",
                                      -1},
                                     {"\xE2\x96\x81"
                                      "b",
                                      -1}};
  const int32_t space = kFirst, a = kFirst + 1, sp_a = kFirst + 3, sp_b = kFirst + 4;
  // add_space_prefix absent: on, as for Llama.
  Tokenizer llama = make(spm_vocab(pieces));
  EXPECT_TRUE(llama.add_space_prefix());
  EXPECT_EQ(llama.encode("a b", false, false), (Ids{sp_a, sp_b}));
  EXPECT_EQ(llama.encode(" a", false, false), (Ids{space, sp_a}));
  EXPECT_EQ(llama.encode("", false, false), Ids{});
  EXPECT_EQ(llama.encode("", true, false), Ids{1});  // only the BOS
  // Every stretch of text after a special token gets the prefix again.
  EXPECT_EQ(llama.encode("a</s>b", false, true), (Ids{sp_a, 2, sp_b}));
  // detokenize() takes the prefix's space off the first token, unless a BOS was removed.
  EXPECT_EQ(llama.detokenize({sp_a, sp_b}, false, false), "a b");
  EXPECT_EQ(llama.detokenize({1, sp_a, sp_b}, true, false), " a b");
  // Not removed, the BOS is the first token: its (hidden) piece takes the strip, so the space
  // after it stays, as in the reference.
  EXPECT_EQ(llama.detokenize({1, sp_a, sp_b}, false, false), " a b");
  EXPECT_EQ(llama.detokenize({1, sp_a, sp_b}, false, true), "<s> a b");
  EXPECT_EQ(llama.detokenize({space, sp_a}, false, false), " a");  // one space only

  // Gemma: add_space_prefix = false.
  Vocab v = spm_vocab(pieces);
  v.add_space_prefix = false;
  Tokenizer gemma = make(v);
  EXPECT_EQ(gemma.encode("a b", false, false), (Ids{a, sp_b}));
  EXPECT_EQ(gemma.encode(" a", false, false), (Ids{sp_a}));
  EXPECT_EQ(gemma.detokenize({sp_a, sp_b}, false, false), " a b");
  // Only U+0020 is a space: tabs and newlines are characters like any other.
  EXPECT_EQ(gemma.encode("\t", false, false), (Ids{byte_id('\t')}));
  // A "▁" in the input is the marker itself, so it comes back as a space.
  EXPECT_EQ(gemma.encode("\xE2\x96\x81"
                         "a",
                         false, false),
            (Ids{sp_a}));
  EXPECT_EQ(gemma.detokenize(gemma.encode("x\xE2\x96\x81", false, false), false, false), "x ");
}

TEST(SpmTokenizerTest, CharactersOutsideTheVocabularyFallBackToBytes) {
  Vocab v = spm_vocab({{"a", -1}, {"b", -1}});
  v.add_space_prefix = false;
  Tokenizer t = make(v);
  // "é" (C3 A9) is no piece: its two byte tokens.
  EXPECT_EQ(t.encode("a\xC3\xA9", false, false), (Ids{kFirst, byte_id(0xC3), byte_id(0xA9)}));
  // A lead byte claims the bytes it announces, unchecked: E2 swallows "ab", which then come out
  // as byte tokens although "a" and "b" are pieces (the reference does the same).
  EXPECT_EQ(t.encode("\xE2"
                     "ab",
                     false, false),
            (Ids{byte_id(0xE2), byte_id('a'), byte_id('b')}));
  // ... and a space inside such a group stays a marker's bytes.
  EXPECT_EQ(t.detokenize(t.encode("\xF0 ", false, false), false, false), "\xF0\xE2\x96\x81");
  // A cut sequence at the end takes what is there.
  EXPECT_EQ(t.encode("a\xF0\x9F", false, false), (Ids{kFirst, byte_id(0xF0), byte_id(0x9F)}));
  // Byte tokens detokenize to their bytes, and so reassemble the character.
  EXPECT_EQ(t.detokenize({byte_id(0xC3), byte_id(0xA9)}, false, false), "\xC3\xA9");
  EXPECT_EQ(t.token_to_piece(byte_id(0x0A), false), "\n");
  EXPECT_EQ(t.newline(), byte_id(0x0A));
}

TEST(SpmTokenizerTest, WithoutByteTokensTheOneByteTokenOrUnknownStandsIn) {
  Vocab v = spm_vocab({{"x", -1}, {"\xC3", -1}}, /*with_bytes=*/false);
  v.add_space_prefix = false;
  Tokenizer t = make(v);
  // "é": C3 has a one-character token; A9 has nothing, and becomes <unk> (the reference fails
  // there instead).
  EXPECT_EQ(t.encode("x\xC3\xA9", false, false), (Ids{3, 4, 0}));
  EXPECT_EQ(t.newline(), kNoToken);  // no byte token for "\n" and no pad token
}

TEST(SpmTokenizerTest, SpecialAndUserDefinedTokens) {
  Vocab v = spm_vocab({{"a", -1},
                       {"<", -1},
                       {"c", -1},
                       {">", -1},
                       {"<c", -2},
                       {"<c>", 0, kControl},
                       {"<u>", 0, kUserDefined},
                       {"  ", 0, kUserDefined},
                       {"<unused7>", 0, kControl},
                       {"gone", 0, kUnused}});
  v.add_space_prefix = false;
  Tokenizer t = make(v);
  const int32_t a = kFirst, ctl = kFirst + 5, user = kFirst + 6, two_spaces = kFirst + 7;
  // User-defined texts are always matched before the merges, control texts only when parsing.
  EXPECT_EQ(t.encode("a<u>a", false, false), (Ids{a, user, a}));
  EXPECT_EQ(t.encode("a  a", false, false), (Ids{a, two_spaces, a}));
  EXPECT_EQ(t.encode("<c>", false, true), (Ids{ctl}));
  // Unparsed, the control text is text, and its pieces merge into the control token all the
  // same: the reference merges into any vocabulary entry.
  EXPECT_EQ(t.encode("<c>", false, false), (Ids{ctl}));
  EXPECT_EQ(t.detokenize({ctl}, false, false), "");
  EXPECT_EQ(t.detokenize({ctl}, false, true), "<c>");
  EXPECT_EQ(t.token_to_piece(user, false), "<u>");
  EXPECT_EQ(t.token_to_piece(two_spaces, false), "  ");
  // Control tokens named "unused" are marked so; unused tokens render as nothing.
  EXPECT_EQ(t.token_attr(kFirst + 8), TokenAttr::kControl | TokenAttr::kUnused);
  EXPECT_EQ(t.token_to_piece(kFirst + 8, true), "<unused7>");
  EXPECT_EQ(t.token_to_piece(kFirst + 9, true), "");
}

TEST(SpmTokenizerTest, DefaultsFollowLlama) {
  Tokenizer t = make(spm_vocab({{"a", -1}}));
  EXPECT_EQ(t.model(), TokenizerModel::kSpm);
  EXPECT_TRUE(t.add_bos());
  EXPECT_FALSE(t.add_eos());
  EXPECT_EQ(t.special().unk, 0);
  EXPECT_EQ(t.bos(), 1);
  EXPECT_EQ(t.eos(), 2);
  EXPECT_EQ(t.eog_ids(), Ids{2});
  EXPECT_FALSE(t.pre_info().clean_spaces);
  // The clean-up of byte-level BPE does not apply.
  Vocab v = spm_vocab({{"\xE2\x96\x81"
                        "a",
                        -1},
                       {"\xE2\x96\x81"
                        ",",
                        -1}});
  Tokenizer u = make(v);
  EXPECT_EQ(u.detokenize(u.encode("a ,", false, false), false, false), "a ,");
  // Metadata wins over the defaults.
  Vocab w = spm_vocab({{"a", -1}});
  w.special.bos = 2;
  w.special.eos = 1;
  w.add_bos = false;
  w.add_eos = true;
  w.add_space_prefix = false;
  Tokenizer x = make(w);
  EXPECT_EQ(x.bos(), 2);
  EXPECT_EQ(x.encode("a", true, false), (Ids{kFirst, 1}));
}

TEST(SpmTokenizerTest, StreamingReassemblesByteTokens) {
  Vocab v = spm_vocab({{"\xE2\x96\x81"
                        "hi",
                        -1},
                       {"hi", -2},
                       {"\xE2\x96\x81", -10}});
  v.add_space_prefix = false;
  Tokenizer t = make(v);
  const std::string text = " hi \xF0\x9F\xA6\x99!";
  const Ids ids = t.encode(text, false, false);
  // "▁hi", "▁", the llama's four bytes, "!" (a byte token too).
  ASSERT_EQ(ids, (Ids{kFirst, kFirst + 2, byte_id(0xF0), byte_id(0x9F), byte_id(0xA6),
                      byte_id(0x99), byte_id('!')}));
  StreamingDetokenizer d(t);
  std::string out;
  std::vector<std::string> chunks;
  for (int32_t id : ids) chunks.push_back(d.push(id));
  EXPECT_EQ(chunks[0], " hi");
  EXPECT_EQ(chunks[1], " ");
  EXPECT_EQ(chunks[2], "");
  EXPECT_EQ(chunks[3], "");
  EXPECT_EQ(chunks[4], "");
  EXPECT_EQ(chunks[5], "\xF0\x9F\xA6\x99");
  for (const std::string& c : chunks) out += c;
  EXPECT_EQ(out + d.flush(), text);
}

TEST(SpmTokenizerTest, ScoresAndByteTokenValues) {
  // A NaN score must not break the merge order: it ranks below every number.
  Vocab v = spm_vocab({{"a", -1}, {"b", -1}, {"c", -1}, {"ab", std::nanf("")}, {"bc", -100}});
  v.add_space_prefix = false;
  EXPECT_EQ(make(v).encode("abc", false, false), (Ids{kFirst, kFirst + 4}));
  Vocab inf = spm_vocab({{"a", -1}, {"b", -1}, {"ab", -std::numeric_limits<float>::infinity()}});
  inf.add_space_prefix = false;
  EXPECT_EQ(make(inf).encode("ab", false, false), (Ids{kFirst + 2}));

  EXPECT_EQ(spm_byte_token_value("<0x0A>"), 0x0A);
  EXPECT_EQ(spm_byte_token_value("<0xff>"), 0xFF);
  EXPECT_EQ(spm_byte_token_value("<0xZZ>"), 0);
  EXPECT_EQ(spm_byte_token_value("<0x7"), 7);
  EXPECT_EQ(spm_byte_token_value("<0"), 0);
  EXPECT_EQ(spm_byte_token_value(""), 0);

  Vocab short_scores = spm_vocab({{"a", -1}});
  short_scores.scores.pop_back();
  EXPECT_EQ(Tokenizer::create(short_scores).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pocketlm
