// Decoding of quantized weight blocks into NEON registers (private to src/kernels/arm_neon/).
//
// Every supported block type is brought to one shape, so one integer dot loop (against Q8_0,
// Q8_1 or Q8_K activations, with SDOT) and one float dot loop (against f32 activations) serve all
// of them:
//   weight[e] = d * scale[g] * q[e] - dmin * min[g]        for element e in 16-element group g
// with q as signed int8 (the type's offset already subtracted) and scale/min as small integers.
// Legacy 32-element blocks have one scale for both groups and their min as a float (Q4_1, Q5_1).
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/arm_neon/neon_util.h"
#include "quant/blocks.h"

namespace pocketlm::kernels::neon {

// ---- legacy 32-element blocks --------------------------------------------------------------

struct Decoded32 {
  int8x16_t q[2];  // elements 0..15 and 16..31
  float d;
  float m;  // added to every element (Q4_1, Q5_1); 0 for the symmetric types
};

static inline void decode(const BlockQ4_0& b, Decoded32& out) {
  const uint8x16_t v = vld1q_u8(b.qs);
  const int8x16_t k8 = vdupq_n_s8(8);
  out.q[0] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0f))), k8);
  out.q[1] = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), k8);
  out.d = half_to_float(b.d);
  out.m = 0.0f;
}

static inline void decode(const BlockQ4_1& b, Decoded32& out) {
  const uint8x16_t v = vld1q_u8(b.qs);
  out.q[0] = vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0f)));
  out.q[1] = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
  out.d = half_to_float(b.d);
  out.m = half_to_float(b.m);
}

// The fifth bits of Q5_0/Q5_1: bit i of qh belongs to element i (low nibbles are 0..15).
static inline void decode_q5_nibbles(const uint8_t* qs, const uint8_t* qh_bytes,
                                     uint8x16_t out[2]) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  const uint8x16_t v = vld1q_u8(qs);
  const uint8x16_t k16 = vdupq_n_u8(0x10);
  out[0] = vorrq_u8(vandq_u8(v, vdupq_n_u8(0x0f)), vandq_u8(bits_to_bytes16(qh), k16));
  out[1] = vorrq_u8(vshrq_n_u8(v, 4), vandq_u8(bits_to_bytes16(qh >> 16), k16));
}

static inline void decode(const BlockQ5_0& b, Decoded32& out) {
  uint8x16_t u[2];
  decode_q5_nibbles(b.qs, b.qh, u);
  const int8x16_t k16 = vdupq_n_s8(16);
  out.q[0] = vsubq_s8(vreinterpretq_s8_u8(u[0]), k16);
  out.q[1] = vsubq_s8(vreinterpretq_s8_u8(u[1]), k16);
  out.d = half_to_float(b.d);
  out.m = 0.0f;
}

static inline void decode(const BlockQ5_1& b, Decoded32& out) {
  uint8x16_t u[2];
  decode_q5_nibbles(b.qs, b.qh, u);
  out.q[0] = vreinterpretq_s8_u8(u[0]);
  out.q[1] = vreinterpretq_s8_u8(u[1]);
  out.d = half_to_float(b.d);
  out.m = half_to_float(b.m);
}

static inline void decode(const BlockQ8_0& b, Decoded32& out) {
  out.q[0] = vld1q_s8(b.qs);
  out.q[1] = vld1q_s8(b.qs + 16);
  out.d = half_to_float(b.d);
  out.m = 0.0f;
}

// ---- K-quant 256-element super-blocks ------------------------------------------------------

struct DecodedK {
  int8x16_t q[16];  // q[g] = elements 16g .. 16g+15
  int8_t scale[16];
  int8_t min[16];  // all zero for Q3_K and Q6_K, which have no mins
  float d;
  float dmin;
};

// Q4_K/Q5_K pack 8 six-bit scales and 8 six-bit mins into 12 bytes: bytes 0..3 hold scales 0..3
// (low 6 bits) and the top bits of scales 4..7; bytes 4..7 the same for the mins; bytes 8..11
// the low 4 bits of scales 4..7 (low nibble) and of mins 4..7 (high nibble). Each of the 8 values
// covers 32 elements, so it is written to both of its 16-element groups.
static inline void decode_scales_mins_k4(const uint8_t* packed, DecodedK& out) {
  uint32_t w[3];
  std::memcpy(w, packed, 12);
  const uint32_t sc[2] = {w[0] & 0x3f3f3f3fu, (w[2] & 0x0f0f0f0fu) | ((w[0] >> 2) & 0x30303030u)};
  const uint32_t mn[2] = {w[1] & 0x3f3f3f3fu,
                          ((w[2] >> 4) & 0x0f0f0f0fu) | ((w[1] >> 2) & 0x30303030u)};
  uint8_t sc8[8], mn8[8];
  std::memcpy(sc8, sc, 8);
  std::memcpy(mn8, mn, 8);
  const uint8x8_t s = vld1_u8(sc8);
  const uint8x8_t m = vld1_u8(mn8);
  vst1q_s8(out.scale, vreinterpretq_s8_u8(vcombine_u8(vzip1_u8(s, s), vzip2_u8(s, s))));
  vst1q_s8(out.min, vreinterpretq_s8_u8(vcombine_u8(vzip1_u8(m, m), vzip2_u8(m, m))));
}

