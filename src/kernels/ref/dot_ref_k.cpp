// Scalar reference dots of the K-quants against Q8_K activations.
//
// Each 256-element super-block is first decoded into its small integer quants (before any scale),
// then dotted exactly in integers sub-block by sub-block, weighted by the integer sub-block scales,
// and scaled once by the float super-block scales. Types with mins (Q2_K, Q4_K, Q5_K) subtract
// dmin * sum(min_j * sum of the activations of sub-block j), reading those sums from Q8_K's bsums.
#include <cmath>
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/ref/dot_orders_ref.h"
#include "kernels/ref/dot_ref_parts.h"
#include "kernels/ref/kquant_scales.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

namespace pocketlm::kernels::ref {
namespace {

// Sum of q[i] * a[i] over one sub-block.
int32_t isum(const int8_t* q, const int8_t* a, int len) {
  int32_t s = 0;
  for (int i = 0; i < len; ++i) s += q[i] * a[i];
  return s;
}

// Sub-block sums of the activations from bsums (which hold sums of 16).
int32_t act_sum(const BlockQ8_K& y, int first16, int count16) {
  int32_t s = 0;
  for (int i = first16; i < first16 + count16; ++i) s += y.bsums[i];
  return s;
}

// Element e of a 128-element half of Q2_K/Q3_K sits in byte e % 32 of that half's 32 bytes, at
// bit pair e / 32: the four 32-element runs are the four 2-bit planes of the same bytes.
void decode_q2_k(const BlockQ2_K& x, int8_t q[kQK_K]) {
  for (int e = 0; e < kQK_K; ++e) {
    const int half = e / 128, r = e % 128;
    q[e] = static_cast<int8_t>((x.qs[32 * half + r % 32] >> (2 * (r / 32))) & 3);
  }
}

// As Q2_K, minus 4 unless the element's high bit is set. The high bits of element e are in
// hmask[e % 32], at bit e / 32.
void decode_q3_k(const BlockQ3_K& x, int8_t q[kQK_K]) {
  for (int e = 0; e < kQK_K; ++e) {
    const int half = e / 128, r = e % 128;
    const int low = (x.qs[32 * half + r % 32] >> (2 * (r / 32))) & 3;
    const int high = (x.hmask[e % 32] >> (e / 32)) & 1;
    q[e] = static_cast<int8_t>(low - (high ? 0 : 4));
  }
}

// Each 64-element run j takes 32 bytes: elements 64j..64j+31 are their low nibbles, the next 32
// the high nibbles. Q5_K's 5th bit of element e is bit e / 32 of qh[e % 32].
void decode_q4_k(const uint8_t qs[kQK_K / 2], int8_t q[kQK_K]) {
  for (int e = 0; e < kQK_K; ++e) {
    const uint8_t byte = qs[32 * (e / 64) + e % 32];
    q[e] = static_cast<int8_t>((e % 64) < 32 ? (byte & 0x0f) : (byte >> 4));
  }
}

void decode_q5_k(const BlockQ5_K& x, int8_t q[kQK_K]) {
  decode_q4_k(x.qs, q);
  for (int e = 0; e < kQK_K; ++e) {
    q[e] = static_cast<int8_t>(q[e] | (((x.qh[e % 32] >> (e / 32)) & 1) << 4));
  }
}

// Per 128-element half: ql holds 64 bytes (low nibbles: elements 0..31 and 32..63 of the half;
// high nibbles: 64..95 and 96..127), qh 32 bytes whose bit pairs 0..3 give the top 2 bits of
// elements r, r+32, r+64, r+96. Stored biased by 32.
void decode_q6_k(const BlockQ6_K& x, int8_t q[kQK_K]) {
  for (int e = 0; e < kQK_K; ++e) {
    const int half = e / 128, r = e % 128;
    const uint8_t l = x.ql[64 * half + r % 64];
    const int low = r < 64 ? (l & 0x0f) : (l >> 4);
    const int high = (x.qh[32 * half + r % 32] >> (2 * (r / 32))) & 3;
    q[e] = static_cast<int8_t>((low | (high << 4)) - 32);
  }
}

void vec_dot_q2_k_q8_k(int64_t n, float* s, const void* w, const void* a) {
  const BlockQ2_K* x = static_cast<const BlockQ2_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];
    decode_q2_k(x[b], q);
    int32_t dot = 0, mins = 0;
    for (int j = 0; j < 16; ++j) {
      dot += (x[b].scales[j] & 0x0f) * isum(q + 16 * j, y[b].qs + 16 * j, 16);
      mins += (x[b].scales[j] >> 4) * y[b].bsums[j];
    }
    const float d = y[b].d * fp16_to_fp32(x[b].d);
    const float dmin = y[b].d * fp16_to_fp32(x[b].dmin);
    sum += d * static_cast<float>(dot) - dmin * static_cast<float>(mins);
  }
  *s = sum;
}

void vec_dot_q3_k_q8_k(int64_t n, float* s, const void* w, const void* a) {
  const BlockQ3_K* x = static_cast<const BlockQ3_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];
    int8_t scales[16];
    decode_q3_k(x[b], q);
    unpack_q3_k_scales(x[b].scales, scales);
    int32_t dot = 0;
    for (int j = 0; j < 16; ++j) dot += scales[j] * isum(q + 16 * j, y[b].qs + 16 * j, 16);
    sum += fp16_to_fp32(x[b].d) * y[b].d * static_cast<float>(dot);
  }
  *s = sum;
}

