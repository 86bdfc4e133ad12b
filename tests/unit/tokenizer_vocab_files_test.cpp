// The vocabularies in ../shared/vocab/: every case of every byte-level BPE and SentencePiece
// family whose .gguf is there must give exactly the expected ids (no BOS/EOS, special-token text
// not parsed).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_gguf.h"

namespace pocketlm {
namespace {

const std::string kVocabDir = std::string(POCKETLM_SHARED_DIR) + "/vocab/";

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

// Cases are separated by a line holding only __ggml_vocab_test__; each case is followed by one.
std::vector<std::string> split_cases(const std::string& inp) {
  static const std::string kSep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> cases;
  size_t pos = 0;
  while (true) {
    size_t sep = inp.find(kSep, pos);
    if (sep == std::string::npos) break;
    cases.push_back(inp.substr(pos, sep - pos));
    pos = sep + kSep.size();
  }
  return cases;
}

std::vector<std::vector<int32_t>> parse_expected(const std::string& out) {
  std::vector<std::vector<int32_t>> all;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream ids(line);
    std::vector<int32_t> v;
    long long id;
    while (ids >> id) v.push_back(static_cast<int32_t>(id));
    all.push_back(v);
  }
  return all;
}

std::string escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string ids_to_string(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

Result<Tokenizer> load_family(const std::string& family) {
  Result<Vocab> v = load_vocab_gguf(kVocabDir + "ggml-vocab-" + family + ".gguf");
  if (!v.ok()) return v.status();
  return Tokenizer::create(std::move(*v));
}

class TokenizerVocabFileTest : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerVocabFileTest, EveryCaseMatches) {
  const std::string family = GetParam();
  const std::string gguf = kVocabDir + "ggml-vocab-" + family + ".gguf";
  if (!std::filesystem::exists(gguf)) {
    GTEST_SKIP() << gguf << " is absent (the shared/ folder is not beside the checkout)";
  }
  auto t0 = std::chrono::steady_clock::now();
  Result<Tokenizer> tok = load_family(family);
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(tok.ok()) << tok.status().message();

  std::string inp, out;
  ASSERT_TRUE(read_file(gguf + ".inp", inp));
  ASSERT_TRUE(read_file(gguf + ".out", out));
  const std::vector<std::string> cases = split_cases(inp);
  const std::vector<std::vector<int32_t>> expected = parse_expected(out);
  ASSERT_EQ(cases.size(), expected.size());
  ASSERT_GT(cases.size(), 40u);

  size_t passed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    std::vector<int32_t> ids = tok->encode(cases[i], /*add_special=*/false,
                                           /*parse_special=*/false);
    EXPECT_EQ(ids, expected[i]) << family << " case " << i << " '" << escape(cases[i])
                                << "'\n got:     " << ids_to_string(ids)
                                << "\n expected:" << ids_to_string(expected[i]);
    if (ids == expected[i]) ++passed;
  }
  double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  std::printf("[ vocab    ] %-15s %zu/%zu cases, %d tokens, loaded in %.1f ms\n", family.c_str(),
              passed, cases.size(), tok->n_tokens(), ms);
}

