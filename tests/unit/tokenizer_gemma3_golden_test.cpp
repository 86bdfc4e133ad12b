// Gemma 3's SentencePiece tokenizer against ids recorded from the reference runtime
// (llama-cpp-python) by tests/tokenizer/gen_gemma3_golden.py: chat turns and other control
// tokens with and without special-token parsing, user-defined tokens (whitespace runs, HTML
// tags), BOS, byte fallback, a literal U+2581 and malformed UTF-8 — and the detokenized text
// the reference gives back for each. The vocabulary facts the runtime relies on (BOS, EOS, the
// <end_of_turn> end-of-generation token) are checked here too.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/chat_template.h"
#include "tokenizer/detokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_gguf.h"

namespace pocketlm {
namespace {

const std::string kModel = std::string(POCKETLM_SOURCE_DIR) + "/models/gemma-3-270m-q4_k_m.gguf";
const std::string kGolden = std::string(POCKETLM_SOURCE_DIR) + "/tests/tokenizer/gemma3_golden.tsv";

struct GoldenCase {
  bool parse_special = false;
  bool add_special = false;
  std::string text;
  std::vector<int32_t> ids;
  std::string detokenized;  // reference detokenize(ids, add_special, parse_special)
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
    fields.resize(5);
    GoldenCase c;
    c.parse_special = fields[0] == "1";
    c.add_special = fields[1] == "1";
    c.text = from_hex(fields[2]);
    std::istringstream ids(fields[3]);
    int32_t id;
    while (ids >> id) c.ids.push_back(id);
    c.detokenized = from_hex(fields[4]);
    cases.push_back(std::move(c));
  }
  return cases;
}

std::string shown(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x80) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

class Gemma3TokenizerTest : public ::testing::Test {
 protected:
  // One load for the whole suite: 262k tokens.
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(kModel)) return;
    const auto t0 = std::chrono::steady_clock::now();
    Result<Vocab> v = load_vocab_gguf(kModel);
    if (!v.ok()) {
      load_error_ = v.status().message();
      return;
    }
    Result<Tokenizer> t = Tokenizer::create(std::move(*v));
    if (!t.ok()) {
      load_error_ = t.status().message();
      return;
    }
    const auto t1 = std::chrono::steady_clock::now();
    std::printf("[ info ] Gemma 3 vocabulary (%d tokens) read and indexed in %.1f ms\n",
                t->n_tokens(), std::chrono::duration<double, std::milli>(t1 - t0).count());
    tok_ = new Tokenizer(std::move(*t));
  }
  static void TearDownTestSuite() {
    delete tok_;
    tok_ = nullptr;
  }
  void SetUp() override {
    if (!std::filesystem::exists(kModel)) {
      GTEST_SKIP() << kModel << " is absent (scripts/setup.sh fetches it)";
    }
    ASSERT_TRUE(load_error_.empty()) << load_error_;
    ASSERT_NE(tok_, nullptr);
  }

  static Tokenizer* tok_;
  static std::string load_error_;
};

Tokenizer* Gemma3TokenizerTest::tok_ = nullptr;
std::string Gemma3TokenizerTest::load_error_;

TEST_F(Gemma3TokenizerTest, MatchesTheReferenceRuntime) {
  const std::vector<GoldenCase> cases = read_golden();
  ASSERT_EQ(cases.size(), 140u) << kGolden;
  for (const GoldenCase& c : cases) {
    const std::vector<int32_t> ids = tok_->encode(c.text, c.add_special, c.parse_special);
    EXPECT_EQ(ids, c.ids) << "parse_special=" << c.parse_special << " add_special=" << c.add_special
                          << " text '" << shown(c.text) << "'";
    EXPECT_EQ(tok_->detokenize(c.ids, c.add_special, c.parse_special), c.detokenized)
        << "detokenize, parse_special=" << c.parse_special << " add_special=" << c.add_special
        << " text '" << shown(c.text) << "'";
  }
}

// The streaming detokenizer gives the pieces' bytes, whole UTF-8 sequences at a time, also where
// a character is spelled by byte tokens.
TEST_F(Gemma3TokenizerTest, StreamingGivesTheDetokenizedText) {
  for (const GoldenCase& c : read_golden()) {
    if (c.add_special) continue;  // the same ids after the BOS
    StreamingDetokenizer d(*tok_, c.parse_special);
    std::string back;
    for (int32_t id : c.ids) back += d.push(id);
    back += d.flush();
    EXPECT_EQ(back, c.detokenized) << "text '" << shown(c.text) << "'";
  }
  // "𓀀" (U+13000) is not a piece of the vocabulary: four byte tokens, released together.
  const std::string hieroglyph = "\xF0\x93\x80\x80";
  const std::vector<int32_t> ids = tok_->encode(hieroglyph, false, false);
  ASSERT_EQ(ids.size(), 4u);
  for (int32_t id : ids) EXPECT_TRUE(tok_->token_attr(id) & TokenAttr::kByte);
  StreamingDetokenizer d(*tok_);
  EXPECT_EQ(d.push(ids[0]), "");
  EXPECT_EQ(d.push(ids[1]), "");
  EXPECT_EQ(d.push(ids[2]), "");
  EXPECT_EQ(d.pending(), 3u);
  EXPECT_EQ(d.push(ids[3]), hieroglyph);
  EXPECT_EQ(d.flush(), "");
}