static inline void decode(const BlockQ2_K& b, DecodedK& out) {
  const uint8x16_t sc = vld1q_u8(b.scales);
  vst1q_s8(out.scale, vreinterpretq_s8_u8(vandq_u8(sc, vdupq_n_u8(0x0f))));
  vst1q_s8(out.min, vreinterpretq_s8_u8(vshrq_n_u8(sc, 4)));
  const uint8x16_t k3 = vdupq_n_u8(3);
  // Each 32-byte half of qs serves 128 elements: the four 2-bit fields of a byte are four
  // 32-element groups, byte l giving element l of each.
  for (int c = 0; c < 2; ++c) {
    const uint8x16_t v0 = vld1q_u8(b.qs + 32 * c);
    const uint8x16_t v1 = vld1q_u8(b.qs + 32 * c + 16);
    int8x16_t* q = out.q + 8 * c;
    q[0] = vreinterpretq_s8_u8(vandq_u8(v0, k3));
    q[1] = vreinterpretq_s8_u8(vandq_u8(v1, k3));
    q[2] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v0, 2), k3));
    q[3] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v1, 2), k3));
    q[4] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v0, 4), k3));
    q[5] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v1, 4), k3));
    q[6] = vreinterpretq_s8_u8(vshrq_n_u8(v0, 6));
    q[7] = vreinterpretq_s8_u8(vshrq_n_u8(v1, 6));
  }
  out.d = half_to_float(b.d);
  out.dmin = half_to_float(b.dmin);
}

static inline void decode(const BlockQ3_K& b, DecodedK& out) {
  // Scale k (0..15): low 4 bits from byte k%8 (low nibble for k < 8, high nibble after), high 2
  // bits from byte 8 + k%4 at bit 2*(k/4); stored with an offset of 32.
  uint32_t hi_word;
  std::memcpy(&hi_word, b.scales + 8, 4);
  const uint8x8_t lo_bytes = vld1_u8(b.scales);
  const uint8x16_t lo = vcombine_u8(vand_u8(lo_bytes, vdup_n_u8(0x0f)), vshr_n_u8(lo_bytes, 4));
  static const uint8_t kHiIndex[16] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3};
  static const int8_t kHiShift[16] = {0, 0, 0, 0, -2, -2, -2, -2, -4, -4, -4, -4, -6, -6, -6, -6};
  const uint8x16_t hi_src =
      vqtbl1q_u8(vreinterpretq_u8_u32(vdupq_n_u32(hi_word)), vld1q_u8(kHiIndex));
  const uint8x16_t hi = vandq_u8(vshlq_u8(hi_src, vld1q_s8(kHiShift)), vdupq_n_u8(3));
  const uint8x16_t sc6 = vorrq_u8(lo, vshlq_n_u8(hi, 4));
  vst1q_s8(out.scale, vsubq_s8(vreinterpretq_s8_u8(sc6), vdupq_n_s8(32)));
  vst1q_s8(out.min, vdupq_n_s8(0));

  // Low 2 bits as in Q2_K; the high bit of group g (0..7) is bit g of hmask[l], and a clear bit
  // means "subtract 4" (values -4..3).
  const uint8x16_t k3 = vdupq_n_u8(3);
  const uint8x16_t k4 = vdupq_n_u8(4);
  const uint8x16_t h0 = vld1q_u8(b.hmask);
  const uint8x16_t h1 = vld1q_u8(b.hmask + 16);
  for (int c = 0; c < 2; ++c) {
    const uint8x16_t v0 = vld1q_u8(b.qs + 32 * c);
    const uint8x16_t v1 = vld1q_u8(b.qs + 32 * c + 16);
    for (int s = 0; s < 4; ++s) {
      const int g = 4 * c + s;
      const uint8x16_t bit = vdupq_n_u8(static_cast<uint8_t>(1u << g));
      const int8x16_t shift = vdupq_n_s8(static_cast<int8_t>(-2 * s));
      const uint8x16_t l0 = vandq_u8(vshlq_u8(v0, shift), k3);
      const uint8x16_t l1 = vandq_u8(vshlq_u8(v1, shift), k3);
      const uint8x16_t sub0 = vbicq_u8(k4, vtstq_u8(h0, bit));
      const uint8x16_t sub1 = vbicq_u8(k4, vtstq_u8(h1, bit));
      out.q[2 * g] = vsubq_s8(vreinterpretq_s8_u8(l0), vreinterpretq_s8_u8(sub0));
      out.q[2 * g + 1] = vsubq_s8(vreinterpretq_s8_u8(l1), vreinterpretq_s8_u8(sub1));
    }
  }
  out.d = half_to_float(b.d);
  out.dmin = 0.0f;
}

