// AVX2 + FMA element-wise kernels (8 floats per register).
//
// Which results match ref/ exactly and which approximately is part of the contract, and the tests
// check each: add, mul, scale, axpy and rope are computed with the same roundings as the reference
// (separate multiply and add, no FMA) and so are bit-identical; rms_norm accumulates in double as
// the reference does and differs only when the reordered sum rounds differently (at most 1 ulp);
// silu, gelu_tanh, swiglu, geglu_tanh and softmax use the vector exponential below; dot_f32 sums
// in float (it sits in attention's inner loop, where a double accumulator would halve throughput).
//
// exp_ps: Cody-Waite range reduction x = n ln2 + r with |r| <= ln2/2, a degree-6 minimax-style
// polynomial for e^r (Cephes' expf coefficients) and scaling by 2^n split into two factors so
// that results between FLT_MAX and the subnormal range come out right. Measured over every 64th
// float in [-87.3, 88.7], the result is within 1 ulp of the correctly rounded e^x (99% exact);
// tests/kernels/ops_test.cpp holds silu, which divides by 1 + e^-x, to 4 ulp of the reference.
// Above ~88.72 the result is +inf, below ~-87.3 it is subnormal (absolute error < 2^-149) and
// exactly 0 from -104 down, so masked (-inf) softmax entries are exact zeros. NaN propagates.
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/kernels.h"

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

inline double hsum(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
  return _mm_cvtsd_f64(s);
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// Adds the eight floats of v, widened to double, into acc.
inline __m256d add_widened(__m256d acc, __m256 v) {
  acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  return _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

inline __m256 exp_ps(__m256 x) {
  // Clamp so the exponent arithmetic below cannot overflow an int; max/min keep NaN because the
  // second operand is returned when either is NaN.
  x = _mm256_max_ps(_mm256_set1_ps(-104.0f), x);
  x = _mm256_min_ps(_mm256_set1_ps(89.0f), x);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // ln2 split in a high part with few mantissa bits (n * hi is exact) and the remainder.
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
  p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
  // 2^n as two normal-range factors: n spans [-150, 128], beyond one float exponent field.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1);
  const __m256i n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
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
  // Squares are rounded to float and summed in double, as in the reference.
  __m256d acc0 = _mm256_setzero_pd();
  __m256d acc1 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_loadu_ps(x + i);
    const __m256 b = _mm256_loadu_ps(x + i + 8);
    acc0 = add_widened(acc0, _mm256_mul_ps(a, a));
    acc1 = add_widened(acc1, _mm256_mul_ps(b, b));
  }
  double sum = hsum(_mm256_add_pd(acc0, acc1));
  for (; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
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
  const __m256 vm = _mm256_set1_ps(max);
  __m256d acc = _mm256_setzero_pd();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
    _mm256_storeu_ps(x + i, e);
    acc = add_widened(acc, e);
  }
  if (i < n) {
    // Masked-off lanes load 0 and would contribute exp(-max); zero them before summing.
    const __m256i m = tail_mask(n - i);
    __m256 e = exp_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), vm));
    e = _mm256_and_ps(e, _mm256_castsi256_ps(m));
    _mm256_maskstore_ps(x + i, m, e);
    acc = add_widened(acc, e);
  }
  const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / hsum(acc)));
  map1(x, x, n, [inv](__m256 v) { return _mm256_mul_ps(v, inv); });
}

void rope_avx2(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cos_theta,
               const float* sin_theta, RopeStyle style) {
  const int64_t half = n_rot / 2;
  // Products and sums are rounded exactly as the reference rounds them (no FMA).
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    int64_t i = 0;
    if (style == RopeStyle::kNeox) {
      for (; i + 8 <= half; i += 8) {
        const __m256 c = _mm256_loadu_ps(cos_theta + i);
        const __m256 s = _mm256_loadu_ps(sin_theta + i);
        const __m256 x0 = _mm256_loadu_ps(v + i);
        const __m256 x1 = _mm256_loadu_ps(v + i + half);
        _mm256_storeu_ps(v + i, _mm256_sub_ps(_mm256_mul_ps(x0, c), _mm256_mul_ps(x1, s)));
        _mm256_storeu_ps(v + i + half, _mm256_add_ps(_mm256_mul_ps(x0, s), _mm256_mul_ps(x1, c)));
      }
      for (; i < half; ++i) {
        const float x0 = v[i];
        const float x1 = v[i + half];
        v[i] = x0 * cos_theta[i] - x1 * sin_theta[i];
        v[i + half] = x0 * sin_theta[i] + x1 * cos_theta[i];
      }
    } else {
      const __m256i dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
      for (; i + 4 <= half; i += 4) {
        // Each angle serves one (even, odd) pair: duplicate the four cosines and sines.
        const __m256 c =
            _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(cos_theta + i)), dup);
        const __m256 s =
            _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(sin_theta + i)), dup);
        const __m256 xv = _mm256_loadu_ps(v + 2 * i);
        const __m256 xs = _mm256_permute_ps(xv, _MM_SHUFFLE(2, 3, 0, 1));  // swap within pairs
        // even lanes: x0 c - x1 s; odd lanes: x1 c + x0 s
        _mm256_storeu_ps(v + 2 * i, _mm256_addsub_ps(_mm256_mul_ps(xv, c), _mm256_mul_ps(xs, s)));
      }
      for (; i < half; ++i) {
        const float x0 = v[2 * i];
        const float x1 = v[2 * i + 1];
        v[2 * i] = x0 * cos_theta[i] - x1 * sin_theta[i];
        v[2 * i + 1] = x0 * sin_theta[i] + x1 * cos_theta[i];
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
}

}  // namespace pocketlm::kernels
