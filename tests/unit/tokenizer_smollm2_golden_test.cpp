// SmolLM2's tokenizer against ids recorded from the reference runtime (llama-cpp-python) by
// tests/tokenizer/gen_smollm2_golden.py: ChatML with and without special-token parsing, BOS
// rules, invalid UTF-8, whitespace runs, code and many scripts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/detokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_gguf.h"

namespace pocketlm {
namespace {

const std::string kModel =
    std::string(POCKETLM_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
const std::string kGolden =
    std::string(POCKETLM_SOURCE_DIR) + "/tests/tokenizer/smollm2_golden.tsv";

struct GoldenCase {
  bool parse_special = false;
  bool add_special = false;
  std::string text;
  std::vector<int32_t> ids;
};

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::vector<GoldenCase> read_golden() {
  std::vector<GoldenCase> cases;
  std::ifstream in(kGolden);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, '\t')) fields.push_back(field);
    fields.resize(4);
    GoldenCase c;
    c.parse_special = fields[0] == "1";
    c.add_special = fields[1] == "1";
    c.text = from_hex(fields[2]);
    std::istringstream ids(fields[3]);
    int32_t id;
    while (ids >> id) c.ids.push_back(id);
    cases.push_back(std::move(c));
  }
  return cases;
}

class SmolLm2TokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kModel)) {
      GTEST_SKIP() << kModel << " is absent (scripts/setup.sh fetches it)";
    }
    Result<Vocab> v = load_vocab_gguf(kModel);
    ASSERT_TRUE(v.ok()) << v.status().message();
    Result<Tokenizer> t = Tokenizer::create(std::move(*v));
    ASSERT_TRUE(t.ok()) << t.status().message();
    tok_ = std::move(*t);
  }
  Tokenizer tok_;
};

TEST_F(SmolLm2TokenizerTest, MatchesTheReferenceRuntime) {
  const std::vector<GoldenCase> cases = read_golden();
  ASSERT_EQ(cases.size(), 108u) << kGolden;
  for (const GoldenCase& c : cases) {
    EXPECT_EQ(tok_.encode(c.text, c.add_special, c.parse_special), c.ids)
        << "parse_special=" << c.parse_special << " add_special=" << c.add_special << " text '"
        << c.text << "'";
  }
}

TEST_F(SmolLm2TokenizerTest, VocabularyFacts) {
  EXPECT_EQ(tok_.n_tokens(), 49152);
  EXPECT_EQ(tok_.pre_info().type, PreTokenizerType::kStarcoder);
  EXPECT_FALSE(tok_.pre_info().clean_spaces);
  EXPECT_FALSE(tok_.add_bos());
  EXPECT_EQ(tok_.bos(), 1);  // <|im_start|>
  EXPECT_EQ(tok_.eos(), 2);  // <|im_end|>
  EXPECT_EQ(tok_.newline(), 198);
  // The reference's end-of-generation set: <|endoftext|>, <|im_end|>, and <reponame> (which
  // it takes for a fill-in-the-middle "repo" token).
  EXPECT_EQ(tok_.eog_ids(), (std::vector<int32_t>{0, 2, 4}));
  EXPECT_EQ(tok_.token_to_piece(2, false), "");
  EXPECT_EQ(tok_.token_to_piece(2, true), "<|im_end|>");
}

TEST_F(SmolLm2TokenizerTest, TextSurvivesEncodeAndStreamingDecode) {
  for (const GoldenCase& c : read_golden()) {
    if (c.parse_special) continue;  // special tokens render as their text either way
    std::vector<int32_t> ids = tok_.encode(c.text, false, false);
    StreamingDetokenizer d(tok_);
    std::string back;
    for (int32_t id : ids) back += d.push(id);
    back += d.flush();
    // Invalid bytes come back as U+FFFD; valid text comes back unchanged.
    std::string expected;
    size_t pos = 0;
    while (pos < c.text.size()) utf8_append(expected, utf8_decode(c.text, pos));
    EXPECT_EQ(back, expected);
    EXPECT_EQ(tok_.detokenize(ids, false, false), expected);
  }
}

}  // namespace
}  // namespace pocketlm
