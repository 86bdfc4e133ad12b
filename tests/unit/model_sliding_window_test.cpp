// The Gemma 3 architecture and sliding-window attention on a tiny random-weight model written to
// a temporary GGUF file: hyper-parameters, the layer pattern, the ring KV cache (bit-identical to
// a full cache, bounded memory, refusing to rewind past what it holds) and the window's edge.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "format/gguf_writer.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "model/transformer.h"

namespace pocketlm {
namespace {

using V = GgufValue;

struct TinyShape {
  int64_t n_embd = 64;
  int64_t n_head = 2;
  int64_t n_head_kv = 1;
  int64_t head_dim = 32;
  int64_t n_ff = 96;
  int64_t n_layer = 6;
  int64_t n_vocab = 48;
  int64_t window = 8;
};

// Writes a gemma3 GGUF with random F32 weights (norm weights near 1) and returns its path.
std::string write_tiny_gemma3(const TinyShape& s, const std::string& tag) {
  const std::string path =
      ::testing::TempDir() + "tiny_gemma3_" + tag + "_" + std::to_string(::getpid()) + ".gguf";
  GgufWriter w;
  auto set = [&](const std::string& k, V v) { EXPECT_TRUE(w.set(k, std::move(v)).ok()) << k; };
  set("general.architecture", V::string("gemma3"));
  set("gemma3.context_length", V::u32(1024));
  set("gemma3.embedding_length", V::u32(static_cast<uint32_t>(s.n_embd)));
  set("gemma3.block_count", V::u32(static_cast<uint32_t>(s.n_layer)));
  set("gemma3.feed_forward_length", V::u32(static_cast<uint32_t>(s.n_ff)));
  set("gemma3.attention.head_count", V::u32(static_cast<uint32_t>(s.n_head)));
  set("gemma3.attention.head_count_kv", V::u32(static_cast<uint32_t>(s.n_head_kv)));
  set("gemma3.attention.key_length", V::u32(static_cast<uint32_t>(s.head_dim)));
  set("gemma3.attention.value_length", V::u32(static_cast<uint32_t>(s.head_dim)));
  set("gemma3.attention.layer_norm_rms_epsilon", V::f32(1e-6f));
  set("gemma3.attention.sliding_window", V::u32(static_cast<uint32_t>(s.window)));
  set("gemma3.rope.freq_base", V::f32(1e6f));
  set("gemma3.vocab_size", V::u32(static_cast<uint32_t>(s.n_vocab)));

  std::mt19937 gen(1234);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> data;
  auto tensor = [&](const std::string& name, std::vector<int64_t> ne, float scale, float offset) {
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    std::vector<float>& v = data.emplace_back(static_cast<size_t>(n));
    for (float& x : v) x = offset + scale * normal(gen);
    EXPECT_TRUE(w.add_tensor(name, TensorType::kF32, ne).ok()) << name;
  };
  const int64_t q_dim = s.n_head * s.head_dim, kv_dim = s.n_head_kv * s.head_dim;
  tensor("token_embd.weight", {s.n_embd, s.n_vocab}, 0.1f, 0.0f);
  tensor("output_norm.weight", {s.n_embd}, 0.1f, 1.0f);
  for (int64_t i = 0; i < s.n_layer; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    tensor(b + "attn_norm.weight", {s.n_embd}, 0.1f, 1.0f);
    tensor(b + "attn_q.weight", {s.n_embd, q_dim}, 0.2f, 0.0f);
    tensor(b + "attn_k.weight", {s.n_embd, kv_dim}, 0.2f, 0.0f);
    tensor(b + "attn_v.weight", {s.n_embd, kv_dim}, 0.2f, 0.0f);
    tensor(b + "attn_output.weight", {q_dim, s.n_embd}, 0.2f, 0.0f);
    tensor(b + "attn_q_norm.weight", {s.head_dim}, 0.1f, 1.0f);
    tensor(b + "attn_k_norm.weight", {s.head_dim}, 0.1f, 1.0f);
    tensor(b + "post_attention_norm.weight", {s.n_embd}, 0.1f, 1.0f);
    tensor(b + "ffn_norm.weight", {s.n_embd}, 0.1f, 1.0f);
    tensor(b + "ffn_gate.weight", {s.n_embd, s.n_ff}, 0.2f, 0.0f);
    tensor(b + "ffn_up.weight", {s.n_embd, s.n_ff}, 0.2f, 0.0f);
    tensor(b + "ffn_down.weight", {s.n_ff, s.n_embd}, 0.2f, 0.0f);
    tensor(b + "post_ffw_norm.weight", {s.n_embd}, 0.1f, 1.0f);
  }
  std::vector<const void*> ptrs;
  for (const auto& v : data) ptrs.push_back(v.data());
  const Status st = w.write_file(path, ptrs);
  EXPECT_TRUE(st.ok()) << st.message();
  return path;
}

class TinyGemma3 : public ::testing::Test {
 protected:
  void load(const TinyShape& shape, const std::string& tag) {
    shape_ = shape;
    path_ = write_tiny_gemma3(shape, tag);
    Result<std::unique_ptr<Model>> m = Model::load(path_, LoadOptions());
    ASSERT_TRUE(m.ok()) << m.status().message();
    model_ = std::move(m).value();
  }
  void TearDown() override {
    if (!path_.empty()) std::remove(path_.c_str());
  }

