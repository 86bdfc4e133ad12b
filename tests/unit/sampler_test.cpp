#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <vector>

namespace pocketlm {
namespace {

std::vector<float> ramp(int n) {
  std::vector<float> l(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) l[static_cast<size_t>(i)] = 0.1f * static_cast<float>(i % 17) - 0.5f;
  return l;
}

TEST(SamplerTest, GreedyPicksFirstMaximum) {
  SamplingParams p;
  p.temperature = 0.0f;
  Sampler s(p, 5);
  std::vector<float> l = {1.0f, 3.0f, -2.0f, 3.0f, 0.5f};
  float lp = 0.0f;
  EXPECT_EQ(s.sample(l.data(), &lp), 1);
  // log-softmax of the raw logits at the chosen token.
  double z = 0;
  for (float v : l) z += std::exp(static_cast<double>(v));
  EXPECT_NEAR(lp, 3.0 - std::log(z), 1e-5);
}

TEST(SamplerTest, TopKOneIsGreedyAtAnyTemperature) {
  SamplingParams p;
  p.temperature = 1.5f;
  p.top_k = 1;
  p.seed = 7;
  Sampler s(p, 100);
  std::vector<float> l = ramp(100);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(l.data(), nullptr), 16);
}

TEST(SamplerTest, SameSeedSameTokensDifferentSeedDiffers) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 1234;
  std::vector<float> l = ramp(500);
  auto run = [&](uint64_t seed) {
    SamplingParams q = p;
    q.seed = seed;
    Sampler s(q, 500);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(s.sample(l.data(), nullptr));
    return out;
  };
  EXPECT_EQ(run(1234), run(1234));
  EXPECT_NE(run(1234), run(1235));
  // reset() restarts the sequence.
  Sampler s(p, 500);
  std::vector<int32_t> a, b;
  for (int i = 0; i < 16; ++i) a.push_back(s.sample(l.data(), nullptr));
  s.reset();
  for (int i = 0; i < 16; ++i) b.push_back(s.sample(l.data(), nullptr));
  EXPECT_EQ(a, b);
}

TEST(SamplerTest, DrawsFollowTheSoftmax) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 99;
  std::vector<float> l = {0.0f, 1.0f, 2.0f, -1.0f};
  Sampler s(p, 4);
  const int n = 40000;
  std::map<int32_t, int> hist;
  for (int i = 0; i < n; ++i) ++hist[s.sample(l.data(), nullptr)];
  double z = 0;
  for (float v : l) z += std::exp(v);
  for (int t = 0; t < 4; ++t) {
    const double expect = std::exp(l[static_cast<size_t>(t)]) / z;
    EXPECT_NEAR(hist[t] / static_cast<double>(n), expect, 0.01) << "token " << t;
  }
}

TEST(SamplerTest, TemperatureSharpens) {
  SamplingParams p;
  p.temperature = 0.05f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  std::vector<float> l = {0.0f, 1.0f, 0.9f};
  Sampler s(p, 3);
  int top = 0;
  for (int i = 0; i < 1000; ++i) top += s.sample(l.data(), nullptr) == 1;
  EXPECT_GT(top, 850);  // exp(0.1/0.05) = e^2 odds against token 2
}

TEST(SamplerTest, TopPKeepsTheNucleus) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.min_p = 0.0f;
  p.top_p = 0.5f;
  // softmax ~ {0.665, 0.245, 0.090}: the first alone reaches 0.5.
  std::vector<float> l = {2.0f, 1.0f, 0.0f};
  Sampler s(p, 3);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(s.sample(l.data(), nullptr), 0);
}

TEST(SamplerTest, MinPDropsUnlikelyTokens) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.5f;  // keep tokens with p >= 0.5 * p_max
  std::vector<float> l = {3.0f, 2.9f, 0.0f, -1.0f};
  Sampler s(p, 4);
  for (int i = 0; i < 300; ++i) {
    const int32_t t = s.sample(l.data(), nullptr);
    EXPECT_TRUE(t == 0 || t == 1) << t;
  }
}

TEST(SamplerTest, RepetitionPenaltyMovesGreedyChoice) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.repeat_penalty = 2.0f;
  p.penalty_last_n = 4;
  Sampler s(p, 3);
  std::vector<float> l = {2.0f, 1.5f, -1.0f};
  EXPECT_EQ(s.sample(l.data(), nullptr), 0);
  s.accept(0);  // 2.0 / 2 = 1.0 < 1.5
  EXPECT_EQ(s.sample(l.data(), nullptr), 1);
  // The window forgets after penalty_last_n other tokens.
  for (int i = 0; i < 4; ++i) s.accept(2);
  EXPECT_EQ(s.sample(l.data(), nullptr), 0);
}

TEST(SamplerTest, FrequencyAndPresencePenalties) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.frequency_penalty = 0.3f;
  p.presence_penalty = 0.25f;
  Sampler s(p, 2);
  std::vector<float> l = {1.0f, 0.0f};
  s.accept(0);
  EXPECT_EQ(s.sample(l.data(), nullptr), 0);  // 1 - 0.3 - 0.25 = 0.45 > 0
  s.accept(0);
  EXPECT_EQ(s.sample(l.data(), nullptr), 0);  // 1 - 0.6 - 0.25 = 0.15
  s.accept(0);
  EXPECT_EQ(s.sample(l.data(), nullptr), 1);  // 1 - 0.9 - 0.25 < 0
}

TEST(SamplerTest, LogitBiasBansAndBoosts) {
  SamplingParams p;
  p.temperature = 0.7f;
  p.seed = 3;
  p.logit_bias = {{0, -std::numeric_limits<float>::infinity()}, {2, 5.0f}};
  std::vector<float> l = {4.0f, 1.0f, 0.0f};
  Sampler s(p, 3);
  for (int i = 0; i < 100; ++i) EXPECT_NE(s.sample(l.data(), nullptr), 0);
  SamplingParams g = p;
  g.temperature = 0.0f;
  Sampler greedy(g, 3);
  EXPECT_EQ(greedy.sample(l.data(), nullptr), 2);
}

TEST(SamplerTest, ValidateRejectsBadParameters) {
  SamplingParams p;
  EXPECT_TRUE(p.validate(10).ok());
  p.top_p = 0.0f;
  EXPECT_FALSE(p.validate(10).ok());
  p = SamplingParams();
  p.min_p = 1.5f;
  EXPECT_FALSE(p.validate(10).ok());
  p = SamplingParams();
  p.repeat_penalty = 0.0f;
  EXPECT_FALSE(p.validate(10).ok());
  p = SamplingParams();
  p.logit_bias = {{10, 1.0f}};
  Status st = p.validate(10);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("token 10"), std::string::npos) << st.message();
}

TEST(SamplerTest, RngIsFixedBySeed) {
  Rng a(42), b(42);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a.next(), b.next());
  Rng c(0);
  for (int i = 0; i < 1000; ++i) {
    const double u = c.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

}  // namespace
}  // namespace pocketlm
