// The NEON dot table: activation quantizers (Q8_0, Q8_1, Q8_K, F16, BF16), the dot products of
// the float types (F32, F16, BF16), and fill_dot_neon, which installs these and the block kernels
// of dot_neon_*.cpp.
//
// The quantizers are bit-exact with the scalar reference (same scale, same rounding mode, same
// choice of sign for Q8_K, same NaN handling), so a NEON matmul sees the very activations ref
// would.
#include <arm_neon.h>

#include <cmath>
#include <cstring>

#include "kernels/arm_neon/dot_neon_internal.h"
#include "kernels/arm_neon/neon_util.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace pocketlm::kernels {
namespace neon {
namespace {

// Max of |x| over 32 floats, ignoring NaN (maxNum), as the reference's fmax scan does.
inline float abs_max32(const float32x4_t v[8]) {
  float32x4_t m = vdupq_n_f32(0.0f);
  for (int k = 0; k < 8; ++k) m = vmaxnmq_f32(m, vabsq_f32(v[k]));
  return vmaxnmvq_f32(m);
}

// Rounds v * id to nearest even (llama.cpp's NEON rounding), limits to [-127, 127] (only
// reachable when a subnormal d makes id infinite; NaN becomes 0) and narrows to int8. Returns the
// four int32 lanes summed, which Q8_1 needs.
inline int32x4_t round_store8(const float32x4_t v[8], float id, int8_t* out) {
  const int32x4_t lo = vdupq_n_s32(-127);
  const int32x4_t hi = vdupq_n_s32(127);
  int32x4_t sum = vdupq_n_s32(0);
  for (int k = 0; k < 8; k += 2) {
    const int32x4_t a = vminq_s32(vmaxq_s32(vcvtnq_s32_f32(vmulq_n_f32(v[k], id)), lo), hi);
    const int32x4_t b = vminq_s32(vmaxq_s32(vcvtnq_s32_f32(vmulq_n_f32(v[k + 1], id)), lo), hi);
    sum = vaddq_s32(sum, vaddq_s32(a, b));
    vst1_s8(out + 4 * k, vmovn_s16(vcombine_s16(vmovn_s32(a), vmovn_s32(b))));
  }
  return sum;
}

// The reference's round-to-nearest-even by the float bias trick, lane by lane: for |v| < 2^22 it
// is plain rounding, and beyond (Inf, NaN from an infinite iscale) it gives the same garbage the
// reference gives, so even degenerate blocks quantize bit for bit alike.
inline int32x4_t nearest_int(float32x4_t v) {
  const uint32x4_t bits = vreinterpretq_u32_f32(vaddq_f32(v, vdupq_n_f32(12582912.0f)));
  return vsubq_s32(vreinterpretq_s32_u32(vandq_u32(bits, vdupq_n_u32(0x007fffffu))),
                   vdupq_n_s32(0x00400000));
}

// Q8_0: d = max|x| / 127 per 32 elements, q = nearest-even(x * (1/d)): llama.cpp's NEON rounding
// (ref::ActRounding::kNeon), so logits match it token for token on ARM.
void quantize_act_q8_0(const float* x, void* vy, int64_t n) {
  BlockQ8_0* y = static_cast<BlockQ8_0*>(vy);
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    float32x4_t v[8];
    for (int k = 0; k < 8; ++k) v[k] = vld1q_f32(x + 32 * i + 4 * k);
    const float d = abs_max32(v) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    round_store8(v, id, y[i].qs);
  }
}

// Q8_1: as Q8_0, plus s = d * sum(q) for the min terms of Q4_1/Q5_1.
void quantize_act_q8_1(const float* x, void* vy, int64_t n) {
  BlockQ8_1* y = static_cast<BlockQ8_1*>(vy);
  for (int64_t i = 0; i < n / kQK8_1; ++i) {
    float32x4_t v[8];
    for (int k = 0; k < 8; ++k) v[k] = vld1q_f32(x + 32 * i + 4 * k);
    const float d = abs_max32(v) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    const int32_t sum = vaddvq_s32(round_store8(v, id, y[i].qs));
    y[i].s = fp32_to_fp16(static_cast<float>(sum) * d);
  }
}

// Q8_K: the scale comes from the element of largest magnitude (the first one, when +m and -m
// tie), mapped to -127: iscale = -127 / max, q = nearest-even(iscale * x) capped at 127,
// d = 1 / iscale; bsums hold the sums of each 16 quants.
void quantize_act_q8_K(const float* x, void* vy, int64_t n) {
  BlockQ8_K* y = static_cast<BlockQ8_K*>(vy);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* xb = x + kQK_K * i;
    // maxNum/minNum skip NaN, as the reference's comparisons do.
    float32x4_t amax_v = vdupq_n_f32(0.0f);
    float32x4_t max_v = vdupq_n_f32(0.0f);
    float32x4_t min_v = vdupq_n_f32(0.0f);
    for (int j = 0; j < kQK_K; j += 4) {
      const float32x4_t v = vld1q_f32(xb + j);
      amax_v = vmaxnmq_f32(amax_v, vabsq_f32(v));
      max_v = vmaxnmq_f32(max_v, v);
      min_v = vminnmq_f32(min_v, v);
    }
    const float amax = vmaxnmvq_f32(amax_v);
    if (amax == 0.0f) {
      y[i].d = 0.0f;
      std::memset(y[i].qs, 0, sizeof y[i].qs);
      std::memset(y[i].bsums, 0, sizeof y[i].bsums);
      continue;
    }
    const bool has_pos = vmaxnmvq_f32(max_v) == amax;
    const bool has_neg = -vminnmvq_f32(min_v) == amax;
    float max = has_pos ? amax : -amax;
    if (has_pos && has_neg) {  // both signs reach amax: the first in element order decides
      for (int j = 0; j < kQK_K; ++j) {
        if (std::fabs(xb[j]) == amax) {
          max = xb[j];
          break;
        }
      }
    }
    const float iscale = -127.0f / max;
    const int32x4_t lo_cap = vdupq_n_s32(-128);
    const int32x4_t hi_cap = vdupq_n_s32(127);
    for (int g = 0; g < kQK_K / 16; ++g) {
      int32x4_t q[4];
      for (int k = 0; k < 4; ++k) {
        const float32x4_t v = vmulq_n_f32(vld1q_f32(xb + 16 * g + 4 * k), iscale);
        q[k] = vminq_s32(vmaxq_s32(nearest_int(v), lo_cap), hi_cap);
      }
      const int16x8_t lo = vcombine_s16(vmovn_s32(q[0]), vmovn_s32(q[1]));
      const int16x8_t hi = vcombine_s16(vmovn_s32(q[2]), vmovn_s32(q[3]));
      vst1q_s8(y[i].qs + 16 * g, vcombine_s8(vmovn_s16(lo), vmovn_s16(hi)));
      y[i].bsums[g] =
          static_cast<int16_t>(vaddvq_s32(vaddq_s32(vaddq_s32(q[0], q[1]), vaddq_s32(q[2], q[3]))));
    }
    y[i].d = 1.0f / iscale;
  }
}

