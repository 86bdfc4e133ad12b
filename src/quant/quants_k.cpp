// The 256-element super-block types: dequantizers for Q2_K..Q6_K, and Q8_K both ways.
//
// Dequantization is bit-exact with the `gguf` package (each product is one float32 operation in
// its order, e.g. Q4_K is (d*sc)*q - (dmin*m)). There are no K-quant weight quantizers here: they
// search for scales and belong to the offline quantize tool, not to this reference layer. Q8_K is
// the activation type of K-quant dot products, so it is quantized at run time.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quants.h"

namespace pocketlm {
namespace {

// Element e of a super-block lives in 2-bit field (e % 128) / 32 of byte (e / 128) * 32 + e % 32:
// the layout Q2_K's and Q3_K's low bits share.
int two_bits(const uint8_t* qs, int e) {
  return (qs[(e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3;
}

// The 6-bit scale and min of sub-block j (of 8) in Q4_K/Q5_K's 12 packed bytes: the first four
// pairs sit in the low 6 bits of bytes 0..7, the last four borrow the top 2 bits of those bytes
// as their high bits and take their low 4 bits from bytes 8..11.
void scale_min_k4(const uint8_t* s, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Q4_K/Q5_K sub-block j covers elements 32j..32j+31; its low nibbles sit in bytes 32*(j/2)..,
// low half for even j and high half for odd j.
int k4_nibble(const uint8_t* qs, int j, int l) {
  return (qs[(j / 2) * 32 + l] >> (4 * (j % 2))) & 0x0f;
}

// Round half to even through the float adder, as the reference Q8_K quantizer does: adding
// 1.5 * 2^23 pins the exponent so the low mantissa bits hold round(v) + 2^22. Exact for
// |v| < 2^22; callers pass values within a few units of [-127, 127] (and garbage, never UB,
// for the Inf/NaN of a degenerate scale).
int nearest_int(float v) {
  const float biased = v + 12582912.0f;
  uint32_t bits = 0;
  std::memcpy(&bits, &biased, sizeof(bits));
  return static_cast<int>(bits & 0x007fffffu) - 0x00400000;
}

}  // namespace

void dequantize_row_q2_K(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockQ2_K*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const float dmin = fp16_to_fp32(x[i].dmin);
    float* y = dst + i * kQK_K;
    for (int sub = 0; sub < kQK_K / 16; ++sub) {
      const float dl = d * static_cast<float>(x[i].scales[sub] & 0x0f);
      const float ml = dmin * static_cast<float>(x[i].scales[sub] >> 4);
      for (int e = sub * 16; e < sub * 16 + 16; ++e) {
        y[e] = dl * static_cast<float>(two_bits(x[i].qs, e)) - ml;
      }
    }
  }
}

void dequantize_row_q3_K(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockQ3_K*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const uint8_t* s = x[i].scales;
    float* y = dst + i * kQK_K;
    for (int sub = 0; sub < kQK_K / 16; ++sub) {
      // 16 6-bit scales: low 4 bits in the nibbles of bytes 0..7 (low nibbles first), high 2 bits
      // in the 2-bit fields of bytes 8..11 (field sub / 4 of byte 8 + sub % 4).
      const int lo = sub < 8 ? (s[sub] & 0x0f) : (s[sub - 8] >> 4);
      const int hi = (s[8 + sub % 4] >> (2 * (sub / 4))) & 3;
      const float dl = d * static_cast<float>((lo | (hi << 4)) - 32);
      for (int e = sub * 16; e < sub * 16 + 16; ++e) {
        // A clear hmask bit subtracts 4: the high bit is stored inverted.
        const int h = (x[i].hmask[e % 32] >> (e / 32)) & 1;
        y[e] = dl * static_cast<float>(two_bits(x[i].qs, e) - (h ? 0 : 4));
      }
    }
  }
}

void dequantize_row_q4_K(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockQ4_K*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const float dmin = fp16_to_fp32(x[i].dmin);
    float* y = dst + i * kQK_K;
    for (int j = 0; j < kQK_K / 32; ++j) {
      int sc = 0;
      int m = 0;
      scale_min_k4(x[i].scales, j, &sc, &m);
      const float dl = d * static_cast<float>(sc);
      const float ml = dmin * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) {
        y[j * 32 + l] = dl * static_cast<float>(k4_nibble(x[i].qs, j, l)) - ml;
      }
    }
  }
}

void dequantize_row_q5_K(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockQ5_K*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const float dmin = fp16_to_fp32(x[i].dmin);
    float* y = dst + i * kQK_K;
    for (int j = 0; j < kQK_K / 32; ++j) {
      int sc = 0;
      int m = 0;
      scale_min_k4(x[i].scales, j, &sc, &m);
      const float dl = d * static_cast<float>(sc);
      const float ml = dmin * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) {
        // The fifth bit of every element of sub-block j is bit j of qh[l].
        const int q = k4_nibble(x[i].qs, j, l) | (((x[i].qh[l] >> j) & 1) << 4);
        y[j * 32 + l] = dl * static_cast<float>(q) - ml;
      }
    }
  }
}

void dequantize_row_q6_K(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockQ6_K*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    float* y = dst + i * kQK_K;
    for (int e = 0; e < kQK_K; ++e) {
      // Each half of 128 elements owns 64 ql bytes (two nibble planes of 64) and 32 qh bytes
      // (four 2-bit planes of 32).
      const int half = e / 128;
      const int r = e % 128;
      const int lo = (x[i].ql[half * 64 + r % 64] >> (4 * (r / 64))) & 0x0f;
      const int hi = (x[i].qh[half * 32 + r % 32] >> (2 * (r / 32))) & 3;
      const float dl = d * static_cast<float>(x[i].scales[e / 16]);
      y[e] = dl * static_cast<float>((lo | (hi << 4)) - 32);
    }
  }
}

void dequantize_row_q8_K(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockQ8_K*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    for (int j = 0; j < kQK_K; ++j) dst[i * kQK_K + j] = x[i].d * static_cast<float>(x[i].qs[j]);
  }
}

void quantize_row_q8_K(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* x = src + i * kQK_K;
    // The signed value of the first element of largest magnitude: the scale is negative when it
    // is positive (iscale = -127/max), which the SIMD dot products of the format rely on.
    float amax = 0.0f;
    float max = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      const float a = std::fabs(x[j]);
      if (a > amax) {
        amax = a;
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      // The reference leaves bsums unwritten here; zero is their only consistent value.
      y[i].d = 0.0f;
      std::memset(y[i].qs, 0, sizeof(y[i].qs));
      std::memset(y[i].bsums, 0, sizeof(y[i].bsums));
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQK_K; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::clamp(nearest_int(iscale * x[j]), -128, 127));
    }
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += y[i].qs[g * 16 + l];
      y[i].bsums[g] = static_cast<int16_t>(sum);
    }
    y[i].d = 1.0f / iscale;
  }
}

}  // namespace pocketlm
