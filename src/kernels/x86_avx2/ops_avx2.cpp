// AVX2 + FMA element-wise kernels (8 floats per register).
//
// Which results match ref/ exactly and which approximately is part of the contract, and the tests
// check each: add, mul, scale, axpy and rope are computed with the same roundings as the reference
// (separate multiply and add, no FMA) and so are bit-identical; rms_norm accumulates in double as
// the reference does and differs only when the reordered sum rounds differently (at most 1 ulp);
// silu, gelu_tanh, swiglu, geglu_tanh and softmax use the vector exponential below; dot_f32 sums
// in float (it sits in attention's inner loop, where a double accumulator would halve throughput).
//
// exp_ps is the shift-and-polynomial exponential of Arm's optimized-routines (maximum error
// about 1.45 ulp + 0.5), with the same constants and the same order of fused operations as
// llama.cpp's AVX2 build uses, so silu and softmax round exactly as it does and our logits stay
// token-identical with it. Above ~88.38 it gives +inf, below ~-103.97 zero (so masked -inf
// softmax entries are exact zeros). tests/kernels/ops_test.cpp holds silu to 4 ulp of the
// reference.
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/kernels.h"
#include "kernels/x86_avx2/ops_avx2_parts.h"

namespace pocketlm::kernels {
namespace {

constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
constexpr float kGeluCoefA = 0.044715f;

// Lanes [0, n) set, for loading and storing the last partial register of a row.
inline __m256i tail_mask(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline __m256 exp_ps(__m256 x) {
  // e^x = 2^n * e^b with n = round(x log2 e) found by adding 1.5 * 2^23 (the rounding shifter),
  // b = x - n ln2 in two fused steps (ln2 split hi + lo), e^b - 1 by a degree-5 polynomial
  // evaluated as two interleaved halves, and 2^n built in the exponent field.
  const __m256 shifter = _mm256_set1_ps(0x1.8p23f);
  const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), shifter);
  const __m256 n = _mm256_sub_ps(z, shifter);
  const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                    _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
  const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
  const __m256 k = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_set1_epi32(0x3f800000)));
  const __m256 abs_n = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), n);
  const __m256 big = _mm256_cmp_ps(abs_n, _mm256_set1_ps(126.0f), _CMP_GT_OQ);
  const __m256 u = _mm256_mul_ps(b, b);
  const __m256 hi = _mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f));
  const __m256 lo = _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f));
  const __m256 j = _mm256_fmadd_ps(_mm256_fmadd_ps(hi, u, lo), u,
                                   _mm256_mul_ps(_mm256_set1_ps(0x1.ffffecp-1f), b));
  if (!_mm256_movemask_ps(big)) return _mm256_fmadd_ps(j, k, k);
  // |n| > 126: 2^n does not fit one float exponent; split it into s1 * s2 (or saturate to
  // 0 / inf beyond |n| > 192).
  const __m256i g = _mm256_and_si256(
      _mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
      _mm256_set1_epi32(static_cast<int>(0x82000000u)));
  const __m256 s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f000000)));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, g));
  const __m256 huge = _mm256_cmp_ps(abs_n, _mm256_set1_ps(192.0f), _CMP_GT_OQ);
  const __m256 scaled = _mm256_mul_ps(_mm256_fmadd_ps(s2, j, s2), s1);
  const __m256 normal = _mm256_fmadd_ps(k, j, k);
  const __m256 mid = _mm256_blendv_ps(normal, scaled, big);
  return _mm256_blendv_ps(mid, _mm256_mul_ps(s1, s1), huge);
}

// x * sigmoid(x); exp(-x) = inf for very negative x gives x / inf = -0, the right limit.
inline __m256 silu_ps(__m256 x) {
  const __m256 e = exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), x));
  return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

// 0.5 x (1 + tanh(u)) rewritten as x / (1 + exp(-2u)): the same function with one exponential
// and no cancellation in 1 + tanh(u) for negative x.
inline __m256 gelu_tanh_ps(__m256 x) {
  const __m256 x2 = _mm256_mul_ps(x, x);
  const __m256 inner = _mm256_fmadd_ps(_mm256_set1_ps(kGeluCoefA), x2, _mm256_set1_ps(1.0f));
  const __m256 u = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(kSqrt2OverPi), x), inner);
  const __m256 e = exp_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0f), u));
  return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

// Applies a one-input vector function to a row, the tail through a masked register.
template <typename F>
inline void map1(float* y, const float* x, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    _mm256_maskstore_ps(y + i, m, f(_mm256_maskload_ps(x + i, m)));
  }
}

template <typename F>
inline void map2(float* y, const float* a, const float* b, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  }
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    _mm256_maskstore_ps(y + i, m, f(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m)));
  }
}

void rms_norm_avx2(float* y, const float* x, const float* w, int64_t n, float eps) {
  // Squares rounded to float, summed in double in element order: the order llama.cpp uses, so
  // the scale rounds identically (a reordered double sum differs in rare last bits).
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  const __m256 vs = _mm256_set1_ps(scale);
  if (w) {
    map2(y, x, w, n, [vs](__m256 a, __m256 b) { return _mm256_mul_ps(_mm256_mul_ps(a, vs), b); });
  } else {
    map1(y, x, n, [vs](__m256 a) { return _mm256_mul_ps(a, vs); });
  }
}

