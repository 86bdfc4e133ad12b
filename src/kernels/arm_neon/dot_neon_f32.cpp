// NEON dot products of weight rows against float activations (VecDotF32Fn): F32, F16, BF16 and
// every quantized type we decode, without quantizing the activations.
//
// Quantized rows are never expanded to floats in memory: each block is decoded into int8
// registers, its integer quants are multiplied with the activations in float, and the block's
// scale (and min, times the plain sum of those activations) is applied once per group:
//   sum_e (d*sc*q_e - dmin*mn) * a_e = d*sc * sum_e q_e*a_e - dmin*mn * sum_e a_e.
#include <arm_neon.h>

#include "kernels/arm_neon/block_decode_neon.h"
#include "kernels/arm_neon/dot_neon_internal.h"
#include "kernels/arm_neon/neon_util.h"
#include "quant/blocks.h"

namespace pocketlm::kernels::neon {
namespace {

// q (16 int8) times a[0..15], accumulated into four lanes.
inline float32x4_t dot16_s8_f32(int8x16_t q, const float* a) {
  float32x4_t qf[4];
  widen_s8_to_f32(q, qf);
  float32x4_t acc = vmulq_f32(qf[0], vld1q_f32(a));
  acc = vfmaq_f32(acc, qf[1], vld1q_f32(a + 4));
  acc = vfmaq_f32(acc, qf[2], vld1q_f32(a + 8));
  return vfmaq_f32(acc, qf[3], vld1q_f32(a + 12));
}

inline float32x4_t sum16_f32(const float* a) {
  return vaddq_f32(vaddq_f32(vld1q_f32(a), vld1q_f32(a + 4)),
                   vaddq_f32(vld1q_f32(a + 8), vld1q_f32(a + 12)));
}

template <typename Block, bool kHasMin>
void vec_dot_blocks_f32(int64_t n, float* s, const void* w, const float* a) {
  const Block* x = static_cast<const Block*>(w);
  const int64_t nb = n / 32;
  float32x4_t acc = vdupq_n_f32(0.0f);
  for (int64_t i = 0; i < nb; ++i) {
    Decoded32 dx;
    decode(x[i], dx);
    const float* ab = a + 32 * i;
    const float32x4_t qa = vaddq_f32(dot16_s8_f32(dx.q[0], ab), dot16_s8_f32(dx.q[1], ab + 16));
    acc = vfmaq_n_f32(acc, qa, dx.d);
    if constexpr (kHasMin)
      acc = vfmaq_n_f32(acc, vaddq_f32(sum16_f32(ab), sum16_f32(ab + 16)), dx.m);
  }
  *s = vaddvq_f32(acc);
}

template <typename Block, bool kHasMins>
void vec_dot_k_f32(int64_t n, float* s, const void* w, const float* a) {
  const Block* x = static_cast<const Block*>(w);
  const int64_t nb = n / kQK_K;
  float32x4_t acc0 = vdupq_n_f32(0.0f);
  float32x4_t acc1 = vdupq_n_f32(0.0f);
  for (int64_t i = 0; i < nb; ++i) {
    DecodedK dk;
    decode(x[i], dk);
    const float* ab = a + kQK_K * i;
    for (int g = 0; g < 16; g += 2) {
      acc0 = vfmaq_n_f32(acc0, dot16_s8_f32(dk.q[g], ab + 16 * g), dk.d * dk.scale[g]);
      acc1 = vfmaq_n_f32(acc1, dot16_s8_f32(dk.q[g + 1], ab + 16 * g + 16), dk.d * dk.scale[g + 1]);
      if constexpr (kHasMins) {
        acc0 = vfmsq_n_f32(acc0, sum16_f32(ab + 16 * g), dk.dmin * dk.min[g]);
        acc1 = vfmsq_n_f32(acc1, sum16_f32(ab + 16 * g + 16), dk.dmin * dk.min[g + 1]);
      }
    }
  }
  *s = vaddvq_f32(vaddq_f32(acc0, acc1));
}

}  // namespace

void vec_dot_f32_f32(int64_t n, float* s, const void* w, const float* a) {
  const float* x = static_cast<const float*>(w);
  float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int k = 0; k < 4; ++k) {
      acc[k] = vfmaq_f32(acc[k], vld1q_f32(x + i + 4 * k), vld1q_f32(a + i + 4 * k));
    }
  }
  for (; i + 4 <= n; i += 4) acc[0] = vfmaq_f32(acc[0], vld1q_f32(x + i), vld1q_f32(a + i));
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
  for (; i < n; ++i) sum += x[i] * a[i];
  *s = sum;
}

