// Scalar reference dot products: the truth every SIMD table is tested against.
//
// This file holds the plain float types, the float-activation dots (vec_dot_f32) of every weight
// type and the activation quantizers; the quantized-by-quantized dots live in dot_ref_legacy.cpp
// (32-element block types) and dot_ref_k.cpp (K-quants).
#include <cmath>
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/ref/dot_ref_parts.h"
#include "quant/fp16.h"
#include "quant/quants.h"
#include "quant/types.h"

namespace pocketlm::kernels {
namespace {

// Each product is rounded to float (as the SIMD kernels do) but the running sum is kept in double,
// so the reference carries no accumulation error worth speaking of.
void vec_dot_f32_f32(int64_t n, float* s, const void* w, const void* a) {
  const float* x = static_cast<const float*>(w);
  const float* y = static_cast<const float*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * y[i]);
  *s = static_cast<float>(sum);
}

void vec_dot_f16_f16(int64_t n, float* s, const void* w, const void* a) {
  const fp16_t* x = static_cast<const fp16_t*>(w);
  const fp16_t* y = static_cast<const fp16_t*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    sum += static_cast<double>(fp16_to_fp32(x[i]) * fp16_to_fp32(y[i]));
  }
  *s = static_cast<float>(sum);
}

// The tiled order (kernels.h): lane l accumulates elements l, l + 8, ... with fused multiply-adds;
// the lanes are then summed as halves (l + 4), pairs (l + 2) and the last two.
void vec_dot_f16_tiled(int64_t n, float* s, const void* w, const void* a) {
  const fp16_t* x = static_cast<const fp16_t*>(w);
  const fp16_t* y = static_cast<const fp16_t*>(a);
  float lane[8] = {};
  for (int64_t i = 0; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) {
      lane[l] = std::fma(fp16_to_fp32(x[i + l]), fp16_to_fp32(y[i + l]), lane[l]);
    }
  }
  float h[4];
  for (int l = 0; l < 4; ++l) h[l] = lane[l] + lane[l + 4];
  const float p0 = h[0] + h[2], p1 = h[1] + h[3];
  *s = p0 + p1;
}

void vec_dot_bf16_bf16(int64_t n, float* s, const void* w, const void* a) {
  const bf16_t* x = static_cast<const bf16_t*>(w);
  const bf16_t* y = static_cast<const bf16_t*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    sum += static_cast<double>(bf16_to_fp32(x[i]) * bf16_to_fp32(y[i]));
  }
  *s = static_cast<float>(sum);
}

// Float activations against any weight type: dequantize a chunk with the type's own dequantizer
// (quants.h, the format's truth) and accumulate as above. Chunks are whole K-quant super-blocks,
// so every type's block size divides them.
constexpr int64_t kChunk = 256;

template <TensorType kType>
void vec_dot_f32_dequant(int64_t n, float* s, const void* w, const float* a) {
  const TypeTraits& tr = type_traits(kType);
  const uint8_t* row = static_cast<const uint8_t*>(w);
  float buf[kChunk];
  double sum = 0.0;
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t len = n - i < kChunk ? n - i : kChunk;
    tr.to_float(row + row_size(kType, i), buf, len);
    for (int64_t j = 0; j < len; ++j) sum += static_cast<double>(buf[j] * a[i + j]);
  }
  *s = static_cast<float>(sum);
}

void vec_dot_f32_weights_f32(int64_t n, float* s, const void* w, const float* a) {
  vec_dot_f32_f32(n, s, w, a);
}

}  // namespace

void fill_dot_ref(DotKernels& t) {
  using T = TensorType;
  auto id = [](T type) { return static_cast<int>(type); };

  t.vec_dot[id(T::kF32)] = vec_dot_f32_f32;
  t.vec_dot[id(T::kF16)] = vec_dot_f16_f16;
  t.vec_dot_f16_tiled = vec_dot_f16_tiled;
  t.vec_dot[id(T::kBF16)] = vec_dot_bf16_bf16;
  ref::fill_dot_legacy(t);
  ref::fill_dot_k(t);

  t.vec_dot_f32[id(T::kF32)] = vec_dot_f32_weights_f32;
  t.vec_dot_f32[id(T::kF16)] = vec_dot_f32_dequant<T::kF16>;
  t.vec_dot_f32[id(T::kBF16)] = vec_dot_f32_dequant<T::kBF16>;
  t.vec_dot_f32[id(T::kQ4_0)] = vec_dot_f32_dequant<T::kQ4_0>;
  t.vec_dot_f32[id(T::kQ4_1)] = vec_dot_f32_dequant<T::kQ4_1>;
  t.vec_dot_f32[id(T::kQ5_0)] = vec_dot_f32_dequant<T::kQ5_0>;
  t.vec_dot_f32[id(T::kQ5_1)] = vec_dot_f32_dequant<T::kQ5_1>;
  t.vec_dot_f32[id(T::kQ8_0)] = vec_dot_f32_dequant<T::kQ8_0>;
  t.vec_dot_f32[id(T::kQ2_K)] = vec_dot_f32_dequant<T::kQ2_K>;
  t.vec_dot_f32[id(T::kQ3_K)] = vec_dot_f32_dequant<T::kQ3_K>;
  t.vec_dot_f32[id(T::kQ4_K)] = vec_dot_f32_dequant<T::kQ4_K>;
  t.vec_dot_f32[id(T::kQ5_K)] = vec_dot_f32_dequant<T::kQ5_K>;
  t.vec_dot_f32[id(T::kQ6_K)] = vec_dot_f32_dequant<T::kQ6_K>;

  t.quantize_act[id(T::kF32)] = quantize_row_f32;
  t.quantize_act[id(T::kF16)] = quantize_row_f16;
  t.quantize_act[id(T::kBF16)] = quantize_row_bf16;
  t.quantize_act[id(T::kQ8_0)] = quantize_row_q8_0;
  t.quantize_act[id(T::kQ8_1)] = quantize_row_q8_1;
  t.quantize_act[id(T::kQ8_K)] = quantize_row_q8_K;
}

}  // namespace pocketlm::kernels
