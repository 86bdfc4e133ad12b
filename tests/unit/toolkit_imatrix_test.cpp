// Importance matrices: the collector's bookkeeping on synthetic activations, and the GGUF file
// (llama.cpp's layout) written and read back.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "format/gguf_reader.h"
#include "format/gguf_writer.h"
#include "toolkit/imatrix/imatrix_collector.h"
#include "toolkit/imatrix/imatrix_file.h"

namespace pocketlm::toolkit {
namespace {

namespace fs = std::filesystem;
using T = TensorType;

// Two blocks of a llama-shaped model with an 8-wide embedding and tied output head.
GgufFile tiny_model() {
  GgufWriter w;
  EXPECT_TRUE(w.set("general.architecture", GgufValue::string("llama")).ok());
  EXPECT_TRUE(w.add_tensor("token_embd.weight", T::kF32, {8, 16}).ok());
  for (int il = 0; il < 2; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    for (const char* n : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
      EXPECT_TRUE(w.add_tensor(p + n + ".weight", T::kF32, {8, 8}).ok());
    }
    EXPECT_TRUE(w.add_tensor(p + "ffn_gate.weight", T::kF32, {8, 4}).ok());
    EXPECT_TRUE(w.add_tensor(p + "ffn_up.weight", T::kF32, {8, 4}).ok());
    EXPECT_TRUE(w.add_tensor(p + "ffn_down.weight", T::kF32, {4, 8}).ok());
  }
  std::vector<uint8_t> bytes = w.encode_header();
  uint64_t data = 0;
  for (const GgufTensorDecl& t : w.tensors()) data = std::max(data, t.offset + t.n_bytes);
  bytes.resize(bytes.size() + data + 64, 0);
  Result<GgufFile> f = GgufFile::open_bytes(std::move(bytes));
  EXPECT_TRUE(f.ok()) << f.status().message();
  return std::move(f).value();
}

TEST(ImatrixCollectorTest, SumsSquaredActivationsPerInputColumn) {
  const GgufFile f = tiny_model();
  ImatrixCollector c(f, 2);
  // Two tokens of the normed attention input of block 1: columns 0..7.
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[static_cast<size_t>(i)] = 0.5f * static_cast<float>(i % 8 + 1);
  c.observe("attn_norm", 1, x.data(), 2, 8);
  // Another three tokens of it, all ones.
  std::vector<float> ones(24, 1.0f);
  c.observe("attn_norm", 1, ones.data(), 3, 8);
  // FFN activations of block 0 (4 wide) and the output head's input.
  std::vector<float> act = {2.0f, 0.0f, -1.0f, 3.0f};
  c.observe("ffn_act", 0, act.data(), 1, 4);
  c.observe("result_norm", -1, ones.data(), 1, 8);
  // Intermediates nobody multiplies with are ignored.
  c.observe("q_rope", 1, ones.data(), 1, 8);
  c.observe("attn_norm", 7, ones.data(), 1, 8);

  const Imatrix im = c.result();
  for (const char* name : {"blk.1.attn_q.weight", "blk.1.attn_k.weight", "blk.1.attn_v.weight"}) {
    ASSERT_EQ(im.entries.count(name), 1u) << name;
    const ImatrixEntry& e = im.entries.at(name);
    ASSERT_EQ(e.sums.size(), 8u);
    ASSERT_EQ(e.counts.size(), 1u);
    EXPECT_FLOAT_EQ(e.counts[0], 5.0f);
    for (int j = 0; j < 8; ++j) {
      const float v = 0.5f * static_cast<float>(j + 1);
      EXPECT_FLOAT_EQ(e.sums[static_cast<size_t>(j)], 2.0f * v * v + 3.0f) << j;
    }
  }
  EXPECT_EQ(im.entries.count("blk.0.attn_q.weight"), 0u);  // never observed
  const std::optional<std::vector<float>> down = im.importance("blk.0.ffn_down.weight");
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(*down, (std::vector<float>{4.0f, 0.0f, 1.0f, 9.0f}));
  // Tied model: the output head's statistics belong to the token embedding.
  EXPECT_EQ(im.entries.count("token_embd.weight"), 1u);
  EXPECT_FALSE(im.importance("blk.0.ffn_up.weight").has_value());
}

TEST(ImatrixFileTest, WriteReadRoundTrip) {
  const fs::path dir = fs::temp_directory_path() / "plm_imatrix_file_test";
  fs::create_directories(dir);
  const std::string path = (dir / "m.imatrix.gguf").string();
  Imatrix im;
  im.datasets = {"calibration.txt"};
  im.chunk_count = 12;
  im.chunk_size = 512;
  im.entries["blk.0.attn_q.weight"] = {{1.0f, 4.0f, 9.0f, 16.0f}, {2.0f}};
  im.entries["blk.0.ffn_down.weight"] = {{0.0f, 0.5f}, {1.0f}};
  ASSERT_TRUE(write_imatrix(im, path).ok());

  // llama.cpp's layout: general.type, the dataset list, <name>.in_sum2 and <name>.counts.
  Result<GgufFile> g = GgufFile::open(path);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(*g->get_string("general.type"), "imatrix");
  EXPECT_EQ(*g->get_u32("imatrix.chunk_count"), 12u);
  EXPECT_EQ(*g->get_u32("imatrix.chunk_size"), 512u);
  const GgufTensorInfo* s = g->find_tensor("blk.0.attn_q.weight.in_sum2");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->ne[0], 4);
  EXPECT_EQ(s->ne[1], 1);
  ASSERT_NE(g->find_tensor("blk.0.attn_q.weight.counts"), nullptr);

  Result<Imatrix> r = read_imatrix(path);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->datasets, im.datasets);
  EXPECT_EQ(r->chunk_count, 12u);
  ASSERT_EQ(r->entries.size(), 2u);
  EXPECT_EQ(r->entries.at("blk.0.attn_q.weight").sums, im.entries.at("blk.0.attn_q.weight").sums);
  EXPECT_EQ(*r->importance("blk.0.attn_q.weight"), (std::vector<float>{0.5f, 2.0f, 4.5f, 8.0f}));
  fs::remove_all(dir);
}

TEST(ImatrixFileTest, RejectsOtherFiles) {
  const fs::path dir = fs::temp_directory_path() / "plm_imatrix_reject_test";
  fs::create_directories(dir);
  // A model file is GGUF too, but holds no importance data.
  GgufWriter w;
  ASSERT_TRUE(w.set("general.type", GgufValue::string("model")).ok());
  ASSERT_TRUE(w.add_tensor("blk.0.attn_q.weight", T::kF32, {4, 4}).ok());
  std::vector<float> zeros(16, 0.0f);
  const std::string model = (dir / "model.gguf").string();
  ASSERT_TRUE(w.write_file(model, {zeros.data()}).ok());
  Result<Imatrix> r = read_imatrix(model);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not an importance matrix"), std::string::npos);

  // Sums without counts.
  GgufWriter w2;
  ASSERT_TRUE(w2.add_tensor("x.in_sum2", T::kF32, {4, 1}).ok());
  const std::string partial = (dir / "partial.gguf").string();
  ASSERT_TRUE(w2.write_file(partial, {zeros.data()}).ok());
  r = read_imatrix(partial);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kMalformedFile);

  EXPECT_FALSE(read_imatrix((dir / "missing.gguf").string()).ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pocketlm::toolkit