  ForwardState state(int64_t n_ctx, int64_t n_batch, bool swa_full,
                     TensorType kv = TensorType::kF16) {
    ForwardOptions fo;
    fo.n_ctx = n_ctx;
    fo.n_batch = n_batch;
    fo.swa_full = swa_full;
    fo.kv_type = kv;
    fo.max_threads = 2;
    Result<ForwardState> st = ForwardState::create(*model_, fo);
    EXPECT_TRUE(st.ok()) << st.status().message();
    return std::move(st).value();
  }

  // Feeds tokens in chunks of `chunk` and returns the logits of every position.
  std::vector<float> run(ForwardState& st, const std::vector<int32_t>& toks, int64_t chunk) {
    const int64_t nv = model_->hparams().n_vocab;
    std::vector<float> out(toks.size() * static_cast<size_t>(nv));
    for (int64_t done = 0; done < static_cast<int64_t>(toks.size()); done += chunk) {
      const int64_t m = std::min<int64_t>(chunk, static_cast<int64_t>(toks.size()) - done);
      const Status s = forward(*model_, st, kernels::active_kernels(), &pool_, toks.data() + done,
                               m, done, LogitsFor::kAll, out.data() + done * nv);
      EXPECT_TRUE(s.ok()) << s.message();
    }
    return out;
  }

  std::vector<int32_t> tokens(int64_t n, uint32_t seed) const {
    std::mt19937 gen(seed);
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (int32_t& x : t) x = static_cast<int32_t>(gen() % static_cast<uint32_t>(shape_.n_vocab));
    return t;
  }

  TinyShape shape_;
  std::string path_;
  std::unique_ptr<Model> model_;
  ThreadPool pool_{2};
};

TEST_F(TinyGemma3, HyperParametersAndLayerPattern) {
  load(TinyShape(), "hp");
  const Hparams& hp = model_->hparams();
  EXPECT_EQ(model_->arch().name, "gemma3");
  EXPECT_EQ(hp.n_swa, 8);
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    EXPECT_EQ(hp.is_swa_layer(il), il != 5) << "layer " << il;  // every sixth layer is global
  }
  EXPECT_FLOAT_EQ(hp.rope_freq_base, 1e6f);
  EXPECT_FLOAT_EQ(hp.rope_freq_base_swa, 10000.0f);
  EXPECT_EQ(hp.attn_scale, 1.0f / std::sqrt(32.0f));
  EXPECT_TRUE(model_->weights().tied_output);

  ForwardOptions fo;
  fo.n_ctx = 64;
  fo.n_batch = 4;
  // A ring of window + batch - 1 = 11 positions, rounded up to 32, for the local layers.
  EXPECT_EQ(kv_layer_cells(hp, fo), (std::vector<int64_t>{32, 32, 32, 32, 32, 64}));
  fo.swa_full = true;
  EXPECT_EQ(kv_layer_cells(hp, fo), std::vector<int64_t>(6, 64));
  fo.swa_full = false;
  fo.n_ctx = 32;  // a ring no smaller than the context is no ring
  EXPECT_EQ(kv_layer_cells(hp, fo), std::vector<int64_t>(6, 32));
}

TEST_F(TinyGemma3, MissingWindowIsAnError) {
  GgufWriter w;
  ASSERT_TRUE(w.set("general.architecture", V::string("gemma3")).ok());
  ASSERT_TRUE(w.set("gemma3.embedding_length", V::u32(64)).ok());
  ASSERT_TRUE(w.set("gemma3.block_count", V::u32(1)).ok());
  ASSERT_TRUE(w.set("gemma3.feed_forward_length", V::u32(64)).ok());
  ASSERT_TRUE(w.set("gemma3.attention.head_count", V::u32(2)).ok());
  path_ = ::testing::TempDir() + "no_window_" + std::to_string(::getpid()) + ".gguf";
  ASSERT_TRUE(w.write_file(path_, {}).ok());
  Result<std::unique_ptr<Model>> m = Model::load(path_, LoadOptions());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("gemma3.attention.sliding_window"), std::string::npos)
      << m.status().message();
}

// The ring lays positions out so every dot product runs over the same values in the same order
// as a full cache: the logits must be bit-identical, for every KV type, by batches and by tokens.
TEST_F(TinyGemma3, RingCacheMatchesFullCacheBitForBit) {
  load(TinyShape(), "ring");
  const std::vector<int32_t> toks = tokens(90, 7);
  for (TensorType kv : {TensorType::kF16, TensorType::kF32, TensorType::kQ8_0}) {
    SCOPED_TRACE(type_traits(kv).name);
    for (int64_t chunk : {int64_t{1}, int64_t{4}}) {
      ForwardState ring = state(96, 4, false, kv);
      ForwardState full = state(96, 4, true, kv);
      ASSERT_TRUE(ring.kv.is_ring(0));
      ASSERT_FALSE(full.kv.is_ring(0));
      ASSERT_LT(ring.kv.bytes(), full.kv.bytes());
      const std::vector<float> a = run(ring, toks, chunk);
      const std::vector<float> b = run(full, toks, chunk);
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) {
        ASSERT_EQ(a[i], b[i]) << "chunk " << chunk << " logit " << i;
      }
    }
  }
}

