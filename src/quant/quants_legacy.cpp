// The 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q8_1.
//
// Bit-exact with the `gguf` package's numpy quantizers, which follow the reference C quantizers
// of the GGUF ecosystem. Every float operation below is a single float32 operation in the same
// order as theirs (no reciprocal where they divide, no division where they multiply by a
// reciprocal), and -ffp-contract=off keeps the compiler from fusing any of them.
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quants.h"

namespace pocketlm {
namespace {

// The element of largest magnitude, with its sign. Ties keep the first such element (numpy's
// argmax), and the scan starts from element 0 so an all-zero block yields x[0] itself: the sign of
// that zero decides the sign of the stored zero scale, and numpy keeps it.
float signed_absmax(const float* x, int n) {
  float amax = std::fabs(x[0]);
  float max = x[0];
  for (int j = 1; j < n; ++j) {
    const float a = std::fabs(x[j]);
    if (a > amax) {
      amax = a;
      max = x[j];
    }
  }
  return max;
}

float absmax(const float* x, int n) {
  float amax = 0.0f;
  for (int j = 0; j < n; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  return amax;
}

void min_max(const float* x, int n, float* min, float* max) {
  *min = x[0];
  *max = x[0];
  for (int j = 1; j < n; ++j) {
    if (x[j] < *min) *min = x[j];
    if (x[j] > *max) *max = x[j];
  }
}

// trunc(v) limited to [0, hi]. For the values the quantizers produce (0 <= v < hi + 2) this is
// the reference's `min(hi, (int)v)`; the explicit limits only matter for the Inf/NaN that a
// subnormal scale can produce, where a bare float-to-int conversion would be undefined.
uint8_t trunc_code(float v, int hi) {
  if (!(v >= 0.0f)) return 0;
  if (v >= static_cast<float>(hi)) return static_cast<uint8_t>(hi);
  return static_cast<uint8_t>(v);
}

// Round half away from zero (C roundf; numpy's np_roundf computes the same exactly), limited to
// the int8 code range for the same reason as trunc_code.
int8_t round_code(float v) {
  if (std::isnan(v)) return 0;
  const float r = std::round(v);
  if (r >= 127.0f) return 127;
  if (r <= -127.0f) return -127;
  return static_cast<int8_t>(r);
}

// Codes 0..15 of elements j and j+16 share byte j: low nibble first half, high nibble second.
void pack_nibbles(const uint8_t* q, uint8_t* qs) {
  for (int j = 0; j < 16; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | ((q[j + 16] & 0x0f) << 4));
  }
}

// Bit 4 of each of the 32 codes, element j at bit j of the little-endian 32-bit field.
void pack_high_bits(const uint8_t* q, uint8_t* qh) {
  std::memset(qh, 0, 4);
  for (int j = 0; j < 32; ++j) qh[j / 8] |= static_cast<uint8_t>(((q[j] >> 4) & 1) << (j % 8));
}

int nibble(const uint8_t* qs, int j) { return j < 16 ? (qs[j] & 0x0f) : (qs[j - 16] >> 4); }
int high_bit(const uint8_t* qh, int j) { return (qh[j / 8] >> (j % 8)) & 1; }

// Q4_0 and Q5_0 share their shape: d = max / -half, codes trunc(x/d + half + 0.5).
template <typename Block, int kHalf>
void quantize_symmetric(const float* src, Block* y, int64_t n) {
  constexpr int kQk = 32;
  for (int64_t i = 0; i < n / kQk; ++i) {
    const float* x = src + i * kQk;
    const float d = signed_absmax(x, kQk) / -static_cast<float>(kHalf);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    uint8_t q[kQk];
    for (int j = 0; j < kQk; ++j) {
      q[j] = trunc_code(x[j] * id + (static_cast<float>(kHalf) + 0.5f), 2 * kHalf - 1);
    }
    pack_nibbles(q, y[i].qs);
    if constexpr (kHalf == 16) pack_high_bits(q, y[i].qh);
  }
}

// Q4_1 and Q5_1: d = (max - min) / (levels - 1), codes trunc((x - min)/d + 0.5), m = min.
template <typename Block, int kLevels>
void quantize_affine(const float* src, Block* y, int64_t n) {
  constexpr int kQk = 32;
  for (int64_t i = 0; i < n / kQk; ++i) {
    const float* x = src + i * kQk;
    float min = 0.0f;
    float max = 0.0f;
    min_max(x, kQk, &min, &max);
    const float d = (max - min) / static_cast<float>(kLevels - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(min);
    uint8_t q[kQk];
    for (int j = 0; j < kQk; ++j) q[j] = trunc_code((x[j] - min) * id + 0.5f, kLevels - 1);
    pack_nibbles(q, y[i].qs);
    if constexpr (kLevels == 32) pack_high_bits(q, y[i].qh);
  }
}

// Q8_0 and Q8_1: d = amax / 127, codes round(x/d); returns the code sum for Q8_1's s.
template <typename Block>
int quantize_q8_block(const float* x, Block* y, float* d_out) {
  const float d = absmax(x, kQK8_0) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  y->d = fp32_to_fp16(d);
  int sum = 0;
  for (int j = 0; j < kQK8_0; ++j) {
    y->qs[j] = round_code(x[j] * id);
    sum += y->qs[j];
  }
  *d_out = d;
  return sum;
}

}  // namespace

void quantize_row_q4_0(const float* src, void* dst, int64_t n) {
  quantize_symmetric<BlockQ4_0, 8>(src, static_cast<BlockQ4_0*>(dst), n);
}

void quantize_row_q5_0(const float* src, void* dst, int64_t n) {
  quantize_symmetric<BlockQ5_0, 16>(src, static_cast<BlockQ5_0*>(dst), n);
}

void quantize_row_q4_1(const float* src, void* dst, int64_t n) {
  quantize_affine<BlockQ4_1, 16>(src, static_cast<BlockQ4_1*>(dst), n);
}

void quantize_row_q5_1(const float* src, void* dst, int64_t n) {
  quantize_affine<BlockQ5_1, 32>(src, static_cast<BlockQ5_1*>(dst), n);
}

void quantize_row_q8_0(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    float d = 0.0f;
    quantize_q8_block(src + i * kQK8_0, &y[i], &d);
  }
}

void quantize_row_q8_1(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK8_1; ++i) {
    float d = 0.0f;
    const int sum = quantize_q8_block(src + i * kQK8_1, &y[i], &d);
    // The unrounded float d, not the stored half: s is what the Q4_1/Q5_1 dot products fold in.
    y[i].s = fp32_to_fp16(static_cast<float>(sum) * d);
  }
}

