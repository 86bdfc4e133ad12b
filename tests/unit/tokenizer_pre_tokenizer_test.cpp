// Pre-tokenizer splits. The expected pieces were computed with an independent implementation:
// each family's reference regular expressions run by Python's `regex` module, applied one after
// another to the pieces of the previous one (a throwaway harness that also agreed with these
// matchers on 300,000 random strings per family, built from letters, digits, punctuation,
// contractions, every kind of whitespace, marks, CJK, emoji and the classes' boundary
// characters).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/pre_tokenizer.h"

namespace pocketlm {
namespace {

std::vector<std::string> split(const char* family, const std::string& text) {
  Result<PreTokenizerInfo> info = pre_tokenizer_info(family);
  EXPECT_TRUE(info.ok()) << family;
  PreTokenizer pre(info->type);
  CodepointText cps;
  cps.assign(text);
  std::vector<TextSpan> spans;
  pre.split(cps, 0, cps.size(), spans);
  std::vector<std::string> pieces;
  for (const TextSpan& s : spans) {
    pieces.emplace_back();
    cps.append_utf8(s.begin, s.end, pieces.back());
  }
  return pieces;
}

struct SplitCase {
  const char* family;
  const char* text;
  std::vector<std::string> pieces;
};

TEST(PreTokenizerTest, FamiliesSplitLikeTheirReferencePatterns) {
  const SplitCase cases[] = {
      {"gpt-2", "Hello world", {"Hello", " world"}},
      {"gpt-2", "  Hello", {" ", " Hello"}},
      {"gpt-2", "a  \n b", {"a", "  \n", " b"}},
      {"gpt-2", "I've 're", {"I", "'ve", " '", "re"}},
      {"gpt-2", "'S'll", {"'", "S", "'ll"}},
      {"gpt-2", "x\t\ty", {"x", "\t", "\t", "y"}},
      {"gpt-2", "3.14 1,000", {"3", ".", "14", " 1", ",", "000"}},
      {"gpt-2", "naïve café", {"naïve", " café"}},
      {"gpt-2", "a 🦙🦙!", {"a", " 🦙🦙!"}},
      {"gpt-2", "end  ", {"end", "  "}},
      {"smollm", "x 123 y", {"x", " ", "1", "2", "3", " y"}},
      {"smollm", "  42", {"  ", "4", "2"}},
      {"smollm", "v1.2.3", {"v", "1", ".", "2", ".", "3"}},
      {"smollm", "Hello  world\n\nfoo", {"Hello", " ", " world", "\n", "\n", "foo"}},
      {"default", "a+b=c", {"a", "+", "b", "=", "c"}},
      {"default", "$100.00!", {"$", "100", ".", "00", "!"}},
      {"default", "ab 12345678", {"ab", " ", "123", "456", "78"}},
      {"default", "«quote» ~x", {"«", "quote", "»", " ", "~", "x"}},
      {"falcon", "3333333", {"333", "333", "3"}},
      {"falcon", "a`b", {"a", "`", "b"}},
      {"falcon", "x  =  y", {"x", "  ", "=", " ", " y"}},
      {"llama-bpe", "12345", {"123", "45"}},
      {"llama-bpe", "Hello\n\nworld", {"Hello", "\n\n", "world"}},
      {"llama-bpe", "hi!!\n\nthere", {"hi", "!!\n\n", "there"}},
      {"llama-bpe", "a   b", {"a", "  ", " b"}},
      {"llama-bpe", "I'M 'LL", {"I", "'M", " '", "LL"}},
      {"llama-bpe", " \n x", {" \n", " x"}},
      {"llama-bpe", "(test)", {"(test", ")"}},
      {"llama-bpe", "don't", {"don", "'t"}},
      {"qwen2", "12345", {"1", "2", "3", "4", "5"}},
      {"qwen2", "Hi\r\n  \tthere", {"Hi", "\r\n", "  ", "\tthere"}},
      {"qwen2", "ab…cd", {"ab", "…cd"}},
      {"deepseek-llm", "Hello 世界 123", {"Hello", " ", "世界", " ", "123"}},
      {"deepseek-llm", "a\u3000。b", {"a", "\u3000", "。", "b"}},
      {"deepseek-llm", "Ωmega  \n", {"Ω", "mega", "  ", "\n"}},
      {"deepseek-llm", "x , y", {"x", " ,", " y"}},
      {"deepseek-coder",
       "def f(x):\n  return x+1",
       {"def", " f", "(", "x", "):", "\n", " ", " return", " x", "+", "1"}},
      {"deepseek-coder", "가나 abc", {"가나", " abc"}},
      {"deepseek-v3", "x~abc 1234", {"x", "~abc", " ", "123", "4"}},
      {"deepseek-v3", ".NET ~~", {".NET", " ", "~~"}},
      {"deepseek-v3", "日本語テキスト", {"日本語テキスト"}},
      {"bloom", "Hello, world! How?", {"Hello", ",", " world", "!", " How", "?"}},
      {"bloom", "a(b)c|d", {"a", "(", "b", ")", "c", "|", "d"}},
      {"viking", "abc123 def", {"abc", "1", "2", "3", " def"}},
      {"tekken", "HelloWorld", {"Hello", "World"}},
      {"tekken", "camelCaseXML", {"camel", "Case", "XML"}},
      {"tekken", "ABCdef", {"ABCdef"}},
      {"tekken", "x/y\n/z", {"x", "/y", "\n", "/z"}},
      {"tekken", "Émile Zola", {"Émile", " Zola"}},
      {"gpt-4o", "I'm HERE'S", {"I'm", " HERE'S"}},
      {"gpt-4o", "camelCase123456", {"camel", "Case", "123", "456"}},
  };
  for (const SplitCase& c : cases) {
    EXPECT_EQ(split(c.family, c.text), c.pieces) << c.family << ": '" << c.text << "'";
  }
}

TEST(PreTokenizerTest, PiecesCoverTheTextInOrder) {
  const std::string text =
      "Mixed: 12 345 'quoted' — naïve\t\tcafé\r\n\n🦙🦙 日本語 ok?  ";
  for (const char* family :
       {"gpt-2", "smollm", "llama-bpe", "qwen2", "falcon", "default", "deepseek-llm",
        "deepseek-coder", "deepseek-v3", "bloom", "viking", "tekken", "gpt-4o", "seed-coder"}) {
    std::string joined;
    for (const std::string& p : split(family, text)) {
      EXPECT_FALSE(p.empty()) << family;
      joined += p;
    }
    EXPECT_EQ(joined, text) << family;
  }
}

TEST(PreTokenizerTest, NamesSelectFamiliesAndFlags) {
  Result<PreTokenizerInfo> smollm = pre_tokenizer_info("smollm");
  ASSERT_TRUE(smollm.ok());
  EXPECT_EQ(smollm->type, PreTokenizerType::kStarcoder);
  EXPECT_FALSE(smollm->clean_spaces);
  EXPECT_FALSE(smollm->ignore_merges);

  Result<PreTokenizerInfo> llama3 = pre_tokenizer_info("llama-bpe");
  ASSERT_TRUE(llama3.ok());
  EXPECT_EQ(llama3->type, PreTokenizerType::kLlama3);
  EXPECT_TRUE(llama3->ignore_merges);
  EXPECT_TRUE(llama3->add_bos);

  EXPECT_EQ(pre_tokenizer_info("qwen2")->type, PreTokenizerType::kQwen2);
  EXPECT_EQ(pre_tokenizer_info("deepseek-r1-qwen")->type, PreTokenizerType::kQwen2);
  EXPECT_EQ(pre_tokenizer_info("mpt")->type, PreTokenizerType::kGpt2);
  EXPECT_EQ(pre_tokenizer_info("refact")->type, PreTokenizerType::kStarcoder);
  EXPECT_TRUE(pre_tokenizer_info("chatglm-bpe")->no_bos);
  EXPECT_TRUE(pre_tokenizer_info("gpt-2")->clean_spaces);

  // Missing or unknown names fall back to the default split, flagged as such.
  Result<PreTokenizerInfo> unknown = pre_tokenizer_info("no-such-tokenizer");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->type, PreTokenizerType::kDefault);
  EXPECT_FALSE(unknown->recognized);
  EXPECT_FALSE(pre_tokenizer_info("")->recognized);
  EXPECT_TRUE(pre_tokenizer_info("default")->recognized);

  // Known but not implemented: an error, not a wrong split.
  Result<PreTokenizerInfo> chameleon = pre_tokenizer_info("chameleon");
  ASSERT_FALSE(chameleon.ok());
  EXPECT_EQ(chameleon.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(chameleon.status().message().find("chameleon"), std::string::npos);
}

TEST(PreTokenizerTest, LongRunsSplitInLinearTime) {
  // 200k characters of one class and of alternating classes: must not rescan quadratically.
  const std::string letters(200000, 'a');
  EXPECT_EQ(split("llama-bpe", letters).size(), 1u);
  std::string mixed;
  for (int i = 0; i < 50000; ++i) mixed += "ab 1";
  // Digits are cut out first, so each "ab 1" gives "ab", " ", "1".
  EXPECT_EQ(split("smollm", mixed).size(), 150000u);
}

}  // namespace
}  // namespace pocketlm
