// Search-based quantizers of the 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
//
// Each block: fit the codes and scale (and min) by scale_search, round them to half precision,
// try the neighbouring half-precision values too (re-rounding the codes each time), then score the
// reference rounding of quants.h as one more candidate (and, with importance weights, the
// unweighted fit too); the stored block is the candidate whose dequantized values (decoded by the
// reference dequantizers, so exactly what a reader sees) leave the smallest weighted error.
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quantize_search.h"
#include "quant/quants.h"
#include "quant/scale_search.h"

namespace pocketlm {
namespace {

using scale_search::kWindowLowBit;

constexpr int kQk = 32;

double block_error(const float* x, const float* w, const float* v) {
  double err = 0.0;
  for (int i = 0; i < kQk; ++i) {
    const double d = static_cast<double>(x[i]) - v[i];
    err += w[i] * d * d;
  }
  return err;
}

// The half-precision values next to h (same sign), for trying the neighbours of a rounded scale.
int fp16_neighbours(fp16_t h, fp16_t out[3]) {
  int n = 0;
  out[n++] = h;
  const uint16_t mag = h & 0x7fffu;
  if (mag > 0 && mag <= 0x7bffu) out[n++] = static_cast<fp16_t>(h - 1);
  if (mag < 0x7bffu) out[n++] = static_cast<fp16_t>(h + 1);
  return n;
}

bool plain_weights(const float* w) {
  for (int i = 0; i < kQk; ++i) {
    if (w[i] != 1.0f) return false;
  }
  return true;
}

void pack_nibbles(const uint8_t* q, uint8_t* qs) {
  for (int j = 0; j < 16; ++j)
    qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | ((q[j + 16] & 0x0f) << 4));
}

void pack_high_bits(const uint8_t* q, uint8_t* qh) {
  std::memset(qh, 0, 4);
  for (int j = 0; j < kQk; ++j) qh[j / 8] |= static_cast<uint8_t>(((q[j] >> 4) & 1) << (j % 8));
}

// Symmetric blocks: Q4_0 (codes -8..7), Q5_0 (-16..15), Q8_0 (-128..127).
template <typename Block>
void set_symmetric(Block* b, fp16_t d, const int8_t* codes) {
  b->d = d;
  if constexpr (sizeof(Block) == sizeof(BlockQ8_0)) {
    for (int i = 0; i < kQk; ++i) b->qs[i] = codes[i];
  } else {
    constexpr int kBias = sizeof(Block) == sizeof(BlockQ4_0) ? 8 : 16;
    uint8_t u[kQk];
    for (int i = 0; i < kQk; ++i) u[i] = static_cast<uint8_t>(codes[i] + kBias);
    pack_nibbles(u, b->qs);
    if constexpr (kBias == 16) pack_high_bits(u, b->qh);
  }
}

// Fits the codes and scale with weights `wfit`, then tries the scale's half-precision value and
// its two neighbours (codes re-rounded against each); any candidate whose dequantized values leave
// less error under the block's weights `w` than `*best_err` replaces `*best`.
template <typename Block, int kLo, int kHi>
void symmetric_candidates(const float* x, const float* wfit, const float* w, ToFloatFn dequant,
                          Block* best, double* best_err) {
  int8_t codes[kQk];
  float d = 0.0f;
  if constexpr (kHi == 127) {
    // 8 bits: start from the two natural scales (largest value on -128 or on +127) and refine.
    float amax = 0.0f;
    float max = 0.0f;
    for (int i = 0; i < kQk; ++i) {
      if (std::fabs(x[i]) > amax) {
        amax = std::fabs(x[i]);
        max = x[i];
      }
    }
    double best_fit = -1.0;
    for (const float d0 : {max / static_cast<float>(kLo), amax / static_cast<float>(kHi)}) {
      if (d0 == 0.0f) continue;
      const float s = scale_search::refine_symmetric(x, wfit, kQk, kLo, kHi, d0, 3, codes);
      const double e = scale_search::error_symmetric(x, wfit, kQk, s, codes);
      if (best_fit < 0.0 || e < best_fit) {
        best_fit = e;
        d = s;
      }
    }
  } else {
    d = scale_search::fit_symmetric(x, wfit, kQk, kLo, kHi, kWindowLowBit, codes);
  }
  fp16_t cand[3];
  const int n_cand = fp16_neighbours(fp32_to_fp16(d), cand);
  float v[kQk];
  for (int c = 0; c < n_cand; ++c) {
    const float dq = fp16_to_fp32(cand[c]);
    if (!std::isfinite(dq)) continue;
    scale_search::round_symmetric(x, kQk, dq, kLo, kHi, codes);
    Block b;
    set_symmetric(&b, cand[c], codes);
    dequant(&b, v, kQk);
    const double err = block_error(x, w, v);
    if (err < *best_err) {
      *best_err = err;
      *best = b;
    }
  }
}

template <typename Block, int kLo, int kHi>
void quantize_symmetric(const float* src, Block* dst, int64_t n, const float* importance,
                        ToFloatFn dequant, FromFloatFn reference) {
  float ones[kQk];
  for (float& o : ones) o = 1.0f;
  for (int64_t ib = 0; ib < n / kQk; ++ib) {
    const float* x = src + ib * kQk;
    float w[kQk];
    search_weights(importance ? importance + ib * kQk : nullptr, kQk, w);
    float v[kQk];

    Block best;
    reference(x, &best, kQk);
    dequant(&best, v, kQk);
    double best_err = block_error(x, w, v);
    symmetric_candidates<Block, kLo, kHi>(x, w, w, dequant, &best, &best_err);
    // The unweighted fit, scored under the importance weights, is one more candidate: values that
    // already lie on the type's grid (a file dequantized from it) are fitted exactly by it, and an
    // exact fit has no error under any weights, while a weighted search can miss it.
    if (!plain_weights(w)) {
      symmetric_candidates<Block, kLo, kHi>(x, ones, w, dequant, &best, &best_err);
    }
    dst[ib] = best;
  }
}

// Affine blocks: Q4_1 (codes 0..15), Q5_1 (0..31); value = d * code + m. Candidates as for the
// symmetric blocks: fitted with `wfit`, scale and minimum each with their fp16 neighbours.
template <typename Block, int kNmax>
void affine_candidates(const float* x, const float* wfit, const float* w, ToFloatFn dequant,
                       Block* best, double* best_err) {
  uint8_t codes[kQk];
  const scale_search::Affine a =
      scale_search::fit_affine(x, wfit, kQk, kNmax, false, kWindowLowBit, codes);
  fp16_t dc[3];
  fp16_t mc[3];
  const int nd = fp16_neighbours(fp32_to_fp16(a.scale), dc);
  const int nm = fp16_neighbours(fp32_to_fp16(a.offset), mc);
  float v[kQk];
  for (int i = 0; i < nd; ++i) {
    const float dq = fp16_to_fp32(dc[i]);
    if (!std::isfinite(dq)) continue;
    for (int j = 0; j < nm; ++j) {
      const float mq = fp16_to_fp32(mc[j]);
      if (!std::isfinite(mq)) continue;
      scale_search::round_affine(x, kQk, dq, mq, kNmax, codes);
      Block b;
      b.d = dc[i];
      b.m = mc[j];
      pack_nibbles(codes, b.qs);
      if constexpr (kNmax == 31) pack_high_bits(codes, b.qh);
      dequant(&b, v, kQk);
      const double err = block_error(x, w, v);
      if (err < *best_err) {
        *best_err = err;
        *best = b;
      }
    }
  }
}

template <typename Block, int kNmax>
void quantize_affine(const float* src, Block* dst, int64_t n, const float* importance,
                     ToFloatFn dequant, FromFloatFn reference) {
  float ones[kQk];
  for (float& o : ones) o = 1.0f;
  for (int64_t ib = 0; ib < n / kQk; ++ib) {
    const float* x = src + ib * kQk;
    float w[kQk];
    search_weights(importance ? importance + ib * kQk : nullptr, kQk, w);
    float v[kQk];

    Block best;
    reference(x, &best, kQk);
    dequant(&best, v, kQk);
    double best_err = block_error(x, w, v);
    affine_candidates<Block, kNmax>(x, w, w, dequant, &best, &best_err);
    if (!plain_weights(w)) {
      affine_candidates<Block, kNmax>(x, ones, w, dequant, &best, &best_err);
    }
    dst[ib] = best;
  }
}

}  // namespace

