// AVX2 (+FMA, F16C) dot products: the float types here, the quantized ones in dot_avx2_*.cpp.
//
// Float dots keep four independent 8-lane accumulators so consecutive FMAs do not wait on each
// other (FMA latency is 4-5 cycles at 2 per cycle); leftovers below 8 go through scalar code.
#include <immintrin.h>

#include <cstddef>
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
// F16 x F16, one row: four 8-lane accumulators over steps of 32, folded (0+2, 1+3, then 0+1),
// the 8 lanes summed by halves and two horizontal adds, leftovers added in double. This is the
// order llama.cpp's one-row F16 kernel uses (attention scores of a single decoded token), kept
// so attention rounds as it does.
void vec_dot_f16(int64_t n, float* s, const void* w, const void* a) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  const int64_t np = n & ~int64_t{31};
  for (int64_t i = 0; i < np; i += 32) {
    for (int j = 0; j < 4; ++j) {
      acc[j] = _mm256_fmadd_ps(LoadF16::load8(w, i + 8 * j), LoadF16::load8(a, i + 8 * j), acc[j]);
    }
  }
  acc[0] = _mm256_add_ps(acc[0], acc[2]);
  acc[1] = _mm256_add_ps(acc[1], acc[3]);
  acc[0] = _mm256_add_ps(acc[0], acc[1]);
  const __m128 t0 = _mm_add_ps(_mm256_castps256_ps128(acc[0]), _mm256_extractf128_ps(acc[0], 1));
  const __m128 t1 = _mm_hadd_ps(t0, t0);
  double sum = static_cast<double>(_mm_cvtss_f32(_mm_hadd_ps(t1, t1)));
  for (int64_t i = np; i < n; ++i) {
    sum += static_cast<double>(LoadF16::load1(w, i) * LoadF16::load1(a, i));
  }
  *s = static_cast<float>(sum);
}

// F16 x F16 in a tiled kernel's order: one 8-lane FMA accumulator, then halves, pairs, lanes.
void vec_dot_f16_tiled(int64_t n, float* s, const void* w, const void* a) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i + 8 <= n; i += 8) {
    acc = _mm256_fmadd_ps(LoadF16::load8(w, i), LoadF16::load8(a, i), acc);
  }
  *s = avx2_hsum(acc);
}
// vec_dot_f16_tiled for RM rows against one activation row: RM independent accumulator chains
// instead of one (a single chain waits on every FMA's latency) and one conversion of the
// activations for all rows; each output's operations are vec_dot_f16_tiled's.
template <int RM>
void f16_tiled_rows(int64_t n, const uint8_t* w, size_t w_row_bytes, const void* a, float* y) {
  __m256 acc[RM];
  for (int r = 0; r < RM; ++r) acc[r] = _mm256_setzero_ps();
  for (int64_t i = 0; i + 8 <= n; i += 8) {
    const __m256 av = LoadF16::load8(a, i);
    for (int r = 0; r < RM; ++r) {
      acc[r] = _mm256_fmadd_ps(LoadF16::load8(w + r * w_row_bytes, i), av, acc[r]);
    }
  }
  for (int r = 0; r < RM; ++r) y[r] = avx2_hsum(acc[r]);
}

void vec_dot_f16_tiled_tile(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows,
                            const void* a, size_t a_row_bytes, int64_t n_tok, float* y,
                            int64_t y_stride) {
  for (int64_t t = 0; t < n_tok; ++t) {
    const void* at = static_cast<const uint8_t*>(a) + static_cast<size_t>(t) * a_row_bytes;
    float* yt = y + t * y_stride;
    int64_t r = 0;
    const auto* wp = static_cast<const uint8_t*>(w);
    for (; r + 8 <= n_rows; r += 8) f16_tiled_rows<8>(n, wp + r * w_row_bytes, w_row_bytes, at, yt + r);
    for (; r + 4 <= n_rows; r += 4) f16_tiled_rows<4>(n, wp + r * w_row_bytes, w_row_bytes, at, yt + r);
    for (; r < n_rows; ++r) f16_tiled_rows<1>(n, wp + r * w_row_bytes, w_row_bytes, at, yt + r);
  }
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
  t.vec_dot_f16_tiled = vec_dot_f16_tiled;
  t.vec_dot_f16_tiled_tile = vec_dot_f16_tiled_tile;
  t.vec_dot[static_cast<int>(T::kBF16)] = vec_dot_bf16;
  t.vec_dot_f32[static_cast<int>(T::kF32)] = vec_dot_f32_weights_f32;
  t.vec_dot_f32[static_cast<int>(T::kF16)] = vec_dot_f32_weights_f16;
  t.vec_dot_f32[static_cast<int>(T::kBF16)] = vec_dot_f32_weights_bf16;
  avx2::fill_dot_legacy(t);
  avx2::fill_tile_legacy(t);
  avx2::fill_dot_k(t);
  avx2::fill_tile_k(t);
  avx2::fill_dot_k_f32(t);
  avx2::fill_quantize(t);
}

}  // namespace pocketlm::kernels
