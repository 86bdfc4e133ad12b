// GELU through a table of 65536 fp16 results, one per fp16 input: llama.cpp's CPU gelu and geglu.
//
// The table entries are 0.5 x (1 + tanh(sqrt(2/pi) x (1 + 0.044715 x^2))) rounded to fp16, with
// 0.044715 x * x + 1 fused into one multiply-add: llama.cpp's build contracts that expression, and
// its table (read back from its library) differs from the unfused one in one entry.
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/ref/gelu_fp16.h"

#include "kernels/kernels.h"
#include "kernels/ref/ops_ref_parts.h"
#include "quant/fp16.h"

namespace pocketlm::kernels {
namespace {

constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
constexpr float kGeluCoefA = 0.044715f;
constexpr float kLinearFrom = 10.0f;  // |x| from which gelu(x) is taken as 0 or x

}  // namespace

const fp16_t* gelu_fp16_table() {
  static const std::vector<fp16_t> table = [] {
    std::vector<fp16_t> t(65536);
    for (uint32_t i = 0; i < t.size(); ++i) {
      const float x = fp16_to_fp32(static_cast<fp16_t>(i));
      const float inner = std::fma(kGeluCoefA * x, x, 1.0f);
      t[i] = fp32_to_fp16(0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * inner)));
    }
    return t;
  }();
  return table.data();
}

namespace {

inline float gelu_lookup(const fp16_t* table, float x) {
  if (x <= -kLinearFrom) return 0.0f;
  if (x >= kLinearFrom) return x;
  return fp16_to_fp32(table[fp32_to_fp16(x)]);
}

}  // namespace

void gelu_tanh_fp16_ref(float* y, const float* x, int64_t n) {
  const fp16_t* table = gelu_fp16_table();
  for (int64_t i = 0; i < n; ++i) y[i] = gelu_lookup(table, x[i]);
}

void geglu_tanh_fp16_ref(float* y, const float* gate, const float* up, int64_t n) {
  const fp16_t* table = gelu_fp16_table();
  for (int64_t i = 0; i < n; ++i) {
    // x >= 10 multiplies x itself by up, as the table path multiplies its lookup.
    y[i] = gelu_lookup(table, gate[i]) * up[i];
  }
}

void fill_gelu_fp16(OpKernels& t) {
  t.gelu_tanh_fp16 = gelu_tanh_fp16_ref;
  t.geglu_tanh_fp16 = geglu_tanh_fp16_ref;
}

}  // namespace pocketlm::kernels
