// The runtime Session over Gemma 3's sliding-window ring cache, on the real Gemma 3 270M: the
// ring's memory at a 4,096-token context against a cache that keeps every position (swa_full),
// and the two cases where a session must go back further than the ring remembers: a chat whose
// early history changed, and a context shift. Both must give what a fresh session gives.
// Label golden: each case prefills several hundred tokens, too slow for the sanitizer runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "model/transformer.h"
#include "runtime/engine_model.h"
#include "runtime/session.h"

namespace pocketlm {
namespace {

const std::string kModel = std::string(POCKETLM_SOURCE_DIR) + "/models/gemma-3-270m-q4_k_m.gguf";

class SessionSlidingWindow : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(kModel)) return;
    Result<std::unique_ptr<LoadedModel>> m = LoadedModel::load(kModel, LoadOptions());
    ASSERT_TRUE(m.ok()) << m.status().message();
    model_ = std::move(m).value().release();
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  void SetUp() override {
    if (!model_) GTEST_SKIP() << kModel << " is absent: run scripts/fetch_models.py";
  }

  static std::unique_ptr<Session> make(int64_t n_ctx, int64_t n_batch, bool swa_full = false) {
    SessionOptions so;
    so.n_ctx = n_ctx;
    so.n_batch = n_batch;
    so.n_threads = 2;
    so.swa_full = swa_full;
    Result<std::unique_ptr<Session>> s = Session::create(*model_, so);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  static GenerateOptions greedy(int32_t max_tokens) {
    GenerateOptions go;
    go.sampling.temperature = 0.0f;
    go.max_tokens = max_tokens;
    go.ignore_eos = true;
    return go;
  }

  static TokenSink collect(std::vector<int32_t>& ids) {
    return [&ids](std::string_view, int32_t id, float) {
      ids.push_back(id);
      return true;
    };
  }

  // A report of `n` numbered, varied sentences: several hundred tokens, more than the window.
  static std::string long_text(int n, const char* subject) {
    static const char* kThings[] = {"ladders", "drills", "lamps", "bicycles", "kettles", "saws"};
    std::string s;
    for (int i = 0; i < n; ++i) {
      s += "Entry " + std::to_string(i + 1) + ": the " + subject + " lent out " +
           std::to_string((i * 37) % 101) + " " + kThings[i % 6] + " in week " +
           std::to_string(i % 52 + 1) + ", and " + std::to_string((i * 13) % 17) +
           " came back needing repair. ";
    }
    return s;
  }

  static LoadedModel* model_;
};

LoadedModel* SessionSlidingWindow::model_ = nullptr;

TEST_F(SessionSlidingWindow, RingMemoryAtA4096TokenContext) {
  const Hparams& hp = model_->model->hparams();
  ASSERT_TRUE(hp.has_swa());
  int64_t n_swa_layers = 0;
  for (int64_t il = 0; il < hp.n_layer; ++il) n_swa_layers += hp.is_swa_layer(il) ? 1 : 0;
  EXPECT_EQ(hp.n_swa, 512);
  EXPECT_EQ(n_swa_layers, 15);  // five of every six layers; 18 layers

  std::unique_ptr<Session> ring = make(4096, 512);
  std::unique_ptr<Session> full = make(4096, 512, /*swa_full=*/true);
  ASSERT_TRUE(ring && full);
  // F16 keys, one row of kv_dim per cell; F16 values transposed, one row of cells per value
  // element, a ring's rows holding its cells twice (see kv_cache.h).
  const size_t kv = static_cast<size_t>(hp.kv_dim());
  const size_t vd = static_cast<size_t>(hp.v_dim());
  const size_t per_full_layer = 4096 * kv * 2 + vd * 4096 * 2;
  const size_t ring_cells = 512 + 512;  // the window plus one batch, a multiple of 32
  const size_t per_ring_layer = ring_cells * kv * 2 + vd * 2 * ring_cells * 2;
  EXPECT_EQ(full->kv_cache_bytes(), 18 * per_full_layer);
  EXPECT_EQ(ring->kv_cache_bytes(),
            static_cast<size_t>(n_swa_layers) * per_ring_layer +
                static_cast<size_t>(18 - n_swa_layers) * per_full_layer);
  std::printf("KV cache at 4096 tokens, F16: %.1f MiB with rings, %.1f MiB without\n",
              static_cast<double>(ring->kv_cache_bytes()) / (1 << 20),
              static_cast<double>(full->kv_cache_bytes()) / (1 << 20));
}

// Turn two rewrites the start of the first user message; the ring has long overwritten those
// positions, so the session feeds the whole conversation again instead of failing, and answers
// exactly as a fresh session does.
TEST_F(SessionSlidingWindow, ChatEditedBeforeTheRingIsFedAgain) {
  std::unique_ptr<Session> s = make(2048, 64);
  ASSERT_TRUE(s);
  const std::string report = long_text(24, "tool library");
  std::vector<ChatMessage> conv = {{"user", "Summarize this report.\n\n" + report}};
  std::vector<int32_t> first;
  Result<StopReason> why = s->chat(conv, nullptr, greedy(4), collect(first));
  ASSERT_TRUE(why.ok()) << why.status().message();
  ASSERT_GT(s->n_past(), 512 + 64) << "the conversation must outgrow the ring";

  conv[0].content = "Shorten this report.\n\n" + report;
  conv.push_back({"assistant", "It lent out tools."});
  conv.push_back({"user", "Which tools?"});
  std::vector<int32_t> again;
  why = s->chat(conv, nullptr, greedy(8), collect(again));
  ASSERT_TRUE(why.ok()) << why.status().message();
  EXPECT_EQ(s->stats().reused_tokens, 0);

  std::unique_ptr<Session> fresh = make(2048, 64);
  ASSERT_TRUE(fresh);
  std::vector<int32_t> expect;
  ASSERT_TRUE(fresh->chat(conv, nullptr, greedy(8), collect(expect)).ok());
  EXPECT_EQ(again, expect);
  EXPECT_EQ(s->history(), fresh->history());
}

// A context shift keeps the first tokens and drops half of the rest; with the ring those first
// tokens' window is gone, so they are fed again with the kept tail. The token sampled last must
// be the argmax of a fresh forward pass over the session's history.
TEST_F(SessionSlidingWindow, ContextShiftPastTheRing) {
  const std::string prompt = long_text(22, "tool library");
  const std::vector<int32_t> ids = model_->tokenizer.encode(prompt, true, true);
  // The ring holds 512 + 32 cells; the context is a little longer than the prompt, so the
  // reply overflows it.
  ASSERT_GT(ids.size(), 512u + 32u + 16u);
  const int64_t n_ctx = static_cast<int64_t>(ids.size()) + 8;
  std::unique_ptr<Session> s = make(n_ctx, 32);
  ASSERT_TRUE(s);
  GenerateOptions go = greedy(24);
  go.context_policy = ContextPolicy::kShift;
  go.n_keep = 4;
  std::vector<int32_t> out;
  Result<StopReason> why = s->generate(prompt, go, collect(out));
  ASSERT_TRUE(why.ok()) << why.status().message();
  EXPECT_EQ(*why, StopReason::kMaxTokens);
  EXPECT_GE(s->stats().shifts, 1);
  const std::vector<int32_t> h = s->history();
  EXPECT_TRUE(std::equal(ids.begin(), ids.begin() + 4, h.begin()));

  ForwardOptions fo;
  fo.n_ctx = n_ctx;
  fo.max_threads = 2;
  Result<ForwardState> st = ForwardState::create(*model_->model, fo);
  ASSERT_TRUE(st.ok());
  ThreadPool pool(2);
  std::vector<float> logits(static_cast<size_t>(model_->model->hparams().n_vocab));
  ASSERT_TRUE(forward(*model_->model, *st, kernels::active_kernels(), &pool, h.data(),
                      static_cast<int64_t>(h.size()), 0, LogitsFor::kLast, logits.data())
                  .ok());
  const int32_t fresh =
      static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  EXPECT_EQ(fresh, out.back());
}

}  // namespace
}  // namespace pocketlm