// The hardware conversion rounds like fp32_to_fp16 (nearest even, subnormals kept) for every
// non-NaN input; NaN payloads are handled differently (the hardware quiets a signalling NaN, the
// reference keeps it as numpy does), so chunks holding a NaN take the scalar path.
void quantize_act_f16(const float* x, void* vy, int64_t n) {
  fp16_t* y = static_cast<fp16_t*>(vy);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4_t a = vld1q_f32(x + i);
    const float32x4_t b = vld1q_f32(x + i + 4);
    const uint32x4_t ordered = vandq_u32(vceqq_f32(a, a), vceqq_f32(b, b));
    if (vminvq_u32(ordered) == 0) {
      for (int k = 0; k < 8; ++k) y[i + k] = fp32_to_fp16(x[i + k]);
      continue;
    }
    const float16x8_t h = vcombine_f16(vcvt_f16_f32(a), vcvt_f16_f32(b));
    vst1q_u16(y + i, vreinterpretq_u16_f16(h));
  }
  for (; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

// fp32_to_bf16 four lanes at a time: round to nearest even on the upper 16 bits; NaN keeps its
// top bits with the quiet bit forced, so it cannot round into an infinity.
void quantize_act_bf16(const float* x, void* vy, int64_t n) {
  bf16_t* y = static_cast<bf16_t*>(vy);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32x4_t u = vreinterpretq_u32_f32(vld1q_f32(x + i));
    const uint32x4_t odd = vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1));
    const uint32x4_t rounded = vshrq_n_u32(vaddq_u32(u, vaddq_u32(vdupq_n_u32(0x7fffu), odd)), 16);
    const uint32x4_t quiet = vorrq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(64));
    const uint32x4_t is_nan =
        vcgtq_u32(vandq_u32(u, vdupq_n_u32(0x7fffffffu)), vdupq_n_u32(0x7f800000u));
    vst1_u16(y + i, vmovn_u32(vbslq_u32(is_nan, quiet, rounded)));
  }
  for (; i < n; ++i) y[i] = fp32_to_bf16(x[i]);
}

void vec_dot_f32(int64_t n, float* s, const void* w, const void* a) {
  vec_dot_f32_f32(n, s, w, static_cast<const float*>(a));
}

