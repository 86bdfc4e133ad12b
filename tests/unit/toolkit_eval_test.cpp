// Evaluation pieces without a model: chunk layout, KL divergence statistics on distributions
// whose answers are known, and the base-logits file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "quant/fp16.h"
#include "toolkit/eval/eval_chunks.h"
#include "toolkit/eval/kld_stats.h"
#include "toolkit/eval/logits_file.h"

namespace pocketlm::toolkit {
namespace {

namespace fs = std::filesystem;

std::vector<int32_t> iota_tokens(int n) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) t[static_cast<size_t>(i)] = 100 + i;
  return t;
}

TEST(EvalChunksTest, LlamaCppLayout) {
  Result<EvalChunks> c = EvalChunks::create(iota_tokens(1000), 256, -1, /*bos=*/1);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->n_chunks(), 3);  // 1000 / 256, the rest dropped
  EXPECT_EQ(c->first_scored(), 128);
  EXPECT_EQ(c->n_scored(), 127);  // positions 128..254 predict tokens 129..255
  std::vector<int32_t> run;
  c->chunk(1, &run);
  ASSERT_EQ(run.size(), 256u);
  EXPECT_EQ(run[0], 1);  // BOS replaces the first token of every chunk
  EXPECT_EQ(run[1], 100 + 257);
  EXPECT_EQ(run[255], 100 + 511);
  EXPECT_EQ(c->tokens()[256], 100 + 256);  // the stored tokens keep the original

  Result<EvalChunks> nobos = EvalChunks::create(iota_tokens(1000), 256, 2, -1);
  ASSERT_TRUE(nobos.ok());
  EXPECT_EQ(nobos->n_chunks(), 2);
  nobos->chunk(1, &run);
  EXPECT_EQ(run[0], 100 + 256);

  Result<EvalChunks> short_text = EvalChunks::create(iota_tokens(500), 256, -1, -1);
  ASSERT_FALSE(short_text.ok());
  EXPECT_NE(short_text.status().message().find("at least 512"), std::string::npos);
  EXPECT_FALSE(EvalChunks::create(iota_tokens(500), 2, -1, -1).ok());
}

TEST(KldTest, IdenticalDistributionsGiveZero) {
  const std::vector<float> logits = {2.0f, 1.0f, 0.5f, -3.0f};
  std::vector<float> lp(4);
  log_softmax(logits.data(), 4, lp.data());
  KldAccumulator acc;
  for (int32_t t = 0; t < 4; ++t) acc.add(lp.data(), logits.data(), 4, t);
  const KldSummary s = acc.summary();
  EXPECT_EQ(s.n, 4);
  EXPECT_NEAR(s.kld_mean, 0.0, 1e-7);
  EXPECT_NEAR(s.dp_rms, 0.0, 1e-7);
  EXPECT_DOUBLE_EQ(s.same_top, 1.0);
  EXPECT_NEAR(s.ppl_q, s.ppl_base, 1e-9);
  EXPECT_NEAR(s.ln_ppl_ratio, 0.0, 1e-9);
}

TEST(KldTest, KnownTwoTokenCase) {
  // Base P = (0.75, 0.25); model Q = (0.5, 0.5) from equal logits.
  const float base[2] = {std::log(0.75f), std::log(0.25f)};
  const float logits[2] = {3.0f, 3.0f};
  KldAccumulator acc;
  acc.add(base, logits, 2, /*target=*/1);
  const KldSummary s = acc.summary();
  const double kld = 0.75 * std::log(0.75 / 0.5) + 0.25 * std::log(0.25 / 0.5);
  EXPECT_NEAR(s.kld_mean, kld, 1e-6);
  EXPECT_NEAR(s.dp_mean, 0.5 - 0.25, 1e-6);  // the target's probability rose by a quarter
  EXPECT_NEAR(s.ppl_q, 2.0, 1e-5);
  EXPECT_NEAR(s.ppl_base, 4.0, 1e-5);
  EXPECT_NEAR(s.ln_ppl_ratio, std::log(0.5), 1e-6);
  // Equal logits: the model's top is the first, as is the base's.
  EXPECT_DOUBLE_EQ(s.same_top, 1.0);

  const float flipped[2] = {1.0f, 2.0f};
  acc.add(base, flipped, 2, 0);
  EXPECT_DOUBLE_EQ(acc.summary().same_top, 0.5);
  EXPECT_NEAR(acc.summary().same_top_err, 0.5, 1e-12);  // sqrt(0.5 * 0.5 / (2 - 1))
}

TEST(KldTest, SameTopComparesTheStoredPrecisionOnBothSides) {
  // Two logits closer than half precision resolves near 0: a saved base row ties them (the first
  // wins), while the raw logits put the second on top. A model compared with its own saved row
  // must still agree on the top token.
  const std::vector<float> logits = {5.0f, 5.0001f, 1.0f, -2.0f};
  std::vector<float> stored(4);
  stored_log_probs(logits.data(), 4, stored.data());
  ASSERT_EQ(stored[0], stored[1]);
  KldAccumulator acc;
  acc.add(stored.data(), logits.data(), 4, 1);
  EXPECT_DOUBLE_EQ(acc.summary().same_top, 1.0);
  EXPECT_NEAR(acc.summary().kld_mean, 0.0, 1e-5);
}

