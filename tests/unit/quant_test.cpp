// Scalar quantizers and dequantizers against the golden data of scripts/gen_quant_golden.py (the
// `gguf` package's numpy code, and independent numpy references for Q8_1/Q8_K), plus round-trip
// error bounds, hand-checked block semantics and the consistency of the type-traits table.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quants.h"
#include "quant/types.h"

namespace pocketlm {
namespace {

std::optional<std::vector<uint8_t>> read_golden(const std::string& file) {
  const std::string path = std::string(POCKETLM_SOURCE_DIR) + "/tests/data/quant/" + file;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::vector<float> as_floats(const std::vector<uint8_t>& bytes) {
  std::vector<float> f(bytes.size() / sizeof(float));
  std::memcpy(f.data(), bytes.data(), f.size() * sizeof(float));
  return f;
}

std::string hex(const uint8_t* p, size_t n) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", p[i]);
    s += buf;
  }
  return s;
}

struct GoldenCase {
  const char* name;  // file prefix, also ggml's type name
  TensorType type;
  bool has_quantizer;
  bool exact_nan;  // plain float types: NaN payloads are part of the contract
};

const GoldenCase kGoldenCases[] = {
    {"f32", TensorType::kF32, true, true},     {"f16", TensorType::kF16, true, true},
    {"bf16", TensorType::kBF16, true, true},   {"q4_0", TensorType::kQ4_0, true, false},
    {"q4_1", TensorType::kQ4_1, true, false},  {"q5_0", TensorType::kQ5_0, true, false},
    {"q5_1", TensorType::kQ5_1, true, false},  {"q8_0", TensorType::kQ8_0, true, false},
    {"q8_1", TensorType::kQ8_1, true, false},  {"q8_K", TensorType::kQ8_K, true, false},
    {"q2_K", TensorType::kQ2_K, false, false}, {"q3_K", TensorType::kQ3_K, false, false},
    {"q4_K", TensorType::kQ4_K, false, false}, {"q5_K", TensorType::kQ5_K, false, false},
    {"q6_K", TensorType::kQ6_K, false, false},
};

class QuantGoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(QuantGoldenTest, QuantizeMatchesReferenceBytes) {
  const GoldenCase& c = GetParam();
  const TypeTraits& tr = type_traits(c.type);
  if (!c.has_quantizer) {
    // K-quant weights are quantized by the offline tool, not by this layer; keep that explicit.
    EXPECT_EQ(tr.from_float, nullptr) << c.name;
    return;
  }
  ASSERT_NE(tr.from_float, nullptr) << c.name;
  const auto input = read_golden(std::string(c.name) + ".input.f32");
  const auto expected = read_golden(std::string(c.name) + ".quant.bin");
  ASSERT_TRUE(input && expected) << "missing golden files for " << c.name
                                 << " (scripts/gen_quant_golden.py writes them)";
  const std::vector<float> x = as_floats(*input);
  const auto n = static_cast<int64_t>(x.size());
  ASSERT_GT(n, 0);
  ASSERT_EQ(n % tr.block_size, 0) << c.name;
  ASSERT_EQ(expected->size(), row_size(c.type, n)) << c.name;

  std::vector<uint8_t> got(expected->size(), 0xAA);
  tr.from_float(x.data(), got.data(), n);

