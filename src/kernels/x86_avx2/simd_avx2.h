// Private AVX2 building blocks of the dot kernels (x86_avx2/ and, widened, x86_avx512/).
//
// Every function is `static inline`: this header is compiled into translation units with
// different -m flags, and the linker must never fold an AVX-512-compiled copy into the AVX2
// table (it would fault on CPUs without AVX-512).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pocketlm::kernels {

// One fp16 value to float (exact). Written with the vector conversion rather than _cvtsh_ss,
// which is the same instruction but which SIMDe (the AVX-512 test build) does not provide.
static inline float avx2_half_to_float(uint16_t h) {
  return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

// Decode reads every weight row from memory once per token, row after row. The hardware
// prefetchers ramp up too slowly for rows of a few hundred bytes, and the out-of-order window
// covers only a few cache lines ahead of the dot's dependency chain, so the one-row dots ask for
// the bytes this far past the block they read (which runs on into the next rows, read next).
// Zen 3, 1 thread: 1024 gave SmolLM2 +20-30% over none; 4096 gave the 1B-shaped Q4_0 model
// another +17% over 1024 (7.4-8.2 -> 9.5 t/s); 8192 was no better.
inline constexpr int kAvx2PrefetchAhead = 4096;

// Prefetches the cache lines kAvx2PrefetchAhead past a weight block of kBytes; a prefetch never
// faults, so running past the end of the matrix is harmless.
template <size_t kBytes>
static inline void avx2_prefetch_ahead(const void* block) {
  const char* p = static_cast<const char*>(block) + kAvx2PrefetchAhead;
  for (size_t off = 0; off < kBytes; off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}

static inline float avx2_hsum(__m256 v) {
  __m128 r = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

static inline float avx2_hsum128(__m128 r) {
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

static inline __m256i avx2_load(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}
static inline __m128i avx2_load128(const void* p) {
  return _mm_loadu_si128(static_cast<const __m128i*>(p));
}
static inline __m128i avx2_load64(const void* p) {
  return _mm_loadl_epi64(static_cast<const __m128i*>(p));
}

static inline uint32_t avx2_load_u32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The 32 nibbles of 16 bytes as bytes: low nibbles in bytes 0..15, high nibbles in 16..31,
// which is the element order of the 32-element block types.
static inline __m256i avx2_nibbles_32(const uint8_t* p) {
  const __m128i t = avx2_load128(p);
  const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(t), _mm_srli_epi16(t, 4), 1);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

// 0xff in byte i where bit i of `bits` is set, else 0.
static inline __m256i avx2_bits_to_bytes(uint32_t bits) {
  const __m256i spread = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                           0x0101010101010101, 0x0000000000000000);
  const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), spread);
  const __m256i select = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(bytes, select), select);
}

// Sums of 4 adjacent products of unsigned bytes u and signed bytes s, as 8 int32. maddubs
// saturates its int16 pair sums, so callers keep 2 * max(u) * max|s| below 32768.
static inline __m256i avx2_dot_u8_i8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// As above for two signed operands: move x's sign onto y so x can be read as unsigned. Exact
// unless y holds -128 where x is negative (8-bit activations stay within [-127, 127]).
static inline __m256i avx2_dot_i8_i8(__m256i x, __m256i y) {
  return avx2_dot_u8_i8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

// Q8_K's bsums: the sums of each 16 of the 128 int8 values at q, into out[0..7].
static inline void avx2_sums_of_16(const int8_t* q, int16_t* out) {
  __m256i sums4[4];  // int32 sums of 4 values; chunk c covers values 32c..32c+31
  for (int c = 0; c < 4; ++c) {
    sums4[c] = avx2_dot_u8_i8(_mm256_set1_epi8(1), avx2_load(q + 32 * c));
  }
  // Two rounds of hadd give [g0 g2 g4 g6 | g1 g3 g5 g7] (sums of 16); interleaving the two
  // halves restores group order.
  const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(sums4[0], sums4[1]),
                                      _mm256_hadd_epi32(sums4[2], sums4[3]));
  const __m128i lo = _mm256_castsi256_si128(h), hi = _mm256_extracti128_si256(h, 1);
  const __m128i groups = _mm_packs_epi32(_mm_unpacklo_epi32(lo, hi), _mm_unpackhi_epi32(lo, hi));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), groups);
}

}  // namespace pocketlm::kernels