void dequantize_row_q4_0(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / kQK4_0; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK4_0; ++j) {
      dst[i * kQK4_0 + j] = d * static_cast<float>(nibble(x[i].qs, j) - 8);
    }
  }
}

void dequantize_row_q4_1(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < n / kQK4_1; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const float m = fp16_to_fp32(x[i].m);
    for (int j = 0; j < kQK4_1; ++j) {
      dst[i * kQK4_1 + j] = d * static_cast<float>(nibble(x[i].qs, j)) + m;
    }
  }
}

void dequantize_row_q5_0(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockQ5_0*>(src);
  for (int64_t i = 0; i < n / kQK5_0; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK5_0; ++j) {
      const int q = nibble(x[i].qs, j) | (high_bit(x[i].qh, j) << 4);
      dst[i * kQK5_0 + j] = d * static_cast<float>(q - 16);
    }
  }
}

void dequantize_row_q5_1(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockQ5_1*>(src);
  for (int64_t i = 0; i < n / kQK5_1; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const float m = fp16_to_fp32(x[i].m);
    for (int j = 0; j < kQK5_1; ++j) {
      const int q = nibble(x[i].qs, j) | (high_bit(x[i].qh, j) << 4);
      dst[i * kQK5_1 + j] = d * static_cast<float>(q) + m;
    }
  }
}

void dequantize_row_q8_0(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK8_0; ++j) dst[i * kQK8_0 + j] = d * static_cast<float>(x[i].qs[j]);
  }
}

void dequantize_row_q8_1(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const BlockQ8_1*>(src);
  for (int64_t i = 0; i < n / kQK8_1; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK8_1; ++j) dst[i * kQK8_1 + j] = d * static_cast<float>(x[i].qs[j]);
  }
}

}  // namespace pocketlm
