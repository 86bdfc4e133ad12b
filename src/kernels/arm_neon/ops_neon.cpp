// NEON elementwise and row ops: rms_norm, softmax, rope, activations, add/mul/scale/axpy, dot.
//
// Numerics, compared with the scalar reference:
// - add, mul, scale, axpy and rope do the same float operations in the same order (rope fuses
//   the x0 products, as ref does), so they match ref bit for bit.
// - rms_norm and softmax accumulate their sums in double, like a careful scalar loop would, so the
//   only differences are the order of those additions and the exp approximation.
// - exp / tanh (and silu, gelu_tanh, swiglu, geglu_tanh built on them) come from neon_math.h:
//   exp and tanh within 1 ulp of the correctly rounded value.
// - Ragged tails (n not a multiple of 4) go through the same vector code via a padded buffer, so
//   every element of a row is computed the same way.
#include <arm_neon.h>

#include <cmath>
#include <cstring>

#include "kernels/arm_neon/neon_math.h"
#include "kernels/kernels.h"

namespace pocketlm::kernels {
namespace neon {
namespace {

// Applies f to every 4-float chunk of x, writing y (which may alias x); the last partial chunk
// runs through a zero-padded copy.
template <typename F>
inline void map_unary(float* y, const float* x, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, f(vld1q_f32(x + i)));
  if (i < n) {
    float buf[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    const size_t rest = static_cast<size_t>(n - i);
    std::memcpy(buf, x + i, rest * sizeof(float));
    vst1q_f32(buf, f(vld1q_f32(buf)));
    std::memcpy(y + i, buf, rest * sizeof(float));
  }
}

template <typename F>
inline void map_binary(float* y, const float* a, const float* b, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, f(vld1q_f32(a + i), vld1q_f32(b + i)));
  if (i < n) {
    float ba[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    float bb[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    const size_t rest = static_cast<size_t>(n - i);
    std::memcpy(ba, a + i, rest * sizeof(float));
    std::memcpy(bb, b + i, rest * sizeof(float));
    vst1q_f32(ba, f(vld1q_f32(ba), vld1q_f32(bb)));
    std::memcpy(y + i, ba, rest * sizeof(float));
  }
}

inline float64x2_t add_squares(float64x2_t acc, float32x4_t v) {
  const float64x2_t lo = vcvt_f64_f32(vget_low_f32(v));
  const float64x2_t hi = vcvt_high_f64_f32(v);
  return vfmaq_f64(vfmaq_f64(acc, lo, lo), hi, hi);
}

inline float64x2_t add_values(float64x2_t acc, float32x4_t v) {
  return vaddq_f64(vaddq_f64(acc, vcvt_f64_f32(vget_low_f32(v))), vcvt_high_f64_f32(v));
}

void rms_norm(float* y, const float* x, const float* w, int64_t n, float eps) {
  float64x2_t acc0 = vdupq_n_f64(0.0);
  float64x2_t acc1 = vdupq_n_f64(0.0);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 = add_squares(acc0, vld1q_f32(x + i));
    acc1 = add_squares(acc1, vld1q_f32(x + i + 4));
  }
  double sum = vaddvq_f64(vaddq_f64(acc0, acc1));
  for (; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  if (w != nullptr) {
    map_binary(y, x, w, n, [scale](float32x4_t v, float32x4_t wv) {
      return vmulq_f32(vmulq_n_f32(v, scale), wv);
    });
  } else {
    map_unary(y, x, n, [scale](float32x4_t v) { return vmulq_n_f32(v, scale); });
  }
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  float32x4_t mx = vdupq_n_f32(-__builtin_inff());
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) mx = vmaxq_f32(mx, vld1q_f32(x + i));
  float max = vmaxvq_f32(mx);
  for (; i < n; ++i) max = std::fmax(max, x[i]);
  if (max == -__builtin_inff()) {  // every logit masked: no distribution, all zeros
    std::memset(x, 0, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  const float32x4_t vmax = vdupq_n_f32(max);
  float64x2_t acc = vdupq_n_f64(0.0);
  i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t e = exp_f32x4(vsubq_f32(vld1q_f32(x + i), vmax));
    vst1q_f32(x + i, e);
    acc = add_values(acc, e);
  }
  double sum = vaddvq_f64(acc);
  if (i < n) {
    // The padding lanes hold -inf, whose exp is exactly 0, so they add nothing to the sum.
    float buf[4] = {-__builtin_inff(), -__builtin_inff(), -__builtin_inff(), -__builtin_inff()};
    const size_t rest = static_cast<size_t>(n - i);
    std::memcpy(buf, x + i, rest * sizeof(float));
    const float32x4_t e = exp_f32x4(vsubq_f32(vld1q_f32(buf), vmax));
    vst1q_f32(buf, e);
    std::memcpy(x + i, buf, rest * sizeof(float));
    sum += vaddvq_f64(add_values(vdupq_n_f64(0.0), e));
  }
  const float inv = static_cast<float>(1.0 / sum);
  map_unary(x, x, n, [inv](float32x4_t v) { return vmulq_n_f32(v, inv); });
}

// x0' = x0*c - x1*s, x1' = x0*s + x1*c, unfused like the reference.
inline void rotate(float32x4_t& x0, float32x4_t& x1, float32x4_t c, float32x4_t s) {
  // x0 c - x1 s and x0 s + x1 c, each with the x0 product fused (see rope_ref).
  const float32x4_t r0 = vfmaq_f32(vnegq_f32(vmulq_f32(x1, s)), x0, c);
  const float32x4_t r1 = vfmaq_f32(vmulq_f32(x1, c), x0, s);
  x0 = r0;
  x1 = r1;
}

inline void rotate_scalar(float& x0, float& x1, float c, float s) {
  const float r0 = std::fma(x0, c, -(x1 * s));
  const float r1 = std::fma(x0, s, x1 * c);
  x0 = r0;
  x1 = r1;
}

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cos_theta,
          const float* sin_theta, RopeStyle style) {
  const int64_t half = n_rot / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* xh = x + h * head_dim;
    int64_t i = 0;
    if (style == RopeStyle::kNormal) {
      // Pairs are adjacent: a de-interleaving load puts 4 first and 4 second members in lanes.
      for (; i + 4 <= half; i += 4) {
        float32x4x2_t v = vld2q_f32(xh + 2 * i);
        rotate(v.val[0], v.val[1], vld1q_f32(cos_theta + i), vld1q_f32(sin_theta + i));
        vst2q_f32(xh + 2 * i, v);
      }
      for (; i < half; ++i) rotate_scalar(xh[2 * i], xh[2 * i + 1], cos_theta[i], sin_theta[i]);
    } else {
      for (; i + 4 <= half; i += 4) {
        float32x4_t x0 = vld1q_f32(xh + i);
        float32x4_t x1 = vld1q_f32(xh + half + i);
        rotate(x0, x1, vld1q_f32(cos_theta + i), vld1q_f32(sin_theta + i));
        vst1q_f32(xh + i, x0);
        vst1q_f32(xh + half + i, x1);
      }
      for (; i < half; ++i) rotate_scalar(xh[i], xh[half + i], cos_theta[i], sin_theta[i]);
    }
  }
}

void silu(float* y, const float* x, int64_t n) { map_unary(y, x, n, silu_f32x4); }

void gelu_tanh(float* y, const float* x, int64_t n) { map_unary(y, x, n, gelu_tanh_f32x4); }

void swiglu(float* y, const float* gate, const float* up, int64_t n) {
  map_binary(y, gate, up, n,
             [](float32x4_t g, float32x4_t u) { return vmulq_f32(silu_f32x4(g), u); });
}

void geglu_tanh(float* y, const float* gate, const float* up, int64_t n) {
  map_binary(y, gate, up, n,
             [](float32x4_t g, float32x4_t u) { return vmulq_f32(gelu_tanh_f32x4(g), u); });
}

void add(float* y, const float* a, const float* b, int64_t n) {
  map_binary(y, a, b, n, [](float32x4_t u, float32x4_t v) { return vaddq_f32(u, v); });
}

void mul(float* y, const float* a, const float* b, int64_t n) {
  map_binary(y, a, b, n, [](float32x4_t u, float32x4_t v) { return vmulq_f32(u, v); });
}

void scale(float* y, const float* x, float s, int64_t n) {
  map_unary(y, x, n, [s](float32x4_t v) { return vmulq_n_f32(v, s); });
}

void axpy(float* y, const float* x, float a, int64_t n) {
  map_binary(y, y, x, n,
             [a](float32x4_t yv, float32x4_t xv) { return vaddq_f32(yv, vmulq_n_f32(xv, a)); });
}

float dot_f32(const float* a, const float* b, int64_t n) {
  float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int k = 0; k < 4; ++k) {
      acc[k] = vfmaq_f32(acc[k], vld1q_f32(a + i + 4 * k), vld1q_f32(b + i + 4 * k));
    }
  }
  for (; i + 4 <= n; i += 4) acc[0] = vfmaq_f32(acc[0], vld1q_f32(a + i), vld1q_f32(b + i));
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace
}  // namespace neon

void fill_ops_neon(OpKernels& t) {
  t.rms_norm = neon::rms_norm;
  t.softmax = neon::softmax;
  t.rope = neon::rope;
  t.silu = neon::silu;
  t.gelu_tanh = neon::gelu_tanh;
  t.swiglu = neon::swiglu;
  t.geglu_tanh = neon::geglu_tanh;
  t.add = neon::add;
  t.mul = neon::mul;
  t.scale = neon::scale;
  t.axpy = neon::axpy;
  t.dot_f32 = neon::dot_f32;
}

}  // namespace pocketlm::kernels
