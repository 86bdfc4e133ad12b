// Checks of the NEON table beyond the table-wide comparisons with ref: the accuracy of the
// vectorized exp/tanh against double precision, bit-exactness of the activation quantizers and of
// the order-preserving ops on awkward inputs (ties, NaN, subnormal scales, ragged tails), and the
// dot products on random block bytes, which reach every bit pattern a quantizer might not emit.
//
// Compiled only where the NEON kernels are (aarch64 builds, run under qemu-aarch64 -cpu max).
#include <gtest/gtest.h>

#if defined(POCKETLM_HAVE_NEON_KERNELS)

#include <arm_neon.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/arm_neon/neon_math.h"
#include "kernels/kernels.h"
#include "kernels/ref/act_quant_ref.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/types.h"

namespace pocketlm::kernels {
namespace {

using T = TensorType;

constexpr float kInf = std::numeric_limits<float>::infinity();

const KernelTable& neon() {
  const KernelTable* t = kernel_table(Isa::kNeon);
  if (t == nullptr) {
    ADD_FAILURE()
        << "the NEON table is not runnable here (needs neon + dotprod, which qemu-aarch64 "
           "-cpu max provides)";
    return *kernel_table(Isa::kRef);
  }
  return *t;
}
const KernelTable& ref() { return *kernel_table(Isa::kRef); }

int at(T t) { return static_cast<int>(t); }

// Distance in representable floats between two finite values of the same sign.
int64_t ulp_distance(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  if ((ia < 0) != (ib < 0))
    return std::llabs(static_cast<int64_t>(ia & 0x7fffffff)) +
           std::llabs(static_cast<int64_t>(ib & 0x7fffffff));
  return std::llabs(static_cast<int64_t>(ia & 0x7fffffff) - static_cast<int64_t>(ib & 0x7fffffff));
}

float apply(float32x4_t (*f)(float32x4_t), float x) { return vgetq_lane_f32(f(vdupq_n_f32(x)), 0); }

// ---- vector math -------------------------------------------------------------------------

TEST(NeonMath, ExpWithinOneUlpOverTheWholeRange) {
  int64_t worst = 0;
  float worst_x = 0.0f;
  for (float x = -104.5f; x < 89.0f; x += 0.0037f) {
    const float got = apply(neon::exp_f32x4, x);
    const float want = static_cast<float>(std::exp(static_cast<double>(x)));
    const int64_t d = ulp_distance(got, want);
    if (d > worst) {
      worst = d;
      worst_x = x;
    }
  }
  EXPECT_LE(worst, 1) << "at x = " << worst_x;
  EXPECT_EQ(apply(neon::exp_f32x4, 0.0f), 1.0f);
  EXPECT_EQ(apply(neon::exp_f32x4, -kInf), 0.0f);
  EXPECT_EQ(apply(neon::exp_f32x4, kInf), kInf);
  EXPECT_EQ(apply(neon::exp_f32x4, 89.0f), kInf);
  EXPECT_EQ(apply(neon::exp_f32x4, -110.0f), 0.0f);
  EXPECT_TRUE(std::isnan(apply(neon::exp_f32x4, std::nanf(""))));
  // Subnormal results: e^-100 = 3.7e-44, a few units of the smallest subnormal.
  EXPECT_LE(ulp_distance(apply(neon::exp_f32x4, -100.0f), std::exp(-100.0f)), 1);
}

TEST(NeonMath, TanhWithinOneUlpAndOdd) {
  int64_t worst = 0;
  float worst_x = 0.0f;
  for (float x = -10.0f; x < 10.0f; x += 0.00043f) {
    const float got = apply(neon::tanh_f32x4, x);
    const float want = static_cast<float>(std::tanh(static_cast<double>(x)));
    const int64_t d = ulp_distance(got, want);
    if (d > worst) {
      worst = d;
      worst_x = x;
    }
    ASSERT_EQ(got, -apply(neon::tanh_f32x4, -x)) << x;
  }
  EXPECT_LE(worst, 1) << "at x = " << worst_x;
  // Around the switch from the polynomial to the exp form, and tiny arguments.
  for (float x : {1e-30f, 1e-10f, 1e-4f, 0.01f, 0.6249999f, 0.625f, 0.6250001f, 0.7f}) {
    EXPECT_LE(ulp_distance(apply(neon::tanh_f32x4, x), std::tanh(static_cast<double>(x))), 1) << x;
  }
  EXPECT_EQ(apply(neon::tanh_f32x4, 0.0f), 0.0f);
  EXPECT_EQ(apply(neon::tanh_f32x4, 20.0f), 1.0f);
  EXPECT_EQ(apply(neon::tanh_f32x4, -kInf), -1.0f);
  EXPECT_TRUE(std::isnan(apply(neon::tanh_f32x4, std::nanf(""))));
}

// ---- activation quantizers: bit-exact with ref -------------------------------------------

std::vector<float> normal_floats(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

void expect_same_quantization(T act, const std::vector<float>& x, const char* what) {
  const int64_t n = static_cast<int64_t>(x.size());
  const size_t bytes = row_size(act, n);
  std::vector<uint8_t> a(bytes, 0xAB), b(bytes, 0xCD);
  // NEON rounds Q8_0/Q8_1 activations like llama.cpp's NEON code (kernels/ref/act_quant_ref.h).
  DotKernels want = ref().dot;
  ref::set_act_rounding(want, ref::ActRounding::kNeon);
  want.quantize_act[at(act)](x.data(), a.data(), n);
  neon().dot.quantize_act[at(act)](x.data(), b.data(), n);
  for (size_t i = 0; i < bytes; ++i) {
    ASSERT_EQ(a[i], b[i]) << type_traits(act).name << " " << what << ": byte " << i;
  }
}

// Awkward rows, 512 elements (two Q8_K super-blocks, sixteen Q8_0 blocks).
std::vector<std::vector<float>> awkward_rows() {
  std::vector<std::vector<float>> rows;
  rows.push_back(normal_floats(512, 1));
  rows.push_back(normal_floats(512, 2, 1e-3f));
  rows.push_back(normal_floats(512, 3, 3e4f));
  rows.push_back(std::vector<float>(512, 0.0f));  // zero blocks: d = 0, all codes 0
  // Halfway cases: with amax = 127 the quant of k + 0.5 is exactly halfway; Q8_0 rounds away from
  // zero, Q8_K to even.
  std::vector<float> ties(512);
  for (int i = 0; i < 512; ++i) ties[i] = static_cast<float>(i % 64) - 31.5f;
  for (int b = 0; b < 512; b += 32) ties[b] = 127.0f;
  rows.push_back(ties);
  // Both signs reach the block's magnitude: the first one decides Q8_K's sign.
  std::vector<float> both = normal_floats(512, 4);
  both[5] = -9.0f;
  both[77] = 9.0f;
  both[256 + 3] = 9.0f;
  both[256 + 200] = -9.0f;
  rows.push_back(both);
  // NaN and infinities inside otherwise normal blocks.
  std::vector<float> odd = normal_floats(512, 5);
  odd[7] = std::nanf("");
  odd[300] = std::nanf("");
  odd[64] = kInf;
  odd[420] = -kInf;
  rows.push_back(odd);
  // Subnormal magnitudes, where 1/d overflows to infinity.
  std::vector<float> tiny = normal_floats(512, 6, 1e-41f);
  rows.push_back(tiny);
  return rows;
}

TEST(NeonQuantize, ActivationQuantizersMatchRefBitForBit) {
  const auto rows = awkward_rows();
  for (size_t r = 0; r < rows.size(); ++r) {
    const std::string what = "row " + std::to_string(r);
    for (T act : {T::kQ8_0, T::kQ8_1, T::kQ8_K, T::kF16, T::kBF16})
      expect_same_quantization(act, rows[r], what.c_str());
  }
}

TEST(NeonQuantize, F16MatchesRefIncludingTailsAndSpecialValues) {
  std::vector<float> x = normal_floats(203, 7, 100.0f);  // 25 chunks of 8 and a tail of 3
  x[3] = 70000.0f;                                       // overflows to inf
  x[4] = 65519.0f;                                       // rounds down to the largest half
  x[9] = 3e-8f;                                          // subnormal half
  x[10] = -1e-9f;                                        // underflows to -0
  x[17] = std::nanf("");  // NaN: the chunk falls back to the scalar conversion
  uint32_t snan_bits = 0x7fa00001u;
  std::memcpy(&x[18], &snan_bits, 4);
  x[201] = -kInf;
  expect_same_quantization(T::kF16, x, "special values");
}

TEST(NeonQuantize, Bf16MatchesRefIncludingTiesAndNaN) {
  std::vector<float> x = normal_floats(131, 8, 1e3f);  // 32 chunks of 4 and a tail of 3
  const uint32_t patterns[] = {
      0x3f808000u,  // exactly halfway, even below: rounds down
      0x3f818000u,  // exactly halfway, odd below: rounds up
      0x7f7fffffu,  // FLT_MAX rounds up to inf
      0x7fa00001u,  // signalling NaN: kept, quiet bit forced
      0xffc00000u,  // negative quiet NaN
      0x00000001u,  // smallest subnormal
  };
  for (size_t k = 0; k < std::size(patterns); ++k) std::memcpy(&x[3 * k + 1], &patterns[k], 4);
  std::memcpy(&x[129], &patterns[3], 4);  // and in the scalar tail
  expect_same_quantization(T::kBF16, x, "ties and NaN");
}

// ---- dot products on random block bytes ------------------------------------------------

struct HalfField {
  size_t offset;
  float scale;  // the field gets a random half in [-scale, scale]
};

// The fp16 fields of each block type (the rest of a block may be any bytes at all).
std::vector<HalfField> half_fields(T t) {
  switch (t) {
    case T::kQ4_0:
      return {{offsetof(BlockQ4_0, d), 0.05f}};
    case T::kQ4_1:
      return {{offsetof(BlockQ4_1, d), 0.05f}, {offsetof(BlockQ4_1, m), 0.5f}};
    case T::kQ5_0:
      return {{offsetof(BlockQ5_0, d), 0.05f}};
    case T::kQ5_1:
      return {{offsetof(BlockQ5_1, d), 0.05f}, {offsetof(BlockQ5_1, m), 0.5f}};
    case T::kQ8_0:
      return {{offsetof(BlockQ8_0, d), 0.01f}};
    case T::kQ2_K:
      return {{offsetof(BlockQ2_K, d), 0.02f}, {offsetof(BlockQ2_K, dmin), 0.02f}};
    case T::kQ3_K:
      return {{offsetof(BlockQ3_K, d), 0.02f}};
    case T::kQ4_K:
      return {{offsetof(BlockQ4_K, d), 0.01f}, {offsetof(BlockQ4_K, dmin), 0.01f}};
    case T::kQ5_K:
      return {{offsetof(BlockQ5_K, d), 0.01f}, {offsetof(BlockQ5_K, dmin), 0.01f}};
    case T::kQ6_K:
      return {{offsetof(BlockQ6_K, d), 0.005f}};
    default:
      return {};
  }
}

std::vector<uint8_t> random_row(T t, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  const TypeTraits& tr = type_traits(t);
  std::vector<uint8_t> row(row_size(t, n));
  if (!type_traits(t).is_quantized) {
    const std::vector<float> f = normal_floats(n, seed + 1);
    tr.from_float(f.data(), row.data(), n);
    return row;
  }
  std::uniform_int_distribution<int> byte(0, 255);
  for (uint8_t& b : row) b = static_cast<uint8_t>(byte(rng));
  const auto fields = half_fields(t);
  for (int64_t blk = 0; blk < n / tr.block_size; ++blk) {
    for (const HalfField& f : fields) {
      std::uniform_real_distribution<float> v(-f.scale, f.scale);
      const fp16_t h = fp32_to_fp16(v(rng));
      std::memcpy(row.data() + blk * tr.type_size + f.offset, &h, 2);
    }
  }
  return row;
}

// Sum of |w_i * a_i| over the dequantized row: the scale of the rounding the dots may differ by.
double abs_dot(T t, const std::vector<uint8_t>& row, const float* a, int64_t n) {
  std::vector<float> w(static_cast<size_t>(n));
  type_traits(t).to_float(row.data(), w.data(), n);
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += std::fabs(static_cast<double>(w[i]) * a[i]);
  return s;
}

const T kWeightTypes[] = {T::kF32,  T::kF16,  T::kBF16, T::kQ4_0, T::kQ4_1, T::kQ5_0, T::kQ5_1,
                          T::kQ8_0, T::kQ2_K, T::kQ3_K, T::kQ4_K, T::kQ5_K, T::kQ6_K};

std::vector<int64_t> sizes_for(T t) {
  const int64_t bs = type_traits(t).block_size;
  if (bs == 256) return {256, 768, 2048};
  if (bs == 32) return {32, 96, 1056};
  return {1, 7, 16, 45, 1000};
}

TEST(NeonDot, VecDotMatchesRefOnRandomBlocks) {
  for (T t : kWeightTypes) {
    const T act = type_traits(t).vec_dot_type;
    ASSERT_NE(neon().dot.vec_dot[at(t)], nullptr) << type_traits(t).name;
    for (int64_t n : sizes_for(t)) {
      const std::vector<uint8_t> w = random_row(t, n, static_cast<uint32_t>(n) * 31u + at(t));
      const std::vector<float> x = normal_floats(n, static_cast<uint32_t>(n) + 99u);
      std::vector<uint8_t> xq(row_size(act, n));
      ref().dot.quantize_act[at(act)](x.data(), xq.data(), n);
      std::vector<float> xd(static_cast<size_t>(n));
      type_traits(act).to_float(xq.data(), xd.data(), n);

      float want = 0.0f, got = 0.0f;
      ref().dot.vec_dot[at(t)](n, &want, w.data(), xq.data());
      neon().dot.vec_dot[at(t)](n, &got, w.data(), xq.data());
      const double tol = 1e-5 * abs_dot(t, w, xd.data(), n) + 1e-6;
      EXPECT_NEAR(got, want, tol) << type_traits(t).name << " n=" << n;
    }
  }
}

TEST(NeonDot, VecDotF32MatchesRefOnRandomBlocks) {
  for (T t : kWeightTypes) {
    ASSERT_NE(neon().dot.vec_dot_f32[at(t)], nullptr) << type_traits(t).name;
    for (int64_t n : sizes_for(t)) {
      const std::vector<uint8_t> w = random_row(t, n, static_cast<uint32_t>(n) * 17u + at(t));
      const std::vector<float> x = normal_floats(n, static_cast<uint32_t>(n) + 5u);
      float want = 0.0f, got = 0.0f;
      ref().dot.vec_dot_f32[at(t)](n, &want, w.data(), x.data());
      neon().dot.vec_dot_f32[at(t)](n, &got, w.data(), x.data());
      const double tol = 1e-5 * abs_dot(t, w, x.data(), n) + 1e-6;
      EXPECT_NEAR(got, want, tol) << type_traits(t).name << " n=" << n;
    }
  }
}

// One weight element at a time: a row that is all zero quants except block `b`, so a decode that
// puts an element in the wrong lane shows up as a wrong product with a one-hot activation.
TEST(NeonDot, EveryElementPositionOfEveryKQuantDecodesRight) {
  for (T t : {T::kQ2_K, T::kQ3_K, T::kQ4_K, T::kQ5_K, T::kQ6_K}) {
    const int64_t n = kQK_K;
    const std::vector<uint8_t> w = random_row(t, n, 1234u + at(t));
    std::vector<float> wd(n);
    type_traits(t).to_float(w.data(), wd.data(), n);
    for (int64_t e = 0; e < n; ++e) {
      std::vector<float> onehot(n, 0.0f);
      onehot[e] = 1.0f;
      float got = 0.0f;
      neon().dot.vec_dot_f32[at(t)](n, &got, w.data(), onehot.data());
      ASSERT_NEAR(got, wd[e], 1e-6f * (1.0f + std::fabs(wd[e])))
          << type_traits(t).name << " e=" << e;
    }
  }
}

// ---- ops ---------------------------------------------------------------------------------

TEST(NeonOps, ElementwiseOpsAreBitExactWithRefForEveryTailLength) {
  for (int64_t n : {1, 2, 3, 4, 5, 7, 8, 13, 16, 33}) {
    const std::vector<float> a = normal_floats(n, 10u + n);
    const std::vector<float> b = normal_floats(n, 20u + n);
    std::vector<float> r(n), v(n);
    ref().ops.add(r.data(), a.data(), b.data(), n);
    neon().ops.add(v.data(), a.data(), b.data(), n);
    EXPECT_EQ(r, v) << "add n=" << n;
    ref().ops.mul(r.data(), a.data(), b.data(), n);
    neon().ops.mul(v.data(), a.data(), b.data(), n);
    EXPECT_EQ(r, v) << "mul n=" << n;
    ref().ops.scale(r.data(), a.data(), 0.37f, n);
    neon().ops.scale(v.data(), a.data(), 0.37f, n);
    EXPECT_EQ(r, v) << "scale n=" << n;
    r = b;
    v = b;
    ref().ops.axpy(r.data(), a.data(), -1.25f, n);
    neon().ops.axpy(v.data(), a.data(), -1.25f, n);
    EXPECT_EQ(r, v) << "axpy n=" << n;
  }
}

TEST(NeonOps, RopeIsBitExactWithRefForBothStylesAndPartialRotation) {
  // head_dim 40 with n_rot 40, 24 and 10: halves of 20, 12 and 5 pairs (vector body and tail).
  for (int64_t n_rot : {40, 24, 10}) {
    for (RopeStyle style : {RopeStyle::kNormal, RopeStyle::kNeox}) {
      const int64_t n_heads = 3, head_dim = 40;
      const std::vector<float> x = normal_floats(n_heads * head_dim, 77u + n_rot);
      std::vector<float> cs(n_rot / 2), sn(n_rot / 2);
      for (int64_t i = 0; i < n_rot / 2; ++i) {
        const double theta = 7.0 * std::pow(10000.0, -2.0 * i / n_rot);
        cs[i] = static_cast<float>(std::cos(theta));
        sn[i] = static_cast<float>(std::sin(theta));
      }
      std::vector<float> r = x, v = x;
      ref().ops.rope(r.data(), n_heads, head_dim, n_rot, cs.data(), sn.data(), style);
      neon().ops.rope(v.data(), n_heads, head_dim, n_rot, cs.data(), sn.data(), style);
      EXPECT_EQ(r, v) << "n_rot=" << n_rot << " style=" << static_cast<int>(style);
    }
  }
}

void expect_close(const std::vector<float>& want, const std::vector<float>& got, double rel,
                  double abs, const char* what) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], abs + rel * std::fabs(want[i])) << what << " i=" << i;
  }
}

