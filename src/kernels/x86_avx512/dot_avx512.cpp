// Scaffold: the avx512 dot kernels are being written; until then this table adds nothing.
#include "kernels/kernels.h"

namespace pocketlm::kernels {

void fill_dot_avx512(DotKernels& t) { (void)t; }

}  // namespace pocketlm::kernels