  int mismatches = 0;
  for (size_t b = 0; b < got.size() / tr.type_size; ++b) {
    const uint8_t* g = got.data() + b * tr.type_size;
    const uint8_t* e = expected->data() + b * tr.type_size;
    if (std::memcmp(g, e, tr.type_size) != 0 && ++mismatches <= 3) {
      ADD_FAILURE() << c.name << " block " << b << " differs\n  ours: " << hex(g, tr.type_size)
                    << "\n  gguf: " << hex(e, tr.type_size);
    }
  }
  EXPECT_EQ(mismatches, 0) << c.name << ": of " << got.size() / tr.type_size << " blocks";
}

TEST_P(QuantGoldenTest, DequantizeMatchesReferenceBits) {
  const GoldenCase& c = GetParam();
  const TypeTraits& tr = type_traits(c.type);
  ASSERT_NE(tr.to_float, nullptr) << c.name;
  const auto blocks = read_golden(std::string(c.name) + ".blocks.bin");
  const auto expected_bytes = read_golden(std::string(c.name) + ".dequant.f32");
  ASSERT_TRUE(blocks && expected_bytes) << "missing golden files for " << c.name;
  const std::vector<float> expected = as_floats(*expected_bytes);
  const auto n = static_cast<int64_t>(expected.size());
  ASSERT_EQ(n % tr.block_size, 0) << c.name;
  ASSERT_EQ(blocks->size(), row_size(c.type, n)) << c.name;

  std::vector<float> got(expected.size(), -1.0f);
  tr.to_float(blocks->data(), got.data(), n);

  int mismatches = 0;
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t g = f32_bits(got[i]);
    const uint32_t e = f32_bits(expected[i]);
    // Quantized types produce NaN only from arithmetic (Inf scale times 0), whose sign and payload
    // are the FPU's choice, so any NaN matches any NaN there; everything else is bit for bit.
    const bool same = g == e || (!c.exact_nan && std::isnan(got[i]) && std::isnan(expected[i]));
    if (!same && ++mismatches <= 5) {
      ADD_FAILURE() << c.name << " element " << i << " (block " << i / tr.block_size << "): ours "
                    << got[i] << " (0x" << std::hex << g << "), reference " << expected[i] << " (0x"
                    << e << ")" << std::dec;
    }
  }
  EXPECT_EQ(mismatches, 0) << c.name << ": of " << n << " elements";
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantGoldenTest, ::testing::ValuesIn(kGoldenCases),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           return std::string(info.param.name);
                         });

// Deterministic inputs without <random>'s implementation-defined distributions: a 64-bit LCG
// mapped to [-1, 1), scaled per block so blocks of very different magnitude meet.
std::vector<float> test_signal(int64_t n, int block) {
  std::vector<float> x(static_cast<size_t>(n));
  uint64_t s = 0x243F6A8885A308D3ull;
  float scale = 1.0f;
  for (int64_t i = 0; i < n; ++i) {
    if (i % block == 0) scale = std::ldexp(1.0f, static_cast<int>(i / block % 12) - 6);
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x[i] = scale * (static_cast<float>(s >> 40) / 8388608.0f - 1.0f);
  }
  return x;
}

struct RoundTripCase {
  TensorType type;
  // Worst-case error of one element in units of the block's step d, before the half rounding of
  // d (and m) is accounted for: 0.5 where codes round, 1 where the top code is clipped (Q4_0 and
  // Q5_0 map +amax onto the unrepresentable +8/+16), 1 for the truncating affine types' top end.
  float steps;
  float levels;  // d = amax / levels for symmetric types, (max - min) / levels for affine ones
  bool affine;
};

TEST(QuantRoundTripTest, ErrorWithinOneStep) {
  const RoundTripCase cases[] = {
      {TensorType::kQ4_0, 1.0f, 8, false},   {TensorType::kQ5_0, 1.0f, 16, false},
      {TensorType::kQ8_0, 0.5f, 127, false}, {TensorType::kQ8_1, 0.5f, 127, false},
      {TensorType::kQ8_K, 0.5f, 127, false}, {TensorType::kQ4_1, 0.5f, 15, true},
      {TensorType::kQ5_1, 0.5f, 31, true},
  };
  for (const RoundTripCase& c : cases) {
    const TypeTraits& tr = type_traits(c.type);
    const int bs = static_cast<int>(tr.block_size);
    const int64_t n = 24 * 256;
    const std::vector<float> x = test_signal(n, bs);
    std::vector<uint8_t> q(row_size(c.type, n));
    std::vector<float> y(static_cast<size_t>(n));
    tr.from_float(x.data(), q.data(), n);
    tr.to_float(q.data(), y.data(), n);
    for (int64_t b = 0; b < n / bs; ++b) {
      const float* xb = x.data() + b * bs;
      float mn = xb[0], mx = xb[0], amax = 0.0f;
      for (int j = 0; j < bs; ++j) {
        mn = std::fmin(mn, xb[j]);
        mx = std::fmax(mx, xb[j]);
        amax = std::fmax(amax, std::fabs(xb[j]));
      }
      const float d = (c.affine ? mx - mn : amax) / c.levels;
      // Half storage of d moves every code's value by up to levels * d * 2^-11, and of m by
      // |min| * 2^-11; Q8_K keeps d in float.
      const float half_err = c.type == TensorType::kQ8_K
                                 ? 1e-6f * amax
                                 : c.levels * d * 0x1p-11f + std::fabs(mn) * 0x1p-11f;
      // Plus slack for the float rounding of x*id and of the dequantization itself.
      const float bound = c.steps * d + half_err + 1e-5f * amax;
      for (int j = 0; j < bs; ++j) {
        ASSERT_LE(std::fabs(xb[j] - y[b * bs + j]), bound)
            << tr.name << " block " << b << " element " << j << ": " << xb[j] << " -> "
            << y[b * bs + j];
      }
    }
  }
}

