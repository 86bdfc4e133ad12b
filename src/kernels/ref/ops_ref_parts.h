// Private to src/kernels/ref: the scalar element-wise table is filled by ops_ref.cpp and, for the
// table-driven GELU, gelu_fp16.cpp.
#pragma once

#include "kernels/kernels.h"

namespace pocketlm::kernels {

void fill_gelu_fp16(OpKernels& t);  // gelu_tanh_fp16, geglu_tanh_fp16 (gelu_fp16.cpp)

}  // namespace pocketlm::kernels
