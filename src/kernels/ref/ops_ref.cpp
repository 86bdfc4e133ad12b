// Scaffold: the ref ops kernels are being written; until then this table adds nothing.
#include "kernels/kernels.h"

namespace pocketlm::kernels {

void fill_ops_ref(OpKernels& t) { (void)t; }

}  // namespace pocketlm::kernels
