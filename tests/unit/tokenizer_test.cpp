// Tokenizer over a hand-made vocabulary: special tokens, BOS/EOS rules, role detection,
// malformed input, detokenization and its clean-up.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace pocketlm {
namespace {

constexpr int32_t kNormal = static_cast<int32_t>(TokenType::kNormal);
constexpr int32_t kControl = static_cast<int32_t>(TokenType::kControl);
constexpr int32_t kUserDefined = static_cast<int32_t>(TokenType::kUserDefined);

// All 256 byte tokens (ids 0..255, in byte order), then the extra tokens given.
Vocab byte_vocab(const std::vector<std::pair<std::string, int32_t>>& extra,
                 std::vector<std::string> merges = {}) {
  Vocab v;
  v.model = "gpt2";
  v.pre = "gpt-2";
  for (int b = 0; b < 256; ++b) {
    v.tokens.emplace_back(byte_to_unicode_utf8(static_cast<uint8_t>(b)));
    v.token_types.push_back(kNormal);
  }
  for (const auto& [text, type] : extra) {
    v.tokens.push_back(text);
    v.token_types.push_back(type);
  }
  v.merges = std::move(merges);
  return v;
}

Tokenizer make(Vocab v) {
  Result<Tokenizer> t = Tokenizer::create(std::move(v));
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? std::move(*t) : Tokenizer();
}

std::vector<int32_t> bytes_of(const std::string& s) {
  std::vector<int32_t> ids;
  for (unsigned char c : s) ids.push_back(c);
  return ids;
}

TEST(TokenizerTest, ControlTextIsParsedOnlyWhenAsked) {
  Tokenizer t = make(byte_vocab({{"<|im_end|>", kControl}}));
  const int32_t im_end = 256;
  EXPECT_EQ(t.encode("a<|im_end|>", false, true), (std::vector<int32_t>{'a', im_end}));
  // Not parsed: the text is tokenized like any other ("<|", "im", "_", "end", "|>").
  std::vector<int32_t> plain = t.encode("a<|im_end|>", false, false);
  EXPECT_EQ(plain, bytes_of("a<|im_end|>"));
}

TEST(TokenizerTest, UserDefinedTextIsAlwaysOneToken) {
  Tokenizer t = make(byte_vocab({{"  ", kUserDefined}, {"<x>", kUserDefined}}));
  EXPECT_EQ(t.encode("a  b<x>", false, false), (std::vector<int32_t>{'a', 256, 'b', 257}));
  EXPECT_EQ(t.encode("a  b<x>", false, true), (std::vector<int32_t>{'a', 256, 'b', 257}));
}

TEST(TokenizerTest, LongerSpecialTextsClaimTheirMatchesFirst) {
  // "bcd" is longer than "ab", so in "abcd" it wins although "ab" starts earlier.
  Tokenizer t = make(byte_vocab({{"ab", kUserDefined}, {"bcd", kControl}}));
  EXPECT_EQ(t.encode("abcd", false, true), (std::vector<int32_t>{'a', 257}));
  // Without parsing, the control token is plain text and the user-defined one matches.
  EXPECT_EQ(t.encode("abcd", false, false), (std::vector<int32_t>{256, 'c', 'd'}));
  // Every occurrence, left to right, including adjacent ones.
  EXPECT_EQ(t.encode("bcdbcdxbcd", false, true), (std::vector<int32_t>{257, 257, 'x', 257}));
}

TEST(TokenizerTest, StripFlagsSwallowNeighbouringWhitespace) {
  // Models named Phi-3 strip whitespace after their special tokens (except <s>, <unk> and
  // <|endoftext|>); the metadata has no field for it.
  Vocab v = byte_vocab({{"<|end|>", kControl}, {"<s>", kControl}});
  v.name = "Phi-3-mini";
  Tokenizer t = make(std::move(v));
  EXPECT_EQ(t.encode("<|end|> \n x", false, true), (std::vector<int32_t>{256, 'x'}));
  EXPECT_EQ(t.encode("<s> x", false, true), (std::vector<int32_t>{257, ' ', 'x'}));
  // jina-v2 tokenizers strip whitespace before <mask>.
  Vocab j = byte_vocab({{"<mask>", kUserDefined}});
  j.pre = "jina-v2-es";
  Tokenizer tj = make(std::move(j));
  EXPECT_EQ(tj.encode("a  <mask>", false, false), (std::vector<int32_t>{'a', 256}));
}

TEST(TokenizerTest, BosAndEosFollowTheVocabulary) {
  Vocab v = byte_vocab({{"<s>", kControl}, {"</s>", kControl}});
  v.special.bos = 256;
  v.special.eos = 257;
  v.add_bos = true;
  v.add_eos = true;
  Tokenizer t = make(std::move(v));
  EXPECT_EQ(t.encode("a", true, false), (std::vector<int32_t>{256, 'a', 257}));
  EXPECT_EQ(t.encode("a", false, false), (std::vector<int32_t>{'a'}));
  EXPECT_EQ(t.encode("", true, false), (std::vector<int32_t>{256, 257}));

  // Absent flags: BPE adds nothing, except the families that default to BOS (Llama 3).
  Vocab w = byte_vocab({{"<s>", kControl}});
  w.special.bos = 256;
  EXPECT_EQ(make(w).encode("a", true, false), (std::vector<int32_t>{'a'}));
  w.pre = "llama-bpe";
  EXPECT_EQ(make(w).encode("a", true, false), (std::vector<int32_t>{256, 'a'}));
}

TEST(TokenizerTest, DefaultsAndDetectedRoles) {
  // No ids in the metadata: byte-level BPE defaults BOS and EOS to 11.
  Tokenizer t = make(byte_vocab(
      {{"<|im_end|>", kNormal}, {"<|endoftext|>", kControl}, {"<fim_prefix>", kUserDefined}}));
  EXPECT_EQ(t.bos(), 11);
  EXPECT_EQ(t.eos(), 11);
  // Role texts are found, and a role token not typed control becomes control.
  EXPECT_EQ(t.eot(), 256);
  EXPECT_TRUE(t.is_control(256));
  EXPECT_EQ(t.special().fim_pre, 258);
  EXPECT_TRUE(t.is_control(258));
  EXPECT_EQ(t.eog_ids(), (std::vector<int32_t>{11, 256, 257}));
  EXPECT_TRUE(t.is_eog(257));
  EXPECT_FALSE(t.is_eog('a'));
  EXPECT_EQ(t.newline(), '\n');

  // ChatGLM's BPE has no BOS unless the metadata names one.
  Vocab g = byte_vocab({});
  g.pre = "chatglm-bpe";
  EXPECT_EQ(make(std::move(g)).bos(), kNoToken);
}

TEST(TokenizerTest, MalformedUtf8IsEncodedAsReplacementCharacters) {
  Tokenizer t = make(byte_vocab({}));
  // 0xFF is no UTF-8: it becomes U+FFFD (EF BF BD), one per bad byte, as in the reference.
  EXPECT_EQ(t.encode("a\xFF"
                     "b",
                     false, false),
            (std::vector<int32_t>{'a', 0xEF, 0xBF, 0xBD, 'b'}));
  EXPECT_EQ(t.encode("\xE2\x82", false, false),
            (std::vector<int32_t>{0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD}));
  // An overlong NUL decodes leniently and is re-encoded as the byte 0.
  EXPECT_EQ(t.encode("\xC0\x80", false, false), (std::vector<int32_t>{0}));
}

TEST(TokenizerTest, RejectsWhatItCannotTokenize) {
  Vocab unigram = byte_vocab({});
  unigram.model = "t5";  // Unigram (T5): not implemented
  Result<Tokenizer> r = Tokenizer::create(unigram);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status().message().find("'t5'"), std::string::npos);