TEST(QuantRoundTripTest, FloatTypesRelativeError) {
  const int64_t n = 4096;
  const std::vector<float> x = test_signal(n, 256);
  for (auto [type, rel] : {std::pair{TensorType::kF32, 0.0f}, std::pair{TensorType::kF16, 0x1p-11f},
                           std::pair{TensorType::kBF16, 0x1p-8f}}) {
    const TypeTraits& tr = type_traits(type);
    std::vector<uint8_t> q(row_size(type, n));
    std::vector<float> y(n);
    tr.from_float(x.data(), q.data(), n);
    tr.to_float(q.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      // The absolute floor covers inputs that land in the half subnormal range.
      ASSERT_LE(std::fabs(x[i] - y[i]), rel * std::fabs(x[i]) + 0x1p-25f) << tr.name << " " << i;
    }
  }
}

TEST(QuantSemanticsTest, Q4_0ZeroBlockIsAllMidCodes) {
  std::vector<float> x(kQK4_0, 0.0f);
  BlockQ4_0 b{};
  quantize_row_q4_0(x.data(), &b, kQK4_0);
  EXPECT_EQ(b.d, 0x8000u);  // +0 / -8 is -0, and the reference stores that sign too
  for (uint8_t q : b.qs) EXPECT_EQ(q, 0x88);
}

TEST(QuantSemanticsTest, Q4_0ScaleTakesSignOfLargestMagnitude) {
  std::vector<float> x(kQK4_0, 1.0f);
  x[5] = -8.0f;  // largest magnitude, negative: d = -8 / -8 = +1
  x[9] = 8.0f;   // same magnitude later: does not win
  BlockQ4_0 b{};
  quantize_row_q4_0(x.data(), &b, kQK4_0);
  EXPECT_EQ(fp16_to_fp32(b.d), 1.0f);
  EXPECT_EQ(b.qs[5] & 0x0f, 0);   // -8 + 8
  EXPECT_EQ(b.qs[9] & 0x0f, 15);  // +8 + 8 = 16, clipped to 15
  EXPECT_EQ(b.qs[0] & 0x0f, 9);   // trunc(1 + 8.5)
}

TEST(QuantSemanticsTest, Q8_1StoresScaledSumOfCodes) {
  std::vector<float> x(2 * kQK8_1);
  for (int i = 0; i < 2 * kQK8_1; ++i) x[i] = static_cast<float>(i % 7) - 2.5f;
  BlockQ8_1 b[2];
  quantize_row_q8_1(x.data(), b, 2 * kQK8_1);
  for (const BlockQ8_1& blk : b) {
    int sum = 0;
    for (int8_t q : blk.qs) sum += q;
    const float d = 3.5f / 127.0f;  // amax = 3.5
    EXPECT_EQ(blk.d, fp32_to_fp16(d));
    EXPECT_EQ(blk.s, fp32_to_fp16(static_cast<float>(sum) * d));
  }
  EXPECT_EQ(b[0].qs[6], 127);  // 3.5 -> 127
  EXPECT_EQ(b[0].qs[0], -91);  // -2.5 * 127 / 3.5 = -90.71
}

