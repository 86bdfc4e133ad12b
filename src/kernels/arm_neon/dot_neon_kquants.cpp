// NEON dot products of the K-quant super-blocks (Q2_K .. Q6_K) against Q8_K activations, using
// SDOT (armv8.2-a dot-product extension).
//
// Per super-block, as the reference defines it: sum over 16-element groups of scale[g] times the
// integer dot of the group, times d_w * d_a; minus dmin_w * d_a * sum(min[g] * bsums_a[g]), where
// Q8_K's bsums (sums of 16 activation quants) apply the mins without touching the quants again.
// All of that is exact integer arithmetic; only the final float additions are ordered differently
// from the scalar reference.
#include <arm_neon.h>

#include "kernels/arm_neon/block_decode_neon.h"
#include "kernels/arm_neon/dot_neon_internal.h"
#include "quant/blocks.h"

namespace pocketlm::kernels::neon {
namespace {

// sum(scale[g] * dot(q[g], a[g])) over the 16 groups of one super-block, exactly, in int32.
// Worst case |q| <= 32, |a| <= 127, |scale| <= 128: 16 * 16 * 32 * 127 * 128 < 2^31.
inline int32_t scaled_group_dots(const DecodedK& dk, const int8_t* aq) {
  const int8x16_t sc = vld1q_s8(dk.scale);
  const int16x8_t sc_lo = vmovl_s8(vget_low_s8(sc));
  const int16x8_t sc_hi = vmovl_high_s8(sc);
  const int32x4_t sc4[4] = {vmovl_s16(vget_low_s16(sc_lo)), vmovl_high_s16(sc_lo),
                            vmovl_s16(vget_low_s16(sc_hi)), vmovl_high_s16(sc_hi)};
  int32x4_t isum = vdupq_n_s32(0);
  for (int k = 0; k < 4; ++k) {
    int32x4_t p[4];
    for (int t = 0; t < 4; ++t) {
      const int g = 4 * k + t;
      p[t] = vdotq_s32(vdupq_n_s32(0), dk.q[g], vld1q_s8(aq + 16 * g));
    }
    // Lane t of `sums` = the whole dot of group 4k+t.
    const int32x4_t sums = vpaddq_s32(vpaddq_s32(p[0], p[1]), vpaddq_s32(p[2], p[3]));
    isum = vmlaq_s32(isum, sums, sc4[k]);
  }
  return vaddvq_s32(isum);
}

// sum(min[g] * bsums[g]) over the 16 groups.
inline int32_t min_bsum_dot(const DecodedK& dk, const int16_t* bsums) {
  const int8x16_t mn = vld1q_s8(dk.min);
  const int16x8_t m0 = vmovl_s8(vget_low_s8(mn));
  const int16x8_t m1 = vmovl_high_s8(mn);
  const int16x8_t b0 = vld1q_s16(bsums);
  const int16x8_t b1 = vld1q_s16(bsums + 8);
  int32x4_t acc = vmull_s16(vget_low_s16(m0), vget_low_s16(b0));
  acc = vmlal_high_s16(acc, m0, b0);
  acc = vmlal_s16(acc, vget_low_s16(m1), vget_low_s16(b1));
  acc = vmlal_high_s16(acc, m1, b1);
  return vaddvq_s32(acc);
}

template <typename Block, bool kHasMins>
void vec_dot_k(int64_t n, float* s, const void* w, const void* a) {
  const Block* x = static_cast<const Block*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  const int64_t nb = n / kQK_K;
  float sum = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    DecodedK dk;
    decode(x[i], dk);
    const int32_t isum = scaled_group_dots(dk, y[i].qs);
    sum += y[i].d * dk.d * static_cast<float>(isum);
    if constexpr (kHasMins) {
      sum -= y[i].d * dk.dmin * static_cast<float>(min_bsum_dot(dk, y[i].bsums));
    }
  }
  *s = sum;
}

}  // namespace

void vec_dot_q2_K_q8_K(int64_t n, float* s, const void* w, const void* a) {
  vec_dot_k<BlockQ2_K, true>(n, s, w, a);
}
void vec_dot_q3_K_q8_K(int64_t n, float* s, const void* w, const void* a) {
  vec_dot_k<BlockQ3_K, false>(n, s, w, a);
}
void vec_dot_q4_K_q8_K(int64_t n, float* s, const void* w, const void* a) {
  vec_dot_k<BlockQ4_K, true>(n, s, w, a);
}
void vec_dot_q5_K_q8_K(int64_t n, float* s, const void* w, const void* a) {
  vec_dot_k<BlockQ5_K, true>(n, s, w, a);
}
void vec_dot_q6_K_q8_K(int64_t n, float* s, const void* w, const void* a) {
  vec_dot_k<BlockQ6_K, false>(n, s, w, a);
}

}  // namespace pocketlm::kernels::neon