TEST(KldTest, MeansErrorsAndPercentiles) {
  std::vector<double> v;
  for (int i = 0; i <= 100; ++i) v.push_back(i);
  const Percentiles p = percentiles(v);
  EXPECT_DOUBLE_EQ(p.min, 0.0);
  EXPECT_DOUBLE_EQ(p.max, 100.0);
  EXPECT_DOUBLE_EQ(p.median, 50.0);
  EXPECT_DOUBLE_EQ(p.p99, 99.0);
  EXPECT_DOUBLE_EQ(p.p10, 10.0);
  EXPECT_NEAR(p.p99_9, 99.9, 1e-9);

  // Standard error of the mean of the per-position KLDs: sd / sqrt(n - 1).
  KldAccumulator acc;
  const float base[2] = {std::log(0.5f), std::log(0.5f)};
  const float a[2] = {0.0f, 0.0f};                      // KLD 0
  const float b[2] = {std::log(0.9f), std::log(0.1f)};  // KLD 0.5 ln(0.5/0.9) + 0.5 ln(0.5/0.1)
  acc.add(base, a, 2, 0);
  acc.add(base, b, 2, 0);
  const double k2 = 0.5 * std::log(0.5 / 0.9) + 0.5 * std::log(0.5 / 0.1);
  const KldSummary s = acc.summary();
  EXPECT_NEAR(s.kld_mean, k2 / 2, 1e-6);
  EXPECT_NEAR(s.kld_err, k2 / 2, 1e-6);  // two values 0 and k2: sd k2/2, sqrt(n-1) = 1
  EXPECT_NEAR(s.kld.max, k2, 1e-6);
}

class LogitsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("plm_logits_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(LogitsFileTest, RoundTrip) {
  LogitsHeader h;
  h.n_vocab = 5;
  h.n_ctx = 8;
  h.n_chunks = 2;
  h.n_scored = 3;
  h.bos = 7;
  std::vector<int32_t> tokens;
  for (int i = 0; i < 16; ++i) tokens.push_back(i * 3);
  const std::string path = (dir_ / "base.logits").string();
  Result<LogitsWriter> w = LogitsWriter::create(path, h, tokens);
  ASSERT_TRUE(w.ok()) << w.status().message();
  std::vector<std::vector<float>> rows;
  for (int r = 0; r < 6; ++r) {
    rows.push_back({1.0f * r, -2.0f, 0.5f, 3.0f - r, 0.0f});
    ASSERT_TRUE(w->write_row(rows.back().data()).ok());
  }
  EXPECT_FALSE(fs::exists(path));  // only complete files appear under their name
  ASSERT_TRUE(w->finish().ok());
  EXPECT_TRUE(fs::exists(path));

  Result<LogitsReader> r = LogitsReader::open(path);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->header().n_vocab, 5u);
  EXPECT_EQ(r->header().n_chunks, 2u);
  EXPECT_EQ(r->header().n_scored, 3u);
  EXPECT_EQ(r->header().bos, 7);
  EXPECT_EQ(r->tokens(), tokens);
  ASSERT_EQ(r->n_rows(), 6u);
  for (uint64_t row = 0; row < 6; ++row) {
    std::vector<float> expect(5);
    log_softmax(rows[row].data(), 5, expect.data());
    std::vector<float> got(5);
    r->log_probs(row, got.data());
    double total = 0.0;
    for (int i = 0; i < 5; ++i) {
      EXPECT_NEAR(got[static_cast<size_t>(i)], expect[static_cast<size_t>(i)],
                  2e-3 * std::fabs(expect[static_cast<size_t>(i)]) + 1e-4);
      total += std::exp(static_cast<double>(got[static_cast<size_t>(i)]));
    }
    EXPECT_NEAR(total, 1.0, 1e-6);  // renormalised after the half-precision rounding
  }
}

TEST_F(LogitsFileTest, RejectsWrongFiles) {
  const std::string path = (dir_ / "bad.logits").string();
  {
    std::ofstream f(path, std::ios::binary);
    f << "not a logits file at all, just text";
  }
  Result<LogitsReader> r = LogitsReader::open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kMalformedFile);

  // A valid header whose data is cut short.
  LogitsHeader h;
  h.n_vocab = 4;
  h.n_ctx = 8;
  h.n_chunks = 1;
  h.n_scored = 3;
  const std::string good = (dir_ / "good.logits").string();
  Result<LogitsWriter> w = LogitsWriter::create(good, h, std::vector<int32_t>(8, 1));
  ASSERT_TRUE(w.ok());
  const float row[4] = {0, 1, 2, 3};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(w->write_row(row).ok());
  ASSERT_TRUE(w->finish().ok());
  fs::resize_file(good, fs::file_size(good) - 2);
  r = LogitsReader::open(good);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not match the file size"), std::string::npos);

  EXPECT_FALSE(LogitsReader::open((dir_ / "missing").string()).ok());
}

TEST_F(LogitsFileTest, UnfinishedWriterLeavesNothing) {
  LogitsHeader h;
  h.n_vocab = 4;
  h.n_ctx = 8;
  h.n_chunks = 1;
  h.n_scored = 3;
  const std::string path = (dir_ / "partial.logits").string();
  {
    Result<LogitsWriter> w = LogitsWriter::create(path, h, std::vector<int32_t>(8, 1));
    ASSERT_TRUE(w.ok());
    const float row[4] = {0, 1, 2, 3};
    ASSERT_TRUE(w->write_row(row).ok());
    EXPECT_FALSE(w->finish().ok());  // two rows short
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir_));
}

}  // namespace
}  // namespace pocketlm::toolkit
