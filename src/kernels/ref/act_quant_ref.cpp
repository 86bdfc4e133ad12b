// Scalar models of the per-ISA activation quantizers (see act_quant_ref.h for why they differ).
#include "kernels/ref/act_quant_ref.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quants.h"

namespace pocketlm::kernels::ref {
namespace {

// Quantizes one block of 32; returns d and stores the quants' sum.
float quantize_block32(const float* x, uint16_t* d_out, int8_t* qs, int* sum, ActRounding r) {
  float amax = 0.0f;
  for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  float id;
  if (r == ActRounding::kX86) {
    id = amax != 0.0f ? 127.0f / amax : 0.0f;
  } else {
    id = d != 0.0f ? 1.0f / d : 0.0f;
  }
  *d_out = fp32_to_fp16(d);
  uint32_t s = 0;  // wraps like the vector int32 sum does on garbage (non-finite) blocks
  for (int j = 0; j < 32; ++j) {
    const float v = x[j] * id;
    // nearbyint rounds half to even in the default floating-point environment.
    const float q = r == ActRounding::kReference ? std::round(v) : std::nearbyint(v);
    int qi;
    if (r == ActRounding::kX86) {
      // cvtps_epi32 gives INT_MIN for NaN and out-of-range values (a subnormal amax makes the
      // multiplier infinite); the block sum takes the int32 values, the packs saturate to int8.
      const bool fits = std::fabs(q) < 2147483648.0f;
      const int32_t wide = fits ? static_cast<int32_t>(q) : INT32_MIN;
      s += static_cast<uint32_t>(wide);
      qs[j] = static_cast<int8_t>(std::clamp(wide, -128, 127));
      continue;
    } else {
      // The NEON conversion saturates (NaN gives 0) and the codes are limited to +-127.
      qi = std::isnan(q) ? 0 : static_cast<int>(std::clamp(q, -127.0f, 127.0f));
    }
    qs[j] = static_cast<int8_t>(qi);
    s += static_cast<uint32_t>(qi);
  }
  *sum = static_cast<int>(s);
  return d;
}

void q8_0_x86(const float* x, void* y, int64_t n) { quantize_act_q8_0(x, y, n, ActRounding::kX86); }
void q8_1_x86(const float* x, void* y, int64_t n) { quantize_act_q8_1(x, y, n, ActRounding::kX86); }
void q8_0_neon(const float* x, void* y, int64_t n) {
  quantize_act_q8_0(x, y, n, ActRounding::kNeon);
}
void q8_1_neon(const float* x, void* y, int64_t n) {
  quantize_act_q8_1(x, y, n, ActRounding::kNeon);
}

}  // namespace

void quantize_act_q8_0(const float* x, void* vy, int64_t n, ActRounding r) {
  auto* y = static_cast<BlockQ8_0*>(vy);
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    int sum = 0;
    quantize_block32(x + b * kQK8_0, &y[b].d, y[b].qs, &sum, r);
  }
}

void quantize_act_q8_1(const float* x, void* vy, int64_t n, ActRounding r) {
  auto* y = static_cast<BlockQ8_1*>(vy);
  for (int64_t b = 0; b < n / kQK8_1; ++b) {
    int sum = 0;
    const float d = quantize_block32(x + b * kQK8_1, &y[b].d, y[b].qs, &sum, r);
    y[b].s = fp32_to_fp16(static_cast<float>(sum) * d);
  }
}

void set_act_rounding(DotKernels& t, ActRounding r) {
  const auto q80 = static_cast<uint32_t>(TensorType::kQ8_0);
  const auto q81 = static_cast<uint32_t>(TensorType::kQ8_1);
  switch (r) {
    case ActRounding::kReference:
      t.quantize_act[q80] = quantize_row_q8_0;
      t.quantize_act[q81] = quantize_row_q8_1;
      break;
    case ActRounding::kX86:
      t.quantize_act[q80] = q8_0_x86;
      t.quantize_act[q81] = q8_1_x86;
      break;
    case ActRounding::kNeon:
      t.quantize_act[q80] = q8_0_neon;
      t.quantize_act[q81] = q8_1_neon;
      break;
  }
}

}  // namespace pocketlm::kernels::ref
