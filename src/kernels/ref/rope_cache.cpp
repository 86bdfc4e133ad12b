#include "kernels/ref/rope_cache.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace pocketlm::kernels {
namespace {

// Solving n_rotations = n_ctx_orig / (2 pi base^(2 d / n_dims)) for the dimension d gives the
// pair index below which a dimension completes more than n_rotations turns over the original
// context (extrapolates well) and above which it does not (must be interpolated).
float yarn_corr_dim(int n_dims, int n_ctx_orig, float n_rotations, float base) {
  return static_cast<float>(n_dims) *
         std::log(static_cast<float>(n_ctx_orig) /
                  (n_rotations * 2 * static_cast<float>(std::numbers::pi))) /
         (2 * std::log(base));
}

// 1 below the band (extrapolate), 0 above it (interpolate), linear in between. i0 is the even
// element index; the integer halving matches the reference implementation.
float yarn_ramp(float low, float high, int64_t i0) {
  const float y = static_cast<float>(i0 / 2 - low) / std::max(0.001f, high - low);
  return 1.0f - std::min(1.0f, std::max(0.0f, y));
}

}  // namespace

Result<RopeCache> RopeCache::create(RopeConfig config) {
  if (config.n_rot <= 0 || config.n_rot % 2 != 0) {
    return invalid_argument(strfmt("rope: n_rot must be even and positive, got %d", config.n_rot));
  }
  if (!(config.freq_base > 0.0f) || !std::isfinite(config.freq_base)) {
    return invalid_argument(
        strfmt("rope: freq_base must be positive, got %g", static_cast<double>(config.freq_base)));
  }
  if (!(config.freq_scale > 0.0f) || !std::isfinite(config.freq_scale)) {
    return invalid_argument(strfmt("rope: freq_scale must be positive, got %g",
                                   static_cast<double>(config.freq_scale)));
  }
  if (!config.freq_factors.empty() &&
      config.freq_factors.size() != static_cast<size_t>(config.n_rot / 2)) {
    return invalid_argument(strfmt("rope: %zu frequency factors given, expected n_rot/2 = %d",
                                   config.freq_factors.size(), config.n_rot / 2));
  }
  for (size_t i = 0; i < config.freq_factors.size(); ++i) {
    if (!(config.freq_factors[i] > 0.0f) || !std::isfinite(config.freq_factors[i])) {
      return invalid_argument(strfmt("rope: frequency factor %zu is %g, must be positive", i,
                                     static_cast<double>(config.freq_factors[i])));
    }
  }
  if (config.ext_factor != 0.0f && config.n_ctx_orig <= 0) {
    return invalid_argument("rope: YaRN (ext_factor != 0) needs the original context length");
  }

  RopeCache rc;
  rc.theta_scale_ = std::pow(config.freq_base, -2.0f / static_cast<float>(config.n_rot));
  if (config.ext_factor != 0.0f) {
    const float start = std::floor(
        yarn_corr_dim(config.n_rot, config.n_ctx_orig, config.beta_fast, config.freq_base));
    const float end = std::ceil(
        yarn_corr_dim(config.n_rot, config.n_ctx_orig, config.beta_slow, config.freq_base));
    rc.corr_dims_[0] = std::max(0.0f, start);
    rc.corr_dims_[1] = std::min(static_cast<float>(config.n_rot - 1), end);
  }
  rc.config_ = std::move(config);
  return rc;
}

void RopeCache::angles(int64_t pos, float* cos_theta, float* sin_theta) const {
  const RopeConfig& c = config_;
  const float* ff = c.freq_factors.empty() ? nullptr : c.freq_factors.data();
  float mscale = c.attn_factor;
  if (c.ext_factor != 0.0f) mscale *= 1.0f + 0.1f * std::log(1.0f / c.freq_scale);

  float theta = static_cast<float>(pos);
  for (int64_t i = 0; i < c.n_rot / 2; ++i) {
    const float theta_extrap = ff ? theta / ff[i] : theta;
    const float theta_interp = c.freq_scale * theta_extrap;
    float t = theta_interp;
    if (c.ext_factor != 0.0f) {
      const float ramp_mix = yarn_ramp(corr_dims_[0], corr_dims_[1], 2 * i) * c.ext_factor;
      t = theta_interp * (1 - ramp_mix) + theta_extrap * ramp_mix;
    }
    cos_theta[i] = std::cos(t) * mscale;
    sin_theta[i] = std::sin(t) * mscale;
    theta *= theta_scale_;
  }
}

}  // namespace pocketlm::kernels
