// vocab_from_gguf on small GGUF images built in memory: what is read, and what is refused.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "format/gguf_reader.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_gguf.h"

namespace pocketlm {
namespace {

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}

// A GGUF v3 image with these metadata entries and no tensors.
std::vector<uint8_t> gguf_image(const std::vector<std::pair<std::string, GgufValue>>& kvs) {
  std::vector<uint8_t> out;
  put<uint32_t>(out, kGgufMagic);
  put<uint32_t>(out, 3);
  put<uint64_t>(out, 0);
  put<uint64_t>(out, kvs.size());
  for (const auto& [key, value] : kvs) {
    put<uint64_t>(out, key.size());
    out.insert(out.end(), key.begin(), key.end());
    put<uint32_t>(out, static_cast<uint32_t>(value.type()));
    value.encode(out);
  }
  while (out.size() % kGgufDefaultAlignment != 0) out.push_back(0);
  return out;
}

std::vector<std::pair<std::string, GgufValue>> minimal_kvs() {
  return {
      {"general.name", GgufValue::string("toy")},
      {"tokenizer.ggml.model", GgufValue::string("gpt2")},
      {"tokenizer.ggml.pre", GgufValue::string("smollm")},
      {"tokenizer.ggml.tokens",
       GgufValue::array(std::vector<std::string>{"a", "b", "ab", "<|im_end|>"})},
      {"tokenizer.ggml.token_type", GgufValue::array(std::vector<int32_t>{1, 1, 1, 3})},
      {"tokenizer.ggml.merges", GgufValue::array(std::vector<std::string>{"a b"})},
      {"tokenizer.ggml.eos_token_id", GgufValue::u32(3)},
      {"tokenizer.ggml.bos_token_id", GgufValue::i32(3)},  // other integer types are fine
      {"tokenizer.ggml.add_bos_token", GgufValue::boolean(false)},
  };
}

Result<Vocab> read(const std::vector<std::pair<std::string, GgufValue>>& kvs) {
  Result<GgufFile> f = GgufFile::open_bytes(gguf_image(kvs));
  if (!f.ok()) return f.status();
  return vocab_from_gguf(*f);
}

std::vector<std::pair<std::string, GgufValue>> with(std::string key, GgufValue value) {
  auto kvs = minimal_kvs();
  for (auto& kv : kvs) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return kvs;
    }
  }
  kvs.emplace_back(std::move(key), std::move(value));
  return kvs;
}

std::vector<std::pair<std::string, GgufValue>> without(const std::string& key) {
  auto kvs = minimal_kvs();
  std::erase_if(kvs, [&](const auto& kv) { return kv.first == key; });
  return kvs;
}

TEST(TokenizerVocabGgufTest, ReadsTheTokenizerKeys) {
  Result<Vocab> v = read(minimal_kvs());
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->model, "gpt2");
  EXPECT_EQ(v->pre, "smollm");
  EXPECT_EQ(v->name, "toy");
  EXPECT_EQ(v->tokens, (std::vector<std::string>{"a", "b", "ab", "<|im_end|>"}));
  EXPECT_EQ(v->token_types, (std::vector<int32_t>{1, 1, 1, 3}));
  EXPECT_EQ(v->merges, (std::vector<std::string>{"a b"}));
  EXPECT_TRUE(v->scores.empty());
  EXPECT_EQ(v->special.eos, 3);
  EXPECT_EQ(v->special.bos, 3);
  EXPECT_EQ(v->special.pad, kNoToken);
  ASSERT_TRUE(v->add_bos.has_value());
  EXPECT_FALSE(*v->add_bos);
  EXPECT_FALSE(v->add_eos.has_value());

  Result<Tokenizer> t = Tokenizer::create(std::move(*v));
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->encode("ab<|im_end|>", true, true), (std::vector<int32_t>{2, 3}));
}

TEST(TokenizerVocabGgufTest, OutOfRangeSpecialIdsAreIgnoredWithAWarning) {
  Result<Vocab> v = read(with("tokenizer.ggml.padding_token_id", GgufValue::u32(99)));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->special.pad, kNoToken);
  ASSERT_EQ(v->warnings.size(), 1u);
  EXPECT_NE(v->warnings[0].find("padding_token_id"), std::string::npos);
}

