#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pocketlm {

Status SamplingParams::validate(int32_t n_vocab) const {
  if (!std::isfinite(temperature)) return invalid_argument("temperature must be finite");
  if (!(top_p > 0.0f) || top_p > 1.0f || std::isnan(top_p)) {
    return invalid_argument(strfmt("top-p must be in (0, 1], got %g", top_p));
  }
  if (!(min_p >= 0.0f) || min_p > 1.0f) {
    return invalid_argument(strfmt("min-p must be in [0, 1], got %g", min_p));
  }
  if (!(repeat_penalty > 0.0f) || !std::isfinite(repeat_penalty)) {
    return invalid_argument(strfmt("repeat penalty must be positive, got %g", repeat_penalty));
  }
  if (!std::isfinite(frequency_penalty) || !std::isfinite(presence_penalty)) {
    return invalid_argument("frequency and presence penalties must be finite");
  }
  if (penalty_last_n < 0) return invalid_argument("penalty window must not be negative");
  for (const auto& [tok, bias] : logit_bias) {
    if (tok < 0 || tok >= n_vocab) {
      return invalid_argument(strfmt("logit bias names token %d, outside the vocabulary of %d",
                                     tok, n_vocab));
    }
    if (std::isnan(bias) || bias == std::numeric_limits<float>::infinity()) {
      return invalid_argument(strfmt("logit bias for token %d must be a number or -inf", tok));
    }
  }
  return Status();
}

void Rng::reseed(uint64_t seed) {
  // SplitMix64 expands one word into the four words of xoshiro256** state.
  for (uint64_t& s : s_) {
    seed += 0x9e3779b97f4a7c15ull;
    uint64_t z = seed;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    s = z ^ (z >> 31);
  }
}

uint64_t Rng::next() {
  auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

float token_logprob(const float* logits, int32_t n, int32_t token) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int32_t i = 0; i < n; ++i) mx = std::max(mx, logits[i]);
  double sum = 0.0;
  for (int32_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  return static_cast<float>(static_cast<double>(logits[token]) - mx - std::log(sum));
}

Sampler::Sampler(SamplingParams params, int32_t n_vocab)
    : params_(std::move(params)), n_vocab_(n_vocab), rng_(params_.seed) {
  cand_.reserve(static_cast<size_t>(n_vocab));
  counts_.assign(static_cast<size_t>(n_vocab), 0);
}

void Sampler::reset() {
  recent_.clear();
  std::fill(counts_.begin(), counts_.end(), 0);
  rng_.reseed(params_.seed);
}

void Sampler::accept(int32_t token) {
  if (params_.penalty_last_n <= 0 || token < 0 || token >= n_vocab_) return;
  recent_.push_back(token);
  ++counts_[static_cast<size_t>(token)];
  if (static_cast<int32_t>(recent_.size()) > params_.penalty_last_n) {
    --counts_[static_cast<size_t>(recent_.front())];
    recent_.pop_front();
  }
}

void Sampler::apply_penalties() {
  const bool any = params_.repeat_penalty != 1.0f || params_.frequency_penalty != 0.0f ||
                   params_.presence_penalty != 0.0f;
  if (!any || recent_.empty()) return;
  // cand_ is still indexed by token id here (filled in order, before any sort).
  for (int32_t tok : recent_) {
    int32_t& c = counts_[static_cast<size_t>(tok)];
    if (c <= 0) continue;  // already applied for this token (negative marks "done")
    float& l = cand_[static_cast<size_t>(tok)].logit;
    l = l <= 0.0f ? l * params_.repeat_penalty : l / params_.repeat_penalty;
    l -= static_cast<float>(c) * params_.frequency_penalty + params_.presence_penalty;
    c = -c;
  }
  for (int32_t tok : recent_) {
    int32_t& c = counts_[static_cast<size_t>(tok)];
    if (c < 0) c = -c;
  }
}

void Sampler::softmax() {
  if (!sorted_) {
    std::sort(cand_.begin(), cand_.end(), [](const Candidate& a, const Candidate& b) {
      return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
    });
    sorted_ = true;
  }
  const float mx = cand_.front().logit;
  double sum = 0.0;
  for (Candidate& c : cand_) {
    c.p = std::exp(c.logit - mx);
    sum += c.p;
  }
  for (Candidate& c : cand_) c.p = static_cast<float>(c.p / sum);
}

void Sampler::top_k(int32_t k) {
  if (k <= 0 || k >= static_cast<int32_t>(cand_.size())) return;
  auto by_logit = [](const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  };
  std::partial_sort(cand_.begin(), cand_.begin() + k, cand_.end(), by_logit);
  cand_.resize(static_cast<size_t>(k));
  sorted_ = true;
}

void Sampler::top_p(float p) {
  if (p >= 1.0f) return;
  softmax();
  double cum = 0.0;
  size_t keep = cand_.size();
  for (size_t i = 0; i < cand_.size(); ++i) {
    cum += cand_[i].p;
    if (cum >= p) {
      keep = i + 1;
      break;
    }
  }
  cand_.resize(keep);
}

void Sampler::min_p(float p) {
  if (p <= 0.0f) return;
  softmax();
  const float threshold = cand_.front().p * p;
  size_t keep = 1;
  while (keep < cand_.size() && cand_[keep].p >= threshold) ++keep;
  cand_.resize(keep);
}

int32_t Sampler::sample(const float* logits, float* logprob) {
  cand_.resize(static_cast<size_t>(n_vocab_));
  for (int32_t i = 0; i < n_vocab_; ++i) cand_[static_cast<size_t>(i)] = {i, logits[i], 0.0f};
  sorted_ = false;
  for (const auto& [tok, bias] : params_.logit_bias) cand_[static_cast<size_t>(tok)].logit += bias;
  apply_penalties();

  int32_t chosen = 0;
  if (params_.temperature <= 0.0f) {
    // Greedy: the first maximum in id order, as llama.cpp's greedy sampler picks it.
    float best = -std::numeric_limits<float>::infinity();
    for (const Candidate& c : cand_) {
      if (c.logit > best) {
        best = c.logit;
        chosen = c.id;
      }
    }
  } else {
    // Banned tokens (-inf after bias) never take part; if everything is banned, the greedy
    // choice over the raw logits is the only answer that is not garbage.
    cand_.erase(std::remove_if(cand_.begin(), cand_.end(),
                               [](const Candidate& c) { return std::isinf(c.logit) && c.logit < 0; }),
                cand_.end());
    if (cand_.empty()) {
      chosen = static_cast<int32_t>(std::max_element(logits, logits + n_vocab_) - logits);
      if (logprob) *logprob = token_logprob(logits, n_vocab_, chosen);
      return chosen;
    }
    top_k(params_.top_k);
    top_p(params_.top_p);
    min_p(params_.min_p);
    for (Candidate& c : cand_) c.logit /= params_.temperature;
    softmax();
    const double r = rng_.uniform();
    double cum = 0.0;
    chosen = cand_.back().id;  // guards against rounding leaving r just above the total
    for (const Candidate& c : cand_) {
      cum += c.p;
      if (r < cum) {
        chosen = c.id;
        break;
      }
    }
  }
  if (logprob) *logprob = token_logprob(logits, n_vocab_, chosen);
  return chosen;
}

}  // namespace pocketlm