// In a model of local layers only, the token at position 0 can reach position p only through
// a chain of windows: each of the 5 layers reaches back window - 1 = 3 positions, so positions up
// to 15 see it and position 16 does not. An off-by-one window would move that edge by 5.
TEST_F(TinyGemma3, WindowEdgeIsExact) {
  TinyShape s;
  s.n_layer = 5;  // layers 0..4: all sliding-window
  s.window = 4;
  load(s, "edge");
  std::vector<int32_t> a = tokens(24, 3);
  std::vector<int32_t> b = a;
  b[0] = (a[0] + 1) % static_cast<int32_t>(s.n_vocab);
  ForwardState sa = state(32, 8, false), sb = state(32, 8, false);
  const std::vector<float> la = run(sa, a, 8), lb = run(sb, b, 8);
  const int64_t nv = s.n_vocab;
  auto same_row = [&](int64_t p) {
    for (int64_t v = 0; v < nv; ++v) {
      if (la[static_cast<size_t>(p * nv + v)] != lb[static_cast<size_t>(p * nv + v)]) return false;
    }
    return true;
  };
  EXPECT_FALSE(same_row(15));
  for (int64_t p = 16; p < 24; ++p) EXPECT_TRUE(same_row(p)) << "position " << p;
}

TEST_F(TinyGemma3, LastRowOnlyMatchesAllRows) {
  load(TinyShape(), "last");
  const std::vector<int32_t> toks = tokens(13, 11);
  ForwardState s1 = state(32, 16, false), s2 = state(32, 16, false);
  const std::vector<float> all = run(s1, toks, 13);
  std::vector<float> last(static_cast<size_t>(shape_.n_vocab));
  ASSERT_TRUE(forward(*model_, s2, kernels::active_kernels(), &pool_, toks.data(), 13, 0,
                      LogitsFor::kLast, last.data())
                  .ok());
  for (int64_t v = 0; v < shape_.n_vocab; ++v) {
    ASSERT_EQ(last[static_cast<size_t>(v)], all[static_cast<size_t>(12 * shape_.n_vocab + v)]);
  }
}

// Rewinding works while the ring still holds the window before the new position, and is refused
// (not silently wrong) once it does not; a full-size cache rewinds anywhere. Positions are
// recomputed in the same batches as the first time, so the attention sums in the same order.
TEST_F(TinyGemma3, RewindWithinTheRingOnly) {
  load(TinyShape(), "rewind");
  const std::vector<int32_t> toks = tokens(40, 5);
  const kernels::KernelTable& kt = kernels::active_kernels();
  const int64_t nv = shape_.n_vocab;
  auto rerun_matches = [&](ForwardState& st, const std::vector<float>& ref, int64_t pos0) {
    std::vector<float> again(static_cast<size_t>(4 * nv));
    const Status s = forward(*model_, st, kt, &pool_, toks.data() + pos0, 4, pos0, LogitsFor::kAll,
                             again.data());
    if (!s.ok()) return s;
    for (int64_t i = 0; i < 4 * nv; ++i) {
      EXPECT_EQ(again[static_cast<size_t>(i)], ref[static_cast<size_t>(pos0 * nv + i)]) << i;
    }
    return Status();
  };
  ForwardState st = state(64, 4, false);  // ring of 32 cells: holds positions 8..39 after this
  const std::vector<float> ref = run(st, toks, 4);
  EXPECT_TRUE(rerun_matches(st, ref, 32).ok());  // needs 25..31
  const Status s = rerun_matches(st, ref, 8);    // needs 1..7: overwritten
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_NE(s.message().find("sliding-window"), std::string::npos) << s.message();

  ForwardState full = state(64, 4, true);
  run(full, toks, 4);
  EXPECT_TRUE(rerun_matches(full, ref, 8).ok());
}

// The ring's size depends on the window and the batch, not on the context.
TEST_F(TinyGemma3, RingMemoryDoesNotGrowWithTheContext) {
  load(TinyShape(), "mem");
  const ForwardState small = state(256, 4, false), large = state(1024, 4, false);
  const ForwardState small_full = state(256, 4, true), large_full = state(1024, 4, true);
  // Only the one global layer grows: 4x the context, 4x its share.
  const size_t global_small = small_full.kv.bytes() / 6, global_large = large_full.kv.bytes() / 6;
  EXPECT_EQ(large.kv.bytes() - small.kv.bytes(), global_large - global_small);
  EXPECT_EQ(large_full.kv.bytes(), 4 * small_full.kv.bytes());
}

}  // namespace
}  // namespace pocketlm
