// Rotary position embedding angles: the cosines and sines that OpKernels::rope applies.
//
// Usage:
//   RopeConfig c;
//   c.n_rot = 64;
//   c.freq_base = 10000.0f;  // plus the scaling fields when the model has them
//   Result<RopeCache> rc = RopeCache::create(c);
//   std::vector<float> cs(c.n_rot / 2), sn(c.n_rot / 2);
//   rc->angles(pos, cs.data(), sn.data());  // once per token position
//   k.ops.rope(q, n_head, head_dim, c.n_rot, cs.data(), sn.data(), RopeStyle::kNeox);
//
// The angle of pair i at position p is p * base^(-2i/n_rot), optionally divided by a per-pair
// frequency factor (Llama-3 / LongRoPE scaling), scaled by freq_scale (linear interpolation) and
// blended with the unscaled angle by YaRN's ramp. The arithmetic mirrors llama.cpp's CPU rope,
// including its float rounding (the angle is advanced by repeated multiplication, not recomputed
// with powf per pair), so positions far into the context get the same angles bit for bit.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"

namespace pocketlm::kernels {

struct RopeConfig {
  int n_rot = 0;  // rotated dimensions per head (even; may be less than head_dim)
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;  // 1 / linear context-scaling factor
  // n_rot / 2 divisors of the per-pair angle, or empty for none (GGUF `rope_freqs` tensor).
  std::vector<float> freq_factors;
  // YaRN: 0 disables it. When non-zero, pairs are blended between interpolated and extrapolated
  // angles over the band [beta_slow, beta_fast] rotations within the original context length.
  float ext_factor = 0.0f;
  float attn_factor = 1.0f;  // magnitude multiplier on cos and sin (YaRN's mscale)
  float beta_fast = 32.0f;
  float beta_slow = 1.0f;
  int n_ctx_orig = 0;  // training context length, used by YaRN's correction band
};

class RopeCache {
 public:
  // An empty cache (n_rot 0: angles() writes nothing), to be assigned from create().
  RopeCache() = default;
  // Validates the configuration (n_rot even and positive, base and scale positive, factor count).
  static Result<RopeCache> create(RopeConfig config);

  // cos_theta and sin_theta receive n_rot / 2 values each for token position `pos`.
  void angles(int64_t pos, float* cos_theta, float* sin_theta) const;

  const RopeConfig& config() const { return config_; }
  // YaRN's correction band [low, high] in pair-dimension units, clamped to [0, n_rot - 1].
  float corr_low() const { return corr_dims_[0]; }
  float corr_high() const { return corr_dims_[1]; }

 private:
  RopeConfig config_;
  float theta_scale_ = 1.0f;  // base^(-2 / n_rot): ratio between the angles of adjacent pairs
  float corr_dims_[2] = {0.0f, 0.0f};
};

}  // namespace pocketlm::kernels