TEST(QuantSemanticsTest, Q8_KScaleIsNegativeForPositiveMaxAndBsumsAddUp) {
  std::vector<float> x(kQK_K);
  for (int i = 0; i < kQK_K; ++i) x[i] = static_cast<float>((i * 37) % 101 - 50) / 10.0f;
  x[17] = 12.7f;  // the largest magnitude, positive
  BlockQ8_K b{};
  quantize_row_q8_K(x.data(), &b, kQK_K);
  EXPECT_LT(b.d, 0.0f);
  EXPECT_EQ(b.qs[17], -127);
  for (int g = 0; g < kQK_K / 16; ++g) {
    int sum = 0;
    for (int l = 0; l < 16; ++l) sum += b.qs[g * 16 + l];
    EXPECT_EQ(b.bsums[g], sum) << "group " << g;
  }
  std::vector<float> y(kQK_K);
  dequantize_row_q8_K(&b, y.data(), kQK_K);
  for (int i = 0; i < kQK_K; ++i) EXPECT_NEAR(y[i], x[i], 0.051f) << i;
}

TEST(QuantSemanticsTest, Q8_KZeroBlockIsAllZero) {
  std::vector<float> x(kQK_K, 0.0f);
  BlockQ8_K b;
  std::memset(&b, 0x5A, sizeof(b));
  quantize_row_q8_K(x.data(), &b, kQK_K);
  EXPECT_EQ(b.d, 0.0f);
  for (int8_t q : b.qs) EXPECT_EQ(q, 0);
  for (int16_t s : b.bsums) EXPECT_EQ(s, 0);
}

TEST(QuantSemanticsTest, Q8_KRoundsHalfToEven) {
  std::vector<float> x(kQK_K, 0.0f);
  x[0] = -127.0f;  // iscale = 1
  x[1] = 2.5f;
  x[2] = 3.5f;
  x[3] = -2.5f;
  BlockQ8_K b{};
  quantize_row_q8_K(x.data(), &b, kQK_K);
  EXPECT_EQ(b.d, 1.0f);
  EXPECT_EQ(b.qs[1], 2);
  EXPECT_EQ(b.qs[2], 4);
  EXPECT_EQ(b.qs[3], -2);
}

TEST(QuantSemanticsTest, Q4_KUsesPackedSixBitScales) {
  BlockQ4_K b{};
  b.d = fp32_to_fp16(0.5f);
  b.dmin = fp32_to_fp16(0.25f);
  // Sub-block 5 (j >= 4): scale = (s[9] & 15) | (s[1] >> 6) << 4, min = (s[9] >> 4) | (s[5] >> 6)
  // << 4.
  b.scales[9] = 0x3A;                                // scale low 0xA, min low 0x3
  b.scales[1] = 0x80;                                // scale high 2 -> scale 0x2A = 42
  b.scales[5] = 0x40;                                // min high 1 -> min 0x13 = 19
  for (int l = 0; l < 32; ++l) b.qs[64 + l] = 0x70;  // high nibbles: sub-block 5 codes are 7
  std::vector<float> y(kQK_K);
  dequantize_row_q4_K(&b, y.data(), kQK_K);
  EXPECT_EQ(y[5 * 32], 0.5f * 42 * 7 - 0.25f * 19);
  EXPECT_EQ(y[4 * 32], 0.0f);  // sub-block 4: scale and min 0
}

