// The AVX-512 dot kernels, compiled once more through SIMDe (tests/kernels/tests.cmake), against
// the scalar reference: the same table-wide checks as dot_test.cpp, so the AVX-512 code is
// verified on hosts that cannot run it natively. The table starts from ref, not AVX2, so every
// entry that differs from ref is AVX-512 code and the test needs no particular CPU.
#include <gtest/gtest.h>

#if defined(POCKETLM_TEST_DOT_AVX512_SIMDE)

#include "dot_check.h"
#include "kernels/kernels.h"
#include "kernels/ref/act_quant_ref.h"

namespace pocketlm::kernels {

void fill_dot_avx512_simde(DotKernels& t);  // dot_avx512.cpp under POCKETLM_AVX512_VIA_SIMDE

namespace {

using dot_check::at;
using dot_check::T;

struct Tables {
  DotKernels ref;
  DotKernels avx512;
  Tables() {
    fill_dot_ref(ref);
    fill_dot_ref(avx512);
    fill_dot_avx512_simde(avx512);
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

// Guards against a vacuous pass: these entries must be the AVX-512 kernels, not ref.
TEST(DotKernelsAvx512SimdeTest, OverridesTheWidenedEntries) {
  const Tables& t = tables();
  for (T wt : {T::kF32, T::kF16, T::kQ4_0, T::kQ4_1, T::kQ5_0, T::kQ5_1, T::kQ8_0, T::kQ4_K,
               T::kQ5_K, T::kQ6_K}) {
    EXPECT_NE(t.avx512.vec_dot[at(wt)], t.ref.vec_dot[at(wt)]) << dot_check::name_of(wt);
  }
  for (T wt : {T::kF32, T::kF16}) {
    EXPECT_NE(t.avx512.vec_dot_f32[at(wt)], t.ref.vec_dot_f32[at(wt)]) << dot_check::name_of(wt);
  }
  for (T at_type : {T::kQ8_0, T::kQ8_K}) {
    EXPECT_NE(t.avx512.quantize_act[at(at_type)], t.ref.quantize_act[at(at_type)])
        << dot_check::name_of(at_type);
  }
}

TEST(DotKernelsAvx512SimdeTest, VecDotMatchesRef) {
  dot_check::check_vec_dot(tables().avx512, tables().ref, "avx512-simde");
}

TEST(DotKernelsAvx512SimdeTest, VecDotF32MatchesRef) {
  dot_check::check_vec_dot_f32(tables().avx512, tables().ref, "avx512-simde");
}

TEST(DotKernelsAvx512SimdeTest, QuantizeActMatchesRef) {
  // This table lacks the AVX2 layer (it would come before AVX-512 at run time), so its Q8_1
  // quantizer is still the reference one; only Q8_0 is the AVX-512 code with x86 rounding.
  DotKernels want = tables().ref;
  DotKernels x86 = tables().ref;
  ref::set_act_rounding(x86, ref::ActRounding::kX86);
  want.quantize_act[at(T::kQ8_0)] = x86.quantize_act[at(T::kQ8_0)];
  dot_check::check_quantize_act(tables().avx512, want, "avx512-simde");
}

}  // namespace
}  // namespace pocketlm::kernels

#endif  // POCKETLM_TEST_DOT_AVX512_SIMDE
