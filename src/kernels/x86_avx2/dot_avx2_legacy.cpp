// AVX2 dots of the 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0).
//
// One block is one 256-bit register of 32 quants once decoded, so every type only says how its
// bytes become those 32 int8 values; the dot, the scaling and the float path are shared. The
// integer dot is exact (maddubs pair sums stay far from int16 saturation for these ranges), so
// results differ from the reference only by float rounding of the per-block scaling.
#include <immintrin.h>

#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/x86_avx2/dot_avx2_parts.h"
#include "kernels/x86_avx2/legacy_blocks_avx2.h"
#include "kernels/x86_avx2/simd_avx2.h"

namespace pocketlm::kernels::avx2 {
namespace {

template <typename Q>
void vec_dot(int64_t n, float* s, const void* w, const void* a) {
  const auto* x = static_cast<const typename Q::Block*>(w);
  const auto* y = static_cast<const typename Q::Act*>(a);
  const int64_t nb = n / 32;
  // One accumulator, blocks in order, then the min terms: llama.cpp's order of float
  // operations, which keeps our logits token-identical with it (two interleaved accumulators
  // would be a little faster but round differently).
  __m256 acc = _mm256_setzero_ps();
  float mins = 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    avx2_prefetch_ahead<sizeof(typename Q::Block)>(&x[b]);
    acc = accumulate_block<Q>(x[b], y[b], acc, mins);
  }
  *s = avx2_hsum(acc) + mins;
}

// Float activations: dequantize each block into four 8-float registers (q * d, plus m) and FMA.
template <typename Q>
void vec_dot_f32(int64_t n, float* s, const void* w, const float* a) {
  const auto* x = static_cast<const typename Q::Block*>(w);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  for (int64_t b = 0; b < n / 32; ++b) {
    const __m256i q = Q::quants(x[b]);
    const __m128i half[2] = {_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1)};
    const __m256 d = _mm256_set1_ps(avx2_half_to_float(x[b].d));
    __m256 m = _mm256_setzero_ps();
    if constexpr (Q::kHasMin) m = _mm256_set1_ps(avx2_half_to_float(x[b].m));
    const float* ab = a + 32 * b;
    for (int k = 0; k < 4; ++k) {
      const __m128i bytes = (k & 1) ? _mm_srli_si128(half[k / 2], 8) : half[k / 2];
      const __m256 qf = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
      const __m256 wk = Q::kHasMin ? _mm256_fmadd_ps(qf, d, m) : _mm256_mul_ps(qf, d);
      acc[k] = _mm256_fmadd_ps(wk, _mm256_loadu_ps(ab + 8 * k), acc[k]);
    }
  }
  *s = avx2_hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

}  // namespace

void fill_dot_legacy(DotKernels& t) {
  using T = TensorType;
  t.vec_dot[static_cast<int>(T::kQ4_0)] = vec_dot<Q4_0>;
  t.vec_dot[static_cast<int>(T::kQ4_1)] = vec_dot<Q4_1>;
  t.vec_dot[static_cast<int>(T::kQ5_0)] = vec_dot<Q5_0>;
  t.vec_dot[static_cast<int>(T::kQ5_1)] = vec_dot<Q5_1>;
  t.vec_dot[static_cast<int>(T::kQ8_0)] = vec_dot<Q8_0>;
  t.vec_dot_f32[static_cast<int>(T::kQ4_0)] = vec_dot_f32<Q4_0>;
  t.vec_dot_f32[static_cast<int>(T::kQ4_1)] = vec_dot_f32<Q4_1>;
  t.vec_dot_f32[static_cast<int>(T::kQ5_0)] = vec_dot_f32<Q5_0>;
  t.vec_dot_f32[static_cast<int>(T::kQ5_1)] = vec_dot_f32<Q5_1>;
  t.vec_dot_f32[static_cast<int>(T::kQ8_0)] = vec_dot_f32<Q8_0>;
}

}  // namespace pocketlm::kernels::avx2
