// AVX-512 element-wise kernels (16 floats per register); the same algorithms, roundings and error
// bounds as x86_avx2/ops_avx2.cpp, whose header comment describes them. Differences: the row tail
// goes through a masked register, and exp_ps scales by 2^n with VSCALEFPS, which handles overflow
// to +inf and the subnormal range by itself.
//
// Tests also compile this file a second time through SIMDe (POCKETLM_AVX512_VIA_SIMDE, see
// tests/ops/tests.cmake), so the AVX-512 code is verified on hosts without AVX-512. The few
// intrinsics that SIMDe 0.7 lacks get small equivalents below, used only in that build.
#if defined(POCKETLM_AVX512_VIA_SIMDE)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#define fill_ops_avx512 fill_ops_avx512_simde
#if !defined(_MM_FROUND_NO_EXC)
#define _MM_FROUND_NO_EXC SIMDE_MM_FROUND_NO_EXC
#endif
#else
// GCC 12's AVX-512 header fills "undefined" registers by self-initialisation (__m512 __Y = __Y),
// which -Wuninitialized flags wherever such an intrinsic is inlined; the warning points into the
// header, so silencing it around the include leaves our own code checked.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
#endif

#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/kernels.h"

namespace pocketlm::kernels {
namespace {

#if defined(POCKETLM_AVX512_VIA_SIMDE)
// Lane-by-lane equivalents of AVX-512 intrinsics missing from SIMDe 0.7 (test build only).
inline __m512 simde_shim_maskz_loadu_ps(uint16_t k, const float* p) {
  alignas(64) float v[16] = {};
  for (int i = 0; i < 16; ++i) {
    if (k & (1u << i)) v[i] = p[i];
  }
  return _mm512_load_ps(v);
}
inline void simde_shim_mask_storeu_ps(float* p, uint16_t k, __m512 x) {
  alignas(64) float v[16];
  _mm512_store_ps(v, x);
  for (int i = 0; i < 16; ++i) {
    if (k & (1u << i)) p[i] = v[i];
  }
}
inline __m512d simde_shim_cvtps_pd(__m256 x) {
  alignas(32) float v[8];
  _mm256_store_ps(v, x);
  alignas(64) double d[8];
  for (int i = 0; i < 8; ++i) d[i] = static_cast<double>(v[i]);
  return _mm512_load_pd(d);
}
inline __m256 simde_shim_extract_hi256(__m512 x) {
  return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1));
}
#define PLM_MASKZ_LOADU_PS(k, p) simde_shim_maskz_loadu_ps(k, p)
#define PLM_MASK_STOREU_PS(p, k, x) simde_shim_mask_storeu_ps(p, k, x)
#define PLM_CVTPS_PD(x) simde_shim_cvtps_pd(x)
#define PLM_EXTRACT_HI256(x) simde_shim_extract_hi256(x)
#else
#define PLM_MASKZ_LOADU_PS(k, p) _mm512_maskz_loadu_ps(k, p)
#define PLM_MASK_STOREU_PS(p, k, x) _mm512_mask_storeu_ps(p, k, x)
#define PLM_CVTPS_PD(x) _mm512_cvtps_pd(x)
#define PLM_EXTRACT_HI256(x) _mm512_extractf32x8_ps(x, 1)
#endif

constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
constexpr float kGeluCoefA = 0.044715f;

inline uint16_t tail_mask(int64_t n) { return static_cast<uint16_t>((1u << n) - 1u); }

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float hsum(__m512 v) {
  return hsum(_mm256_add_ps(_mm512_castps512_ps256(v), PLM_EXTRACT_HI256(v)));
}

inline double hsum(__m512d v) {
  __m256d h = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
  s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
  return _mm_cvtsd_f64(s);
}

inline float hmax(__m512 v) {
  const __m256 h = _mm256_max_ps(_mm512_castps512_ps256(v), PLM_EXTRACT_HI256(v));
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// Adds the sixteen floats of v, widened to double, into acc.
inline __m512d add_widened(__m512d acc, __m512 v) {
  acc = _mm512_add_pd(acc, PLM_CVTPS_PD(_mm512_castps512_ps256(v)));
  return _mm512_add_pd(acc, PLM_CVTPS_PD(PLM_EXTRACT_HI256(v)));
}

inline __m512 exp_ps(__m512 x) {
  x = _mm512_max_ps(_mm512_set1_ps(-104.0f), x);  // NaN is the second operand: it survives
  x = _mm512_min_ps(_mm512_set1_ps(89.0f), x);
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r);
  p = _mm512_add_ps(p, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

inline __m512 silu_ps(__m512 x) {
  const __m512 e = exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), x));
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

inline __m512 gelu_tanh_ps(__m512 x) {
  const __m512 x2 = _mm512_mul_ps(x, x);
  const __m512 inner = _mm512_fmadd_ps(_mm512_set1_ps(kGeluCoefA), x2, _mm512_set1_ps(1.0f));
  const __m512 u = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(kSqrt2OverPi), x), inner);
  const __m512 e = exp_ps(_mm512_mul_ps(_mm512_set1_ps(-2.0f), u));
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

template <typename F>
inline void map1(float* y, const float* x, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, f(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const uint16_t m = tail_mask(n - i);
    PLM_MASK_STOREU_PS(y + i, m, f(PLM_MASKZ_LOADU_PS(m, x + i)));
  }
}