std::string family_test_name(const ::testing::TestParamInfo<const char*>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(BpeFamilies, TokenizerVocabFileTest,
                         ::testing::Values("gpt-2", "starcoder", "refact", "mpt", "falcon",
                                           "deepseek-coder", "deepseek-llm"),
                         family_test_name);

// tokenizer.ggml.model = llama: Llama 2's 32k vocabulary and Phi-3's (the same plus chat
// tokens, which Phi-3 models strip whitespace after).
INSTANTIATE_TEST_SUITE_P(SentencePieceFamilies, TokenizerVocabFileTest,
                         ::testing::Values("llama-spm", "phi-3"), family_test_name);

// gpt-neox has a .gguf but no expected ids, and no tokenizer.ggml.pre: it gets the default split
// (flagged), and every input must come back byte for byte from its pieces.
TEST(TokenizerVocabFileTest, GptNeoxWithoutPreRoundTrips) {
  const std::string gguf = kVocabDir + "ggml-vocab-gpt-neox.gguf";
  if (!std::filesystem::exists(gguf)) {
    GTEST_SKIP() << gguf << " is absent (the shared/ folder is not beside the checkout)";
  }
  Result<Tokenizer> tok = load_family("gpt-neox");
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  EXPECT_FALSE(tok->pre_info().recognized);
  EXPECT_EQ(tok->pre_info().type, PreTokenizerType::kDefault);
  EXPECT_EQ(tok->eos(), 0);  // <|endoftext|>
  EXPECT_TRUE(tok->is_eog(0));

  std::string inp;
  ASSERT_TRUE(read_file(kVocabDir + "ggml-vocab-gpt-2.gguf.inp", inp));
  for (const std::string& text : split_cases(inp)) {
    std::vector<int32_t> ids = tok->encode(text, false, false);
    std::string back;
    for (int32_t id : ids) back += tok->token_to_piece(id, false);
    EXPECT_EQ(back, text);
    EXPECT_LE(ids.size(), text.size());
  }
  // Its whitespace runs are user-defined tokens, matched before pre-tokenization.
  const int32_t four_spaces = tok->find_token("    ");
  ASSERT_GE(four_spaces, 0);
  std::vector<int32_t> ids = tok->encode("a    b", false, false);
  EXPECT_NE(std::find(ids.begin(), ids.end(), four_spaces), ids.end());
}

// baichuan has a SentencePiece .gguf but no expected ids (nor add_space_prefix, so the prefix
// defaults to on): every input must come back byte for byte through detokenize(), which takes the
// prefix off again, and the Llama defaults and byte fallback must hold.
TEST(TokenizerVocabFileTest, BaichuanWithoutCasesRoundTrips) {
  const std::string gguf = kVocabDir + "ggml-vocab-baichuan.gguf";
  if (!std::filesystem::exists(gguf)) {
    GTEST_SKIP() << gguf << " is absent (the shared/ folder is not beside the checkout)";
  }
  Result<Tokenizer> tok = load_family("baichuan");
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  EXPECT_EQ(tok->model(), TokenizerModel::kSpm);
  EXPECT_TRUE(tok->add_space_prefix());
  EXPECT_TRUE(tok->add_bos());
  EXPECT_EQ(tok->bos(), 1);
  EXPECT_EQ(tok->eos(), 2);
  EXPECT_EQ(tok->special().unk, 0);  // the default: the file names none
  EXPECT_EQ(tok->newline(), tok->find_token("<0x0A>"));

  std::string inp;
  ASSERT_TRUE(read_file(kVocabDir + "ggml-vocab-llama-spm.gguf.inp", inp));
  for (const std::string& text : split_cases(inp)) {
    std::vector<int32_t> ids = tok->encode(text, false, false);
    EXPECT_EQ(tok->detokenize(ids, false, false), text) << escape(text);
    std::vector<int32_t> with_bos = tok->encode(text, true, false);
    ASSERT_FALSE(with_bos.empty());
    EXPECT_EQ(with_bos[0], 1);
    // Removing the BOS keeps the prefix space (the reference's rule).
    EXPECT_EQ(tok->detokenize(with_bos, true, false), text.empty() ? "" : " " + text);
  }
}

// Other tokenizer models are refused with a message that names what is supported.
TEST(TokenizerVocabFileTest, WordPieceVocabulariesAreRejectedCleanly) {
  const std::string gguf = kVocabDir + "ggml-vocab-bert-bge.gguf";
  if (!std::filesystem::exists(gguf)) {
    GTEST_SKIP() << gguf << " is absent (the shared/ folder is not beside the checkout)";
  }
  Result<Tokenizer> tok = load_family("bert-bge");
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(tok.status().message().find("'bert'"), std::string::npos);
  EXPECT_NE(tok.status().message().find("llama"), std::string::npos);
}

}  // namespace
}  // namespace pocketlm
