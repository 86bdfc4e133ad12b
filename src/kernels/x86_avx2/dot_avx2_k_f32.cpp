// AVX2 dots of K-quant weights against float activations.
//
// Each super-block is decoded with SIMD into 256 small integers plus a float scale and offset per
// 16 elements (w = q * scale - offset, the same products the dequantizer forms), then one shared
// loop converts, scales and multiply-adds 8 elements at a time into four accumulators.
#include <immintrin.h>

#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/ref/kquant_scales.h"
#include "kernels/x86_avx2/dot_avx2_parts.h"
#include "kernels/x86_avx2/simd_avx2.h"
#include "quant/blocks.h"

namespace pocketlm::kernels::avx2 {
namespace {

struct Decoded {
  alignas(32) int8_t q[kQK_K];
  float scale[16];
  float offset[16];
};

inline void store(int8_t* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }

// Element order of the 2-bit planes is as in the reference: within each 128-element half, run k
// of 32 is bit pair k of the half's 32 bytes.
void decode(const BlockQ2_K& x, Decoded& out) {
  for (int h = 0; h < 2; ++h) {
    __m256i bits = avx2_load(x.qs + 32 * h);
    for (int k = 0; k < 4; ++k) {
      store(out.q + 128 * h + 32 * k, _mm256_and_si256(bits, _mm256_set1_epi8(3)));
      bits = _mm256_srli_epi16(bits, 2);
    }
  }
  const float d = avx2_half_to_float(x.d), dmin = avx2_half_to_float(x.dmin);
  for (int g = 0; g < 16; ++g) {
    out.scale[g] = d * static_cast<float>(x.scales[g] & 0x0f);
    out.offset[g] = dmin * static_cast<float>(x.scales[g] >> 4);
  }
}

void decode(const BlockQ3_K& x, Decoded& out) {
  __m256i high = avx2_load(x.hmask);
  for (int h = 0; h < 2; ++h) {
    __m256i bits = avx2_load(x.qs + 32 * h);
    for (int k = 0; k < 4; ++k) {
      const __m256i q =
          _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi8(3)),
                          _mm256_and_si256(_mm256_slli_epi16(high, 2), _mm256_set1_epi8(4)));
      store(out.q + 128 * h + 32 * k, _mm256_sub_epi8(q, _mm256_set1_epi8(4)));
      bits = _mm256_srli_epi16(bits, 2);
      high = _mm256_srli_epi16(high, 1);
    }
  }
  int8_t sc[16];
  unpack_q3_k_scales(x.scales, sc);
  const float d = avx2_half_to_float(x.d);
  for (int g = 0; g < 16; ++g) {
    out.scale[g] = d * static_cast<float>(sc[g]);
    out.offset[g] = 0.0f;
  }
}

void k45_scales(const uint8_t packed[12], fp16_t d16, fp16_t dmin16, Decoded& out) {
  uint8_t sm[16];
  unpack_q4_k_scales(packed, sm);
  const float d = avx2_half_to_float(d16), dmin = avx2_half_to_float(dmin16);
  for (int g = 0; g < 16; ++g) {
    out.scale[g] = d * static_cast<float>(sm[g / 2]);
    out.offset[g] = dmin * static_cast<float>(sm[8 + g / 2]);
  }
}

void decode(const BlockQ4_K& x, Decoded& out) {
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  for (int j = 0; j < 4; ++j) {
    const __m256i bits = avx2_load(x.qs + 32 * j);
    store(out.q + 64 * j, _mm256_and_si256(bits, m4));
    store(out.q + 64 * j + 32, _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4));
  }
  k45_scales(x.scales, x.d, x.dmin, out);
}

void decode(const BlockQ5_K& x, Decoded& out) {
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  __m256i high = avx2_load(x.qh);
  for (int j = 0; j < 4; ++j) {
    const __m256i bits = avx2_load(x.qs + 32 * j);
    const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(high, _mm256_set1_epi8(1)), 4);
    const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(high, _mm256_set1_epi8(2)), 3);
    store(out.q + 64 * j, _mm256_or_si256(_mm256_and_si256(bits, m4), h0));
    store(out.q + 64 * j + 32,
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits, 4), m4), h1));
    high = _mm256_srli_epi16(high, 2);
  }
  k45_scales(x.scales, x.d, x.dmin, out);
}

void decode(const BlockQ6_K& x, Decoded& out) {
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  const __m256i m30 = _mm256_set1_epi8(0x30);
  const __m256i bias = _mm256_set1_epi8(32);
  for (int h = 0; h < 2; ++h) {
    const __m256i l0 = avx2_load(x.ql + 64 * h);
    const __m256i l1 = avx2_load(x.ql + 64 * h + 32);
    const __m256i hb = avx2_load(x.qh + 32 * h);
    const __m256i q[4] = {
        _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), m30)),
        _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 2), m30)),
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hb, m30)),
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                        _mm256_and_si256(_mm256_srli_epi16(hb, 2), m30)),
    };
    for (int k = 0; k < 4; ++k) store(out.q + 128 * h + 32 * k, _mm256_sub_epi8(q[k], bias));
  }
  const float d = avx2_half_to_float(x.d);
  for (int g = 0; g < 16; ++g) {
    out.scale[g] = d * static_cast<float>(x.scales[g]);
    out.offset[g] = 0.0f;
  }
}

template <typename Block>
void vec_dot_f32_k(int64_t n, float* s, const void* w, const float* a) {
  const auto* x = static_cast<const Block*>(w);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  Decoded dec;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    decode(x[b], dec);
    const float* ab = a + kQK_K * b;
    for (int g = 0; g < 16; ++g) {
      const __m256 scale = _mm256_set1_ps(dec.scale[g]);
      const __m256 offset = _mm256_set1_ps(dec.offset[g]);
      for (int half = 0; half < 2; ++half) {
        const int e = 16 * g + 8 * half;
        const __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(avx2_load64(dec.q + e)));
        const __m256 wv = _mm256_fmsub_ps(q, scale, offset);
        acc[(2 * g + half) & 3] =
            _mm256_fmadd_ps(wv, _mm256_loadu_ps(ab + e), acc[(2 * g + half) & 3]);
      }
    }
  }
  *s = avx2_hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

}  // namespace

void fill_dot_k_f32(DotKernels& t) {
  using T = TensorType;
  t.vec_dot_f32[static_cast<int>(T::kQ2_K)] = vec_dot_f32_k<BlockQ2_K>;
  t.vec_dot_f32[static_cast<int>(T::kQ3_K)] = vec_dot_f32_k<BlockQ3_K>;
  t.vec_dot_f32[static_cast<int>(T::kQ4_K)] = vec_dot_f32_k<BlockQ4_K>;
  t.vec_dot_f32[static_cast<int>(T::kQ5_K)] = vec_dot_f32_k<BlockQ5_K>;
  t.vec_dot_f32[static_cast<int>(T::kQ6_K)] = vec_dot_f32_k<BlockQ6_K>;
}

}  // namespace pocketlm::kernels::avx2
