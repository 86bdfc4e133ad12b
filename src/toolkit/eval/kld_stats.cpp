#include "toolkit/eval/kld_stats.h"

#include <algorithm>
#include <cmath>

#include "toolkit/eval/logits_file.h"

namespace pocketlm::toolkit {
namespace {

struct MeanErr {
  double mean = 0;
  double err = 0;
};

MeanErr mean_err(const std::vector<double>& v) {
  MeanErr r;
  const size_t n = v.size();
  if (n == 0) return r;
  double s = 0.0;
  double s2 = 0.0;
  for (double x : v) {
    s += x;
    s2 += x * x;
  }
  r.mean = s / static_cast<double>(n);
  const double var = s2 / static_cast<double>(n) - r.mean * r.mean;
  r.err = n > 1 && var > 0.0 ? std::sqrt(var / static_cast<double>(n - 1)) : 0.0;
  return r;
}

// Value at fraction q of the sorted values, interpolating between neighbours.
double at(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0.0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t i = static_cast<size_t>(pos);
  if (i + 1 >= sorted.size()) return sorted.back();
  const double f = pos - static_cast<double>(i);
  return sorted[i] + f * (sorted[i + 1] - sorted[i]);
}

}  // namespace

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  p.min = v.front();
  p.max = v.back();
  p.p99_9 = at(v, 0.999);
  p.p99 = at(v, 0.99);
  p.p95 = at(v, 0.95);
  p.p90 = at(v, 0.90);
  p.median = at(v, 0.5);
  p.p10 = at(v, 0.10);
  p.p5 = at(v, 0.05);
  p.p1 = at(v, 0.01);
  p.p0_1 = at(v, 0.001);
  return p;
}

void KldAccumulator::add(const float* base_lp, const float* logits, int64_t n_vocab,
                         int32_t target) {
  scratch_.resize(static_cast<size_t>(n_vocab));
  stored_.resize(static_cast<size_t>(n_vocab));
  float* q = scratch_.data();
  log_softmax(logits, n_vocab, q);
  // The top token is judged on the base's stored precision for both sides (logits_file.h):
  // rounding can tie two candidates in the base row, and the first of a tie must then be the
  // model's choice too when its logits are the same.
  float* q_stored = stored_.data();
  stored_log_probs(logits, n_vocab, q_stored);
  double kld = 0.0;
  int64_t top_b = 0;
  int64_t top_q = 0;
  for (int64_t i = 0; i < n_vocab; ++i) {
    const double pb = std::exp(static_cast<double>(base_lp[i]));
    if (pb > 0.0) kld += pb * (static_cast<double>(base_lp[i]) - q[i]);
    if (base_lp[i] > base_lp[top_b]) top_b = i;
    if (q_stored[i] > q_stored[top_q]) top_q = i;
  }
  kld_.push_back(kld);
  dp_.push_back(std::exp(static_cast<double>(q[target])) -
                std::exp(static_cast<double>(base_lp[target])));
  nll_q_.push_back(-static_cast<double>(q[target]));
  nll_base_.push_back(-static_cast<double>(base_lp[target]));
  if (top_b == top_q) ++same_top_;
}

double KldAccumulator::mean_kld() const { return mean_err(kld_).mean; }
double KldAccumulator::ppl_q() const { return std::exp(mean_err(nll_q_).mean); }
double KldAccumulator::ppl_base() const { return std::exp(mean_err(nll_base_).mean); }
double KldAccumulator::same_top() const {
  return kld_.empty() ? 0.0 : static_cast<double>(same_top_) / static_cast<double>(kld_.size());
}
double KldAccumulator::dp_rms() const {
  double s = 0.0;
  for (double d : dp_) s += d * d;
  return dp_.empty() ? 0.0 : std::sqrt(s / static_cast<double>(dp_.size()));
}

KldSummary KldAccumulator::summary() const {
  KldSummary s;
  s.n = count();
  if (s.n == 0) return s;
  const double n = static_cast<double>(s.n);
  const MeanErr q = mean_err(nll_q_);
  const MeanErr b = mean_err(nll_base_);
  s.ppl_q = std::exp(q.mean);
  s.ppl_q_err = s.ppl_q * q.err;
  s.ppl_base = std::exp(b.mean);
  s.ppl_base_err = s.ppl_base * b.err;
  std::vector<double> diff(nll_q_.size());
  for (size_t i = 0; i < diff.size(); ++i) diff[i] = nll_q_[i] - nll_base_[i];
  const MeanErr r = mean_err(diff);
  s.ln_ppl_ratio = r.mean;
  s.ln_ppl_ratio_err = r.err;
  double cov = 0.0;
  double vq = 0.0;
  double vb = 0.0;
  for (size_t i = 0; i < nll_q_.size(); ++i) {
    cov += (nll_q_[i] - q.mean) * (nll_base_[i] - b.mean);
    vq += (nll_q_[i] - q.mean) * (nll_q_[i] - q.mean);
    vb += (nll_base_[i] - b.mean) * (nll_base_[i] - b.mean);
  }
  s.ln_ppl_correlation = vq > 0.0 && vb > 0.0 ? cov / std::sqrt(vq * vb) : 1.0;

  const MeanErr k = mean_err(kld_);
  s.kld_mean = k.mean;
  s.kld_err = k.err;
  s.kld = percentiles(kld_);

  const MeanErr d = mean_err(dp_);
  s.dp_mean = d.mean;
  s.dp_err = d.err;
  std::vector<double> dp2(dp_.size());
  for (size_t i = 0; i < dp_.size(); ++i) dp2[i] = dp_[i] * dp_[i];
  const MeanErr d2 = mean_err(dp2);
  s.dp_rms = std::sqrt(d2.mean);
  // Error of a square root by propagation: d sqrt(m) = dm / (2 sqrt(m)).
  s.dp_rms_err = s.dp_rms > 0.0 ? d2.err / (2.0 * s.dp_rms) : 0.0;
  s.dp = percentiles(dp_);

  s.same_top = static_cast<double>(same_top_) / n;
  s.same_top_err = s.n > 1 ? std::sqrt(s.same_top * (1.0 - s.same_top) / (n - 1.0)) : 0.0;
  return s;
}

}  // namespace pocketlm::toolkit