template <typename F>
inline void map2(float* y, const float* a, const float* b, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(y + i, f(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
  }
  if (i < n) {
    const uint16_t m = tail_mask(n - i);
    PLM_MASK_STOREU_PS(y + i, m, f(PLM_MASKZ_LOADU_PS(m, a + i), PLM_MASKZ_LOADU_PS(m, b + i)));
  }
}

void rms_norm_avx512(float* y, const float* x, const float* w, int64_t n, float eps) {
  __m512d acc0 = _mm512_setzero_pd();
  __m512d acc1 = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 a = _mm512_loadu_ps(x + i);
    const __m512 b = _mm512_loadu_ps(x + i + 16);
    acc0 = add_widened(acc0, _mm512_mul_ps(a, a));
    acc1 = add_widened(acc1, _mm512_mul_ps(b, b));
  }
  double sum = hsum(_mm512_add_pd(acc0, acc1));
  for (; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  const __m512 vs = _mm512_set1_ps(scale);
  if (w) {
    map2(y, x, w, n, [vs](__m512 a, __m512 b) { return _mm512_mul_ps(_mm512_mul_ps(a, vs), b); });
  } else {
    map1(y, x, n, [vs](__m512 a) { return _mm512_mul_ps(a, vs); });
  }
}

void softmax_avx512(float* x, int64_t n) {
  if (n <= 0) return;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  __m512 vmax = _mm512_set1_ps(kNegInf);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(x + i));
  float max = hmax(vmax);
  for (; i < n; ++i) max = x[i] > max ? x[i] : max;
  if (max == kNegInf) {
    std::memset(x, 0, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  const __m512 vm = _mm512_set1_ps(max);
  __m512d acc = _mm512_setzero_pd();
  for (i = 0; i + 16 <= n; i += 16) {
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm));
    _mm512_storeu_ps(x + i, e);
    acc = add_widened(acc, e);
  }
  if (i < n) {
    // Masked-off lanes load 0 and would contribute exp(-max); zero them before summing.
    const uint16_t m = tail_mask(n - i);
    const __m512 e =
        _mm512_maskz_mov_ps(m, exp_ps(_mm512_sub_ps(PLM_MASKZ_LOADU_PS(m, x + i), vm)));
    PLM_MASK_STOREU_PS(x + i, m, e);
    acc = add_widened(acc, e);
  }
  const __m512 inv = _mm512_set1_ps(static_cast<float>(1.0 / hsum(acc)));
  map1(x, x, n, [inv](__m512 v) { return _mm512_mul_ps(v, inv); });
}

void rope_avx512(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cos_theta,
                 const float* sin_theta, RopeStyle style) {
  // Scalar with the x0 products fused, as the reference: RoPE is a sliver of a forward pass, and
  // a vector form through emulation layers (SIMDe in our tests) is not reliably fused.
  const int64_t half = n_rot / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      float* p0 = style == RopeStyle::kNeox ? v + i : v + 2 * i;
      float* p1 = style == RopeStyle::kNeox ? v + i + half : v + 2 * i + 1;
      const float x0 = *p0, x1 = *p1;
      *p0 = std::fma(x0, cos_theta[i], -(x1 * sin_theta[i]));
      *p1 = std::fma(x0, sin_theta[i], x1 * cos_theta[i]);
    }
  }
}

void silu_avx512(float* y, const float* x, int64_t n) { map1(y, x, n, silu_ps); }

void gelu_tanh_avx512(float* y, const float* x, int64_t n) { map1(y, x, n, gelu_tanh_ps); }

void swiglu_avx512(float* y, const float* gate, const float* up, int64_t n) {
  map2(y, gate, up, n, [](__m512 g, __m512 u) { return _mm512_mul_ps(silu_ps(g), u); });
}

void geglu_tanh_avx512(float* y, const float* gate, const float* up, int64_t n) {
  map2(y, gate, up, n, [](__m512 g, __m512 u) { return _mm512_mul_ps(gelu_tanh_ps(g), u); });
}

void add_avx512(float* y, const float* a, const float* b, int64_t n) {
  map2(y, a, b, n, [](__m512 p, __m512 q) { return _mm512_add_ps(p, q); });
}

void mul_avx512(float* y, const float* a, const float* b, int64_t n) {
  map2(y, a, b, n, [](__m512 p, __m512 q) { return _mm512_mul_ps(p, q); });
}

void scale_avx512(float* y, const float* x, float s, int64_t n) {
  const __m512 vs = _mm512_set1_ps(s);
  map1(y, x, n, [vs](__m512 v) { return _mm512_mul_ps(v, vs); });
}

void axpy_avx512(float* y, const float* x, float a, int64_t n) {
  const __m512 va = _mm512_set1_ps(a);
  map2(y, y, x, n, [va](__m512 acc, __m512 v) { return _mm512_add_ps(acc, _mm512_mul_ps(v, va)); });
}

float dot_f32_avx512(const float* a, const float* b, int64_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
  }
  for (; i + 16 <= n; i += 16) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  }
  if (i < n) {
    const uint16_t m = tail_mask(n - i);
    s1 = _mm512_fmadd_ps(PLM_MASKZ_LOADU_PS(m, a + i), PLM_MASKZ_LOADU_PS(m, b + i), s1);
  }
  return hsum(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

}  // namespace

void fill_ops_avx512(OpKernels& t) {
  t.rms_norm = rms_norm_avx512;
  t.softmax = softmax_avx512;
  t.rope = rope_avx512;
  t.silu = silu_avx512;
  t.gelu_tanh = gelu_tanh_avx512;
  t.swiglu = swiglu_avx512;
  t.geglu_tanh = geglu_tanh_avx512;
  t.add = add_avx512;
  t.mul = mul_avx512;
  t.scale = scale_avx512;
  t.axpy = axpy_avx512;
  t.dot_f32 = dot_f32_avx512;
}

}  // namespace pocketlm::kernels
