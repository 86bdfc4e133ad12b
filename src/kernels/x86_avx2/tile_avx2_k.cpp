// AVX2 register tiles for the K-quant matrix-kernel orders (DotKernels::vec_dot_interleaved_x4
// and vec_dot_tiled, see dot_avx2_k.cpp): 4 weight rows x 2 tokens per pass over k.
//
// Those orders round after every pair of sub-blocks (Q4_K) or every super-block (Q6_K), so each
// output needs a horizontal integer sum that often; done one output at a time, the sums and the
// scalar scale unpacking cost more than the multiplies. Here the 8 outputs of a tile are the 8
// lanes of one vector: their integer dots are reduced together (a transpose by hadd), their
// scale products d_w * d_a and fused multiply-adds run as one vector operation each. Every lane
// performs exactly the float operations of the one-output kernel, so results are bit-identical.
// The unpacking of scales and mins is done once per 4 rows for all the tokens of a call.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/ref/kquant_scales.h"
#include "kernels/x86_avx2/dot_avx2_parts.h"
#include "kernels/x86_avx2/kquant_blocks_avx2.h"
#include "kernels/x86_avx2/simd_avx2.h"
#include "quant/blocks.h"

namespace pocketlm::kernels::avx2 {
namespace {

constexpr int kRows = 4;
// Super-blocks per row whose scales are unpacked ahead into a stack buffer (k up to 16384: 76 KiB
// for Q4_K, 74 KiB for Q6_K); longer rows go through the one-output kernel.
constexpr int64_t kMaxSuperBlocks = 64;

// Lane l of a tile vector is row l % 4 of token l / 4, so each half stores 4 consecutive rows.
inline __m256 two_tokens(float t0, float t1) {
  return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_set1_ps(t0)), _mm_set1_ps(t1), 1);
}

inline __m256i two_tokens_i32(int32_t t0, int32_t t1) {
  return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi32(t0)), _mm_set1_epi32(t1),
                                 1);
}

// The lane sums of 4 vectors, as 4 int32 (sum of v0, v1, v2, v3).
inline __m128i hsum4(__m256i v0, __m256i v1, __m256i v2, __m256i v3) {
  const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(v0, v1), _mm256_hadd_epi32(v2, v3));
  return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

// ---- Q4_K, in the order of llama.cpp's kernel for interleaved (repacked) rows, 4 tokens at a time
// (ref::vec_dot_q4_k_interleaved_x4): per pair j of sub-blocks, acc = fma(dot_j, d, acc) and
// acc_min = fma(mins_j, dmin, acc_min), with d = d_w * d_a and dmin = dmin_w * d_a.

// One super-block of 4 rows, unpacked.
struct Q4KRows {
  __m256i scale[kRows][8];  // int16 scale of sub-block s of row i, in every lane
  __m256i mins[4];          // pair j: int16 pairs (min 2j, min 2j + 1) of rows 0..3, 0..3
  __m256 d;                 // d_w of rows 0..3, 0..3
  __m256 dmin;
};

void unpack_q4k_rows(const BlockQ4_K* const x[kRows], int64_t b, Q4KRows& r) {
  alignas(32) int32_t mins[4][8];
  alignas(32) float d[8], dmin[8];
  for (int i = 0; i < kRows; ++i) {
    uint8_t sm[16];
    unpack_q4_k_scales(x[i][b].scales, sm);
    for (int s = 0; s < 8; ++s) r.scale[i][s] = _mm256_set1_epi16(static_cast<int16_t>(sm[s]));
    for (int j = 0; j < 4; ++j) {
      const int32_t pair = sm[8 + 2 * j] | (static_cast<int32_t>(sm[9 + 2 * j]) << 16);
      mins[j][i] = mins[j][i + 4] = pair;
    }
    d[i] = d[i + 4] = avx2_half_to_float(x[i][b].d);
    dmin[i] = dmin[i + 4] = avx2_half_to_float(x[i][b].dmin);
  }
  for (int j = 0; j < 4; ++j) r.mins[j] = _mm256_load_si256(reinterpret_cast<__m256i*>(mins[j]));
  r.d = _mm256_load_ps(d);
  r.dmin = _mm256_load_ps(dmin);
}

