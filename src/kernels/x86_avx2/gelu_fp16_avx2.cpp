// The table-driven GELU (OpKernels::gelu_tanh_fp16, geglu_tanh_fp16) eight elements at a time.
//
// The lookups stay what they are: the entry of the input rounded to fp16. What is vectorized is
// the work around them, which dominated the scalar version: rounding 8 floats to fp16 in one
// vcvtps2ph (round to nearest even, as fp32_to_fp16 does for every non-NaN input), widening the
// 8 entries in one vcvtph2ps, the clamps at -10 and 10 as blends, and the product with `up`.
// NaN inputs, which vcvtps2ph would quieten where fp32_to_fp16 keeps the payload, go to the
// scalar code, as do the last n % 8 elements.
#include <immintrin.h>

#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/ref/gelu_fp16.h"
#include "kernels/x86_avx2/ops_avx2_parts.h"

namespace pocketlm::kernels::avx2 {
namespace {

// gelu of 8 non-NaN inputs; returns false (nothing computed) when a lane is NaN.
inline bool gelu8(const fp16_t* table, const float* x, __m256& out) {
  const __m256 v = _mm256_loadu_ps(x);
  if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0) return false;
  alignas(16) uint16_t h[8];
  _mm_store_si128(reinterpret_cast<__m128i*>(h), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  const __m128i entries = _mm_setr_epi16(
      static_cast<int16_t>(table[h[0]]), static_cast<int16_t>(table[h[1]]),
      static_cast<int16_t>(table[h[2]]), static_cast<int16_t>(table[h[3]]),
      static_cast<int16_t>(table[h[4]]), static_cast<int16_t>(table[h[5]]),
      static_cast<int16_t>(table[h[6]]), static_cast<int16_t>(table[h[7]]));
  __m256 g = _mm256_cvtph_ps(entries);
  // x >= 10 gives x itself, x <= -10 gives 0 (the order of the scalar tests).
  g = _mm256_blendv_ps(g, v, _mm256_cmp_ps(v, _mm256_set1_ps(10.0f), _CMP_GE_OQ));
  g = _mm256_blendv_ps(g, _mm256_setzero_ps(),
                       _mm256_cmp_ps(v, _mm256_set1_ps(-10.0f), _CMP_LE_OQ));
  out = g;
  return true;
}

void gelu_tanh_fp16_avx2(float* y, const float* x, int64_t n) {
  const fp16_t* table = gelu_fp16_table();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 g;
    if (gelu8(table, x + i, g)) {
      _mm256_storeu_ps(y + i, g);
    } else {
      gelu_tanh_fp16_ref(y + i, x + i, 8);
    }
  }
  gelu_tanh_fp16_ref(y + i, x + i, n - i);
}

void geglu_tanh_fp16_avx2(float* y, const float* gate, const float* up, int64_t n) {
  const fp16_t* table = gelu_fp16_table();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 g;
    if (gelu8(table, gate + i, g)) {
      _mm256_storeu_ps(y + i, _mm256_mul_ps(g, _mm256_loadu_ps(up + i)));
    } else {
      geglu_tanh_fp16_ref(y + i, gate + i, up + i, 8);
    }
  }
  geglu_tanh_fp16_ref(y + i, gate + i, up + i, n - i);
}

}  // namespace

void fill_gelu_fp16(OpKernels& t) {
  t.gelu_tanh_fp16 = gelu_tanh_fp16_avx2;
  t.geglu_tanh_fp16 = geglu_tanh_fp16_avx2;
}

}  // namespace pocketlm::kernels::avx2
