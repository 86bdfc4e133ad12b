// StreamingDetokenizer: text comes out as soon as it is whole, never half a UTF-8 sequence.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tokenizer/detokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab_gguf.h"

namespace pocketlm {
namespace {

// Byte tokens 0..255, then "<|im_end|>" (control, 256), then tokens built by the merges.
Tokenizer byte_tokenizer(std::vector<std::string> merged = {},
                         std::vector<std::string> merges = {}) {
  Vocab v;
  v.model = "gpt2";
  v.pre = "smollm";
  for (int b = 0; b < 256; ++b) v.tokens.emplace_back(byte_to_unicode_utf8(uint8_t(b)));
  v.token_types.assign(256, static_cast<int32_t>(TokenType::kNormal));
  v.tokens.push_back("<|im_end|>");
  v.token_types.push_back(static_cast<int32_t>(TokenType::kControl));
  for (std::string& m : merged) {
    v.tokens.push_back(std::move(m));
    v.token_types.push_back(static_cast<int32_t>(TokenType::kNormal));
  }
  v.merges = std::move(merges);
  Result<Tokenizer> t = Tokenizer::create(std::move(v));
  EXPECT_TRUE(t.ok()) << t.status().message();
  return std::move(*t);
}

std::string alphabet(const std::string& bytes) {
  std::string s;
  for (unsigned char c : bytes) s += byte_to_unicode_utf8(c);
  return s;
}

TEST(TokenStreamTest, FourByteEmojiSplitOverByteTokens) {
  Tokenizer t = byte_tokenizer();
  StreamingDetokenizer d(t);
  // "a🦙b": the llama is F0 9F A6 99, one token per byte here.
  EXPECT_EQ(d.push('a'), "a");
  EXPECT_EQ(d.push(0xF0), "");
  EXPECT_EQ(d.push(0x9F), "");
  EXPECT_EQ(d.push(0xA6), "");
  EXPECT_EQ(d.pending(), 3u);
  EXPECT_EQ(d.push(0x99), "\xF0\x9F\xA6\x99");
  EXPECT_EQ(d.push('b'), "b");
  EXPECT_EQ(d.flush(), "");
}

TEST(TokenStreamTest, EmojiSplitOverMultiByteTokens) {
  // Two tokens: "a" + F0 9F, then A6 99 + "!" (tokens need not end on a character boundary).
  const std::string head = alphabet("a\xF0\x9F");
  const std::string tail = alphabet("\xA6\x99!");
  Tokenizer t = byte_tokenizer({head, tail});
  StreamingDetokenizer d(t);
  EXPECT_EQ(d.push(257), "a");
  EXPECT_EQ(d.push(258), "\xF0\x9F\xA6\x99!");
}

TEST(TokenStreamTest, BrokenSequencesAreReleasedUnchanged) {
  Tokenizer t = byte_tokenizer();
  StreamingDetokenizer d(t);
  EXPECT_EQ(d.push(0xE2), "");
  // 'x' cannot continue the sequence: the lead byte is released with it, as it was.
  EXPECT_EQ(d.push('x'), "\xE2x");
  EXPECT_EQ(d.push(0xC3), "");
  EXPECT_EQ(d.flush(), "\xC3");
  EXPECT_EQ(d.pending(), 0u);
}

TEST(TokenStreamTest, ControlTokensShowOnlyWhenSpecial) {
  Tokenizer t = byte_tokenizer();
  StreamingDetokenizer hidden(t);
  StreamingDetokenizer shown(t, /*special=*/true);
  EXPECT_EQ(hidden.push(256), "");
  EXPECT_EQ(shown.push(256), "<|im_end|>");
}

TEST(TokenStreamTest, StreamEqualsWholeTextOnARealVocabulary) {
  const std::string path = std::string(POCKETLM_SHARED_DIR) + "/vocab/ggml-vocab-starcoder.gguf";
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << path << " is absent (the shared/ folder is not beside the checkout)";
  }
  Result<Vocab> v = load_vocab_gguf(path);
  ASSERT_TRUE(v.ok()) << v.status().message();
  Result<Tokenizer> t = Tokenizer::create(std::move(*v));
  ASSERT_TRUE(t.ok()) << t.status().message();
  std::string text =
      "Emoji 🦙🚀😶‍🌫️ mixed with 日本語, Ελληνικά, ក្រុង";
  text += " and ½ + ² = ? \n\t done";
  std::vector<int32_t> ids = t->encode(text, false, false);
  StreamingDetokenizer d(*t);
  std::string streamed;
  size_t partial_pieces = 0;
  for (int32_t id : ids) {
    std::string out = d.push(id);
    // Whatever comes out is whole UTF-8.
    EXPECT_EQ(utf8_complete_prefix(out), out.size());
    if (d.pending() > 0) ++partial_pieces;
    streamed += out;
  }
  streamed += d.flush();
  EXPECT_EQ(streamed, text);
  EXPECT_GT(partial_pieces, 0u);  // the text does split characters over tokens
}

}  // namespace
}  // namespace pocketlm