void vec_dot_f16_f16(int64_t n, float* s, const void* w, const void* a) {
  const fp16_t* x = static_cast<const fp16_t*>(w);
  const fp16_t* y = static_cast<const fp16_t*>(a);
  float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    float32x4_t x0, x1, x2, x3, y0, y1, y2, y3;
    load_half8(x + i, x0, x1);
    load_half8(x + i + 8, x2, x3);
    load_half8(y + i, y0, y1);
    load_half8(y + i + 8, y2, y3);
    acc[0] = vfmaq_f32(acc[0], x0, y0);
    acc[1] = vfmaq_f32(acc[1], x1, y1);
    acc[2] = vfmaq_f32(acc[2], x2, y2);
    acc[3] = vfmaq_f32(acc[3], x3, y3);
  }
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
  for (; i < n; ++i) sum += half_to_float(x[i]) * half_to_float(y[i]);
  *s = sum;
}

void vec_dot_bf16_bf16(int64_t n, float* s, const void* w, const void* a) {
  const bf16_t* x = static_cast<const bf16_t*>(w);
  const bf16_t* y = static_cast<const bf16_t*>(a);
  float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    float32x4_t x0, x1, x2, x3, y0, y1, y2, y3;
    load_bf16x8(x + i, x0, x1);
    load_bf16x8(x + i + 8, x2, x3);
    load_bf16x8(y + i, y0, y1);
    load_bf16x8(y + i + 8, y2, y3);
    acc[0] = vfmaq_f32(acc[0], x0, y0);
    acc[1] = vfmaq_f32(acc[1], x1, y1);
    acc[2] = vfmaq_f32(acc[2], x2, y2);
    acc[3] = vfmaq_f32(acc[3], x3, y3);
  }
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
  for (; i < n; ++i) sum += bf16_to_fp32(x[i]) * bf16_to_fp32(y[i]);
  *s = sum;
}

}  // namespace
}  // namespace neon

void fill_dot_neon(DotKernels& t) {
  using T = TensorType;
  auto at = [](T type) { return static_cast<int>(type); };

  t.quantize_act[at(T::kQ8_0)] = neon::quantize_act_q8_0;
  t.quantize_act[at(T::kQ8_1)] = neon::quantize_act_q8_1;
  t.quantize_act[at(T::kQ8_K)] = neon::quantize_act_q8_K;
  t.quantize_act[at(T::kF16)] = neon::quantize_act_f16;
  t.quantize_act[at(T::kBF16)] = neon::quantize_act_bf16;

  t.vec_dot[at(T::kF32)] = neon::vec_dot_f32;
  t.vec_dot[at(T::kF16)] = neon::vec_dot_f16_f16;
  t.vec_dot[at(T::kBF16)] = neon::vec_dot_bf16_bf16;
  t.vec_dot[at(T::kQ4_0)] = neon::vec_dot_q4_0_q8_0;
  t.vec_dot[at(T::kQ4_1)] = neon::vec_dot_q4_1_q8_1;
  t.vec_dot[at(T::kQ5_0)] = neon::vec_dot_q5_0_q8_0;
  t.vec_dot[at(T::kQ5_1)] = neon::vec_dot_q5_1_q8_1;
  t.vec_dot[at(T::kQ8_0)] = neon::vec_dot_q8_0_q8_0;
  t.vec_dot[at(T::kQ2_K)] = neon::vec_dot_q2_K_q8_K;
  t.vec_dot[at(T::kQ3_K)] = neon::vec_dot_q3_K_q8_K;
  t.vec_dot[at(T::kQ4_K)] = neon::vec_dot_q4_K_q8_K;
  t.vec_dot[at(T::kQ5_K)] = neon::vec_dot_q5_K_q8_K;
  t.vec_dot[at(T::kQ6_K)] = neon::vec_dot_q6_K_q8_K;

  t.vec_dot_f32[at(T::kF32)] = neon::vec_dot_f32_f32;
  t.vec_dot_f32[at(T::kF16)] = neon::vec_dot_f16_f32;
  t.vec_dot_f32[at(T::kBF16)] = neon::vec_dot_bf16_f32;
  t.vec_dot_f32[at(T::kQ4_0)] = neon::vec_dot_q4_0_f32;
  t.vec_dot_f32[at(T::kQ4_1)] = neon::vec_dot_q4_1_f32;
  t.vec_dot_f32[at(T::kQ5_0)] = neon::vec_dot_q5_0_f32;
  t.vec_dot_f32[at(T::kQ5_1)] = neon::vec_dot_q5_1_f32;
  t.vec_dot_f32[at(T::kQ8_0)] = neon::vec_dot_q8_0_f32;
  t.vec_dot_f32[at(T::kQ2_K)] = neon::vec_dot_q2_K_f32;
  t.vec_dot_f32[at(T::kQ3_K)] = neon::vec_dot_q3_K_f32;
  t.vec_dot_f32[at(T::kQ4_K)] = neon::vec_dot_q4_K_f32;
  t.vec_dot_f32[at(T::kQ5_K)] = neon::vec_dot_q5_K_f32;
  t.vec_dot_f32[at(T::kQ6_K)] = neon::vec_dot_q6_K_f32;
}

}  // namespace pocketlm::kernels