// A SentencePiece vocabulary: scores (float32, or int32 as some converters wrote them) and the
// space-prefix flag; no merges needed.
TEST(TokenizerVocabGgufTest, ReadsSentencePieceKeys) {
  auto kvs = without("tokenizer.ggml.merges");
  std::erase_if(kvs, [](const auto& kv) { return kv.first == "tokenizer.ggml.bos_token_id"; });
  for (auto& kv : kvs) {
    if (kv.first == "tokenizer.ggml.model") kv.second = GgufValue::string("llama");
    if (kv.first == "tokenizer.ggml.tokens") {
      kv.second = GgufValue::array(std::vector<std::string>{"a", "b", "ab", "<|im_end|>"});
    }
  }
  kvs.emplace_back("tokenizer.ggml.add_space_prefix", GgufValue::boolean(false));
  auto float_kvs = kvs;
  float_kvs.emplace_back("tokenizer.ggml.scores",
                         GgufValue::array(std::vector<float>{-1.0f, -2.0f, -0.5f, 0.0f}));
  auto int_kvs = kvs;
  int_kvs.emplace_back("tokenizer.ggml.scores",
                       GgufValue::array(std::vector<int32_t>{-1, -2, -3, 0}));
  for (const auto* which : {&float_kvs, &int_kvs}) {
    Result<Vocab> v = read(*which);
    ASSERT_TRUE(v.ok()) << v.status().message();
    EXPECT_EQ(v->model, "llama");
    EXPECT_TRUE(v->merges.empty());
    ASSERT_TRUE(v->add_space_prefix.has_value());
    EXPECT_FALSE(*v->add_space_prefix);
    ASSERT_EQ(v->scores.size(), 4u);
    EXPECT_EQ(v->scores[0], -1.0f);
    EXPECT_EQ(v->scores[1], -2.0f);

    Result<Tokenizer> t = Tokenizer::create(std::move(*v));
    ASSERT_TRUE(t.ok()) << t.status().message();
    EXPECT_EQ(t->model(), TokenizerModel::kSpm);
    EXPECT_FALSE(t->add_space_prefix());
    EXPECT_EQ(t->bos(), 1);  // the SentencePiece default where the file names none
    EXPECT_EQ(t->encode("ab", false, false), (std::vector<int32_t>{2}));
  }
  auto bad = kvs;
  bad.emplace_back("tokenizer.ggml.scores", GgufValue::array(std::vector<uint8_t>{1, 2, 3, 4}));
  Result<Vocab> v = read(bad);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("tokenizer.ggml.scores"), std::string::npos);
}

TEST(TokenizerVocabGgufTest, RefusesMalformedMetadata) {
  struct Bad {
    std::vector<std::pair<std::string, GgufValue>> kvs;
    StatusCode code;
    const char* names;
  } bad[] = {
      {without("tokenizer.ggml.model"), StatusCode::kNotFound, "tokenizer.ggml.model"},
      {without("tokenizer.ggml.tokens"), StatusCode::kNotFound, "tokenizer.ggml.tokens"},
      {without("tokenizer.ggml.merges"), StatusCode::kMalformedFile, "merges"},
      {with("tokenizer.ggml.tokens", GgufValue::u32(4)), StatusCode::kMalformedFile,
       "tokenizer.ggml.tokens"},
      {with("tokenizer.ggml.token_type", GgufValue::array(std::vector<int32_t>{1, 1})),
       StatusCode::kMalformedFile, "token_type"},
      {with("tokenizer.ggml.scores", GgufValue::array(std::vector<float>{0.5f})),
       StatusCode::kMalformedFile, "scores"},
      {with("tokenizer.ggml.eos_token_id", GgufValue::string("3")), StatusCode::kMalformedFile,
       "eos_token_id"},
      {with("tokenizer.ggml.eos_token_id", GgufValue::i32(-1)), StatusCode::kMalformedFile,
       "eos_token_id"},
      {with("tokenizer.ggml.add_bos_token", GgufValue::u8(1)), StatusCode::kMalformedFile,
       "add_bos_token"},
      {with("tokenizer.ggml.pre", GgufValue::u32(1)), StatusCode::kMalformedFile,
       "tokenizer.ggml.pre"},
      {with("tokenizer.ggml.add_space_prefix", GgufValue::string("no")), StatusCode::kMalformedFile,
       "add_space_prefix"},
      {with("tokenizer.ggml.scores", GgufValue::array(std::vector<int32_t>{1, 2})),
       StatusCode::kMalformedFile, "scores"},
  };
  for (const Bad& b : bad) {
    Result<Vocab> v = read(b.kvs);
    ASSERT_FALSE(v.ok()) << b.names;
    EXPECT_EQ(v.status().code(), b.code) << v.status().message();
    EXPECT_NE(v.status().message().find(b.names), std::string::npos) << v.status().message();
  }
}

}  // namespace
}  // namespace pocketlm
