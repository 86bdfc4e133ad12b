// Private AVX-512 building blocks of the dot kernels, and the switch that lets tests compile the
// same kernels through SIMDe (portable implementations of the x86 intrinsics) on hosts without
// AVX-512: with POCKETLM_AVX512_VIA_SIMDE defined, the intrinsics resolve to SIMDe and
// fill_dot_avx512 is renamed fill_dot_avx512_simde (see tests/kernels/tests.cmake).
//
// SIMDe 0.7 lacks a few intrinsics (512-bit int/half conversions among them); the avx512_*
// functions below map to the intrinsic in the real build and to an equivalent made of two 256-bit
// halves in the SIMDe build. Like simd_avx2.h, everything is `static inline` (see there why).
#pragma once

#if defined(POCKETLM_AVX512_VIA_SIMDE)
// The compiler's own header first: SIMDe's aliases are macros and must not rename its
// declarations.
#include <immintrin.h>
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>
#include <simde/x86/fma.h>
#define fill_dot_avx512 fill_dot_avx512_simde
// SIMDe 0.7.4 declares this alias with the arity of the masked form.
#undef _mm512_madd_epi16
#define _mm512_madd_epi16(a, b) simde_mm512_madd_epi16(a, b)
#else
// GCC 12's AVX-512 header initialises its "undefined" registers from themselves, which
// -Wuninitialized reports at every inlined use; silence it for the header only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
#endif

#include <cstdint>

#include "kernels/x86_avx2/simd_avx2.h"

namespace pocketlm::kernels {

static inline __m256i avx512_lo256(__m512i v) { return _mm512_castsi512_si256(v); }
static inline __m256i avx512_hi256(__m512i v) { return _mm512_extracti64x4_epi64(v, 1); }
static inline __m512i avx512_join(__m256i lo, __m256i hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
static inline __m256 avx512_lo256(__m512 v) { return _mm512_castps512_ps256(v); }
static inline __m256 avx512_hi256(__m512 v) {
  return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}
static inline __m512 avx512_join(__m256 lo, __m256 hi) {
  return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}

static inline __m512 avx512_cvtepi32_ps(__m512i v) {
#if defined(POCKETLM_AVX512_VIA_SIMDE)
  return avx512_join(_mm256_cvtepi32_ps(avx512_lo256(v)), _mm256_cvtepi32_ps(avx512_hi256(v)));
#else
  return _mm512_cvtepi32_ps(v);
#endif
}

// Rounds to nearest even (the default MXCSR mode), like the scalar nearest_int of Q8_K.
static inline __m512i avx512_cvtps_epi32(__m512 v) {
#if defined(POCKETLM_AVX512_VIA_SIMDE)
  return avx512_join(_mm256_cvtps_epi32(avx512_lo256(v)), _mm256_cvtps_epi32(avx512_hi256(v)));
#else
  return _mm512_cvtps_epi32(v);
#endif
}

static inline __m512 avx512_cvtph_ps(__m256i h) {
#if defined(POCKETLM_AVX512_VIA_SIMDE)
  return avx512_join(_mm256_cvtph_ps(_mm256_castsi256_si128(h)),
                     _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1)));
#else
  return _mm512_cvtph_ps(h);
#endif
}

static inline float avx512_hsum(__m512 v) {
  return avx2_hsum(_mm256_add_ps(avx512_lo256(v), avx512_hi256(v)));
}
static inline float avx512_hmax(__m512 v) {
  const __m256 m8 = _mm256_max_ps(avx512_lo256(v), avx512_hi256(v));
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

static inline __m512i avx512_load(const void* p) { return _mm512_loadu_si512(p); }

// 32 bytes at p in both 256-bit halves.
static inline __m512i avx512_dup256(const void* p) {
  const __m256i v = avx2_load(p);
  return avx512_join(v, v);
}

}  // namespace pocketlm::kernels