  Vocab bad_types = byte_vocab({});
  bad_types.token_types.pop_back();
  EXPECT_EQ(Tokenizer::create(bad_types).status().code(), StatusCode::kInvalidArgument);

  Vocab bad_id = byte_vocab({});
  bad_id.special.eos = 256;
  Result<Tokenizer> e = Tokenizer::create(bad_id);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("eos"), std::string::npos);

  Vocab empty;
  empty.model = "gpt2";
  EXPECT_FALSE(Tokenizer::create(empty).ok());

  Vocab unknown_pre = byte_vocab({});
  unknown_pre.pre = "not-a-family";
  Result<Tokenizer> u = Tokenizer::create(unknown_pre);
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->pre_info().recognized);
  ASSERT_EQ(u->warnings().size(), 1u);
}

TEST(TokenizerTest, PiecesDecodeTheByteAlphabet) {
  Tokenizer t = make(byte_vocab({{"\xC4\xA0"
                                  "hi",
                                  kNormal},
                                 {"<|im_end|>", kControl},
                                 {"<u>", kUserDefined}},
                                {"h i", "\xC4\xA0 hi"}));
  EXPECT_EQ(t.token_to_piece(256, false), " hi");
  EXPECT_EQ(t.token_to_piece(' ', false), " ");
  EXPECT_EQ(t.token_to_piece(0xF0, false), "\xF0");  // a lone byte, half a character
  EXPECT_EQ(t.token_to_piece(257, false), "");       // control: hidden
  EXPECT_EQ(t.token_to_piece(257, true), "<|im_end|>");
  EXPECT_EQ(t.token_to_piece(258, false), "<u>");  // user-defined: always shown
  EXPECT_EQ(t.token_to_piece(-1, true), "");
  EXPECT_EQ(t.token_to_piece(100000, true), "");
  EXPECT_EQ(t.encode(" hi", false, false), (std::vector<int32_t>{256}));
}

TEST(TokenizerTest, DetokenizeCleansSpacesWhereTheFamilyDoes) {
  Vocab v = byte_vocab({{"<s>", kControl}});
  v.special.bos = 256;
  v.add_bos = true;
  Tokenizer gpt2 = make(v);  // GPT-2 cleans up
  const std::string text = "Hello , world . It 's ' quoted ' and I 'll , ok ?";
  std::vector<int32_t> ids = gpt2.encode(text, true, false);
  EXPECT_EQ(ids.front(), 256);
  EXPECT_EQ(gpt2.detokenize(ids, true, false), "Hello, world. It's'quoted'and I 'll, ok?");
  EXPECT_EQ(gpt2.detokenize(ids, false, true).substr(0, 3), "<s>");

  v.pre = "smollm";  // SmolLM does not
  Tokenizer smol = make(v);
  EXPECT_EQ(smol.detokenize(smol.encode(text, false, false), false, false), text);
}

}  // namespace
}  // namespace pocketlm