void quantize_row_q4_0_search(const float* x, void* y, int64_t n, const float* importance) {
  quantize_symmetric<BlockQ4_0, -8, 7>(x, static_cast<BlockQ4_0*>(y), n, importance,
                                       dequantize_row_q4_0, quantize_row_q4_0);
}

void quantize_row_q5_0_search(const float* x, void* y, int64_t n, const float* importance) {
  quantize_symmetric<BlockQ5_0, -16, 15>(x, static_cast<BlockQ5_0*>(y), n, importance,
                                         dequantize_row_q5_0, quantize_row_q5_0);
}

void quantize_row_q8_0_search(const float* x, void* y, int64_t n, const float* importance) {
  quantize_symmetric<BlockQ8_0, -128, 127>(x, static_cast<BlockQ8_0*>(y), n, importance,
                                           dequantize_row_q8_0, quantize_row_q8_0);
}

void quantize_row_q4_1_search(const float* x, void* y, int64_t n, const float* importance) {
  quantize_affine<BlockQ4_1, 15>(x, static_cast<BlockQ4_1*>(y), n, importance, dequantize_row_q4_1,
                                 quantize_row_q4_1);
}

void quantize_row_q5_1_search(const float* x, void* y, int64_t n, const float* importance) {
  quantize_affine<BlockQ5_1, 31>(x, static_cast<BlockQ5_1*>(y), n, importance, dequantize_row_q5_1,
                                 quantize_row_q5_1);
}

}  // namespace pocketlm