TEST(QuantTraitsTest, SizesMatchBlockLayouts) {
  struct Expect {
    TensorType type;
    int64_t block;
    size_t size;
  };
  const Expect expect[] = {
      {TensorType::kF32, 1, 4},
      {TensorType::kF16, 1, 2},
      {TensorType::kBF16, 1, 2},
      {TensorType::kQ4_0, kQK4_0, sizeof(BlockQ4_0)},
      {TensorType::kQ4_1, kQK4_1, sizeof(BlockQ4_1)},
      {TensorType::kQ5_0, kQK5_0, sizeof(BlockQ5_0)},
      {TensorType::kQ5_1, kQK5_1, sizeof(BlockQ5_1)},
      {TensorType::kQ8_0, kQK8_0, sizeof(BlockQ8_0)},
      {TensorType::kQ8_1, kQK8_1, sizeof(BlockQ8_1)},
      {TensorType::kQ2_K, kQK_K, sizeof(BlockQ2_K)},
      {TensorType::kQ3_K, kQK_K, sizeof(BlockQ3_K)},
      {TensorType::kQ4_K, kQK_K, sizeof(BlockQ4_K)},
      {TensorType::kQ5_K, kQK_K, sizeof(BlockQ5_K)},
      {TensorType::kQ6_K, kQK_K, sizeof(BlockQ6_K)},
      {TensorType::kQ8_K, kQK_K, sizeof(BlockQ8_K)},
  };
  for (const Expect& e : expect) {
    const TypeTraits& tr = type_traits(e.type);
    EXPECT_EQ(tr.block_size, e.block) << tr.name;
    EXPECT_EQ(tr.type_size, e.size) << tr.name;
    EXPECT_NE(tr.to_float, nullptr) << tr.name;
    EXPECT_EQ(tr.is_quantized, e.block > 1) << tr.name;
  }
  EXPECT_EQ(sizeof(BlockQ8_1), 36u);  // ggml's layout, not the gguf package's legacy 40
  EXPECT_EQ(row_size(TensorType::kQ4_K, 4096), 16u * 144u);
  EXPECT_EQ(row_size(TensorType::kF16, 10), 20u);
}

TEST(QuantTraitsTest, TableIsIndexedById) {
  int known = 0;
  for (uint32_t id = 0; id < kTensorTypeIdLimit; ++id) {
    const TypeTraits* tr = find_type_traits(id);
    if (tr == nullptr) continue;
    ++known;
    EXPECT_EQ(static_cast<uint32_t>(tr->type), id);
    EXPECT_GT(tr->block_size, 0);
    EXPECT_GT(tr->type_size, 0u);
    // Every quantizer has its dequantizer, and the activation type of a dot product is itself
    // quantizable (activations are quantized at run time).
    if (tr->from_float != nullptr) {
      EXPECT_NE(tr->to_float, nullptr) << tr->name;
    }
    if (tr->to_float != nullptr) {
      const TypeTraits* vd = find_type_traits(static_cast<uint32_t>(tr->vec_dot_type));
      ASSERT_NE(vd, nullptr) << tr->name;
      EXPECT_NE(vd->from_float, nullptr) << tr->name << " pairs with " << vd->name;
    }
    const auto by_name = tensor_type_from_name(tr->name);
    ASSERT_TRUE(by_name.has_value()) << tr->name;
    EXPECT_EQ(*by_name, tr->type);
  }
  EXPECT_EQ(known, 32);
}

TEST(QuantTraitsTest, RejectsUnknownIds) {
  for (uint32_t id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 40u, 63u, 64u, 1000u, 0xFFFFFFFFu}) {
    EXPECT_EQ(find_type_traits(id), nullptr) << id;
  }
}

TEST(QuantTraitsTest, NamesAreCaseInsensitive) {
  EXPECT_EQ(tensor_type_from_name("q4_K"), TensorType::kQ4_K);
  EXPECT_EQ(tensor_type_from_name("Q4_K"), TensorType::kQ4_K);
  EXPECT_EQ(tensor_type_from_name("F16"), TensorType::kF16);
  EXPECT_EQ(tensor_type_from_name("bf16"), TensorType::kBF16);
  EXPECT_EQ(tensor_type_from_name("Q8_0"), TensorType::kQ8_0);
  EXPECT_FALSE(tensor_type_from_name("q4_3").has_value());
  EXPECT_FALSE(tensor_type_from_name("q4").has_value());
  EXPECT_FALSE(tensor_type_from_name("").has_value());
  EXPECT_FALSE(tensor_type_from_name("q4_k_m").has_value());
}

}  // namespace
}  // namespace pocketlm
