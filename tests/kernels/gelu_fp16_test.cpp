// The table-driven GELU (OpKernels::gelu_tanh_fp16 / geglu_tanh_fp16): fp16 entries within one
// fp16 rounding of the exact function, llama.cpp's clamps at +-10, the entries that pin down how
// the table was computed, and the same results from every table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/kernels.h"
#include "quant/fp16.h"

namespace pocketlm::kernels {
namespace {

const OpKernels& ref_ops() { return kernel_table(Isa::kRef)->ops; }

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

float gelu_fp16(float x) {
  float y;
  ref_ops().gelu_tanh_fp16(&y, &x, 1);
  return y;
}

double gelu_exact(double x) {
  const double sqrt_2_over_pi = 0.79788456080286535587989211986876;
  return 0.5 * x * (1.0 + std::tanh(sqrt_2_over_pi * x * (1.0 + 0.044715 * x * x)));
}

// Values of llama.cpp's table (read back from its CPU library), among them the one entry where
// computing 1 + 0.044715 x^2 without a fused multiply-add would round the other way.
TEST(GeluFp16, KnownEntries) {
  EXPECT_EQ(fp32_to_fp16(gelu_fp16(1.0f)), 0x3abb);
  EXPECT_EQ(fp32_to_fp16(gelu_fp16(-1.0f)), 0xb115);
  EXPECT_EQ(fp32_to_fp16(gelu_fp16(0.5f)), 0x3588);
  EXPECT_EQ(fp32_to_fp16(gelu_fp16(2.0f)), 0x3fd2);
  EXPECT_EQ(fp32_to_fp16(gelu_fp16(-3.0f)), 0x9b73);
  EXPECT_EQ(fp32_to_fp16(gelu_fp16(fp16_to_fp32(0xbfff))), 0xa9d3);
  EXPECT_EQ(gelu_fp16(0.0f), 0.0f);
}

// The input is rounded to fp16 before the lookup: inputs sharing an fp16 value share a result.
TEST(GeluFp16, InputRoundedToFp16) {
  const float x = 1.0f + 1.0f / 4096.0f;  // rounds to 1.0 in fp16
  EXPECT_EQ(gelu_fp16(x), gelu_fp16(1.0f));
}

TEST(GeluFp16, ClampsOutsidePlusMinusTen) {
  EXPECT_EQ(gelu_fp16(-10.0f), 0.0f);
  EXPECT_EQ(gelu_fp16(-1e6f), 0.0f);
  EXPECT_EQ(gelu_fp16(10.0f), 10.0f);
  EXPECT_EQ(gelu_fp16(123.25f), 123.25f);
  const float g[3] = {10.5f, -10.5f, 1.0f}, u[3] = {3.0f, 3.0f, 3.0f};
  float y[3];
  ref_ops().geglu_tanh_fp16(y, g, u, 3);
  EXPECT_EQ(y[0], 31.5f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[2], gelu_fp16(1.0f) * 3.0f);
}

// Every entry in (-10, 10) is the exact GELU rounded to fp16, give or take that one rounding and
// the float evaluation under it (1 + tanh(u) cancels for negative x: about |x| float ulps of 1).
TEST(GeluFp16, EntriesWithinOneFp16Rounding) {
  int checked = 0;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float x = fp16_to_fp32(static_cast<fp16_t>(h));
    if (!std::isfinite(x) || std::fabs(x) >= 10.0f) continue;
    const double want = gelu_exact(x);
    const double got = gelu_fp16(x);
    // One fp16 ulp of the result (2^-10 relative for normals, 2^-24 for subnormals) plus the
    // float error of 0.5 x (1 + tanh(u)).
    const double tol = std::max(std::ldexp(std::fabs(want), -10), std::ldexp(1.0, -24)) +
                       std::fabs(x) * std::ldexp(1.0, -23);
    ASSERT_LE(std::fabs(got - want), tol) << "x = " << x;
    ++checked;
  }
  EXPECT_EQ(checked, 37376);  // the finite fp16 values in (-10, 10)
}

TEST(GeluFp16, EveryTableAgrees) {
  std::vector<float> x, u;
  for (int i = -1200; i <= 1200; ++i) {
    x.push_back(static_cast<float>(i) * 0.01f);
    u.push_back(0.5f + static_cast<float>(i % 7));
  }
  // Every fp16 value, and the floats just above and below it (they round to it or a neighbour,
  // ties to even included), NaNs with payloads, infinities, subnormals.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float v = fp16_to_fp32(static_cast<fp16_t>(h));
    x.push_back(v);
    x.push_back(std::nextafter(v, 1e9f));
    x.push_back(std::nextafter(v, -1e9f));
    if ((h & 0x7fffu) < 0x7bffu) {  // halfway to the next fp16 away from zero: a tie, exact
      x.push_back(0.5f * (v + fp16_to_fp32(static_cast<fp16_t>(h + 1))));
    }
  }
  for (uint32_t bits : {0x7fc00001u, 0xffa00000u, 0x7f800001u, 0x00000001u, 0x80000001u}) {
    float f;
    std::memcpy(&f, &bits, 4);
    x.push_back(f);
  }
  while (u.size() < x.size()) u.push_back(0.25f + static_cast<float>(u.size() % 5));
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<float> r1(x.size()), r2(x.size()), s1(x.size()), s2(x.size());
  ref_ops().gelu_tanh_fp16(r1.data(), x.data(), n);
  ref_ops().geglu_tanh_fp16(r2.data(), x.data(), u.data(), n);
  for (Isa isa : runnable_isas()) {
    const OpKernels& ops = kernel_table(isa)->ops;
    ASSERT_NE(ops.gelu_tanh_fp16, nullptr) << isa_name(isa);
    ASSERT_NE(ops.geglu_tanh_fp16, nullptr) << isa_name(isa);
    ops.gelu_tanh_fp16(s1.data(), x.data(), n);
    ops.geglu_tanh_fp16(s2.data(), x.data(), u.data(), n);
    for (size_t i = 0; i < x.size(); ++i) {
      // Bitwise, so NaN outputs compare too.
      ASSERT_EQ(bits_of(s1[i]), bits_of(r1[i])) << isa_name(isa) << " gelu(" << x[i] << ")";
      ASSERT_EQ(bits_of(s2[i]), bits_of(r2[i])) << isa_name(isa) << " geglu(" << x[i] << ")";
      if (!std::isnan(r1[i])) {
        ASSERT_EQ(r2[i], r1[i] * u[i]) << "geglu(" << x[i] << ")";
      }
    }
  }
}

}  // namespace
}  // namespace pocketlm::kernels
