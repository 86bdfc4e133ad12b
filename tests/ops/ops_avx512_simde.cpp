// The AVX-512 element-wise kernels compiled a second time with SIMDe's portable implementations
// of the intrinsics, so kernel_tests can check them on hosts without AVX-512. The fill function
// is renamed to fill_ops_avx512_simde by the guard macro.
#define POCKETLM_AVX512_VIA_SIMDE 1
#include "kernels/x86_avx512/ops_avx512.cpp"
