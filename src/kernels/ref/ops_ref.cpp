// Scalar reference element-wise kernels: the truth that every SIMD variant is tested against.
//
// The precision choices follow llama.cpp's CPU backend on purpose, because the engine must later
// produce the same tokens as llama.cpp: sums of squares, softmax denominators and f32 dot products
// accumulate in double, exponentials and tanh come from the C library in float, and each formula
// is evaluated in the same order (the build forbids FMA contraction, so the rounding is fixed).
#include <cmath>
#include <limits>

#include "kernels/kernels.h"
#include "kernels/ref/ops_ref_parts.h"

namespace pocketlm::kernels {
namespace {

// sqrt(2 / pi) and the cubic coefficient of the tanh approximation of GELU.
constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
constexpr float kGeluCoefA = 0.044715f;

inline float silu_one(float x) { return x / (1.0f + std::exp(-x)); }

inline float gelu_tanh_one(float x) {
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kGeluCoefA * x * x)));
}

void rms_norm_ref(float* y, const float* x, const float* w, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  if (w) {
    // Normalising then weighting as two roundings, as the norm and the weight multiply are two
    // separate steps in llama.cpp's graph.
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * w[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
  }
}

void softmax_ref(float* x, int64_t n) {
  if (n <= 0) return;
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) max = x[i] > max ? x[i] : max;
  if (max == -std::numeric_limits<float>::infinity()) {
    // A fully masked row: exp(-inf - -inf) would be NaN; no position can be attended to.
    for (int64_t i = 0; i < n; ++i) x[i] = 0.0f;
    return;
  }
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const float e = std::exp(x[i] - max);
    x[i] = e;
    sum += static_cast<double>(e);
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void rope_ref(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cos_theta,
              const float* sin_theta, RopeStyle style) {
  const int64_t half = n_rot / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      // Normal style rotates neighbours, NeoX style rotates element i with element i + half.
      float* p0 = style == RopeStyle::kNeox ? v + i : v + 2 * i;
      float* p1 = style == RopeStyle::kNeox ? v + i + half : v + 2 * i + 1;
      const float x0 = *p0;
      const float x1 = *p1;
      const float c = cos_theta[i];
      const float s = sin_theta[i];
      // The x0 products are fused: llama.cpp's builds contract these expressions so, and the
      // last bit of q and k decides near-tied tokens downstream.
      *p0 = std::fma(x0, c, -(x1 * s));
      *p1 = std::fma(x0, s, x1 * c);
    }
  }
}

void silu_ref(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = silu_one(x[i]);
}

void gelu_tanh_ref(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = gelu_tanh_one(x[i]);
}

void swiglu_ref(float* y, const float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = silu_one(gate[i]) * up[i];
}

void geglu_tanh_ref(float* y, const float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = gelu_tanh_one(gate[i]) * up[i];
}

void add_ref(float* y, const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void mul_ref(float* y, const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}

void scale_ref(float* y, const float* x, float s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s;
}

void axpy_ref(float* y, const float* x, float a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i] * a;
}

float dot_f32_ref(const float* a, const float* b, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(a[i] * b[i]);
  return static_cast<float>(sum);
}

}  // namespace

void fill_ops_ref(OpKernels& t) {
  t.rms_norm = rms_norm_ref;
  t.softmax = softmax_ref;
  t.rope = rope_ref;
  t.silu = silu_ref;
  t.gelu_tanh = gelu_tanh_ref;
  t.swiglu = swiglu_ref;
  t.geglu_tanh = geglu_tanh_ref;
  t.add = add_ref;
  t.mul = mul_ref;
  t.scale = scale_ref;
  t.axpy = axpy_ref;
  t.dot_f32 = dot_f32_ref;
  fill_gelu_fp16(t);
}

}  // namespace pocketlm::kernels
