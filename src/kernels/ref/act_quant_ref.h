// Scalar models of the activation quantizers each ISA's kernel table uses at run time.
//
// Usage (tests compare an ISA's quantize_act against the model of its rounding):
//   DotKernels want = ref_table.dot;
//   set_act_rounding(want, ActRounding::kX86);
//
// Why more than one: the weights' quantizers (src/quant) follow the format's reference exactly,
// but the activations of a matrix product are quantized on the fly, and llama.cpp's CPU backend
// does that differently per ISA. To give token-identical output on the same machine we round
// the way it does there:
//   kReference: d = amax / 127, q = roundf(x * (1 / d))          (portable scalar code)
//   kX86:       d = amax / 127, q = nearest-even(x * (127 / amax)) (AVX2 and AVX-512)
//   kNeon:      d = amax / 127, q = nearest-even(x * (1 / d))      (ARM NEON)
// For Q8_1 the block sum is s = fp16(d * sum(q)) in every case.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace pocketlm::kernels::ref {

enum class ActRounding : int { kReference = 0, kX86 = 1, kNeon = 2 };

void quantize_act_q8_0(const float* x, void* y, int64_t n, ActRounding r);
void quantize_act_q8_1(const float* x, void* y, int64_t n, ActRounding r);

// Points the table's Q8_0 and Q8_1 activation quantizers at the scalar model of `r`.
void set_act_rounding(DotKernels& table, ActRounding r);

}  // namespace pocketlm::kernels::ref
