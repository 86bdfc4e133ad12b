// The table-driven GELU of llama.cpp's CPU backend (gelu_fp16.cpp): shared with the SIMD tables,
// which must give the same results (they vectorize the conversions around the same lookups).
#pragma once

#include <cstdint>

#include "quant/fp16.h"

namespace pocketlm::kernels {

// gelu(x) rounded to fp16 for every fp16 input x, indexed by its bits.
const fp16_t* gelu_fp16_table();

// The scalar ops (OpKernels::gelu_tanh_fp16, geglu_tanh_fp16): 0 for x <= -10, x for x >= 10,
// else the table's entry for x rounded to fp16.
void gelu_tanh_fp16_ref(float* y, const float* x, int64_t n);
void geglu_tanh_fp16_ref(float* y, const float* gate, const float* up, int64_t n);

}  // namespace pocketlm::kernels