void softmax_avx2(float* x, int64_t n) {
  if (n <= 0) return;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  __m256 vmax = _mm256_set1_ps(kNegInf);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
  float max = hmax(vmax);
  for (; i < n; ++i) max = x[i] > max ? x[i] : max;
  if (max == kNegInf) {
    std::memset(x, 0, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  // Each group of 8 exponentials is summed in float (halves, then pairs) and added to a double
  // total, groups in order: llama.cpp's order, which decides the last bit of every probability.
  const __m256 vm = _mm256_set1_ps(max);
  double sum = 0.0;
  for (i = 0; i < n; i += 8) {
    __m256 v;
    if (i + 8 <= n) {
      v = _mm256_loadu_ps(x + i);
    } else {
      // The tail's missing lanes read as -inf, whose exponential is an exact 0.
      const __m256i m = tail_mask(n - i);
      v = _mm256_blendv_ps(_mm256_set1_ps(kNegInf), _mm256_maskload_ps(x + i, m),
                           _mm256_castsi256_ps(m));
    }
    const __m256 e = exp_ps(_mm256_sub_ps(v, vm));
    if (i + 8 <= n) {
      _mm256_storeu_ps(x + i, e);
    } else {
      _mm256_maskstore_ps(x + i, tail_mask(n - i), e);
    }
    sum += static_cast<double>(hsum(e));
  }
  const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / sum));
  map1(x, x, n, [inv](__m256 v) { return _mm256_mul_ps(v, inv); });
}

void rope_avx2(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cos_theta,
               const float* sin_theta, RopeStyle style) {
  const int64_t half = n_rot / 2;
  // Products and sums are rounded exactly as the reference rounds them (x0 products fused).
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    int64_t i = 0;
    if (style == RopeStyle::kNeox) {
      for (; i + 8 <= half; i += 8) {
        const __m256 c = _mm256_loadu_ps(cos_theta + i);
        const __m256 s = _mm256_loadu_ps(sin_theta + i);
        const __m256 x0 = _mm256_loadu_ps(v + i);
        const __m256 x1 = _mm256_loadu_ps(v + i + half);
        _mm256_storeu_ps(v + i, _mm256_fmsub_ps(x0, c, _mm256_mul_ps(x1, s)));
        _mm256_storeu_ps(v + i + half, _mm256_fmadd_ps(x0, s, _mm256_mul_ps(x1, c)));
      }
      for (; i < half; ++i) {
        const float x0 = v[i];
        const float x1 = v[i + half];
        v[i] = std::fma(x0, cos_theta[i], -(x1 * sin_theta[i]));
        v[i + half] = std::fma(x0, sin_theta[i], x1 * cos_theta[i]);
      }
    } else {
      // Adjacent pairs: scalar, with the x0 products fused like the reference; a lane-wise
      // vector form would fuse the wrong product on odd lanes, and RoPE is a sliver of the time.
      for (; i < half; ++i) {
        const float x0 = v[2 * i];
        const float x1 = v[2 * i + 1];
        v[2 * i] = std::fma(x0, cos_theta[i], -(x1 * sin_theta[i]));
        v[2 * i + 1] = std::fma(x0, sin_theta[i], x1 * cos_theta[i]);
      }
    }
  }
}

void silu_avx2(float* y, const float* x, int64_t n) { map1(y, x, n, silu_ps); }

void gelu_tanh_avx2(float* y, const float* x, int64_t n) { map1(y, x, n, gelu_tanh_ps); }

void swiglu_avx2(float* y, const float* gate, const float* up, int64_t n) {
  map2(y, gate, up, n, [](__m256 g, __m256 u) { return _mm256_mul_ps(silu_ps(g), u); });
}

void geglu_tanh_avx2(float* y, const float* gate, const float* up, int64_t n) {
  map2(y, gate, up, n, [](__m256 g, __m256 u) { return _mm256_mul_ps(gelu_tanh_ps(g), u); });
}

void add_avx2(float* y, const float* a, const float* b, int64_t n) {
  map2(y, a, b, n, [](__m256 p, __m256 q) { return _mm256_add_ps(p, q); });
}

void mul_avx2(float* y, const float* a, const float* b, int64_t n) {
  map2(y, a, b, n, [](__m256 p, __m256 q) { return _mm256_mul_ps(p, q); });
}

void scale_avx2(float* y, const float* x, float s, int64_t n) {
  const __m256 vs = _mm256_set1_ps(s);
  map1(y, x, n, [vs](__m256 v) { return _mm256_mul_ps(v, vs); });
}

void axpy_avx2(float* y, const float* x, float a, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  map2(y, y, x, n, [va](__m256 acc, __m256 v) { return _mm256_add_ps(acc, _mm256_mul_ps(v, va)); });
}

float dot_f32_avx2(const float* a, const float* b, int64_t n) {
  // Four independent accumulators hide the FMA latency.
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  }
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), s1);
  }
  return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

}  // namespace

void fill_ops_avx2(OpKernels& t) {
  t.rms_norm = rms_norm_avx2;
  t.softmax = softmax_avx2;
  t.rope = rope_avx2;
  t.silu = silu_avx2;
  t.gelu_tanh = gelu_tanh_avx2;
  t.swiglu = swiglu_avx2;
  t.geglu_tanh = geglu_tanh_avx2;
  t.add = add_avx2;
  t.mul = mul_avx2;
  t.scale = scale_avx2;
  t.axpy = axpy_avx2;
  t.dot_f32 = dot_f32_avx2;
  avx2::fill_gelu_fp16(t);
}

}  // namespace pocketlm::kernels
