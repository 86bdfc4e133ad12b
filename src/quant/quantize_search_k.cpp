// Search-based quantizers of the K-quant super-block types: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
//
// Two levels, both searched:
//  1. each sub-block (16 or 32 values) gets the float scale (and min) that scale_search fits;
//  2. the super-block's half-precision scale (and min scale) and every sub-block's integer scale
//     (and min) are chosen together by the error they leave: a few super-block scales are tried
//     (the one that puts the largest sub-block scale on the end of the integer range, slightly
//     smaller and larger ones, and the least-squares one for the rounded integers), and for each,
//     every sub-block tries the integers next to its rounded scale with its codes re-rounded
//     against the stored values. Small sub-block scales are where plain rounding loses most (an
//     integer scale of 3 is off by up to 17%), and where this gains most.
// With importance weights the unweighted fit competes too, scored under the weights (see
// fit_affine_k_weighted): values already on the type's grid come back exactly either way.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quantize_search.h"
#include "quant/scale_search.h"

namespace pocketlm {
namespace {

using scale_search::kWindowLowBit;
using scale_search::round_code;

constexpr int kMaxSub = 16;  // sub-blocks per super-block (Q2_K, Q3_K, Q6_K; Q4_K/Q5_K have 8)

// ---- affine sub-blocks (Q2_K, Q4_K, Q5_K): value = (d * sc) * q - (dmin * m) ----------------

struct AffineK {
  int sub;   // values per sub-block
  int nmax;  // largest code
  int qmax;  // largest integer scale / min
};

struct AffineKResult {
  fp16_t d = 0;
  fp16_t dmin = 0;
  uint8_t sc[kMaxSub] = {};
  uint8_t m[kMaxSub] = {};
  uint8_t q[kQK_K] = {};
};

// Error of sub-block j with integer scale sc and min mq under super-scales d, dmin; codes to q.
double affine_sub_error(const float* x, const float* w, int sub, int nmax, float d, float dmin,
                        int sc, int mq, uint8_t* q) {
  const float dl = d * static_cast<float>(sc);
  const float ml = dmin * static_cast<float>(mq);
  double err = 0.0;
  for (int i = 0; i < sub; ++i) {
    const int c = dl > 0.0f ? round_code((x[i] + ml) / dl, 0, nmax) : 0;
    q[i] = static_cast<uint8_t>(c);
    const double diff = static_cast<double>(x[i]) - (dl * static_cast<float>(c) - ml);
    err += w[i] * diff * diff;
  }
  return err;
}

// Total error of the super-block for super-scales (d, dmin), each sub-block taking the best
// integers next to its rounded float fit; fills `out` when given.
double affine_eval(const AffineK& k, const float* x, const float* w, int n_sub, const float* s,
                   const float* mn, float d, float dmin, AffineKResult* out) {
  double total = 0.0;
  uint8_t q[32];
  for (int j = 0; j < n_sub; ++j) {
    const float* xj = x + j * k.sub;
    const float* wj = w + j * k.sub;
    const int rs = d > 0.0f ? round_code(s[j] / d, 0, k.qmax) : 0;
    const int rm = dmin > 0.0f ? round_code(mn[j] / dmin, 0, k.qmax) : 0;
    double best = -1.0;
    int best_sc = rs;
    int best_m = rm;
    for (int sc = std::max(0, rs - 1); sc <= std::min(k.qmax, rs + 1); ++sc) {
      for (int mq = std::max(0, rm - 1); mq <= std::min(k.qmax, rm + 1); ++mq) {
        if (dmin == 0.0f && mq != rm) continue;
        const double e = affine_sub_error(xj, wj, k.sub, k.nmax, d, dmin, sc, mq, q);
        if (best < 0.0 || e < best) {
          best = e;
          best_sc = sc;
          best_m = mq;
          if (out) std::memcpy(out->q + j * k.sub, q, static_cast<size_t>(k.sub));
        }
      }
    }
    if (out) {
      out->sc[j] = static_cast<uint8_t>(best_sc);
      out->m[j] = static_cast<uint8_t>(best_m);
    }
    total += best;
  }
  return total;
}

// Least-squares super-scale for integer scales rounded from `v` under `d`, each sub-block's
// scale weighted by how much its error grows with it (`a`).
float ls_super_scale(const float* v, const double* a, int n, int qmin, int qmax, float d) {
  for (int iter = 0; iter < 2 && d != 0.0f; ++iter) {
    double num = 0.0;
    double den = 0.0;
    for (int j = 0; j < n; ++j) {
      const int r = round_code(v[j] / d, qmin, qmax);
      num += a[j] * v[j] * r;
      den += a[j] * r * r;
    }
    if (!(den > 0.0)) break;
    d = static_cast<float>(num / den);
  }
  return d;
}

// Super-scale candidates around `base` (already the natural choice), rounded to half precision.
int scale_candidates(float base, float ls, float* out) {
  const float f[] = {1.0f, 0.96f, 0.98f, 1.02f};
  int n = 0;
  for (float m : f) out[n++] = fp16_to_fp32(fp32_to_fp16(base * m));
  if (ls != 0.0f && std::isfinite(ls)) out[n++] = fp16_to_fp32(fp32_to_fp16(ls));
  return n;
}

void fit_affine_k(const AffineK& k, const float* x, const float* w, AffineKResult* r) {
  const int n_sub = kQK_K / k.sub;
  float s[kMaxSub];
  float mn[kMaxSub];
  double a[kMaxSub];  // sensitivity of each sub-block's error to its scale: sum w q^2
  double b[kMaxSub];  // ... and to its min: sum w
  uint8_t q[32];
  float max_s = 0.0f;
  float max_m = 0.0f;
  for (int j = 0; j < n_sub; ++j) {
    const scale_search::Affine f = scale_search::fit_affine(x + j * k.sub, w + j * k.sub, k.sub,
                                                            k.nmax, true, kWindowLowBit, q);
    s[j] = f.scale;
    mn[j] = -f.offset;
    a[j] = 0.0;
    b[j] = 0.0;
    for (int i = 0; i < k.sub; ++i) {
      a[j] += static_cast<double>(w[j * k.sub + i]) * q[i] * q[i];
      b[j] += w[j * k.sub + i];
    }
    max_s = std::max(max_s, s[j]);
    max_m = std::max(max_m, mn[j]);
  }
  const float qmax = static_cast<float>(k.qmax);
  const float d0 = max_s / qmax;
  const float m0 = max_m / qmax;
  const float dmin_base = fp16_to_fp32(fp32_to_fp16(m0));

  float cand[8];
  int nc = scale_candidates(d0, ls_super_scale(s, a, n_sub, 0, k.qmax, d0), cand);
  float best_d = cand[0];
  double best = -1.0;
  for (int c = 0; c < nc; ++c) {
    if (!(cand[c] >= 0.0f) || !std::isfinite(cand[c])) continue;
    const double e = affine_eval(k, x, w, n_sub, s, mn, cand[c], dmin_base, nullptr);
    if (best < 0.0 || e < best) {
      best = e;
      best_d = cand[c];
    }
  }
  float best_m = dmin_base;
  if (m0 > 0.0f) {
    nc = scale_candidates(m0, ls_super_scale(mn, b, n_sub, 0, k.qmax, m0), cand);
    for (int c = 1; c < nc; ++c) {
      if (!(cand[c] >= 0.0f) || !std::isfinite(cand[c])) continue;
      const double e = affine_eval(k, x, w, n_sub, s, mn, best_d, cand[c], nullptr);
      if (e < best) {
        best = e;
        best_m = cand[c];
      }
    }
  }
  affine_eval(k, x, w, n_sub, s, mn, best_d, best_m, r);
  r->d = fp32_to_fp16(best_d);
  r->dmin = fp32_to_fp16(best_m);
}

bool plain_weights(const float* w) {
  for (int i = 0; i < kQK_K; ++i) {
    if (w[i] != 1.0f) return false;
  }
  return true;
}

// Weighted error of a fitted super-block, decoded as the dequantizers do.
double affine_k_error(const AffineK& k, const float* x, const float* w, const AffineKResult& r) {
  const float d = fp16_to_fp32(r.d);
  const float dmin = fp16_to_fp32(r.dmin);
  double err = 0.0;
  for (int j = 0; j < kQK_K / k.sub; ++j) {
    const float dl = d * static_cast<float>(r.sc[j]);
    const float ml = dmin * static_cast<float>(r.m[j]);
    for (int i = j * k.sub; i < (j + 1) * k.sub; ++i) {
      const double diff = static_cast<double>(x[i]) - (dl * static_cast<float>(r.q[i]) - ml);
      err += w[i] * diff * diff;
    }
  }
  return err;
}

// The weighted fit, or the unweighted one when that leaves less error under the same weights:
// values that already lie on the type's grid (a file dequantized from it) are fitted exactly by
// the unweighted search, and an exact fit has no error under any weights, while the weighted search
// can miss it (its sub-block fits move off the grid, and the second level then cannot return).
void fit_affine_k_weighted(const AffineK& k, const float* x, const float* w, AffineKResult* r) {
  fit_affine_k(k, x, w, r);
  if (plain_weights(w)) return;
  float ones[kQK_K];
  for (float& o : ones) o = 1.0f;
  AffineKResult u;
  fit_affine_k(k, x, ones, &u);
  if (affine_k_error(k, x, w, u) < affine_k_error(k, x, w, *r)) *r = u;
}

// ---- symmetric sub-blocks (Q3_K, Q6_K): value = (d * sc) * q, sc signed ---------------------

struct SymK {
  int lo, hi;    // code range
  int qlo, qhi;  // integer scale range
};

struct SymKResult {
  fp16_t d = 0;
  int sc[kMaxSub] = {};
  int8_t q[kQK_K] = {};
};

constexpr int kSymSub = 16;

double sym_eval(const SymK& k, const float* x, const float* w, const float* s, float d,
                SymKResult* out) {
  double total = 0.0;
  int8_t q[kSymSub];
  for (int j = 0; j < kQK_K / kSymSub; ++j) {
    const float* xj = x + j * kSymSub;
    const float* wj = w + j * kSymSub;
    const int r = d != 0.0f ? round_code(s[j] / d, k.qlo, k.qhi) : 0;
    double best = -1.0;
    int best_sc = r;
    for (int sc = std::max(k.qlo, r - 1); sc <= std::min(k.qhi, r + 1); ++sc) {
      const float dl = d * static_cast<float>(sc);
      scale_search::round_symmetric(xj, kSymSub, dl, k.lo, k.hi, q);
      const double e = scale_search::error_symmetric(xj, wj, kSymSub, dl, q);
      if (best < 0.0 || e < best) {
        best = e;
        best_sc = sc;
        if (out) std::memcpy(out->q + j * kSymSub, q, kSymSub);
      }
    }
    if (out) out->sc[j] = best_sc;
    total += best;
  }
  return total;
}

void fit_sym_k(const SymK& k, const float* x, const float* w, SymKResult* r) {
  constexpr int n_sub = kQK_K / kSymSub;
  float s[n_sub];
  double a[n_sub];
  int8_t q[kSymSub];
  float smax = 0.0f;  // the signed scale of largest magnitude
  for (int j = 0; j < n_sub; ++j) {
    s[j] = scale_search::fit_symmetric(x + j * kSymSub, w + j * kSymSub, kSymSub, k.lo, k.hi,
                                       kWindowLowBit, q);
    a[j] = 0.0;
    for (int i = 0; i < kSymSub; ++i) a[j] += static_cast<double>(w[j * kSymSub + i]) * q[i] * q[i];
    if (std::fabs(s[j]) > std::fabs(smax)) smax = s[j];
  }
  // The largest scale may take either end of the (asymmetric) integer range.
  const float d_neg = smax / static_cast<float>(k.qlo);
  const float d_pos = smax / static_cast<float>(k.qhi);
  float cand[16];
  int nc = scale_candidates(d_neg, ls_super_scale(s, a, n_sub, k.qlo, k.qhi, d_neg), cand);
  nc += scale_candidates(d_pos, 0.0f, cand + nc);
  float best_d = cand[0];
  double best = -1.0;
  for (int c = 0; c < nc; ++c) {
    if (!std::isfinite(cand[c])) continue;
    const double e = sym_eval(k, x, w, s, cand[c], nullptr);
    if (best < 0.0 || e < best) {
      best = e;
      best_d = cand[c];
    }
  }
  sym_eval(k, x, w, s, best_d, r);
  r->d = fp32_to_fp16(best_d);
}

double sym_k_error(const float* x, const float* w, const SymKResult& r) {
  const float d = fp16_to_fp32(r.d);
  double err = 0.0;
  for (int j = 0; j < kQK_K / kSymSub; ++j) {
    const float dl = d * static_cast<float>(r.sc[j]);
    for (int i = j * kSymSub; i < (j + 1) * kSymSub; ++i) {
      const double diff = static_cast<double>(x[i]) - dl * static_cast<float>(r.q[i]);
      err += w[i] * diff * diff;
    }
  }
  return err;
}

// As fit_affine_k_weighted: the unweighted fit competes under the importance weights.
void fit_sym_k_weighted(const SymK& k, const float* x, const float* w, SymKResult* r) {
  fit_sym_k(k, x, w, r);
  if (plain_weights(w)) return;
  float ones[kQK_K];
  for (float& o : ones) o = 1.0f;
  SymKResult u;
  fit_sym_k(k, x, ones, &u);
  if (sym_k_error(x, w, u) < sym_k_error(x, w, *r)) *r = u;
}

// ---- packing -----------------------------------------------------------------------------

// Element e's 2-bit field in the Q2_K/Q3_K layout (see quants_k.cpp).
void set_two_bits(uint8_t* qs, int e, int v) {
  qs[(e / 128) * 32 + e % 32] |= static_cast<uint8_t>((v & 3) << (2 * ((e % 128) / 32)));
}

// 8 6-bit scales and mins into Q4_K/Q5_K's 12 bytes.
void pack_scale_min_k4(const uint8_t* sc, const uint8_t* m, uint8_t* s) {
  std::memset(s, 0, kKScaleSize);
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>((m[j] & 63) | ((m[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0x0f) | ((m[j + 4] & 0x0f) << 4));
  }
}

template <typename Block, int kNmax>
void quantize_k4(const float* src, Block* dst, int64_t n, const float* importance) {
  const AffineK spec{32, kNmax, 63};
  for (int64_t ib = 0; ib < n / kQK_K; ++ib) {
    const float* x = src + ib * kQK_K;
    float w[kQK_K];
    search_weights(importance ? importance + ib * kQK_K : nullptr, kQK_K, w);
    AffineKResult r;
    fit_affine_k_weighted(spec, x, w, &r);
    Block& b = dst[ib];
    std::memset(&b, 0, sizeof(b));
    b.d = r.d;
    b.dmin = r.dmin;
    pack_scale_min_k4(r.sc, r.m, b.scales);
    for (int j = 0; j < 8; ++j) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t c = r.q[j * 32 + l];
        b.qs[(j / 2) * 32 + l] |= static_cast<uint8_t>((c & 0x0f) << (4 * (j % 2)));
        if constexpr (kNmax == 31) b.qh[l] |= static_cast<uint8_t>(((c >> 4) & 1) << j);
      }
    }
  }
}

}  // namespace

