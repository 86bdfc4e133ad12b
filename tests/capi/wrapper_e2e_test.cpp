// The C++ wrapper (include/pocketlm/pocketlm.hpp) on the real SmolLM2 model: RAII handles, the
// Result-returning calls, the BUFFER_TOO_SMALL retry inside, callbacks as std::function, and a
// callback's exception carried across the C API.
#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "pocketlm/pocketlm.hpp"

namespace {

const std::string kModel =
    std::string(POCKETLM_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";

class Wrapper : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(kModel)) return;
    plm::Result<plm::Model> m = plm::Model::load(kModel);
    ASSERT_TRUE(m.ok()) << m.status().message;
    model_ = new plm::Model(std::move(m).value());
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  void SetUp() override {
    if (!model_) GTEST_SKIP() << kModel << " is absent: run scripts/fetch_models.py";
  }

  static plm::GenerateParams greedy(int32_t max_tokens) {
    plm::GenerateParams gp;
    gp.c.sampling.temperature = 0.0f;
    gp.c.max_tokens = max_tokens;
    return gp;
  }

  static plm::Model* model_;
};

plm::Model* Wrapper::model_ = nullptr;

TEST(WrapperErrors, LoadReportsStatusAndMessage) {
  plm::Result<plm::Model> m = plm::Model::load("/nonexistent/model.gguf");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code, PLM_ERR_NOT_FOUND);
  EXPECT_STREQ(m.status().name(), "PLM_ERR_NOT_FOUND");
  EXPECT_NE(m.status().message.find("/nonexistent/model.gguf"), std::string::npos);

  plm_model_params bad = plm::default_model_params();
  bad.n_threads = -1;
  m = plm::Model::load(kModel, bad);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code, PLM_ERR_INVALID_ARGUMENT);
}

TEST_F(Wrapper, InfoTokenizeDetokenize) {
  const plm_model_info info = model_->info();
  EXPECT_STREQ(info.architecture, "llama");
  EXPECT_STREQ(info.chat_format, "chatml");
  EXPECT_EQ(info.n_vocab, 49152);

  plm::Result<std::vector<int32_t>> ids = model_->tokenize("Hello world!");
  ASSERT_TRUE(ids.ok()) << ids.status().message;
  EXPECT_EQ(*ids, (std::vector<int32_t>{19556, 905, 17}));

  // Longer than the wrapper's first guess of a buffer: exercises the retry.
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "Grüße aus Köln, " + std::to_string(i) + "! ";
  ids = model_->tokenize(long_text);
  ASSERT_TRUE(ids.ok());
  plm::Result<std::string> back = model_->detokenize(*ids);
  ASSERT_TRUE(back.ok()) << back.status().message;
  EXPECT_EQ(*back, long_text);

  plm::Result<std::string> bad = model_->detokenize(std::vector<int32_t>{-3});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code, PLM_ERR_INVALID_ARGUMENT);
}

TEST_F(Wrapper, ChatFormat) {
  const std::vector<plm::ChatMessage> conv = {{"system", "Be brief."}, {"user", "Hi"}};
  plm::Result<std::string> s = model_->chat_format(conv);
  ASSERT_TRUE(s.ok()) << s.status().message;
  EXPECT_EQ(*s,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n");
  // A named template writes this model's BOS text where it writes bos_token (Gemma's does).
  s = model_->chat_format(conv, true, "gemma");
  ASSERT_TRUE(s.ok()) << s.status().message;
  EXPECT_EQ(*s,
            "<|im_start|><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n"
            "<start_of_turn>model\n");
}

TEST_F(Wrapper, GenerateWithStopString) {
  plm::Result<plm::Session> s = plm::Session::create(*model_);
  ASSERT_TRUE(s.ok()) << s.status().message;
  EXPECT_EQ(s->n_ctx(), 4096);  // min(n_ctx_train = 8192, 4096)
  plm::GenerateParams gp = greedy(16);
  gp.stop = {"\n"};
  std::string text;
  std::vector<int32_t> ids;
  plm::Result<plm_stop_reason> why =
      s->generate("The capital of France is", gp, [&](std::string_view t, int32_t id, float) {
        text += t;
        ids.push_back(id);
        return true;
      });
  ASSERT_TRUE(why.ok()) << why.status().message;
  EXPECT_EQ(*why, PLM_STOP_STRING);
  EXPECT_EQ(text, " Paris.");
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[0], 7042);
  EXPECT_EQ(ids[1], 30);
  const plm_stats st = s->stats();
  EXPECT_EQ(st.prompt_tokens, 5);
  EXPECT_EQ(st.generated_tokens, static_cast<int32_t>(ids.size()));
  EXPECT_GT(st.decode_tok_s, 0.0);
  EXPECT_GT(st.peak_rss_bytes, 0u);
}

TEST_F(Wrapper, CallbackExceptionIsRethrownAndSessionStaysUsable) {
  plm::Result<plm::Session> s = plm::Session::create(*model_);
  ASSERT_TRUE(s.ok());
  int calls = 0;
  EXPECT_THROW((void)s->generate("Once upon a time", greedy(8),
                                 [&](std::string_view, int32_t, float) -> bool {
                                   if (++calls == 2) throw std::runtime_error("stop here");
                                   return true;
                                 }),
               std::runtime_error);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(s->stats().generated_tokens, 2);
  ASSERT_TRUE(s->reset().ok());
  plm::Result<plm_stop_reason> why = s->generate(
      "Once upon a time", greedy(2), [](std::string_view, int32_t, float) { return true; });
  ASSERT_TRUE(why.ok());
  EXPECT_EQ(*why, PLM_STOP_MAX_TOKENS);
}

TEST_F(Wrapper, ChatReusesTheConversation) {
  plm_session_params sp = plm::default_session_params();
  sp.n_ctx = 256;
  plm::Result<plm::Session> s = plm::Session::create(*model_, sp);
  ASSERT_TRUE(s.ok());
  std::vector<plm::ChatMessage> conv = {
      {"user", "What is the capital of France? Answer in one word."}};
  std::string reply;
  auto collect = [&](std::string_view t, int32_t, float) {
    reply += t;
    return true;
  };
  plm::Result<plm_stop_reason> why = s->chat(conv, greedy(24), collect);
  ASSERT_TRUE(why.ok()) << why.status().message;
  EXPECT_EQ(*why, PLM_STOP_EOG);
  EXPECT_EQ(reply, "The capital of France is Paris.");
  const int32_t held = s->n_past();

  conv.push_back({"assistant", reply});
  conv.push_back({"user", "And of Italy? Answer in one word."});
  reply.clear();
  why = s->chat(conv, greedy(24), collect);
  ASSERT_TRUE(why.ok()) << why.status().message;
  EXPECT_EQ(reply, "The capital of Italy is Rome.");
  EXPECT_EQ(s->stats().reused_tokens, held);

  // An unknown template name is the caller's error, and changes nothing.
  const int32_t before = s->n_past();
  why = s->chat(conv, greedy(4), collect, "no-such-format");
  ASSERT_FALSE(why.ok());
  EXPECT_EQ(why.status().code, PLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(s->n_past(), before);
}

}  // namespace
