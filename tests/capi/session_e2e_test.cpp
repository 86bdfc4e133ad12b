// The runtime Session on the real SmolLM2 model, from the inside: history bookkeeping, the
// token held back between calls, chunked and cancellable prefill, chat reuse by text prefix and
// by common token prefix, and the context shift checked against a fresh forward pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "model/transformer.h"
#include "runtime/engine_model.h"
#include "runtime/session.h"

namespace pocketlm {
namespace {

const std::string kModel =
    std::string(POCKETLM_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";

class SessionE2e : public ::testing::Test {
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

  static std::unique_ptr<Session> make(int64_t n_ctx, int64_t n_batch = 256) {
    SessionOptions so;
    so.n_ctx = n_ctx;
    so.n_batch = n_batch;
    so.n_threads = 2;
    Result<std::unique_ptr<Session>> s = Session::create(*model_, so);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  static GenerateOptions greedy(int32_t max_tokens) {
    GenerateOptions go;
    go.sampling.temperature = 0.0f;
    go.max_tokens = max_tokens;
    return go;
  }

  struct Out {
    std::string text;
    std::vector<int32_t> ids;
  };
  static TokenSink collect(Out& out) {
    return [&out](std::string_view t, int32_t id, float) {
      out.text += t;
      out.ids.push_back(id);
      return true;
    };
  }

  static LoadedModel* model_;
};

LoadedModel* SessionE2e::model_ = nullptr;

TEST_F(SessionE2e, HistoryIsWhatTheCacheHolds) {
  std::unique_ptr<Session> s = make(128);
  ASSERT_TRUE(s);
  Out out;
  Result<StopReason> why = s->generate("The capital of France is", greedy(6), collect(out));
  ASSERT_TRUE(why.ok());
  EXPECT_EQ(*why, StopReason::kMaxTokens);
  const std::vector<int32_t>& h = s->history();
  ASSERT_EQ(static_cast<int64_t>(h.size()), s->n_past());
  ASSERT_EQ(h.size(), 5u + 5u);  // the prompt and 5 of the 6 tokens: the last is held back
  EXPECT_TRUE(std::equal(out.ids.begin(), out.ids.end() - 1, h.begin() + 5));
  EXPECT_EQ(s->history_text(), model_->tokenizer.detokenize(h, false, true));
  EXPECT_EQ(
      s->history_text(),
      "The capital of France is" +
          out.text.substr(
              0, out.text.size() - model_->tokenizer.token_to_piece(out.ids.back(), true).size()));
}

// The token held back at the end of one call is fed first by the next, so two calls of three
// tokens give what one call of six gives.
TEST_F(SessionE2e, ContinuationEqualsOneLongerGeneration) {
  std::unique_ptr<Session> s = make(128);
  ASSERT_TRUE(s);
  Out once;
  ASSERT_TRUE(s->generate("Once upon a time", greedy(6), collect(once)).ok());
  s->reset();
  Out twice;
  ASSERT_TRUE(s->generate("Once upon a time", greedy(3), collect(twice)).ok());
  const int64_t held = s->n_past();
  Result<StopReason> why = s->generate("", greedy(3), collect(twice));
  ASSERT_TRUE(why.ok()) << why.status().message();
  EXPECT_EQ(twice.ids, once.ids);
  EXPECT_EQ(twice.text, once.text);
  EXPECT_EQ(s->stats().reused_tokens, held);
  EXPECT_EQ(s->stats().prompt_tokens, 1);

  // Nothing at all to start from is an error.
  s->reset();
  why = s->generate("", greedy(3), collect(twice));
  ASSERT_FALSE(why.ok());
  EXPECT_EQ(why.status().code(), StatusCode::kInvalidArgument);
}

// Prefill in chunks of 3 gives the same greedy continuation as in one batch.
TEST_F(SessionE2e, ChunkedPrefillMatchesOneBatch) {
  const std::string prompt = "The quick brown fox jumps over the lazy dog. Then it";
  Out a, b;
  std::unique_ptr<Session> big = make(128, 256);
  std::unique_ptr<Session> small = make(128, 3);
  ASSERT_TRUE(big && small);
  ASSERT_TRUE(big->generate(prompt, greedy(8), collect(a)).ok());
  ASSERT_TRUE(small->generate(prompt, greedy(8), collect(b)).ok());
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(big->history(), small->history());
}

// cancel() from another thread during a long prefill stops it between chunks, leaving a
// consistent history: a prefix of the prompt.
TEST_F(SessionE2e, CancelDuringPrefill) {
  std::unique_ptr<Session> s = make(512, 1);
  ASSERT_TRUE(s);
  std::string prompt;
  for (int i = 0; i < 60; ++i) prompt += "alpha beta gamma delta ";
  const std::vector<int32_t> ids = model_->tokenizer.encode(prompt, true, true);
  ASSERT_GT(ids.size(), 200u);
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    s->cancel();
  });
  Out out;
  Result<StopReason> why = s->generate(prompt, greedy(4), collect(out));
  canceller.join();
  ASSERT_TRUE(why.ok());
  EXPECT_EQ(*why, StopReason::kCancelled);
  EXPECT_TRUE(out.ids.empty());
  EXPECT_GT(s->n_past(), 0);
  EXPECT_LT(s->n_past(), static_cast<int64_t>(ids.size()));
  EXPECT_TRUE(std::equal(s->history().begin(), s->history().end(), ids.begin()));
  EXPECT_EQ(s->stats().prompt_tokens, s->n_past());
}

// An edited conversation no longer starts with the history's text: the common token prefix is
// kept and the rest prefilled again.
TEST_F(SessionE2e, ChatFallsBackToCommonTokenPrefix) {
  std::unique_ptr<Session> s = make(256);
  ASSERT_TRUE(s);
  std::vector<ChatMessage> conv = {{"user", "What is the capital of France? Answer in one word."}};
  Out first;
  ASSERT_TRUE(s->chat(conv, nullptr, greedy(24), collect(first)).ok());
  EXPECT_EQ(first.text, "The capital of France is Paris.");
  const std::vector<int32_t> before = s->history();

  conv.push_back({"assistant", "The capital of France is Lyon."});  // not what was generated
  conv.push_back({"user", "Are you sure?"});
  Out second;
  Result<StopReason> why = s->chat(conv, nullptr, greedy(8), collect(second));
  ASSERT_TRUE(why.ok()) << why.status().message();

  Result<std::string> rendered = model_->chat_template->render(conv, true, "", "");
  ASSERT_TRUE(rendered.ok());
  const std::vector<int32_t> full = model_->tokenizer.encode(*rendered, false, true);
  size_t lcp = 0;
  while (lcp < full.size() && lcp < before.size() && full[lcp] == before[lcp]) ++lcp;
  EXPECT_LT(lcp, before.size());
  EXPECT_GT(lcp, 30u);  // the system prompt and the first question
  EXPECT_EQ(s->stats().reused_tokens, static_cast<int32_t>(lcp));
  EXPECT_EQ(s->stats().prompt_tokens, static_cast<int32_t>(full.size() - lcp));
  EXPECT_TRUE(std::equal(full.begin(), full.end(), s->history().begin()));
}

// After context shifts the cache must equal a fresh prefill of the kept tokens: the token the
// session samples last (greedy, held back) is the argmax of a fresh forward pass over its
// history.
TEST_F(SessionE2e, ContextShiftKeepsTheCacheExact) {
  std::unique_ptr<Session> s = make(32);
  ASSERT_TRUE(s);
  GenerateOptions go = greedy(45);
  go.ignore_eos = true;
  go.context_policy = ContextPolicy::kShift;
  go.n_keep = 4;
  Out out;
  const std::vector<int32_t> prompt =
      model_->tokenizer.encode("The capital of France is", true, true);
  Result<StopReason> why = s->generate("The capital of France is", go, collect(out));
  ASSERT_TRUE(why.ok()) << why.status().message();
  EXPECT_EQ(*why, StopReason::kMaxTokens);
  EXPECT_EQ(out.ids.size(), 45u);
  EXPECT_GE(s->stats().shifts, 1);
  const std::vector<int32_t> h = s->history();
  ASSERT_LE(h.size(), 32u);
  EXPECT_TRUE(std::equal(prompt.begin(), prompt.begin() + 4, h.begin()));
  // The history ends with the reply's tokens, the last one held back.
  EXPECT_EQ(h.back(), out.ids[out.ids.size() - 2]);

  ForwardOptions fo;
  fo.n_ctx = 32;
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
  EXPECT_EQ(fresh, out.ids.back());

  // With policy kStop the same call ends when the context is full.
  s->reset();
  go.context_policy = ContextPolicy::kStop;
  out = Out();
  why = s->generate("The capital of France is", go, collect(out));
  ASSERT_TRUE(why.ok());
  EXPECT_EQ(*why, StopReason::kContextFull);
  EXPECT_EQ(s->n_past(), 32);
}

TEST_F(SessionE2e, PromptThatDoesNotFitChangesNothing) {
  std::unique_ptr<Session> s = make(16);
  ASSERT_TRUE(s);
  Out out;
  ASSERT_TRUE(s->generate("Hello", greedy(2), collect(out)).ok());
  const std::vector<int32_t> before = s->history();
  Result<StopReason> why = s->generate(
      " one two three four five six seven eight nine ten eleven twelve thirteen "
      "fourteen fifteen sixteen seventeen eighteen nineteen twenty",
      greedy(2), collect(out));
  ASSERT_FALSE(why.ok());
  EXPECT_EQ(why.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(why.status().message().find("the context holds 16 (2 already used)"), std::string::npos)
      << why.status().message();
  EXPECT_EQ(s->history(), before);
}

}  // namespace
}  // namespace pocketlm
