// Vectorized exp / tanh / sigmoid for the NEON ops (private to src/kernels/arm_neon/ and to
// tests/kernels/neon_test.cpp, which measures them). Base ARMv8 instructions only.
//
// Accuracy, against the correctly rounded float of double-precision std::exp / std::tanh (swept
// over every 997th float of their ranges and densely near the branch points; tests/kernels/
// neon_test.cpp re-checks it):
//   exp_f32x4:  within 1 ulp over the whole float range, subnormal results included; exactly 0
//               below -103.97 (where the true value rounds to zero), +inf above 88.72, NaN stays
//               NaN.
//   tanh_f32x4: within 1 ulp; exactly +-1 once |x| >= 9.1, odd by construction, NaN stays NaN.
// The scalar reference uses the C library's expf/tanhf, which are also within 1 ulp, so the two
// tables differ by at most a couple of ulp per element. Activations would tolerate far more, but
// softmax sums thousands of these values, so exp is kept near correctly rounded instead of using a
// cheap 3-term fit.
#pragma once

#include <arm_neon.h>

namespace pocketlm::kernels::neon {

// e^x. Reduces x = n*ln2 + r with |r| <= ln2/2 (ln2 split in two so n*ln2_hi is exact), takes
// e^r from its Taylor polynomial to degree 7 (truncation error < 1e-8 relative on that range),
// and scales by 2^n in two halves so results that fall in the subnormal range still come out right.
static inline float32x4_t exp_f32x4(float32x4_t x) {
  const float32x4_t kLog2e = vdupq_n_f32(1.44269504088896341f);
  const float32x4_t kLn2Hi = vdupq_n_f32(0.693359375f);  // 9 significant bits: n*kLn2Hi is exact
  const float32x4_t kLn2Lo = vdupq_n_f32(-2.12194440e-4f);
  const float32x4_t kMax = vdupq_n_f32(88.7228394f);   // ln(FLT_MAX), beyond it the result is inf
  const float32x4_t kMin = vdupq_n_f32(-103.972084f);  // below it e^x < 2^-150 rounds to 0

  const float32x4_t nf = vrndnq_f32(vmulq_f32(x, kLog2e));
  float32x4_t r = vfmsq_f32(x, nf, kLn2Hi);
  r = vfmsq_f32(r, nf, kLn2Lo);

  // Horner on 1 + r + r^2/2! + ... + r^7/7!.
  float32x4_t p = vdupq_n_f32(1.0f / 5040.0f);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 720.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 120.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 24.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 6.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(0.5f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);

  // 2^n as two factors 2^(n/2) and 2^(n - n/2): each stays a normal float for n in [-150, 128].
  // Out-of-range lanes (and NaN, where n converts to 0) are fixed up by the selects below.
  const int32x4_t n =
      vcvtq_s32_f32(vmaxq_f32(vminq_f32(nf, vdupq_n_f32(128.0f)), vdupq_n_f32(-150.0f)));
  const int32x4_t n1 = vshrq_n_s32(n, 1);
  const int32x4_t n2 = vsubq_s32(n, n1);
  const float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, vdupq_n_s32(127)), 23));
  const float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, vdupq_n_s32(127)), 23));
  float32x4_t y = vmulq_f32(vmulq_f32(p, s1), s2);

  y = vbslq_f32(vcgtq_f32(x, kMax), vdupq_n_f32(__builtin_inff()), y);
  y = vbslq_f32(vcltq_f32(x, kMin), vdupq_n_f32(0.0f), y);
  return y;
}

// tanh(x). For |x| < 0.625, x * P(x^2) with P a degree-5 fit of tanh(x)/x on that interval
// (Chebyshev interpolation in x^2, relative error < 1e-8 with these float coefficients); above
// it 1 - 2 / (e^(2|x|) + 1), which no longer cancels badly there. The sign is put back at the end,
// so tanh(-x) == -tanh(x) exactly.
static inline float32x4_t tanh_f32x4(float32x4_t x) {
  const float32x4_t ax = vabsq_f32(x);

  const float32x4_t x2 = vmulq_f32(x, x);
  float32x4_t p = vdupq_n_f32(-0.005657135f);
  p = vfmaq_f32(vdupq_n_f32(0.020588191f), p, x2);
  p = vfmaq_f32(vdupq_n_f32(-0.05372011f), p, x2);
  p = vfmaq_f32(vdupq_n_f32(0.13331114f), p, x2);
  p = vfmaq_f32(vdupq_n_f32(-0.3333326f), p, x2);
  const float32x4_t small = vfmaq_f32(ax, vmulq_f32(p, x2), ax);  // |x| * (1 + x^2 * p)

  const float32x4_t e = exp_f32x4(vaddq_f32(ax, ax));
  const float32x4_t large =
      vsubq_f32(vdupq_n_f32(1.0f), vdivq_f32(vdupq_n_f32(2.0f), vaddq_f32(e, vdupq_n_f32(1.0f))));

  const float32x4_t t = vbslq_f32(vcltq_f32(ax, vdupq_n_f32(0.625f)), small, large);
  // Copy the sign bit of x onto |tanh|; a NaN lane is NaN on both branches and stays NaN.
  const uint32x4_t sign = vandq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x80000000u));
  return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(t), sign));
}

// x * sigmoid(x) = x / (1 + e^-x). For x below about -88 e^-x is inf and the result -0, as the
// scalar formula gives.
static inline float32x4_t silu_f32x4(float32x4_t x) {
  const float32x4_t e = exp_f32x4(vnegq_f32(x));
  return vdivq_f32(x, vaddq_f32(vdupq_n_f32(1.0f), e));
}

// 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), the GELU approximation GGUF models use.
static inline float32x4_t gelu_tanh_f32x4(float32x4_t x) {
  const float32x4_t kSqrt2OverPi = vdupq_n_f32(0.7978845608028654f);
  const float32x4_t kCoef = vdupq_n_f32(0.044715f);
  const float32x4_t x3 = vmulq_f32(vmulq_f32(x, x), x);
  const float32x4_t u = vmulq_f32(kSqrt2OverPi, vaddq_f32(x, vmulq_f32(kCoef, x3)));
  const float32x4_t t = tanh_f32x4(u);
  return vmulq_f32(vmulq_f32(vdupq_n_f32(0.5f), x), vaddq_f32(vdupq_n_f32(1.0f), t));
}

}  // namespace pocketlm::kernels::neon
