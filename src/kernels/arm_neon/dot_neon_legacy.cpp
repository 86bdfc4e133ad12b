// NEON dot products of the 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) against
// quantized activations, using SDOT (armv8.2-a dot-product extension).
//
// Per block, as the reference defines it: the integer dot of the two blocks' quants, scaled by
// d_w * d_a; Q4_1 and Q5_1 add m_w * s_a, where s_a = d_a * sum(a_q) comes with every Q8_1 block.
// Only the order of the float additions differs from the scalar reference.
#include <arm_neon.h>

#include <type_traits>

#include "kernels/arm_neon/block_decode_neon.h"
#include "kernels/arm_neon/dot_neon_internal.h"
#include "kernels/arm_neon/neon_util.h"
#include "quant/blocks.h"

namespace pocketlm::kernels::neon {
namespace {

template <typename WBlock, typename ABlock>
float dot_one_block(const WBlock& x, const ABlock& y, float32x4_t& acc) {
  Decoded32 dx;
  decode(x, dx);
  const int32x4_t p = dot32(dx.q[0], dx.q[1], vld1q_s8(y.qs), vld1q_s8(y.qs + 16));
  acc = vfmaq_n_f32(acc, vcvtq_f32_s32(p), dx.d * half_to_float(y.d));
  if constexpr (std::is_same_v<ABlock, BlockQ8_1>) {
    return dx.m * half_to_float(y.s);
  } else {
    return 0.0f;
  }
}

// Two independent accumulators so consecutive blocks do not wait on each other's FMA.
template <typename WBlock, typename ABlock>
void vec_dot_blocks(int64_t n, float* s, const void* w, const void* a) {
  const WBlock* x = static_cast<const WBlock*>(w);
  const ABlock* y = static_cast<const ABlock*>(a);
  const int64_t nb = n / 32;
  float32x4_t acc0 = vdupq_n_f32(0.0f);
  float32x4_t acc1 = vdupq_n_f32(0.0f);
  float min_sum = 0.0f;
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {
    min_sum += dot_one_block(x[i], y[i], acc0);
    min_sum += dot_one_block(x[i + 1], y[i + 1], acc1);
  }
  for (; i < nb; ++i) min_sum += dot_one_block(x[i], y[i], acc0);
  *s = vaddvq_f32(vaddq_f32(acc0, acc1)) + min_sum;
}

}  // namespace

void vec_dot_q4_0_q8_0(int64_t n, float* s, const void* w, const void* a) {
  vec_dot_blocks<BlockQ4_0, BlockQ8_0>(n, s, w, a);
}
void vec_dot_q4_1_q8_1(int64_t n, float* s, const void* w, const void* a) {
  vec_dot_blocks<BlockQ4_1, BlockQ8_1>(n, s, w, a);
}
void vec_dot_q5_0_q8_0(int64_t n, float* s, const void* w, const void* a) {
  vec_dot_blocks<BlockQ5_0, BlockQ8_0>(n, s, w, a);
}
void vec_dot_q5_1_q8_1(int64_t n, float* s, const void* w, const void* a) {
  vec_dot_blocks<BlockQ5_1, BlockQ8_1>(n, s, w, a);
}
void vec_dot_q8_0_q8_0(int64_t n, float* s, const void* w, const void* a) {
  vec_dot_blocks<BlockQ8_0, BlockQ8_0>(n, s, w, a);
}

}  // namespace pocketlm::kernels::neon
