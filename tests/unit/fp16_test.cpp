// Half and bfloat16 conversions, checked exhaustively over all 65536 encodings: exact round trips,
// and round-to-nearest-even at every midpoint between neighbouring values. The golden files of
// quant_test add numpy's own results for the same functions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "quant/fp16.h"

namespace pocketlm {
namespace {

bool is_f16_nan(uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0; }

TEST(Fp16Test, KnownValues) {
  EXPECT_EQ(fp16_to_fp32(0x3c00), 1.0f);
  EXPECT_EQ(fp16_to_fp32(0xc000), -2.0f);
  EXPECT_EQ(fp16_to_fp32(0x7bff), 65504.0f);
  EXPECT_EQ(fp16_to_fp32(0x0001), 0x1p-24f);
  EXPECT_EQ(fp16_to_fp32(0x0400), 0x1p-14f);
  EXPECT_EQ(f32_bits(fp16_to_fp32(0x8000)), 0x80000000u);
  EXPECT_TRUE(std::isinf(fp16_to_fp32(0xfc00)) && fp16_to_fp32(0xfc00) < 0);
  EXPECT_EQ(fp32_to_fp16(1.0f), 0x3c00);
  EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7bff);
  EXPECT_EQ(fp32_to_fp16(65519.99f), 0x7bff);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);  // the tie above max finite rounds to Inf
  EXPECT_EQ(fp32_to_fp16(-1e9f), 0xfc00);
  EXPECT_EQ(fp32_to_fp16(0x1p-25f), 0x0000);  // tie between 0 and the smallest subnormal: even
  EXPECT_EQ(fp32_to_fp16(0x1.000002p-25f), 0x0001);
  EXPECT_EQ(fp32_to_fp16(0x3p-25f), 0x0002);    // tie between 1 and 2 units: even
  EXPECT_EQ(fp32_to_fp16(1e-40f), 0x0000);      // float subnormal
  EXPECT_EQ(fp32_to_fp16(0x1.002p0f), 0x3c00);  // 1 + 2^-11: tie, stays at even 1
  EXPECT_EQ(fp32_to_fp16(0x1.006p0f), 0x3c02);  // 1 + 3 * 2^-11: tie, up to even
}

TEST(Fp16Test, NanKeepsPayloadAsNumpyDoes) {
  EXPECT_EQ(fp32_to_fp16(f32_from_bits(0x7fc00000u)), 0x7e00);
  EXPECT_EQ(fp32_to_fp16(f32_from_bits(0xffc00000u)), 0xfe00);
  EXPECT_EQ(fp32_to_fp16(f32_from_bits(0x7fc02000u)), 0x7e01);
  // Signalling NaNs stay signalling; a payload that lives only in the dropped low bits still
  // yields a NaN, never Inf.
  EXPECT_EQ(fp32_to_fp16(f32_from_bits(0x7fa00000u)), 0x7d00);
  EXPECT_EQ(fp32_to_fp16(f32_from_bits(0x7f800001u)), 0x7c01);
  EXPECT_EQ(f32_bits(fp16_to_fp32(0x7c01)), 0x7f802000u);
}

TEST(Fp16Test, EveryHalfRoundTripsExactly) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const float f = fp16_to_fp32(static_cast<fp16_t>(h));
    EXPECT_EQ(std::isnan(f), is_f16_nan(static_cast<uint16_t>(h))) << std::hex << h;
    ASSERT_EQ(fp32_to_fp16(f), h) << std::hex << h;
  }
}

TEST(Fp16Test, EveryMidpointRoundsToEven) {
  for (uint32_t sign : {0x0000u, 0x8000u}) {
    for (uint32_t h = 0; h < 0x7bff; ++h) {  // each finite half and the next one up
      const float lo = fp16_to_fp32(static_cast<fp16_t>(sign | h));
      const float hi = fp16_to_fp32(static_cast<fp16_t>(sign | (h + 1)));
      const float mid = lo + (hi - lo) / 2;  // exact: halves have 11 significant bits
      const uint32_t even = (h & 1) ? h + 1 : h;
      ASSERT_EQ(fp32_to_fp16(mid), sign | even) << std::hex << h;
      ASSERT_EQ(fp32_to_fp16(std::nextafter(mid, lo)), sign | h) << std::hex << h;
      ASSERT_EQ(fp32_to_fp16(std::nextafter(mid, hi)), sign | (h + 1)) << std::hex << h;
    }
  }
}

TEST(Fp16Test, Bf16KnownValues) {
  EXPECT_EQ(bf16_to_fp32(0x3f80), 1.0f);
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(fp32_to_bf16(f32_from_bits(0x3f808000u)), 0x3f80);  // tie: even
  EXPECT_EQ(fp32_to_bf16(f32_from_bits(0x3f818000u)), 0x3f82);  // tie: up to even
  EXPECT_EQ(fp32_to_bf16(f32_from_bits(0x7f7fffffu)), 0x7f80);  // max float rounds to Inf
  EXPECT_EQ(fp32_to_bf16(f32_from_bits(0x7f800001u)), 0x7fc0);  // NaN is forced quiet
  EXPECT_EQ(fp32_to_bf16(f32_from_bits(0xff812345u)), 0xffc1);
}

TEST(Fp16Test, Bf16EveryValueRoundTripsAndMidpointsRoundToEven) {
  for (uint32_t b = 0; b <= 0xffff; ++b) {
    const float f = bf16_to_fp32(static_cast<bf16_t>(b));
    ASSERT_EQ(f32_bits(f), b << 16);
    if (std::isnan(f)) {
      ASSERT_EQ(fp32_to_bf16(f), b | 0x40u) << std::hex << b;
      continue;
    }
    ASSERT_EQ(fp32_to_bf16(f), b) << std::hex << b;
    if ((b & 0x7fffu) >= 0x7f80u) continue;  // Inf has no upper neighbour
    const uint32_t mid = (b << 16) | 0x8000u;
    const uint32_t up = (b & 1u) ? b + 1 : b;
    ASSERT_EQ(fp32_to_bf16(f32_from_bits(mid)), up) << std::hex << b;
    ASSERT_EQ(fp32_to_bf16(f32_from_bits(mid - 1)), b) << std::hex << b;
    ASSERT_EQ(fp32_to_bf16(f32_from_bits(mid + 1)), b + 1) << std::hex << b;
  }
}

}  // namespace
}  // namespace pocketlm
