// BpeModel on small hand-made vocabularies whose results can be worked out by hand.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/bpe.h"
#include "tokenizer/unicode.h"

namespace pocketlm {
namespace {

// The id of each token is its index in `tokens`.
struct Toy {
  std::vector<std::string> tokens;
  std::vector<std::string> merges;
  BpeModel model;

  Toy(std::vector<std::string> t, std::vector<std::string> m)
      : tokens(std::move(t)), merges(std::move(m)) {
    Result<BpeModel> r = BpeModel::build(tokens, merges);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (r.ok()) model = std::move(*r);
  }

  int32_t id(const std::string& text) const {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (tokens[i] == text) return static_cast<int32_t>(i);
    }
    ADD_FAILURE() << "no token " << text;
    return -1;
  }

  std::vector<int32_t> encode(const std::string& word, bool ignore_merges = false) const {
    BpeScratch scratch;
    std::vector<int32_t> out;
    model.encode_word(word, ignore_merges, scratch, out);
    return out;
  }
};

TEST(BpeTest, LowestRankMergesFirst) {
  Toy t({"a", "b", "c", "d", "ab", "bc", "abc", "cd"}, {"a b", "b c", "ab c", "c d"});
  // (a,b) rank 0 beats (b,c) rank 1; then (ab,c) rank 2.
  EXPECT_EQ(t.encode("abc"), (std::vector<int32_t>{t.id("abc")}));
  // (b,c) rank 1 beats (c,d) rank 3, and nothing merges "bc" with "d".
  EXPECT_EQ(t.encode("bcd"), (std::vector<int32_t>{t.id("bc"), t.id("d")}));
  // (a,b) first, so "cd" forms from what is left.
  EXPECT_EQ(t.encode("abcd"), (std::vector<int32_t>{t.id("abc"), t.id("d")}));
  EXPECT_EQ(t.encode("dcba"), (std::vector<int32_t>{t.id("d"), t.id("c"), t.id("b"), t.id("a")}));
  EXPECT_EQ(t.encode(""), std::vector<int32_t>{});
}

TEST(BpeTest, EqualRanksMergeLeftmostFirst) {
  Toy t({"a", "aa", "aaa"}, {"a a", "aa a"});
  // "aaa": (0,1) and (1,2) share rank 0; the left pair wins, then (aa,a).
  EXPECT_EQ(t.encode("aaa"), (std::vector<int32_t>{t.id("aaa")}));
  // "aaaa": aa + aa, and there is no "aa aa" merge.
  EXPECT_EQ(t.encode("aaaa"), (std::vector<int32_t>{t.id("aa"), t.id("aa")}));
  // "aaaaa": aa aa a -> the pair (aa, a) at the end merges: aa aaa.
  EXPECT_EQ(t.encode("aaaaa"), (std::vector<int32_t>{t.id("aa"), t.id("aaa")}));
}

TEST(BpeTest, WordsAreInTheByteAlphabet) {
  // A space is "Ġ" and a newline "Ċ" in the vocabulary.
  Toy t({"a", "\xC4\xA0",
         "\xC4\xA0"
         "a",
         "\xC4\x8A"},
        {"\xC4\xA0 a"});
  EXPECT_EQ(t.encode(" a"), (std::vector<int32_t>{2}));
  EXPECT_EQ(t.encode("\n a"), (std::vector<int32_t>{3, 2}));
  EXPECT_EQ(t.model.find_token("\xC4\xA0"
                               "a"),
            2);
  EXPECT_EQ(t.model.find_token(" a"), -1);
}

TEST(BpeTest, IntermediateStringsNeedNotBeTokens) {
  // "xy" is only a step: merges may go through strings the vocabulary does not hold.
  Toy t({"x", "y", "z", "xyz"}, {"x y", "xy z"});
  EXPECT_EQ(t.encode("xyz"), (std::vector<int32_t>{t.id("xyz")}));
  // Stuck at "xy", which is no token: it falls back to its single-byte tokens.
  EXPECT_EQ(t.encode("xy"), (std::vector<int32_t>{t.id("x"), t.id("y")}));
  EXPECT_EQ(t.model.find_token("xy"), -1);
}

TEST(BpeTest, BytesWithoutATokenAreDropped) {
  // No token for "q": the reference drops it silently, and so do we.
  Toy t({"a", "b"}, {});
  EXPECT_EQ(t.encode("aqb"), (std::vector<int32_t>{0, 1}));
}

TEST(BpeTest, IgnoreMergesTakesWholeWordTokens) {
  // "abd" is a token no merge sequence reaches.
  Toy t({"a", "b", "d", "ab", "abd"}, {"a b"});
  EXPECT_EQ(t.encode("abd"), (std::vector<int32_t>{t.id("ab"), t.id("d")}));
  EXPECT_EQ(t.encode("abd", /*ignore_merges=*/true), (std::vector<int32_t>{t.id("abd")}));
  EXPECT_EQ(t.encode("abab", /*ignore_merges=*/true),
            (std::vector<int32_t>{t.id("ab"), t.id("ab")}));
}

TEST(BpeTest, DuplicatesAndMalformedMergeLines) {
  // The last of two equal token texts owns the text; the first of two equal merges keeps its
  // rank; a line without a separator still uses up its rank.
  Toy t({"a", "b", "c", "ab", "bc", "ab"}, {"nospace", "b c", "a b", "b c", "a "});
  EXPECT_EQ(t.model.find_token("ab"), 5);
  EXPECT_EQ(t.model.n_merges(), 2u);
  // (b,c) has rank 1, (a,b) rank 2: "abc" -> a bc.
  EXPECT_EQ(t.encode("abc"), (std::vector<int32_t>{0, 4}));
}

TEST(BpeTest, LongWordsStayFast) {
  // 100k identical bytes: each merge level halves the symbols; a quadratic rescan would take
  // seconds here.
  std::vector<std::string> tokens = {"a"};
  std::vector<std::string> merges;
  for (int level = 1; level <= 10; ++level) {
    tokens.push_back(std::string(size_t(1) << level, 'a'));
    merges.push_back(tokens[level - 1] + " " + tokens[level - 1]);
  }
  Toy t(tokens, merges);
  std::vector<int32_t> ids = t.encode(std::string(100000, 'a'));
  // 100000 = 97 * 1024 + 672, and 672 = 512 + 128 + 32.
  ASSERT_EQ(ids.size(), 97u + 3u);
  EXPECT_EQ(ids.front(), 10);
  EXPECT_EQ(ids[97], 9);
  EXPECT_EQ(ids[98], 7);
  EXPECT_EQ(ids[99], 5);
}

TEST(BpeTest, RejectsEmptyTokenText) {
  Result<BpeModel> r = BpeModel::build({"a", ""}, {});
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace pocketlm