TEST(NeonOps, ActivationsAgreeWithRef) {
  for (int64_t n : {1, 6, 64, 1001}) {
    std::vector<float> x = normal_floats(n, 30u + n, 4.0f);
    if (n > 6) {
      x[1] = -95.0f;  // e^-x overflows inside silu
      x[2] = 95.0f;
      x[3] = 0.0f;
      x[4] = -12.0f;  // gelu deep in its tail
    }
    const std::vector<float> u = normal_floats(n, 40u + n);
    std::vector<float> r(n), v(n);
    ref().ops.silu(r.data(), x.data(), n);
    neon().ops.silu(v.data(), x.data(), n);
    expect_close(r, v, 4e-7, 1e-37, "silu");
    ref().ops.swiglu(r.data(), x.data(), u.data(), n);
    neon().ops.swiglu(v.data(), x.data(), u.data(), n);
    expect_close(r, v, 6e-7, 1e-37, "swiglu");
    // gelu's 1 + tanh(u) cancels for negative x: both sides carry an absolute error of a few
    // ulp of 1 times |x| there, hence the absolute term.
    ref().ops.gelu_tanh(r.data(), x.data(), n);
    neon().ops.gelu_tanh(v.data(), x.data(), n);
    expect_close(r, v, 6e-7, 1e-6, "gelu_tanh");
    ref().ops.geglu_tanh(r.data(), x.data(), u.data(), n);
    neon().ops.geglu_tanh(v.data(), x.data(), u.data(), n);
    expect_close(r, v, 6e-7, 1e-6, "geglu_tanh");
  }
}

