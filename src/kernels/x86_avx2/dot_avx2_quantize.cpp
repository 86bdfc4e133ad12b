// AVX2 activation quantizers (Q8_0, Q8_1, Q8_K, F16, BF16). Q8_K, F16 and BF16 are
// byte-identical to the scalar ones in quants.h. Q8_0/Q8_1 round the way llama.cpp's x86 CPU
// backend does at run time (q = nearest-even(x * (127 / amax)), modelled by
// ref::ActRounding::kX86), not like the format's reference (roundf(x / d)): one ulp of the
// multiplier or a tie decides a code now and then, and matching it keeps our logits
// token-identical with llama.cpp on the same machine. Inputs holding NaN give meaningless codes.
#include <immintrin.h>

#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/x86_avx2/dot_avx2_parts.h"
#include "kernels/x86_avx2/simd_avx2.h"
#include "quant/blocks.h"

namespace pocketlm::kernels::avx2 {
namespace {

inline uint16_t float_to_half(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// Four vectors of 8 int32 (elements 0..31 in order) to 32 saturated int8 in order.
inline __m256i pack_i32_to_i8(__m256i v0, __m256i v1, __m256i v2, __m256i v3) {
  const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(v0, v1), _mm256_packs_epi32(v2, v3));
  // packs interleaves the 128-bit halves: restore element order.
  return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// One Q8_0/Q8_1 block: writes d and the quants, returns d (as float) and the sum of the quants.
inline float quantize_q8_32(const float* x, uint16_t* d_out, int8_t* qs, int* sum) {
  __m256 v[4];
  for (int k = 0; k < 4; ++k) v[k] = _mm256_loadu_ps(x + 8 * k);
  const __m256 amax8 = _mm256_max_ps(_mm256_max_ps(abs_ps(v[0]), abs_ps(v[1])),
                                     _mm256_max_ps(abs_ps(v[2]), abs_ps(v[3])));
  const float amax = hmax(amax8);
  const float d = amax / 127.0f;
  const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
  *d_out = float_to_half(d);
  const __m256 idv = _mm256_set1_ps(id);
  __m256i q[4];
  for (int k = 0; k < 4; ++k) {
    q[k] = _mm256_cvtps_epi32(
        _mm256_round_ps(_mm256_mul_ps(v[k], idv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), pack_i32_to_i8(q[0], q[1], q[2], q[3]));
  const __m256i s8 = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
  __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
  s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
  s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
  *sum = _mm_cvtsi128_si32(s4);
  return d;
}

void quantize_q8_0(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    int sum = 0;
    quantize_q8_32(x + kQK8_0 * b, &y[b].d, y[b].qs, &sum);
  }
}

void quantize_q8_1(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_1*>(dst);
  for (int64_t b = 0; b < n / kQK8_1; ++b) {
    int sum = 0;
    const float d = quantize_q8_32(x + kQK8_1 * b, &y[b].d, y[b].qs, &sum);
    y[b].s = float_to_half(static_cast<float>(sum) * d);
  }
}

// Q8_K: the scale comes from the first element of largest magnitude, with its sign.
void quantize_q8_k(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* xb = x + kQK_K * b;
    __m256 amax8 = _mm256_setzero_ps();
    for (int i = 0; i < kQK_K; i += 8)
      amax8 = _mm256_max_ps(amax8, abs_ps(_mm256_loadu_ps(xb + i)));
    const float amax = hmax(amax8);
    if (amax == 0.0f) {
      y[b].d = 0.0f;
      for (int i = 0; i < kQK_K; i += 32) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs + i), _mm256_setzero_si256());
      }
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].bsums), _mm256_setzero_si256());
      continue;
    }
    const __m256 amaxv = _mm256_set1_ps(amax);
    int first = 0;
    for (int i = 0; i < kQK_K; i += 8) {
      const int hits =
          _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(xb + i)), amaxv, _CMP_EQ_OQ));
      if (hits) {
        first = i + __builtin_ctz(static_cast<unsigned>(hits));
        break;
      }
    }
    const float iscale = -127.0f / xb[first];
    const __m256 is = _mm256_set1_ps(iscale);
    for (int c = 0; c < 8; ++c) {
      __m256i q[4];
      for (int k = 0; k < 4; ++k) {
        // cvtps rounds half to even under the default MXCSR mode, like the scalar nearest_int.
        q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(is, _mm256_loadu_ps(xb + 32 * c + 8 * k)));
      }
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs + 32 * c),
                          pack_i32_to_i8(q[0], q[1], q[2], q[3]));
    }
    avx2_sums_of_16(y[b].qs, y[b].bsums);
    avx2_sums_of_16(y[b].qs + 128, y[b].bsums + 8);
    y[b].d = 1.0f / iscale;
  }
}

void quantize_f16(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) y[i] = float_to_half(x[i]);
}

// Round to nearest even on the bits; NaN is kept quiet by setting bit 6 of the result, as the
// scalar conversion does.
inline __m256i bf16_bits(__m256i u) {
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i rounded =
      _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), lsb)), 16);
  const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)),
                                            _mm256_set1_epi32(0x7f800000));
  const __m256i nan = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(64));
  return _mm256_blendv_epi8(rounded, nan, is_nan);
}

void quantize_bf16(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = bf16_bits(_mm256_castps_si256(_mm256_loadu_ps(x + i)));
    const __m256i b = bf16_bits(_mm256_castps_si256(_mm256_loadu_ps(x + i + 8)));
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), packed);
  }
  for (; i < n; ++i) {
    const __m256i v = bf16_bits(_mm256_castps_si256(_mm256_set1_ps(x[i])));
    y[i] = static_cast<uint16_t>(_mm256_cvtsi256_si32(v));
  }
}

}  // namespace

void fill_quantize(DotKernels& t) {
  using T = TensorType;
  t.quantize_act[static_cast<int>(T::kQ8_0)] = quantize_q8_0;
  t.quantize_act[static_cast<int>(T::kQ8_1)] = quantize_q8_1;
  t.quantize_act[static_cast<int>(T::kQ8_K)] = quantize_q8_k;
  t.quantize_act[static_cast<int>(T::kF16)] = quantize_f16;
  t.quantize_act[static_cast<int>(T::kBF16)] = quantize_bf16;
}

}  // namespace pocketlm::kernels::avx2
