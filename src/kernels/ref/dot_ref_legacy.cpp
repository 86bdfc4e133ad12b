// Scalar reference dots of the 32-element block types against their 8-bit activation blocks.
//
// Each block contributes an exact integer dot of the quants, scaled once by the product of the two
// block scales. Types with a min (Q4_1, Q5_1) pair with Q8_1, whose s = d * sum(q) lets the min
// enter as one product per block: sum(m * a_i) = m * s. The arithmetic (and its order) follows
// the ggml reference, so results here are the ones a GGUF model is expected to produce.
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/ref/dot_ref_parts.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

namespace pocketlm::kernels::ref {
namespace {

// The 5th bit of element j (0..31) of a Q5 block; qh is a little-endian 32-bit mask.
inline int q5_high_bit(const uint8_t qh[4], int j) { return (qh[j / 8] >> (j % 8)) & 1; }

void vec_dot_q4_0_q8_0(int64_t n, float* s, const void* w, const void* a) {
  const BlockQ4_0* x = static_cast<const BlockQ4_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const int lo = (x[b].qs[j] & 0x0f) - 8;  // element j
      const int hi = (x[b].qs[j] >> 4) - 8;    // element j + 16
      isum += lo * y[b].qs[j] + hi * y[b].qs[j + kQK4_0 / 2];
    }
    sum += static_cast<float>(isum) * fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d);
  }
  *s = sum;
}

void vec_dot_q4_1_q8_1(int64_t n, float* s, const void* w, const void* a) {
  const BlockQ4_1* x = static_cast<const BlockQ4_1*>(w);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK4_1; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      isum += (x[b].qs[j] & 0x0f) * y[b].qs[j] + (x[b].qs[j] >> 4) * y[b].qs[j + kQK4_1 / 2];
    }
    sum += (fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d)) * static_cast<float>(isum) +
           fp16_to_fp32(x[b].m) * fp16_to_fp32(y[b].s);
  }
  *s = sum;
}

void vec_dot_q5_0_q8_0(int64_t n, float* s, const void* w, const void* a) {
  const BlockQ5_0* x = static_cast<const BlockQ5_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK5_0; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const int lo = ((x[b].qs[j] & 0x0f) | (q5_high_bit(x[b].qh, j) << 4)) - 16;
      const int hi = ((x[b].qs[j] >> 4) | (q5_high_bit(x[b].qh, j + 16) << 4)) - 16;
      isum += lo * y[b].qs[j] + hi * y[b].qs[j + kQK5_0 / 2];
    }
    sum += static_cast<float>(isum) * fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d);
  }
  *s = sum;
}

void vec_dot_q5_1_q8_1(int64_t n, float* s, const void* w, const void* a) {
  const BlockQ5_1* x = static_cast<const BlockQ5_1*>(w);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK5_1; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      const int lo = (x[b].qs[j] & 0x0f) | (q5_high_bit(x[b].qh, j) << 4);
      const int hi = (x[b].qs[j] >> 4) | (q5_high_bit(x[b].qh, j + 16) << 4);
      isum += lo * y[b].qs[j] + hi * y[b].qs[j + kQK5_1 / 2];
    }
    sum += (fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d)) * static_cast<float>(isum) +
           fp16_to_fp32(x[b].m) * fp16_to_fp32(y[b].s);
  }
  *s = sum;
}

void vec_dot_q8_0_q8_0(int64_t n, float* s, const void* w, const void* a) {
  const BlockQ8_0* x = static_cast<const BlockQ8_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < kQK8_0; ++j) isum += x[b].qs[j] * y[b].qs[j];
    sum += static_cast<float>(isum) * (fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d));
  }
  *s = sum;
}

}  // namespace

void fill_dot_legacy(DotKernels& t) {
  t.vec_dot[static_cast<int>(TensorType::kQ4_0)] = vec_dot_q4_0_q8_0;
  t.vec_dot[static_cast<int>(TensorType::kQ4_1)] = vec_dot_q4_1_q8_1;
  t.vec_dot[static_cast<int>(TensorType::kQ5_0)] = vec_dot_q5_0_q8_0;
  t.vec_dot[static_cast<int>(TensorType::kQ5_1)] = vec_dot_q5_1_q8_1;
  t.vec_dot[static_cast<int>(TensorType::kQ8_0)] = vec_dot_q8_0_q8_0;
}

}  // namespace pocketlm::kernels::ref
