// Token sampling: turns one row of logits into the next token.
//
// Usage:
//   SamplingParams p;            // defaults: greedy off, temp 0.8, top-k 40, top-p 0.95, min-p 0.05
//   p.seed = 42;
//   Sampler s(p, n_vocab);
//   float logprob;
//   int32_t tok = s.sample(logits, &logprob);   // logits: n_vocab floats, left unchanged
//   s.accept(tok);                               // feeds the repetition-penalty window
//
// The chain runs in a fixed order: logit bias, penalties (repetition / frequency / presence over
// the last `penalty_last_n` accepted tokens), then greedy when temperature <= 0, otherwise top-k,
// top-p, min-p, temperature, softmax and a draw. The random numbers come from our own
// SplitMix64/xoshiro generator and our own conversion to [0,1), so the same seed gives the same
// tokens on every platform and standard library (std::uniform_real_distribution does not).
// The reported log-probability is that of the chosen token under the model's unmodified
// distribution (log-softmax of the raw logits), as OpenAI-style APIs report it.
#pragma once

#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "core/status.h"

namespace pocketlm {

struct SamplingParams {
  float temperature = 0.8f;  // <= 0: greedy
  int32_t top_k = 40;        // <= 0: off
  float top_p = 0.95f;       // >= 1: off
  float min_p = 0.05f;       // <= 0: off
  float repeat_penalty = 1.0f;     // 1: off; divides positive logits, multiplies negative ones
  float frequency_penalty = 0.0f;  // subtracts count * value
  float presence_penalty = 0.0f;   // subtracts value once a token appeared
  int32_t penalty_last_n = 64;     // window of accepted tokens the penalties look at; 0: off
  uint64_t seed = 0;
  std::vector<std::pair<int32_t, float>> logit_bias;  // (token, added to its logit); -inf bans

  // Checks ranges (and that bias tokens lie inside the vocabulary).
  Status validate(int32_t n_vocab) const;
};

// A small, fast, well-distributed generator whose output is fixed by its seed everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) { reseed(seed); }
  void reseed(uint64_t seed);
  uint64_t next();
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)

 private:
  uint64_t s_[4];
};

class Sampler {
 public:
  Sampler(SamplingParams params, int32_t n_vocab);

  // Picks the next token from `logits` (n_vocab values, not modified). `logprob` may be null.
  int32_t sample(const float* logits, float* logprob);
  // Records a token the generation kept (prompt tokens may be accepted too, to penalize them).
  void accept(int32_t token);
  // Forgets the penalty window and restarts the random sequence from the seed.
  void reset();

  const SamplingParams& params() const { return params_; }

 private:
  struct Candidate {
    int32_t id;
    float logit;
    float p;
  };
  void apply_penalties();
  void top_k(int32_t k);
  void top_p(float p);
  void min_p(float p);
  void softmax();  // sorted by logit, descending, fills p

  SamplingParams params_;
  int32_t n_vocab_;
  Rng rng_;
  std::deque<int32_t> recent_;          // the penalty window, oldest first
  std::vector<Candidate> cand_;         // reused between calls: no allocation per token
  std::vector<int32_t> counts_;         // per-token counts inside the window
  bool sorted_ = false;
};

// log-softmax of logits[token] over n values (stable).
float token_logprob(const float* logits, int32_t n, int32_t token);

}  // namespace pocketlm
