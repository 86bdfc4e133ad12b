// AVX2 dots of the K-quants against Q8_K activations.
//
// Per super-block the quants are unpacked with shifts and masks into unsigned bytes, multiplied
// with the activations by maddubs (pairs into int16), weighted by their integer sub-block scales
// with madd (into int32) and summed exactly; one float FMA per super-block applies d. Offsets are
// never applied per element: Q6_K's -32 and Q3_K's -4 become -32 * sum(scale * bsum) and
// -4 * sum(scale * bsum) over Q8_K's 16-element sums, and the mins of Q2_K/Q4_K/Q5_K likewise
// use bsums, so every quant stays unsigned for maddubs.
//
// Q4_K and Q6_K also have llama.cpp's matrix-kernel orders here (DotKernels::vec_dot_interleaved
// and vec_dot_tiled): the same exact integers per super-block, summed into one number before the
// float steps, which follow ref/dot_orders_ref.h.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/ref/kquant_scales.h"
#include "kernels/x86_avx2/dot_avx2_parts.h"
#include "kernels/x86_avx2/kquant_blocks_avx2.h"
#include "kernels/x86_avx2/simd_avx2.h"
#include "quant/blocks.h"

namespace pocketlm::kernels::avx2 {
namespace {

inline int32_t hsum_i32_128(__m128i v) {
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0x4e));
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0xb1));
  return _mm_cvtsi128_si32(v);
}

inline int32_t hsum_i32(__m256i v) {
  return hsum_i32_128(_mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
}

// A shuffle control that copies int16 lane k of each 128-bit half to all lanes of the half.
inline __m256i broadcast_i16_lane(int k) {
  return _mm256_set1_epi16(static_cast<int16_t>(((2 * k + 1) << 8) | (2 * k)));
}

void vec_dot_q2_k(int64_t n, float* s, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m3 = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps(), acc_m = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    avx2_prefetch_ahead<sizeof(BlockQ2_K)>(&x[b]);
    const __m128i packed = avx2_load128(x[b].scales);  // scale in the low nibble, min in the high
    const __m128i scales8 = _mm_and_si128(packed, _mm_set1_epi8(0x0f));
    const __m256i mins16 =
        _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0f)));
    const __m256i mins = _mm256_madd_epi16(mins16, avx2_load(y[b].bsums));
    acc_m = _mm256_fmadd_ps(_mm256_set1_ps(y[b].d * avx2_half_to_float(x[b].dmin)),
                            _mm256_cvtepi32_ps(mins), acc_m);

    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      __m256i bits = avx2_load(x[b].qs + 32 * h);
      for (int k = 0; k < 4; ++k) {
        const __m256i q = _mm256_and_si256(bits, m3);
        bits = _mm256_srli_epi16(bits, 2);
        const __m256i p = _mm256_maddubs_epi16(q, avx2_load(y[b].qs + 128 * h + 32 * k));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scales_for_32(scales8, 4 * h + k)));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[b].d * avx2_half_to_float(x[b].d)),
                          _mm256_cvtepi32_ps(sumi), acc);
  }
  *s = avx2_hsum(acc) - avx2_hsum(acc_m);
}

void vec_dot_q3_k(int64_t n, float* s, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m3 = _mm256_set1_epi8(3);
  const __m256i m4 = _mm256_set1_epi8(4);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    avx2_prefetch_ahead<sizeof(BlockQ3_K)>(&x[b]);
    int8_t sc[16];
    unpack_q3_k_scales(x[b].scales, sc);
    const __m128i scales8 = avx2_load128(sc);
    // Quants are taken as low | high << 2 in 0..7; the format's value is that minus 4.
    const __m256i bias = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scales8), avx2_load(y[b].bsums));

    __m256i sumi = _mm256_setzero_si256();
    __m256i high = avx2_load(x[b].hmask);  // element group 4h + k reads bit 4h + k
    for (int h = 0; h < 2; ++h) {
      __m256i bits = avx2_load(x[b].qs + 32 * h);
      for (int k = 0; k < 4; ++k) {
        const __m256i q = _mm256_or_si256(_mm256_and_si256(bits, m3),
                                          _mm256_and_si256(_mm256_slli_epi16(high, 2), m4));
        bits = _mm256_srli_epi16(bits, 2);
        high = _mm256_srli_epi16(high, 1);
        const __m256i p = _mm256_maddubs_epi16(q, avx2_load(y[b].qs + 128 * h + 32 * k));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scales_for_32(scales8, 4 * h + k)));
      }
    }
    sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(bias, 2));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(avx2_half_to_float(x[b].d) * y[b].d),
                          _mm256_cvtepi32_ps(sumi), acc);
  }
  *s = avx2_hsum(acc);
}

// Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins. The mins need sums of 32
// activations: adjacent bsums added pairwise.
struct KScales {
  __m256i scales;  // int16 scales 0..7 in both 128-bit halves
  __m128i mins;    // int32: sum over the 4 sub-block pairs of min * activation sum
};

