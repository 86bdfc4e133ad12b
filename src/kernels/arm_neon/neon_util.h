// Small NEON building blocks shared by the arm_neon kernels (private to this folder).
//
// Only files under src/kernels/arm_neon/ include this: they are the ones compiled with
// -march=armv8.2-a+dotprod+fp16. Nothing here uses half-precision *arithmetic*, only the
// conversions of base ARMv8, because dispatch enables this table on neon + dotprod alone.
// The helpers are `static` so that no translation unit built with other flags (a test, say) can
// have the linker merge its copy with ours, or ours into its.
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "quant/fp16.h"

namespace pocketlm::kernels::neon {

// A block's fp16 scale as float. The hardware conversion is exact (every half is a float), so
// this equals fp16_to_fp32 bit for bit for every non-NaN half, in one instruction instead of a
// branchy decode. (A signalling-NaN scale would come out quiet; no valid block has one.)
static inline float half_to_float(fp16_t h) {
  __fp16 v;
  std::memcpy(&v, &h, sizeof v);
  return static_cast<float>(v);
}

// Eight consecutive fp16 values widened to two float vectors (low four, high four).
static inline void load_half8(const fp16_t* p, float32x4_t& lo, float32x4_t& hi) {
  const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(p));
  lo = vcvt_f32_f16(vget_low_f16(h));
  hi = vcvt_high_f32_f16(h);
}

// Eight consecutive bf16 values widened to two float vectors: a bf16 is the top half of a float.
static inline void load_bf16x8(const bf16_t* p, float32x4_t& lo, float32x4_t& hi) {
  const uint16x8_t h = vld1q_u16(p);
  lo = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16));
  hi = vreinterpretq_f32_u32(vshll_high_n_u16(h, 16));
}

// Sixteen int8 values widened to four float vectors, in element order.
static inline void widen_s8_to_f32(int8x16_t q, float32x4_t out[4]) {
  const int16x8_t lo = vmovl_s8(vget_low_s8(q));
  const int16x8_t hi = vmovl_high_s8(q);
  out[0] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo)));
  out[1] = vcvtq_f32_s32(vmovl_high_s16(lo));
  out[2] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi)));
  out[3] = vcvtq_f32_s32(vmovl_high_s16(hi));
}

// Spreads 16 bits (bits 0..15 of `bits`) to 16 bytes: byte i is 0xFF when bit i is set, else 0.
// Q5_0/Q5_1 keep each element's fifth bit in such a bit field.
static inline uint8x16_t bits_to_bytes16(uint32_t bits) {
  static const uint8_t kByteOf[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
  static const uint8_t kBitOf[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t src = vreinterpretq_u8_u32(vdupq_n_u32(bits));
  const uint8x16_t spread = vqtbl1q_u8(src, vld1q_u8(kByteOf));
  return vtstq_u8(spread, vld1q_u8(kBitOf));
}

// Sum of 16 int8 x int8 products of one (a, b) pair of vectors, left in four int32 lanes.
static inline int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
  return vdotq_s32(acc, a, b);
}

// Sum of 32 products: a0*b0 over the first 16 elements and a1*b1 over the next 16.
static inline int32x4_t dot32(int8x16_t a0, int8x16_t a1, int8x16_t b0, int8x16_t b1) {
  return vdotq_s32(vdotq_s32(vdupq_n_s32(0), a0, b0), a1, b1);
}

}  // namespace pocketlm::kernels::neon
