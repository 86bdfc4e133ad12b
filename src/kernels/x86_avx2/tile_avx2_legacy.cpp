// AVX2 register tiles for the 32-element block types: up to kTileRows weight rows against up to
// kTileTokens activation rows per pass over k.
//
// A one-row dot spends most of its time on work that a tile shares: decoding the weight block
// (nibbles, high bits), converting fp16 scales, loading the activation block. Its single float
// accumulator is also one long dependency chain of FMAs. A tile decodes each weight block once
// for every token, loads each activation block once for every row, and keeps rows x tokens
// independent accumulators in flight. Every output still takes vec_dot<Q>'s float operations in
// vec_dot<Q>'s order (one accumulator per output, blocks in order, the min terms summed apart),
// so a tiled product is bit-identical to the one-row dots and to llama.cpp's. (Offset types reach
// the same int32 lanes another way: see kUnsignedAct below.)
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/x86_avx2/dot_avx2_parts.h"
#include "kernels/x86_avx2/legacy_blocks_avx2.h"
#include "kernels/x86_avx2/simd_avx2.h"

namespace pocketlm::kernels::avx2 {
namespace {

// 4 x 2 keeps 8 accumulators and the 4 decoded weight blocks in the 16 ymm registers.
constexpr int kTileRows = 4;
constexpr int kTileTokens = 2;
// Rows up to this long are decoded once into a stack buffer (4 rows: 32 KiB of quants, 32 KiB of
// offset corrections, 8 KiB of scales) before the tokens pass over them, so the decoding is
// shared by every token of the batch instead of by two; longer rows decode as they go.
constexpr int64_t kMaxDecodedK = 8192;

// Decoding pays off for the types whose blocks take work to unpack; Q8_0's are plain bytes.
template <typename Q>
constexpr bool kPredecode = Q::kBiasShift > 0 || !Q::kSigned;

// Offset types (Q4_0, Q5_0: small signed quants) take the activations as unsigned bytes a + 128
// (8-bit activations stay within [-127, 127]) against the signed quants q: maddubs then gives
// dot(q, a) + 128 * sum(q) per int32 lane, without saturating (255 * 16 * 2 < 2^15), and the
// second term, which depends on the weights only, is computed once per weight block and row
// ("corr") instead of once per activation block and token. The lanes are the same int32 as
// vec_dot's.
template <typename Q>
constexpr bool kUnsignedAct = Q::kBiasShift > 0;

inline __m256i weight_correction(__m256i q) {
  return _mm256_slli_epi32(avx2_dot_u8_i8(_mm256_set1_epi8(1), q), 7);
}

// Weight blocks of RM rows, decoded as the tile reads them.
template <typename Q, int RM>
struct DirectRows {
  const typename Q::Block* x[RM];
  void get(int i, int64_t b, __m256i& q, __m256i& c, float& d, float& m) const {
    q = Q::quants(x[i][b]);
    if constexpr (kUnsignedAct<Q>) c = weight_correction(q);
    d = avx2_half_to_float(x[i][b].d);
    if constexpr (Q::kHasMin) m = avx2_half_to_float(x[i][b].m);
  }
};

// Weight blocks of RM rows decoded beforehand (decode_rows): block b of row i at b * RM + i.
template <typename Q, int RM>
struct DecodedRows {
  const __m256i* q;
  const __m256i* c;
  const float* d;
  const float* m;
  void get(int i, int64_t b, __m256i& qv, __m256i& cv, float& dv, float& mv) const {
    qv = _mm256_load_si256(q + b * RM + i);
    if constexpr (kUnsignedAct<Q>) cv = _mm256_load_si256(c + b * RM + i);
    dv = d[b * RM + i];
    if constexpr (Q::kHasMin) mv = m[b * RM + i];
  }
};

template <typename Q, int RM>
void decode_rows(int64_t nb, const uint8_t* w, size_t w_row_bytes, __m256i* q, __m256i* c,
                 float* d, float* m) {
  for (int i = 0; i < RM; ++i) {
    const auto* x = reinterpret_cast<const typename Q::Block*>(w + i * w_row_bytes);
    for (int64_t b = 0; b < nb; ++b) {
      const __m256i qv = Q::quants(x[b]);
      _mm256_store_si256(q + b * RM + i, qv);
      if constexpr (kUnsignedAct<Q>) _mm256_store_si256(c + b * RM + i, weight_correction(qv));
      d[b * RM + i] = avx2_half_to_float(x[b].d);
      if constexpr (Q::kHasMin) m[b * RM + i] = avx2_half_to_float(x[b].m);
    }
  }
}

template <typename Q, int RM, int RN, typename Rows>
void tile(int64_t nb, const Rows& rows, const uint8_t* a, size_t a_row_bytes, float* y,
          int64_t y_stride) {
  using Act = typename Q::Act;
  const Act* act[RN];
  for (int j = 0; j < RN; ++j) act[j] = reinterpret_cast<const Act*>(a + j * a_row_bytes);

  __m256 acc[RM][RN];
  float mins[RM][RN];
  for (int i = 0; i < RM; ++i) {
    for (int j = 0; j < RN; ++j) {
      acc[i][j] = _mm256_setzero_ps();
      mins[i][j] = 0.0f;
    }
  }
  for (int64_t b = 0; b < nb; ++b) {
    __m256i qx[RM], cx[RM];
    float dx[RM];
    float mx[RM] = {};
    for (int i = 0; i < RM; ++i) rows.get(i, b, qx[i], cx[i], dx[i], mx[i]);
    // d_w * d_a as one vector multiply per output: the same float product as the scalar one.
    __m256 dxv[RM];
    for (int i = 0; i < RM; ++i) dxv[i] = _mm256_set1_ps(dx[i]);
    for (int j = 0; j < RN; ++j) {
      const __m256i qy = avx2_load(act[j][b].qs);
      const float dy = avx2_half_to_float(act[j][b].d);
      const __m256 dyv = _mm256_set1_ps(dy);
      float sy = 0.0f;
      if constexpr (Q::kHasMin) sy = avx2_half_to_float(act[j][b].s);
      __m256i qy_u;  // a + 128, as unsigned bytes
      if constexpr (kUnsignedAct<Q>) {
        qy_u = _mm256_xor_si256(qy, _mm256_set1_epi8(static_cast<char>(0x80)));
      }
      for (int i = 0; i < RM; ++i) {
        __m256i dot;
        if constexpr (kUnsignedAct<Q>) {
          dot = _mm256_sub_epi32(avx2_dot_u8_i8(qy_u, qx[i]), cx[i]);
        } else {
          dot = Q::kSigned ? avx2_dot_i8_i8(qx[i], qy) : avx2_dot_u8_i8(qx[i], qy);
        }
        if constexpr (Q::kHasMin) mins[i][j] += mx[i] * sy;
        const __m256 d = _mm256_mul_ps(dxv[i], dyv);
        acc[i][j] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot), acc[i][j]);
      }
    }
  }
  for (int j = 0; j < RN; ++j) {
    for (int i = 0; i < RM; ++i) y[j * y_stride + i] = avx2_hsum(acc[i][j]) + mins[i][j];
  }
}

