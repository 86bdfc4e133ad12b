// Private to src/kernels/x86_avx2: the AVX2 element-wise table is filled by ops_avx2.cpp and, for
// the table-driven GELU, gelu_fp16_avx2.cpp.
#pragma once

#include "kernels/kernels.h"

namespace pocketlm::kernels::avx2 {

void fill_gelu_fp16(OpKernels& t);  // gelu_tanh_fp16, geglu_tanh_fp16 (gelu_fp16_avx2.cpp)

}  // namespace pocketlm::kernels::avx2