static inline void decode(const BlockQ4_K& b, DecodedK& out) {
  decode_scales_mins_k4(b.scales, out);
  const uint8x16_t k15 = vdupq_n_u8(0x0f);
  // 32 bytes of qs per 64 elements: low nibbles are the first 32, high nibbles the next 32.
  for (int k = 0; k < 4; ++k) {
    const uint8x16_t v0 = vld1q_u8(b.qs + 32 * k);
    const uint8x16_t v1 = vld1q_u8(b.qs + 32 * k + 16);
    out.q[4 * k + 0] = vreinterpretq_s8_u8(vandq_u8(v0, k15));
    out.q[4 * k + 1] = vreinterpretq_s8_u8(vandq_u8(v1, k15));
    out.q[4 * k + 2] = vreinterpretq_s8_u8(vshrq_n_u8(v0, 4));
    out.q[4 * k + 3] = vreinterpretq_s8_u8(vshrq_n_u8(v1, 4));
  }
  out.d = half_to_float(b.d);
  out.dmin = half_to_float(b.dmin);
}

static inline void decode(const BlockQ5_K& b, DecodedK& out) {
  decode_scales_mins_k4(b.scales, out);
  const uint8x16_t k15 = vdupq_n_u8(0x0f);
  const uint8x16_t k16 = vdupq_n_u8(0x10);
  const uint8x16_t h0 = vld1q_u8(b.qh);
  const uint8x16_t h1 = vld1q_u8(b.qh + 16);
  // As Q4_K, plus a fifth bit: bit g of qh[l] for element l of 32-element group g.
  for (int k = 0; k < 4; ++k) {
    const uint8x16_t v0 = vld1q_u8(b.qs + 32 * k);
    const uint8x16_t v1 = vld1q_u8(b.qs + 32 * k + 16);
    const uint8x16_t blo = vdupq_n_u8(static_cast<uint8_t>(1u << (2 * k)));
    const uint8x16_t bhi = vdupq_n_u8(static_cast<uint8_t>(1u << (2 * k + 1)));
    out.q[4 * k + 0] =
        vreinterpretq_s8_u8(vorrq_u8(vandq_u8(v0, k15), vandq_u8(vtstq_u8(h0, blo), k16)));
    out.q[4 * k + 1] =
        vreinterpretq_s8_u8(vorrq_u8(vandq_u8(v1, k15), vandq_u8(vtstq_u8(h1, blo), k16)));
    out.q[4 * k + 2] =
        vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(v0, 4), vandq_u8(vtstq_u8(h0, bhi), k16)));
    out.q[4 * k + 3] =
        vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(v1, 4), vandq_u8(vtstq_u8(h1, bhi), k16)));
  }
  out.d = half_to_float(b.d);
  out.dmin = half_to_float(b.dmin);
}

static inline void decode(const BlockQ6_K& b, DecodedK& out) {
  std::memcpy(out.scale, b.scales, 16);
  vst1q_s8(out.min, vdupq_n_s8(0));
  const uint8x16_t k15 = vdupq_n_u8(0x0f);
  const uint8x16_t k3 = vdupq_n_u8(3);
  const int8x16_t k32 = vdupq_n_s8(32);
  // Per 128 elements: 64 bytes of ql (low 4 bits) and 32 of qh (2 high bits each for 4 groups).
  // Group t of 32: ql[32*(t%2) + l], low nibble for t < 2, high after; qh[l] bits 2t..2t+1.
  for (int c = 0; c < 2; ++c) {
    const uint8_t* ql = b.ql + 64 * c;
    const uint8_t* qh = b.qh + 32 * c;
    for (int half = 0; half < 2; ++half) {  // l in 0..15, then 16..31
      const uint8x16_t lA = vld1q_u8(ql + 16 * half);
      const uint8x16_t lB = vld1q_u8(ql + 32 + 16 * half);
      const uint8x16_t h = vld1q_u8(qh + 16 * half);
      const uint8x16_t q0 = vorrq_u8(vandq_u8(lA, k15), vshlq_n_u8(vandq_u8(h, k3), 4));
      const uint8x16_t q1 =
          vorrq_u8(vandq_u8(lB, k15), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 2), k3), 4));
      const uint8x16_t q2 =
          vorrq_u8(vshrq_n_u8(lA, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 4), k3), 4));
      const uint8x16_t q3 = vorrq_u8(vshrq_n_u8(lB, 4), vshlq_n_u8(vshrq_n_u8(h, 6), 4));
      int8x16_t* q = out.q + 8 * c + half;
      q[0] = vsubq_s8(vreinterpretq_s8_u8(q0), k32);
      q[2] = vsubq_s8(vreinterpretq_s8_u8(q1), k32);
      q[4] = vsubq_s8(vreinterpretq_s8_u8(q2), k32);
      q[6] = vsubq_s8(vreinterpretq_s8_u8(q3), k32);
    }
  }
  out.d = half_to_float(b.d);
  out.dmin = 0.0f;
}

}  // namespace pocketlm::kernels::neon