void quantize_row_q2_K_search(const float* src, void* vy, int64_t n, const float* importance) {
  const AffineK spec{16, 3, 15};
  auto* dst = static_cast<BlockQ2_K*>(vy);
  for (int64_t ib = 0; ib < n / kQK_K; ++ib) {
    const float* x = src + ib * kQK_K;
    float w[kQK_K];
    search_weights(importance ? importance + ib * kQK_K : nullptr, kQK_K, w);
    AffineKResult r;
    fit_affine_k_weighted(spec, x, w, &r);
    BlockQ2_K& b = dst[ib];
    std::memset(&b, 0, sizeof(b));
    b.d = r.d;
    b.dmin = r.dmin;
    for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<uint8_t>(r.sc[j] | (r.m[j] << 4));
    for (int e = 0; e < kQK_K; ++e) set_two_bits(b.qs, e, r.q[e]);
  }
}

void quantize_row_q3_K_search(const float* src, void* vy, int64_t n, const float* importance) {
  const SymK spec{-4, 3, -32, 31};
  auto* dst = static_cast<BlockQ3_K*>(vy);
  for (int64_t ib = 0; ib < n / kQK_K; ++ib) {
    const float* x = src + ib * kQK_K;
    float w[kQK_K];
    search_weights(importance ? importance + ib * kQK_K : nullptr, kQK_K, w);
    SymKResult r;
    fit_sym_k_weighted(spec, x, w, &r);
    BlockQ3_K& b = dst[ib];
    std::memset(&b, 0, sizeof(b));
    b.d = r.d;
    for (int j = 0; j < 16; ++j) {
      const int u = r.sc[j] + 32;  // 6 bits: low 4 in a nibble, high 2 in a 2-bit field
      b.scales[j % 8] |= static_cast<uint8_t>((u & 0x0f) << (4 * (j / 8)));
      b.scales[8 + j % 4] |= static_cast<uint8_t>(((u >> 4) & 3) << (2 * (j / 4)));
    }
    for (int e = 0; e < kQK_K; ++e) {
      const int u = r.q[e] + 4;  // the high bit is stored set for codes >= 0
      set_two_bits(b.qs, e, u & 3);
      b.hmask[e % 32] |= static_cast<uint8_t>((u >> 2) << (e / 32));
    }
  }
}