// sum over lanes = scale_lo * dot(lo, a_lo) + scale_hi * dot(hi, a_hi), exactly.
inline __m256i q4k_pair(__m256i lo, __m256i hi, __m256i a_lo, __m256i a_hi, __m256i s_lo,
                        __m256i s_hi) {
  return _mm256_add_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(lo, a_lo), s_lo),
                          _mm256_madd_epi16(_mm256_maddubs_epi16(hi, a_hi), s_hi));
}

// 4 rows against tokens a0, a1 (a1 may repeat a0); writes the 8 outputs to out[0..7].
void q4k_x4_tile(int64_t nb, const BlockQ4_K* const x[kRows], const Q4KRows* rows,
                 const BlockQ8_K* a0, const BlockQ8_K* a1, float out[8]) {
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const Q4KRows& r = rows[b];
    const __m256 d_act = two_tokens(a0[b].d, a1[b].d);
    const __m256 d = _mm256_mul_ps(r.d, d_act);
    const __m256 dmin = _mm256_mul_ps(r.dmin, d_act);
    for (int j = 0; j < 4; ++j) {
      __m256i lo[kRows], hi[kRows];
      for (int i = 0; i < kRows; ++i) {
        const __m256i bits = avx2_load(x[i][b].qs + 32 * j);
        lo[i] = _mm256_and_si256(bits, m4);
        hi[i] = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
      }
      __m128i dots[2];
      const BlockQ8_K* tok[2] = {a0, a1};
      for (int t = 0; t < 2; ++t) {
        const __m256i y_lo = avx2_load(tok[t][b].qs + 64 * j);
        const __m256i y_hi = avx2_load(tok[t][b].qs + 64 * j + 32);
        __m256i v[kRows];
        for (int i = 0; i < kRows; ++i) {
          v[i] = q4k_pair(lo[i], hi[i], y_lo, y_hi, r.scale[i][2 * j], r.scale[i][2 * j + 1]);
        }
        dots[t] = hsum4(v[0], v[1], v[2], v[3]);
      }
      const __m256i dot = _mm256_inserti128_si256(_mm256_castsi128_si256(dots[0]), dots[1], 1);
      // Activation sums of sub-blocks 2j and 2j + 1, as an int16 pair per token.
      const auto sums = [&](const BlockQ8_K& y) {
        const int32_t s_lo = y.bsums[4 * j] + y.bsums[4 * j + 1];
        const int32_t s_hi = y.bsums[4 * j + 2] + y.bsums[4 * j + 3];
        return static_cast<int32_t>((s_lo & 0xffff) | (static_cast<uint32_t>(s_hi) << 16));
      };
      const __m256i mins =
          _mm256_madd_epi16(r.mins[j], two_tokens_i32(sums(a0[b]), sums(a1[b])));
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), d, acc);
      acc_min = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mins), dmin, acc_min);
    }
  }
  _mm256_storeu_ps(out, _mm256_sub_ps(acc, acc_min));
}

// ---- Q6_K, in the order of llama.cpp's tiled K-quant kernel (ref::vec_dot_q6_k_tiled): per
// super-block one exact integer, acc = fma(d_w * dot, d_a, acc).

struct Q6KRows {
  __m256i scale[kRows][8];  // row i: int16 scales of element group g (scales_for_32)
  __m256i bias[kRows];      // row i: the 16 scales as int16, against the activation bsums
  __m256 d;                 // d_w of rows 0..3, 0..3
};

void unpack_q6k_rows(const BlockQ6_K* const x[kRows], int64_t b, Q6KRows& r) {
  alignas(32) float d[8];
  for (int i = 0; i < kRows; ++i) {
    const __m128i scales8 = avx2_load128(x[i][b].scales);
    for (int g = 0; g < 8; ++g) r.scale[i][g] = scales_for_32(scales8, g);
    r.bias[i] = _mm256_cvtepi8_epi16(scales8);
    d[i] = d[i + 4] = avx2_half_to_float(x[i][b].d);
  }
  r.d = _mm256_load_ps(d);
}

