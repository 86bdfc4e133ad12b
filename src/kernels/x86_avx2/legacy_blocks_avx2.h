// Private to src/kernels/x86_avx2: how each 32-element block type's bytes become 32 int8 quants,
// and one block's contribution to a dot product. Shared by the one-row dots
// (dot_avx2_legacy.cpp) and the register-tiled ones (tile_avx2_legacy.cpp), which must perform
// the same float operations per output.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/x86_avx2/simd_avx2.h"
#include "quant/blocks.h"

namespace pocketlm::kernels::avx2 {
// Internal linkage: this header is only compiled with the AVX2 flags, but each file keeps its own
// copy so nothing compiled here can be folded into a file built for another instruction set.
namespace {

// Decoders: `quants` returns the block's 32 quants, as signed values (kSigned) or as unsigned
// values that the dot may read as u8 (faster: no sign juggling). kHasMin types add m per element.
// Offset types (kBiasShift > 0) also give their codes before the offset, `codes`, unsigned: q
// = codes - 2^kBiasShift, so dot(q, a) = dot(codes, a) - 2^kBiasShift * sum(a), exactly, in
// each int32 lane; decode (one token) computes sum(a) once per activation block for all rows.
struct Q4_0 {
  using Block = BlockQ4_0;
  using Act = BlockQ8_0;
  static constexpr bool kSigned = true;
  static constexpr bool kHasMin = false;
  static constexpr int kBiasShift = 3;
  static __m256i codes(const Block& b) { return avx2_nibbles_32(b.qs); }
  static __m256i quants(const Block& b) { return _mm256_sub_epi8(codes(b), _mm256_set1_epi8(8)); }
};

struct Q4_1 {
  using Block = BlockQ4_1;
  using Act = BlockQ8_1;
  static constexpr bool kSigned = false;
  static constexpr bool kHasMin = true;
  static constexpr int kBiasShift = 0;
  static __m256i quants(const Block& b) { return avx2_nibbles_32(b.qs); }
};

// The 5-bit codes q | h << 4 of Q5_0 and Q5_1 blocks, from their low nibbles and fifth bits.
inline __m256i five_bit_codes(const uint8_t* qs, const uint8_t* qh) {
  const __m256i high = avx2_bits_to_bytes(avx2_load_u32(qh));
  return _mm256_or_si256(avx2_nibbles_32(qs), _mm256_and_si256(high, _mm256_set1_epi8(0x10)));
}

// (q | h << 4) - 16 without arithmetic: where the 5th bit is clear the result is q - 16, which as
// a byte is q | 0xf0; where it is set, it is q itself.
struct Q5_0 {
  using Block = BlockQ5_0;
  using Act = BlockQ8_0;
  static constexpr bool kSigned = true;
  static constexpr bool kHasMin = false;
  static constexpr int kBiasShift = 4;
  static __m256i codes(const Block& b) { return five_bit_codes(b.qs, b.qh); }
  static __m256i quants(const Block& b) {
    const __m256i high = avx2_bits_to_bytes(avx2_load_u32(b.qh));
    return _mm256_or_si256(avx2_nibbles_32(b.qs),
                           _mm256_andnot_si256(high, _mm256_set1_epi8(static_cast<char>(0xf0))));
  }
};

struct Q5_1 {
  using Block = BlockQ5_1;
  using Act = BlockQ8_1;
  static constexpr bool kSigned = false;
  static constexpr bool kHasMin = true;
  static constexpr int kBiasShift = 0;
  static __m256i quants(const Block& b) { return five_bit_codes(b.qs, b.qh); }
};

struct Q8_0 {
  using Block = BlockQ8_0;
  using Act = BlockQ8_0;
  static constexpr bool kSigned = true;
  static constexpr bool kHasMin = false;
  static constexpr int kBiasShift = 0;  // codes are signed: the sign trick instead
  static __m256i quants(const Block& b) { return avx2_load(b.qs); }
};

// acc += d_w * d_a * dot(block); the min term m_w * s_a (s_a = d_a * sum(a)) goes to `mins`.
template <typename Q>
__m256 accumulate_block(const typename Q::Block& x, const typename Q::Act& y, __m256 acc,
                        float& mins) {
  const __m256i qx = Q::quants(x);
  const __m256i qy = avx2_load(y.qs);
  const __m256i dot = Q::kSigned ? avx2_dot_i8_i8(qx, qy) : avx2_dot_u8_i8(qx, qy);
  if constexpr (Q::kHasMin) mins += avx2_half_to_float(x.m) * avx2_half_to_float(y.s);
  const __m256 d = _mm256_set1_ps(avx2_half_to_float(x.d) * avx2_half_to_float(y.d));
  return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot), acc);
}

}  // namespace
}  // namespace pocketlm::kernels::avx2
