// Scaffold: the avx2 dot kernels are being written; until then this table adds nothing.
#include "kernels/kernels.h"

namespace pocketlm::kernels {

void fill_dot_avx2(DotKernels& t) { (void)t; }

}  // namespace pocketlm::kernels
