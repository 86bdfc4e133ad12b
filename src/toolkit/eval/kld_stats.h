// Statistics of a model's next-token distributions against a base model's, token by token:
// what `perplexity --kl-divergence` reports.
//
// Usage:
//   KldAccumulator acc;
//   for (each scored position) acc.add(base_log_probs, logits, n_vocab, target_token);
//   KldSummary s = acc.summary();   // s.kld_mean, s.same_top, s.dp_rms, ...
//
// Per position, with P the base distribution and Q the model's:
//   KL divergence  sum_i P_i (log P_i - log Q_i), in nats;
//   delta p        Q(target) - P(target), the change in the probability of the token that came;
//   same top       whether both put their highest probability on the same token (both judged at
//                  the stored precision of the base's rows, see logits_file.h).
// Means carry their standard errors (standard deviation / sqrt(n - 1), as llama.cpp reports
// them); percentiles are of the per-position values.
#pragma once

#include <cstdint>
#include <vector>

namespace pocketlm::toolkit {

struct Percentiles {
  double max = 0, p99_9 = 0, p99 = 0, p95 = 0, p90 = 0, median = 0, p10 = 0, p5 = 0, p1 = 0,
         p0_1 = 0, min = 0;
};

struct KldSummary {
  int64_t n = 0;
  double ppl_q = 0, ppl_q_err = 0;                // perplexity of the model
  double ppl_base = 0, ppl_base_err = 0;          // ... of the base, on the same positions
  double ln_ppl_ratio = 0, ln_ppl_ratio_err = 0;  // ln(PPL(Q) / PPL(base)): mean log-loss gap
  double ln_ppl_correlation = 0;  // correlation of the two models' per-position log-losses
  double kld_mean = 0, kld_err = 0;
  Percentiles kld;
  double dp_mean = 0, dp_err = 0;  // as fractions (x100 for %)
  double dp_rms = 0, dp_rms_err = 0;
  Percentiles dp;
  double same_top = 0, same_top_err = 0;  // fraction of positions
};

class KldAccumulator {
 public:
  // base_log_probs: n_vocab normalised log-probabilities; logits: the model's raw logits.
  void add(const float* base_log_probs, const float* logits, int64_t n_vocab, int32_t target);
  int64_t count() const { return static_cast<int64_t>(kld_.size()); }
  // Running values for per-chunk progress lines.
  double mean_kld() const;
  double ppl_q() const;
  double ppl_base() const;
  double same_top() const;
  double dp_rms() const;
  double last_nll_q() const { return nll_q_.empty() ? 0.0 : nll_q_.back(); }

  KldSummary summary() const;

 private:
  std::vector<double> kld_;
  std::vector<double> dp_;
  std::vector<double> nll_q_;
  std::vector<double> nll_base_;
  int64_t same_top_ = 0;
  std::vector<float> scratch_;
  std::vector<float> stored_;
};

Percentiles percentiles(std::vector<double> v);

}  // namespace pocketlm::toolkit