// RM rows against n_tok tokens, kTileTokens at a time, reading the weights from `rows`.
template <typename Q, int RM, typename Rows>
void rows_by_tokens(int64_t nb, const Rows& rows, const uint8_t* a, size_t a_row_bytes,
                    int64_t n_tok, float* y, int64_t y_stride) {
  int64_t t = 0;
  for (; t + kTileTokens <= n_tok; t += kTileTokens) {
    tile<Q, RM, kTileTokens>(nb, rows, a + static_cast<size_t>(t) * a_row_bytes, a_row_bytes,
                             y + t * y_stride, y_stride);
  }
  for (; t < n_tok; ++t) {
    tile<Q, RM, 1>(nb, rows, a + static_cast<size_t>(t) * a_row_bytes, a_row_bytes,
                   y + t * y_stride, y_stride);
  }
}

template <typename Q, int RM>
void row_group(int64_t k, const uint8_t* w, size_t w_row_bytes, const uint8_t* a,
               size_t a_row_bytes, int64_t n_tok, float* y, int64_t y_stride) {
  const int64_t nb = k / 32;
  if constexpr (kPredecode<Q>) {
    if (k <= kMaxDecodedK && n_tok > kTileTokens) {
      alignas(32) __m256i q[kMaxDecodedK / 32 * RM];
      alignas(32) __m256i c[kUnsignedAct<Q> ? kMaxDecodedK / 32 * RM : 1];
      float d[kMaxDecodedK / 32 * RM];
      float m[kMaxDecodedK / 32 * RM];
      decode_rows<Q, RM>(nb, w, w_row_bytes, q, c, d, m);
      rows_by_tokens<Q, RM>(nb, DecodedRows<Q, RM>{q, c, d, m}, a, a_row_bytes, n_tok, y,
                            y_stride);
      return;
    }
  }
  DirectRows<Q, RM> rows;
  for (int i = 0; i < RM; ++i) {
    rows.x[i] = reinterpret_cast<const typename Q::Block*>(w + i * w_row_bytes);
  }
  rows_by_tokens<Q, RM>(nb, rows, a, a_row_bytes, n_tok, y, y_stride);
}

// One token (decode): the rows one after another, each streamed from memory once as in vec_dot<Q>,
// so the hardware prefetchers see one sequential stream. What a tile shares here is the
// activation side: its fp16 scales (and Q8_1's sums) are converted once for all the rows rather
// than once per row, and a weight block's d and m are converted by one instruction.
constexpr int64_t kMaxOneTokenBlocks = 1024;  // k up to 32768: 8 KiB of scales, 32 KiB of sums

