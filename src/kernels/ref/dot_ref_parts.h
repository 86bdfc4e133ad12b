// Private to src/kernels/ref: the scalar dot table is filled by several files, one per family of
// weight types, so each stays short enough to read against the format it implements.
#pragma once

#include "kernels/kernels.h"

namespace pocketlm::kernels::ref {

void fill_dot_legacy(DotKernels& t);  // Q4_0, Q4_1, Q5_0, Q5_1, Q8_0
void fill_dot_k(DotKernels& t);       // Q2_K .. Q6_K

}  // namespace pocketlm::kernels::ref
