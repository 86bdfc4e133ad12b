// Dot kernels of every ISA table this host can run, against the scalar reference; and the
// reference itself against plain float dots of the dequantized operands (quants.h), so the
// integer block arithmetic is tied to the formats' definitions.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dot_check.h"
#include "kernels/kernels.h"
#include "kernels/ref/act_quant_ref.h"
#include "quant/blocks.h"
#include "quant/types.h"

namespace pocketlm::kernels {
namespace {

using dot_check::at;
using dot_check::T;

const DotKernels& ref_dot() { return kernel_table(Isa::kRef)->dot; }

TEST(DotKernelsTest, EveryTableCoversEveryType) {
  for (Isa isa : runnable_isas()) {
    const DotKernels& t = kernel_table(isa)->dot;
    for (T wt : dot_check::weight_types()) {
      EXPECT_NE(t.vec_dot[at(wt)], nullptr)
          << isa_name(isa) << " vec_dot " << dot_check::name_of(wt);
      EXPECT_NE(t.vec_dot_f32[at(wt)], nullptr)
          << isa_name(isa) << " vec_dot_f32 " << dot_check::name_of(wt);
    }
    for (T at_type : dot_check::activation_types()) {
      EXPECT_NE(t.quantize_act[at(at_type)], nullptr)
          << isa_name(isa) << " quantize_act " << dot_check::name_of(at_type);
    }
  }
}

TEST(DotKernelsTest, VecDotMatchesRef) {
  for (Isa isa : runnable_isas()) {
    if (isa == Isa::kRef) continue;
    dot_check::check_vec_dot(kernel_table(isa)->dot, ref_dot(), isa_name(isa));
  }
}

TEST(DotKernelsTest, VecDotF32MatchesRef) {
  for (Isa isa : runnable_isas()) {
    if (isa == Isa::kRef) continue;
    dot_check::check_vec_dot_f32(kernel_table(isa)->dot, ref_dot(), isa_name(isa));
  }
}

// Each ISA's Q8_0/Q8_1 activation rounding equals its scalar model (kernels/ref/act_quant_ref.h);
// every other activation type equals the reference byte for byte.
TEST(DotKernelsTest, QuantizeActMatchesRef) {
  for (Isa isa : runnable_isas()) {
    if (isa == Isa::kRef) continue;
    DotKernels want = ref_dot();
    ref::set_act_rounding(want, isa == Isa::kNeon ? ref::ActRounding::kNeon : ref::ActRounding::kX86);
    dot_check::check_quantize_act(kernel_table(isa)->dot, want, isa_name(isa));
  }
}

// The rounding models on a block where d = 1 exactly (amax 127), so x * id is x itself and the
// halves are true ties: the reference rounds them away from zero, the runtime models to even.
TEST(DotKernelsTest, ActRoundingModelsOnTies) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = -3.5f;
  x[3] = 0.5f;
  x[4] = 1.49f;
  BlockQ8_0 a, b, c;
  ref::quantize_act_q8_0(x.data(), &a, 32, ref::ActRounding::kReference);
  ref::quantize_act_q8_0(x.data(), &b, 32, ref::ActRounding::kX86);
  ref::quantize_act_q8_0(x.data(), &c, 32, ref::ActRounding::kNeon);
  const int want_ref[5] = {127, 3, -4, 1, 1};
  const int want_even[5] = {127, 2, -4, 0, 1};
  for (int j = 0; j < 5; ++j) {
    EXPECT_EQ(a.qs[j], want_ref[j]) << j;
    EXPECT_EQ(b.qs[j], want_even[j]) << j;
    EXPECT_EQ(c.qs[j], want_even[j]) << j;
  }
  EXPECT_EQ(a.d, b.d);
  EXPECT_EQ(a.d, c.d);
}

// The reference's integer-per-block dots equal the float dot of what the blocks mean. Every pair
// agrees to float rounding except those with Q8_1 activations: their min term uses Q8_1's
// s = d * sum(q), stored as fp16 from the unrounded d, while dequantizing Q8_1 uses the fp16 d, so
// the two differ by up to about 2^-10 of m * sum(a) per block: the format's own approximation.
// Block sums of random activations are small next to sum |w * a| (about 1e-5 of it here), hence
// 1e-4 for those pairs.
TEST(DotKernelsTest, RefMatchesDequantizedFloatDot) {
  dot_check::Rng r(7);
  const DotKernels& ref = ref_dot();
  for (T wt : dot_check::weight_types()) {
    const T at_type = type_traits(wt).vec_dot_type;
    const double tol = at_type == T::kQ8_1 ? 1e-4 : 1e-5;
    for (int64_t n : dot_check::sizes_for(wt)) {
      for (bool outliers : {false, true}) {
        SCOPED_TRACE("ref, weights " + dot_check::name_of(wt) + " x " +
                     dot_check::name_of(at_type) + ", n " + std::to_string(n) +
                     (outliers ? ", with outliers" : ""));
        const std::vector<uint8_t> w = dot_check::random_weights(wt, n, r);
        const std::vector<float> af = dot_check::random_activations(n, outliers, r);
        std::vector<uint8_t> aq(row_size(at_type, n));
        ref.quantize_act[at(at_type)](af.data(), aq.data(), n);
        float got = 0.0f;
        ref.vec_dot[at(wt)](n, &got, w.data(), aq.data());
        const dot_check::FloatDot fd = dot_check::float_dot(
            dot_check::dequantize(wt, w.data(), n), dot_check::dequantize(at_type, aq.data(), n));
        dot_check::expect_close(got, static_cast<float>(fd.sum), fd.abs_sum, tol, "ref vec_dot");

        float got_f32 = 0.0f;
        ref.vec_dot_f32[at(wt)](n, &got_f32, w.data(), af.data());
        const dot_check::FloatDot ff =
            dot_check::float_dot(dot_check::dequantize(wt, w.data(), n), af);
        dot_check::expect_close(got_f32, static_cast<float>(ff.sum), ff.abs_sum, 1e-6,
                                "ref vec_dot_f32");
      }
    }
  }
}

}  // namespace
}  // namespace pocketlm::kernels
