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
#include "kernels/x86_avx2/simd_avx2.h"
#include "quant/blocks.h"

namespace pocketlm::kernels::avx2 {
namespace {

// Decoders: `quants` returns the block's 32 quants, as signed values (kSigned) or as unsigned
// values that the dot may read as u8 (faster: no sign juggling). kHasMin types add m per element.
struct Q4_0 {
  using Block = BlockQ4_0;
  using Act = BlockQ8_0;
  static constexpr bool kSigned = true;
  static constexpr bool kHasMin = false;
  static __m256i quants(const Block& b) {
    return _mm256_sub_epi8(avx2_nibbles_32(b.qs), _mm256_set1_epi8(8));
  }
};

struct Q4_1 {
  using Block = BlockQ4_1;
  using Act = BlockQ8_1;
  static constexpr bool kSigned = false;
  static constexpr bool kHasMin = true;
  static __m256i quants(const Block& b) { return avx2_nibbles_32(b.qs); }
};

// (q | h << 4) - 16 without arithmetic: where the 5th bit is clear the result is q - 16, which as
// a byte is q | 0xf0; where it is set, it is q itself.
struct Q5_0 {
  using Block = BlockQ5_0;
  using Act = BlockQ8_0;
  static constexpr bool kSigned = true;
  static constexpr bool kHasMin = false;
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
  static __m256i quants(const Block& b) {
    const __m256i high = avx2_bits_to_bytes(avx2_load_u32(b.qh));
    return _mm256_or_si256(avx2_nibbles_32(b.qs), _mm256_and_si256(high, _mm256_set1_epi8(0x10)));
  }
};

struct Q8_0 {
  using Block = BlockQ8_0;
  using Act = BlockQ8_0;
  static constexpr bool kSigned = true;
  static constexpr bool kHasMin = false;
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
  for (int64_t b = 0; b < nb; ++b) acc = accumulate_block<Q>(x[b], y[b], acc, mins);
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