void q6k_tiled_tile(int64_t nb, const BlockQ6_K* const x[kRows], const Q6KRows* rows,
                    const BlockQ8_K* a0, const BlockQ8_K* a1, float out[8]) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const Q6KRows& r = rows[b];
    const BlockQ8_K* tok[2] = {&a0[b], &a1[b]};
    __m256i v[2][kRows];
    for (int i = 0; i < kRows; ++i) {
      for (int t = 0; t < 2; ++t) {
        // The format's -32 offset: 32 * sum of scale * activation sum, taken off up front.
        v[t][i] = _mm256_sub_epi32(
            _mm256_setzero_si256(),
            _mm256_slli_epi32(_mm256_madd_epi16(r.bias[i], avx2_load(tok[t]->bsums)), 5));
      }
      for (int h = 0; h < 2; ++h) {
        __m256i q[4];
        q6_k_quants(x[i][b], h, q);
        for (int t = 0; t < 2; ++t) {
          for (int k = 0; k < 4; ++k) {
            const __m256i p =
                _mm256_maddubs_epi16(q[k], avx2_load(tok[t]->qs + 128 * h + 32 * k));
            v[t][i] = _mm256_add_epi32(v[t][i], _mm256_madd_epi16(p, r.scale[i][4 * h + k]));
          }
        }
      }
    }
    const __m256i dot = _mm256_inserti128_si256(
        _mm256_castsi128_si256(hsum4(v[0][0], v[0][1], v[0][2], v[0][3])),
        hsum4(v[1][0], v[1][1], v[1][2], v[1][3]), 1);
    acc = _mm256_fmadd_ps(_mm256_mul_ps(r.d, _mm256_cvtepi32_ps(dot)),
                          two_tokens(a0[b].d, a1[b].d), acc);
  }
  _mm256_storeu_ps(out, acc);
}

// ---- The driver: rows four at a time, their scales unpacked once, then the tokens in pairs.

struct Q4KInterleavedX4 {
  using Block = BlockQ4_K;
  using Rows = Q4KRows;
  static constexpr auto unpack = unpack_q4k_rows;
  static constexpr auto tile = q4k_x4_tile;
  static constexpr auto one = vec_dot_q4_k_interleaved_x4;
};

struct Q6KTiled {
  using Block = BlockQ6_K;
  using Rows = Q6KRows;
  static constexpr auto unpack = unpack_q6k_rows;
  static constexpr auto tile = q6k_tiled_tile;
  static constexpr auto one = vec_dot_q6_k_tiled;
};

template <typename K>
void tile_rows(int64_t k, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a,
               size_t a_row_bytes, int64_t n_tok, float* y, int64_t y_stride) {
  const int64_t nb = k / kQK_K;
  const auto* wp = static_cast<const uint8_t*>(w);
  const auto* ap = static_cast<const uint8_t*>(a);
  const auto act = [&](int64_t t) {
    return reinterpret_cast<const BlockQ8_K*>(ap + static_cast<size_t>(t) * a_row_bytes);
  };
  if (nb > kMaxSuperBlocks) {
    for (int64_t t = 0; t < n_tok; ++t) {
      for (int64_t r = 0; r < n_rows; ++r) {
        K::one(k, y + t * y_stride + r, wp + static_cast<size_t>(r) * w_row_bytes, act(t));
      }
    }
    return;
  }
  typename K::Rows unpacked[kMaxSuperBlocks];
  for (int64_t r0 = 0; r0 < n_rows; r0 += kRows) {
    const int n_live = static_cast<int>(std::min<int64_t>(kRows, n_rows - r0));
    const typename K::Block* x[kRows];
    for (int i = 0; i < kRows; ++i) {
      // Missing rows of a last partial group repeat the first; their outputs are not stored.
      x[i] = reinterpret_cast<const typename K::Block*>(
          wp + static_cast<size_t>(r0 + (i < n_live ? i : 0)) * w_row_bytes);
    }
    for (int64_t b = 0; b < nb; ++b) K::unpack(x, b, unpacked[b]);
    for (int64_t t = 0; t < n_tok; t += 2) {
      const bool pair = t + 1 < n_tok;
      alignas(32) float out[8];
      K::tile(nb, x, unpacked, act(t), act(pair ? t + 1 : t), out);
      for (int i = 0; i < n_live; ++i) {
        y[t * y_stride + r0 + i] = out[i];
        if (pair) y[(t + 1) * y_stride + r0 + i] = out[4 + i];
      }
    }
  }
}

}  // namespace

void fill_tile_k(DotKernels& t) {
  t.vec_dot_interleaved_x4_tile[static_cast<int>(TensorType::kQ4_K)] =
      tile_rows<Q4KInterleavedX4>;
  t.vec_dot_tiled_tile[static_cast<int>(TensorType::kQ6_K)] = tile_rows<Q6KTiled>;
}

}  // namespace pocketlm::kernels::avx2