TEST_F(Gemma3TokenizerTest, VocabularyFacts) {
  EXPECT_EQ(tok_->model(), TokenizerModel::kSpm);
  EXPECT_EQ(tok_->n_tokens(), 262144);
  EXPECT_TRUE(tok_->add_bos());
  EXPECT_FALSE(tok_->add_eos());
  EXPECT_FALSE(tok_->add_space_prefix());  // tokenizer.ggml.add_space_prefix = false
  EXPECT_EQ(tok_->bos(), 2);               // <bos>
  EXPECT_EQ(tok_->eos(), 1);               // <eos>
  EXPECT_EQ(tok_->eot(), 106);             // <end_of_turn>, found by its text
  EXPECT_EQ(tok_->special().unk, 3);
  EXPECT_EQ(tok_->special().pad, 0);
  EXPECT_EQ(tok_->newline(), 248);  // <0x0A>
  // The reference's end-of-generation set: <eos>, <end_of_turn>, and </s> (an HTML-tag token
  // here, but the end token of other vocabularies), which thereby also becomes control.
  EXPECT_EQ(tok_->eog_ids(), (std::vector<int32_t>{1, 106, 212}));
  EXPECT_TRUE(tok_->is_eog(106));
  EXPECT_FALSE(tok_->is_eog(105));
  EXPECT_TRUE(tok_->is_control(105));  // <start_of_turn>
  EXPECT_EQ(tok_->token_attr(212), TokenAttr::kControl | TokenAttr::kUserDefined);
  EXPECT_EQ(tok_->token_attr(6), TokenAttr::kControl | TokenAttr::kUnused);  // <unused0>
  EXPECT_EQ(tok_->token_attr(138), TokenAttr::kUserDefined);                 // two spaces
  EXPECT_EQ(tok_->token_attr(238), TokenAttr::kByte);                        // <0x00>
  EXPECT_EQ(tok_->token_to_piece(106, false), "");
  EXPECT_EQ(tok_->token_to_piece(106, true), "<end_of_turn>");
  EXPECT_EQ(tok_->token_to_piece(107, false), "\n");  // user-defined: always shown
  EXPECT_EQ(tok_->token_to_piece(tok_->find_token("<0x41>"), false), "A");
  EXPECT_EQ(tok_->token_to_piece(tok_->find_token("\xE2\x96\x81Hello"), false), " Hello");
}

// A Gemma chat prompt as the runtime builds it: rendered by the chat template, tokenized with
// special-token parsing and no added BOS (the template writes <bos>); the reply ends at a token
// the tokenizer reports as end of generation, and every stop string is one such token.
TEST_F(Gemma3TokenizerTest, ChatTemplatePromptAndStop) {
  Result<ChatTemplate> tmpl = ChatTemplate::from_name("gemma");
  ASSERT_TRUE(tmpl.ok()) << tmpl.status().message();
  const std::vector<ChatMessage> conv = {{"system", "Be brief."}, {"user", "Hi"}};
  Result<std::string> prompt = tmpl->render(conv, true, tok_->token_to_piece(tok_->bos(), true),
                                            tok_->token_to_piece(tok_->eos(), true));
  ASSERT_TRUE(prompt.ok()) << prompt.status().message();
  ASSERT_TRUE(tmpl->emits_bos());
  const std::vector<GoldenCase> cases = read_golden();
  const auto it = std::find_if(cases.begin(), cases.end(), [&](const GoldenCase& c) {
    return c.text == *prompt && c.parse_special && !c.add_special;
  });
  ASSERT_NE(it, cases.end()) << "the rendered prompt '" << shown(*prompt)
                             << "' is not a golden case";
  EXPECT_EQ(tok_->encode(*prompt, false, true), it->ids);
  EXPECT_EQ(it->ids.front(), tok_->bos());
  EXPECT_EQ(std::count(it->ids.begin(), it->ids.end(), tok_->bos()), 1);

  for (const std::string& stop : tmpl->stop_strings()) {
    const std::vector<int32_t> ids = tok_->encode(stop, false, true);
    ASSERT_EQ(ids.size(), 1u) << stop;
    EXPECT_TRUE(tok_->is_eog(ids[0])) << stop;
    EXPECT_EQ(ids[0], tok_->eot());
  }
}

}  // namespace
}  // namespace pocketlm