inline KScales k_scales(const uint8_t packed[12], const BlockQ8_K& y) {
  uint8_t sm[16];
  unpack_q4_k_scales(packed, sm);
  const __m256i sm16 = _mm256_cvtepu8_epi16(avx2_load128(sm));  // scales, then mins
  const __m256i bsums = avx2_load(y.bsums);
  const __m128i sums32 =
      _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
  KScales r;
  r.mins = _mm_madd_epi16(_mm256_extracti128_si256(sm16, 1), sums32);
  r.scales = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(sm16));
  return r;
}

// The integer part of one Q4_K super-block: 8 lanes whose sum is sum_j scale_j * dot_j.
inline __m256i q4_k_block(const BlockQ4_K& x, const BlockQ8_K& y, const KScales& ks) {
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  __m256i sumi = _mm256_setzero_si256();
  for (int j = 0; j < 4; ++j) {
    const __m256i bits = avx2_load(x.qs + 32 * j);
    const __m256i lo = _mm256_and_si256(bits, m4);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
    const __m256i plo = _mm256_maddubs_epi16(lo, avx2_load(y.qs + 64 * j));
    const __m256i phi = _mm256_maddubs_epi16(hi, avx2_load(y.qs + 64 * j + 32));
    const __m256i slo = _mm256_shuffle_epi8(ks.scales, broadcast_i16_lane(2 * j));
    const __m256i shi = _mm256_shuffle_epi8(ks.scales, broadcast_i16_lane(2 * j + 1));
    sumi = _mm256_add_epi32(
        sumi, _mm256_add_epi32(_mm256_madd_epi16(plo, slo), _mm256_madd_epi16(phi, shi)));
  }
  return sumi;
}

void vec_dot_q4_k(int64_t n, float* s, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  __m128 acc_m = _mm_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    avx2_prefetch_ahead<sizeof(BlockQ4_K)>(&x[b]);
    const KScales ks = k_scales(x[b].scales, y[b]);
    acc_m = _mm_fmadd_ps(_mm_set1_ps(y[b].d * avx2_half_to_float(x[b].dmin)),
                         _mm_cvtepi32_ps(ks.mins), acc_m);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[b].d * avx2_half_to_float(x[b].d)),
                          _mm256_cvtepi32_ps(q4_k_block(x[b], y[b], ks)), acc);
  }
  *s = avx2_hsum(acc) - avx2_hsum128(acc_m);
}

// llama.cpp's order for Q4_K weights it repacks into 8-row interleaved blocks (ref model:
// ref::vec_dot_q4_k_interleaved): per super-block one exact integer for the scaled dots and one
// for the mins, each fused into its own float accumulator.
void vec_dot_q4_k_interleaved(int64_t n, float* s, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float acc = 0.0f, acc_min = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    avx2_prefetch_ahead<sizeof(BlockQ4_K)>(&x[b]);
    const KScales ks = k_scales(x[b].scales, y[b]);
    const int32_t dot = hsum_i32(q4_k_block(x[b], y[b], ks));
    const int32_t mins = hsum_i32_128(ks.mins);
    acc = std::fma(static_cast<float>(dot), avx2_half_to_float(x[b].d) * y[b].d, acc);
    acc_min = std::fma(static_cast<float>(mins), avx2_half_to_float(x[b].dmin) * y[b].d, acc_min);
  }
  *s = acc - acc_min;
}

void vec_dot_q5_k(int64_t n, float* s, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  const __m256i bit0 = _mm256_set1_epi8(1);
  const __m256i bit1 = _mm256_set1_epi8(2);
  __m256 acc = _mm256_setzero_ps();
  __m128 acc_m = _mm_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    avx2_prefetch_ahead<sizeof(BlockQ5_K)>(&x[b]);
    const KScales ks = k_scales(x[b].scales, y[b]);
    acc_m = _mm_fmadd_ps(_mm_set1_ps(y[b].d * avx2_half_to_float(x[b].dmin)),
                         _mm_cvtepi32_ps(ks.mins), acc_m);
    __m256i high = avx2_load(x[b].qh);  // run j reads bits 2j (low nibbles) and 2j+1 (high)
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {
      const __m256i bits = avx2_load(x[b].qs + 32 * j);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(bits, m4),
                                         _mm256_slli_epi16(_mm256_and_si256(high, bit0), 4));
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(high, bit1), 3));
      high = _mm256_srli_epi16(high, 2);
      const __m256i plo = _mm256_maddubs_epi16(lo, avx2_load(y[b].qs + 64 * j));
      const __m256i phi = _mm256_maddubs_epi16(hi, avx2_load(y[b].qs + 64 * j + 32));
      const __m256i slo = _mm256_shuffle_epi8(ks.scales, broadcast_i16_lane(2 * j));
      const __m256i shi = _mm256_shuffle_epi8(ks.scales, broadcast_i16_lane(2 * j + 1));
      sumi = _mm256_add_epi32(
          sumi, _mm256_add_epi32(_mm256_madd_epi16(plo, slo), _mm256_madd_epi16(phi, shi)));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[b].d * avx2_half_to_float(x[b].d)),
                          _mm256_cvtepi32_ps(sumi), acc);
  }
  *s = avx2_hsum(acc) - avx2_hsum128(acc_m);
}