// Q4_K and Q5_K differ only in how the quants decode.
float dot_q45_k_block(const int8_t q[kQK_K], const BlockQ8_K& y, const uint8_t packed[12],
                      fp16_t d16, fp16_t dmin16) {
  uint8_t sm[16];
  unpack_q4_k_scales(packed, sm);
  int32_t dot = 0, mins = 0;
  for (int j = 0; j < 8; ++j) {
    dot += sm[j] * isum(q + 32 * j, y.qs + 32 * j, 32);
    mins += sm[8 + j] * act_sum(y, 2 * j, 2);
  }
  const float d = fp16_to_fp32(d16) * y.d;
  const float dmin = fp16_to_fp32(dmin16) * y.d;
  return d * static_cast<float>(dot) - dmin * static_cast<float>(mins);
}

void vec_dot_q4_k_q8_k(int64_t n, float* s, const void* w, const void* a) {
  const BlockQ4_K* x = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];
    decode_q4_k(x[b].qs, q);
    sum += dot_q45_k_block(q, y[b], x[b].scales, x[b].d, x[b].dmin);
  }
  *s = sum;
}

void vec_dot_q5_k_q8_k(int64_t n, float* s, const void* w, const void* a) {
  const BlockQ5_K* x = static_cast<const BlockQ5_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];
    decode_q5_k(x[b], q);
    sum += dot_q45_k_block(q, y[b], x[b].scales, x[b].d, x[b].dmin);
  }
  *s = sum;
}

void vec_dot_q6_k_q8_k(int64_t n, float* s, const void* w, const void* a) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];
    decode_q6_k(x[b], q);
    int32_t dot = 0;
    for (int j = 0; j < 16; ++j) dot += x[b].scales[j] * isum(q + 16 * j, y[b].qs + 16 * j, 16);
    sum += fp16_to_fp32(x[b].d) * y[b].d * static_cast<float>(dot);
  }
  *s = sum;
}

}  // namespace

void vec_dot_q4_k_interleaved(int64_t n, float* s, const void* w, const void* a) {
  const BlockQ4_K* x = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float acc = 0.0f, acc_min = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];
    uint8_t sm[16];
    decode_q4_k(x[b].qs, q);
    unpack_q4_k_scales(x[b].scales, sm);
    int32_t dot = 0, mins = 0;
    for (int j = 0; j < 8; ++j) {
      dot += sm[j] * isum(q + 32 * j, y[b].qs + 32 * j, 32);
      mins += sm[8 + j] * act_sum(y[b], 2 * j, 2);
    }
    acc = std::fma(static_cast<float>(dot), fp16_to_fp32(x[b].d) * y[b].d, acc);
    acc_min = std::fma(static_cast<float>(mins), fp16_to_fp32(x[b].dmin) * y[b].d, acc_min);
  }
  *s = acc - acc_min;
}

void vec_dot_q4_k_interleaved_x4(int64_t n, float* s, const void* w, const void* a) {
  const BlockQ4_K* x = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float acc = 0.0f, acc_min = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];
    uint8_t sm[16];
    decode_q4_k(x[b].qs, q);
    unpack_q4_k_scales(x[b].scales, sm);
    for (int pair = 0; pair < 4; ++pair) {
      int32_t dot = 0, mins = 0;
      for (int j = 2 * pair; j < 2 * pair + 2; ++j) {
        dot += sm[j] * isum(q + 32 * j, y[b].qs + 32 * j, 32);
        mins += sm[8 + j] * act_sum(y[b], 2 * j, 2);
      }
      acc = std::fma(static_cast<float>(dot), fp16_to_fp32(x[b].d) * y[b].d, acc);
      acc_min = std::fma(static_cast<float>(mins), fp16_to_fp32(x[b].dmin) * y[b].d, acc_min);
    }
  }
  *s = acc - acc_min;
}

void vec_dot_q6_k_tiled(int64_t n, float* s, const void* w, const void* a) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float acc = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];
    decode_q6_k(x[b], q);
    int32_t dot = 0;
    for (int j = 0; j < 16; ++j) dot += x[b].scales[j] * isum(q + 16 * j, y[b].qs + 16 * j, 16);
    acc = std::fma(fp16_to_fp32(x[b].d) * static_cast<float>(dot), y[b].d, acc);
  }
  *s = acc;
}

void fill_dot_k(DotKernels& t) {
  t.vec_dot[static_cast<int>(TensorType::kQ2_K)] = vec_dot_q2_k_q8_k;
  t.vec_dot[static_cast<int>(TensorType::kQ3_K)] = vec_dot_q3_k_q8_k;
  t.vec_dot[static_cast<int>(TensorType::kQ4_K)] = vec_dot_q4_k_q8_k;
  t.vec_dot[static_cast<int>(TensorType::kQ5_K)] = vec_dot_q5_k_q8_k;
  t.vec_dot[static_cast<int>(TensorType::kQ6_K)] = vec_dot_q6_k_q8_k;
}

}  // namespace pocketlm::kernels::ref