TEST(NeonOps, RmsNormSoftmaxAndDotAgreeWithRef) {
  for (int64_t n : {1, 5, 64, 999, 4096}) {
    const std::vector<float> x = normal_floats(n, 50u + n, 3.0f);
    const std::vector<float> w = normal_floats(n, 60u + n);
    std::vector<float> r(n), v(n);
    ref().ops.rms_norm(r.data(), x.data(), w.data(), n, 1e-5f);
    neon().ops.rms_norm(v.data(), x.data(), w.data(), n, 1e-5f);
    expect_close(r, v, 1e-6, 0.0, "rms_norm");
    ref().ops.rms_norm(r.data(), x.data(), nullptr, n, 1e-6f);
    v = x;
    neon().ops.rms_norm(v.data(), v.data(), nullptr, n, 1e-6f);  // in place
    expect_close(r, v, 1e-6, 0.0, "rms_norm in place, no weight");

    r = x;
    v = x;
    if (n > 4) {
      r[2] = v[2] = -kInf;  // masked positions must come out exactly 0
      r[n - 1] = v[n - 1] = -kInf;
    }
    ref().ops.softmax(r.data(), n);
    neon().ops.softmax(v.data(), n);
    expect_close(r, v, 2e-6, 1e-30, "softmax");
    if (n > 4) {
      EXPECT_EQ(v[2], 0.0f);
      EXPECT_EQ(v[n - 1], 0.0f);
    }
    double total = 0.0;
    for (float p : v) total += p;
    EXPECT_NEAR(total, 1.0, 1e-5);

    double abs_sum = 0.0;
    for (int64_t i = 0; i < n; ++i) abs_sum += std::fabs(static_cast<double>(x[i]) * w[i]);
    EXPECT_NEAR(neon().ops.dot_f32(x.data(), w.data(), n), ref().ops.dot_f32(x.data(), w.data(), n),
                1e-6 * abs_sum);
  }
}

TEST(NeonOps, SoftmaxOfAFullyMaskedRowIsAllZeros) {
  for (int64_t n : {1, 4, 11}) {
    std::vector<float> x(n, -kInf);
    neon().ops.softmax(x.data(), n);
    for (float p : x) EXPECT_EQ(p, 0.0f) << "n=" << n;
  }
}

}  // namespace
}  // namespace pocketlm::kernels

#endif  // POCKETLM_HAVE_NEON_KERNELS