template <typename Q>
void one_token_rows(int64_t k, const uint8_t* w, size_t w_row_bytes, int64_t n_rows,
                    const uint8_t* a, float* y) {
  using Act = typename Q::Act;
  using Block = typename Q::Block;
  const int64_t nb = k / 32;
  const auto* act = reinterpret_cast<const Act*>(a);
  float dy[kMaxOneTokenBlocks];
  float sy[Q::kHasMin ? kMaxOneTokenBlocks : 1];
  // Offset types take their unsigned codes (one maddubs, no sign juggling) and subtract
  // 2^kBiasShift times the activation lane sums, the same int32 lanes (kBiasShift).
  alignas(32) __m256i bias[Q::kBiasShift > 0 ? kMaxOneTokenBlocks : 1];
  for (int64_t b = 0; b < nb; ++b) {
    dy[b] = avx2_half_to_float(act[b].d);
    if constexpr (Q::kHasMin) sy[b] = avx2_half_to_float(act[b].s);
    if constexpr (Q::kBiasShift > 0) {
      bias[b] = _mm256_slli_epi32(avx2_dot_u8_i8(_mm256_set1_epi8(1), avx2_load(act[b].qs)),
                                  Q::kBiasShift);
    }
  }
  for (int64_t r = 0; r < n_rows; ++r) {
    const auto* x = reinterpret_cast<const Block*>(w + static_cast<size_t>(r) * w_row_bytes);
    // vec_dot<Q>'s float operations (accumulate_block): one accumulator, the mins apart.
    __m256 acc = _mm256_setzero_ps();
    float mins = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
      avx2_prefetch_ahead<sizeof(Block)>(&x[b]);
      const __m256i qy = avx2_load(act[b].qs);
      __m256i dot;
      if constexpr (Q::kBiasShift > 0) {
        dot = _mm256_sub_epi32(avx2_dot_u8_i8(Q::codes(x[b]), qy), bias[b]);
      } else {
        const __m256i qx = Q::quants(x[b]);
        dot = Q::kSigned ? avx2_dot_i8_i8(qx, qy) : avx2_dot_u8_i8(qx, qy);
      }
      float dx;
      if constexpr (Q::kHasMin) {
        static_assert(offsetof(Block, m) == offsetof(Block, d) + 2, "d and m adjacent");
        const __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(avx2_load_u32(&x[b].d))));
        dx = _mm_cvtss_f32(dm);
        mins += _mm_cvtss_f32(_mm_movehdup_ps(dm)) * sy[b];
      } else {
        dx = avx2_half_to_float(x[b].d);
      }
      acc = _mm256_fmadd_ps(_mm256_set1_ps(dx * dy[b]), _mm256_cvtepi32_ps(dot), acc);
    }
    y[r] = avx2_hsum(acc) + mins;
  }
}

// Rows four at a time on the outside, so four weight rows are decoded (or stay in L1) while the
// tokens pass.
template <typename Q>
void vec_dot_tile(int64_t k, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a,
                  size_t a_row_bytes, int64_t n_tok, float* y, int64_t y_stride) {
  const auto* wp = static_cast<const uint8_t*>(w);
  const auto* ap = static_cast<const uint8_t*>(a);
  if (n_tok == 1 && k / 32 <= kMaxOneTokenBlocks) {
    one_token_rows<Q>(k, wp, w_row_bytes, n_rows, ap, y);
    return;
  }
  for (int64_t r = 0; r < n_rows; r += kTileRows) {
    const uint8_t* wr = wp + static_cast<size_t>(r) * w_row_bytes;
    switch (std::min<int64_t>(kTileRows, n_rows - r)) {
      case 4: row_group<Q, 4>(k, wr, w_row_bytes, ap, a_row_bytes, n_tok, y + r, y_stride); break;
      case 3: row_group<Q, 3>(k, wr, w_row_bytes, ap, a_row_bytes, n_tok, y + r, y_stride); break;
      case 2: row_group<Q, 2>(k, wr, w_row_bytes, ap, a_row_bytes, n_tok, y + r, y_stride); break;
      default: row_group<Q, 1>(k, wr, w_row_bytes, ap, a_row_bytes, n_tok, y + r, y_stride);
    }
  }
}

}  // namespace

void fill_tile_legacy(DotKernels& t) {
  using T = TensorType;
  t.vec_dot_tile[static_cast<int>(T::kQ4_0)] = vec_dot_tile<Q4_0>;
  t.vec_dot_tile[static_cast<int>(T::kQ4_1)] = vec_dot_tile<Q4_1>;
  t.vec_dot_tile[static_cast<int>(T::kQ5_0)] = vec_dot_tile<Q5_0>;
  t.vec_dot_tile[static_cast<int>(T::kQ5_1)] = vec_dot_tile<Q5_1>;
  t.vec_dot_tile[static_cast<int>(T::kQ8_0)] = vec_dot_tile<Q8_0>;
}

}  // namespace pocketlm::kernels::avx2
