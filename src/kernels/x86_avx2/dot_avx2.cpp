// AVX2 (+FMA, F16C) dot products: the float types here, the quantized ones in dot_avx2_*.cpp.
//
// Float dots keep four independent 8-lane accumulators so consecutive FMAs do not wait on each
// other (FMA latency is 4-5 cycles at 2 per cycle); leftovers below 8 go through scalar code.
#include <immintrin.h>

#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/x86_avx2/dot_avx2_parts.h"
#include "kernels/x86_avx2/simd_avx2.h"
#include "quant/fp16.h"
#include "quant/types.h"

namespace pocketlm::kernels {
namespace {

// Loaders turning 8 elements of a float type into 8 floats.
struct LoadF32 {
  static __m256 load8(const void* p, int64_t i) {
    return _mm256_loadu_ps(static_cast<const float*>(p) + i);
  }
  static float load1(const void* p, int64_t i) { return static_cast<const float*>(p)[i]; }
};
struct LoadF16 {
  static __m256 load8(const void* p, int64_t i) {
    return _mm256_cvtph_ps(avx2_load128(static_cast<const fp16_t*>(p) + i));
  }
  static float load1(const void* p, int64_t i) {
    return avx2_half_to_float(static_cast<const fp16_t*>(p)[i]);
  }
};
struct LoadBF16 {
  static __m256 load8(const void* p, int64_t i) {
    const __m256i wide = _mm256_cvtepu16_epi32(avx2_load128(static_cast<const bf16_t*>(p) + i));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float load1(const void* p, int64_t i) {
    return bf16_to_fp32(static_cast<const bf16_t*>(p)[i]);
  }
};

template <typename LoadW, typename LoadA>
float dot_float_types(int64_t n, const void* w, const void* a) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(LoadW::load8(w, i), LoadA::load8(a, i), acc0);
    acc1 = _mm256_fmadd_ps(LoadW::load8(w, i + 8), LoadA::load8(a, i + 8), acc1);
    acc2 = _mm256_fmadd_ps(LoadW::load8(w, i + 16), LoadA::load8(a, i + 16), acc2);
    acc3 = _mm256_fmadd_ps(LoadW::load8(w, i + 24), LoadA::load8(a, i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(LoadW::load8(w, i), LoadA::load8(a, i), acc0);
  float sum = avx2_hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) sum += LoadW::load1(w, i) * LoadA::load1(a, i);
  return sum;
}

void vec_dot_f32(int64_t n, float* s, const void* w, const void* a) {
  *s = dot_float_types<LoadF32, LoadF32>(n, w, a);
}
void vec_dot_f16(int64_t n, float* s, const void* w, const void* a) {
  *s = dot_float_types<LoadF16, LoadF16>(n, w, a);
}
void vec_dot_bf16(int64_t n, float* s, const void* w, const void* a) {
  *s = dot_float_types<LoadBF16, LoadBF16>(n, w, a);
}

void vec_dot_f32_weights_f32(int64_t n, float* s, const void* w, const float* a) {
  *s = dot_float_types<LoadF32, LoadF32>(n, w, a);
}
void vec_dot_f32_weights_f16(int64_t n, float* s, const void* w, const float* a) {
  *s = dot_float_types<LoadF16, LoadF32>(n, w, a);
}
void vec_dot_f32_weights_bf16(int64_t n, float* s, const void* w, const float* a) {
  *s = dot_float_types<LoadBF16, LoadF32>(n, w, a);
}

}  // namespace

void fill_dot_avx2(DotKernels& t) {
  using T = TensorType;
  t.vec_dot[static_cast<int>(T::kF32)] = vec_dot_f32;
  t.vec_dot[static_cast<int>(T::kF16)] = vec_dot_f16;
  t.vec_dot[static_cast<int>(T::kBF16)] = vec_dot_bf16;
  t.vec_dot_f32[static_cast<int>(T::kF32)] = vec_dot_f32_weights_f32;
  t.vec_dot_f32[static_cast<int>(T::kF16)] = vec_dot_f32_weights_f16;
  t.vec_dot_f32[static_cast<int>(T::kBF16)] = vec_dot_f32_weights_bf16;
  avx2::fill_dot_legacy(t);
  avx2::fill_dot_k(t);
  avx2::fill_dot_k_f32(t);
  avx2::fill_quantize(t);
}

}  // namespace pocketlm::kernels