void quantize_row_q4_K_search(const float* x, void* y, int64_t n, const float* importance) {
  quantize_k4<BlockQ4_K, 15>(x, static_cast<BlockQ4_K*>(y), n, importance);
}

void quantize_row_q5_K_search(const float* x, void* y, int64_t n, const float* importance) {
  quantize_k4<BlockQ5_K, 31>(x, static_cast<BlockQ5_K*>(y), n, importance);
}

void quantize_row_q6_K_search(const float* src, void* vy, int64_t n, const float* importance) {
  const SymK spec{-32, 31, -128, 127};
  auto* dst = static_cast<BlockQ6_K*>(vy);
  for (int64_t ib = 0; ib < n / kQK_K; ++ib) {
    const float* x = src + ib * kQK_K;
    float w[kQK_K];
    search_weights(importance ? importance + ib * kQK_K : nullptr, kQK_K, w);
    SymKResult r;
    fit_sym_k_weighted(spec, x, w, &r);
    BlockQ6_K& b = dst[ib];
    std::memset(&b, 0, sizeof(b));
    b.d = r.d;
    for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<int8_t>(r.sc[j]);
    for (int e = 0; e < kQK_K; ++e) {
      const int u = r.q[e] + 32;
      const int half = e / 128;
      const int rr = e % 128;
      b.ql[half * 64 + rr % 64] |= static_cast<uint8_t>((u & 0x0f) << (4 * (rr / 64)));
      b.qh[half * 32 + rr % 32] |= static_cast<uint8_t>(((u >> 4) & 3) << (2 * (rr / 32)));
    }
  }
}

}  // namespace pocketlm
