// Private to src/kernels/x86_avx2: K-quant unpacking shared by the one-output dots
// (dot_avx2_k.cpp) and the register tiles (tile_avx2_k.cpp), which must compute the same integers.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/x86_avx2/simd_avx2.h"
#include "quant/blocks.h"

namespace pocketlm::kernels::avx2 {
// Internal linkage, as in legacy_blocks_avx2.h: each file compiled with these flags keeps its own.
namespace {

// From 16 int8 sub-block scales: int16 scales for the 32 elements of sub-block pair i (elements
// 32i..32i+31), i.e. 8 copies of scale 2i then 8 of scale 2i+1, matching maddubs' pair lanes.
inline __m256i scales_for_32(__m128i scales8, int i) {
  const uint64_t lo = 0x0101010101010101ull * static_cast<uint64_t>(2 * i);
  const uint64_t hi = 0x0101010101010101ull * static_cast<uint64_t>(2 * i + 1);
  const __m128i control = _mm_set_epi64x(static_cast<int64_t>(hi), static_cast<int64_t>(lo));
  return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales8, control));
}

// The unsigned quants (0..63; the format's value is that minus 32) of elements 128h + 32k ..
// 128h + 32k + 31 of a Q6_K super-block, for k = 0..3.
inline void q6_k_quants(const BlockQ6_K& x, int h, __m256i q[4]) {
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  const __m256i m30 = _mm256_set1_epi8(0x30);
  const __m256i l0 = avx2_load(x.ql + 64 * h);
  const __m256i l1 = avx2_load(x.ql + 64 * h + 32);
  const __m256i hb = avx2_load(x.qh + 32 * h);
  // Bit pair k of qh is the top of element group k; put it at bits 4..5 of each byte.
  q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), m30));
  q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 2), m30));
  q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hb, m30));
  q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                         _mm256_and_si256(_mm256_srli_epi16(hb, 2), m30));
}

}  // namespace
}  // namespace pocketlm::kernels::avx2