void vec_dot_f16_f32(int64_t n, float* s, const void* w, const float* a) {
  const fp16_t* x = static_cast<const fp16_t*>(w);
  float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    float32x4_t x0, x1, x2, x3;
    load_half8(x + i, x0, x1);
    load_half8(x + i + 8, x2, x3);
    acc[0] = vfmaq_f32(acc[0], x0, vld1q_f32(a + i));
    acc[1] = vfmaq_f32(acc[1], x1, vld1q_f32(a + i + 4));
    acc[2] = vfmaq_f32(acc[2], x2, vld1q_f32(a + i + 8));
    acc[3] = vfmaq_f32(acc[3], x3, vld1q_f32(a + i + 12));
  }
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
  for (; i < n; ++i) sum += half_to_float(x[i]) * a[i];
  *s = sum;
}

void vec_dot_bf16_f32(int64_t n, float* s, const void* w, const float* a) {
  const bf16_t* x = static_cast<const bf16_t*>(w);
  float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    float32x4_t x0, x1, x2, x3;
    load_bf16x8(x + i, x0, x1);
    load_bf16x8(x + i + 8, x2, x3);
    acc[0] = vfmaq_f32(acc[0], x0, vld1q_f32(a + i));
    acc[1] = vfmaq_f32(acc[1], x1, vld1q_f32(a + i + 4));
    acc[2] = vfmaq_f32(acc[2], x2, vld1q_f32(a + i + 8));
    acc[3] = vfmaq_f32(acc[3], x3, vld1q_f32(a + i + 12));
  }
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
  for (; i < n; ++i) sum += bf16_to_fp32(x[i]) * a[i];
  *s = sum;
}

void vec_dot_q4_0_f32(int64_t n, float* s, const void* w, const float* a) {
  vec_dot_blocks_f32<BlockQ4_0, false>(n, s, w, a);
}
void vec_dot_q4_1_f32(int64_t n, float* s, const void* w, const float* a) {
  vec_dot_blocks_f32<BlockQ4_1, true>(n, s, w, a);
}
void vec_dot_q5_0_f32(int64_t n, float* s, const void* w, const float* a) {
  vec_dot_blocks_f32<BlockQ5_0, false>(n, s, w, a);
}
void vec_dot_q5_1_f32(int64_t n, float* s, const void* w, const float* a) {
  vec_dot_blocks_f32<BlockQ5_1, true>(n, s, w, a);
}
void vec_dot_q8_0_f32(int64_t n, float* s, const void* w, const float* a) {
  vec_dot_blocks_f32<BlockQ8_0, false>(n, s, w, a);
}
void vec_dot_q2_K_f32(int64_t n, float* s, const void* w, const float* a) {
  vec_dot_k_f32<BlockQ2_K, true>(n, s, w, a);
}
void vec_dot_q3_K_f32(int64_t n, float* s, const void* w, const float* a) {
  vec_dot_k_f32<BlockQ3_K, false>(n, s, w, a);
}
void vec_dot_q4_K_f32(int64_t n, float* s, const void* w, const float* a) {
  vec_dot_k_f32<BlockQ4_K, true>(n, s, w, a);
}
void vec_dot_q5_K_f32(int64_t n, float* s, const void* w, const float* a) {
  vec_dot_k_f32<BlockQ5_K, true>(n, s, w, a);
}
void vec_dot_q6_K_f32(int64_t n, float* s, const void* w, const float* a) {
  vec_dot_k_f32<BlockQ6_K, false>(n, s, w, a);
}

}  // namespace pocketlm::kernels::neon
