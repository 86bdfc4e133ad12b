// Scaffold: the ref dot kernels are being written; until then this table adds nothing.
#include "kernels/kernels.h"

namespace pocketlm::kernels {

void fill_dot_ref(DotKernels& t) { (void)t; }

}  // namespace pocketlm::kernels