// The integer part of one Q6_K super-block: 8 lanes summing to sum_j scale_j * dot_j with the
// quants taken unsigned (0..63), and the 8 lanes of sum_j scale_j * bsum_j that times 32 corrects
// for the format's offset of -32.
struct Q6Block {
  __m256i sumi;
  __m256i bias;
};

inline Q6Block q6_k_block(const BlockQ6_K& x, const BlockQ8_K& y) {
  const __m128i scales8 = avx2_load128(x.scales);
  Q6Block r;
  r.bias = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scales8), avx2_load(y.bsums));
  r.sumi = _mm256_setzero_si256();
  for (int h = 0; h < 2; ++h) {
    __m256i q[4];
    q6_k_quants(x, h, q);
    for (int k = 0; k < 4; ++k) {
      const __m256i p = _mm256_maddubs_epi16(q[k], avx2_load(y.qs + 128 * h + 32 * k));
      r.sumi = _mm256_add_epi32(r.sumi, _mm256_madd_epi16(p, scales_for_32(scales8, 4 * h + k)));
    }
  }
  return r;
}

void vec_dot_q6_k(int64_t n, float* s, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    avx2_prefetch_ahead<sizeof(BlockQ6_K)>(&x[b]);
    const Q6Block q = q6_k_block(x[b], y[b]);
    const __m256i sumi = _mm256_sub_epi32(q.sumi, _mm256_slli_epi32(q.bias, 5));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(avx2_half_to_float(x[b].d) * y[b].d),
                          _mm256_cvtepi32_ps(sumi), acc);
  }
  *s = avx2_hsum(acc);
}

}  // namespace

// The same weights four activation rows at a time (ref model: ref::vec_dot_q4_k_interleaved_x4):
// the integers and the fused multiply-adds are per pair of sub-blocks.
void vec_dot_q4_k_interleaved_x4(int64_t n, float* s, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  float acc = 0.0f, acc_min = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    uint8_t sm[16];
    unpack_q4_k_scales(x[b].scales, sm);
    const float d = avx2_half_to_float(x[b].d) * y[b].d;
    const float dmin = avx2_half_to_float(x[b].dmin) * y[b].d;
    for (int j = 0; j < 4; ++j) {
      // Sub-blocks 2j (low nibbles) and 2j + 1 (high nibbles) of 32 bytes.
      const __m256i bits = avx2_load(x[b].qs + 32 * j);
      const __m256i lo = avx2_dot_u8_i8(_mm256_and_si256(bits, m4), avx2_load(y[b].qs + 64 * j));
      const __m256i hi = avx2_dot_u8_i8(_mm256_and_si256(_mm256_srli_epi16(bits, 4), m4),
                                        avx2_load(y[b].qs + 64 * j + 32));
      const int32_t dot = sm[2 * j] * hsum_i32(lo) + sm[2 * j + 1] * hsum_i32(hi);
      const int32_t mins = sm[8 + 2 * j] * (y[b].bsums[4 * j] + y[b].bsums[4 * j + 1]) +
                           sm[9 + 2 * j] * (y[b].bsums[4 * j + 2] + y[b].bsums[4 * j + 3]);
      acc = std::fma(static_cast<float>(dot), d, acc);
      acc_min = std::fma(static_cast<float>(mins), dmin, acc_min);
    }
  }
  *s = acc - acc_min;
}

// llama.cpp's tiled K-quant matrix kernel for Q6_K (ref model: ref::vec_dot_q6_k_tiled): one
// exact integer per super-block, scaled by the weight's d, then fused in with the activation's.
void vec_dot_q6_k_tiled(int64_t n, float* s, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float acc = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const Q6Block q = q6_k_block(x[b], y[b]);
    const int32_t dot = hsum_i32(q.sumi) - 32 * hsum_i32(q.bias);
    acc = std::fma(avx2_half_to_float(x[b].d) * static_cast<float>(dot), y[b].d, acc);
  }
  *s = acc;
}

void fill_dot_k(DotKernels& t) {
  using T = TensorType;
  t.vec_dot[static_cast<int>(T::kQ2_K)] = vec_dot_q2_k;
  t.vec_dot[static_cast<int>(T::kQ3_K)] = vec_dot_q3_k;
  t.vec_dot[static_cast<int>(T::kQ4_K)] = vec_dot_q4_k;
  t.vec_dot[static_cast<int>(T::kQ5_K)] = vec_dot_q5_k;
  t.vec_dot[static_cast<int>(T::kQ6_K)] = vec_dot_q6_k;
  t.vec_dot_interleaved[static_cast<int>(T::kQ4_K)] = vec_dot_q4_k_interleaved;
  t.vec_dot_interleaved_x4[static_cast<int>(T::kQ4_K)] = vec_dot_q4_k_interleaved_x4;
  t.vec_dot_tiled[static_cast<int>(T::kQ6_K)] = vec_dot_q6_k_tiled;
}

}  // namespace pocketlm::kernels::avx2
