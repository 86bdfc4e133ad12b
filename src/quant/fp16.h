// Half-precision (IEEE binary16) and bfloat16 conversions, scalar and bit-exact.
//
// fp32_to_fp16 rounds to nearest even and keeps subnormals, infinities and NaN, exactly as numpy's
// astype(float16) does; the quantizers must match the `gguf` package bit for bit, so these are
// written out in integer arithmetic instead of relying on a compiler intrinsic that may differ.
#pragma once

#include <cstdint>
#include <cstring>

namespace pocketlm {

using fp16_t = uint16_t;  // raw binary16 bits, as stored in GGUF blocks
using bf16_t = uint16_t;  // raw bfloat16 bits

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline float fp16_to_fp32(fp16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    if (mant == 0) return f32_from_bits(sign);
    // Subnormal half: value = mant * 2^-24, exact in float.
    float v = static_cast<float>(mant) * 5.9604644775390625e-08f;
    return sign ? -v : v;
  }
  if (exp == 31) return f32_from_bits(sign | 0x7f800000u | (mant << 13));
  return f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
}

inline fp16_t fp32_to_fp16(float f) {
  const uint32_t x = f32_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t absx = x & 0x7fffffffu;
  if (absx > 0x7f800000u) {
    // NaN: numpy keeps the top 10 payload bits as they are (a signalling NaN stays signalling)
    // and only forces a non-zero mantissa so the result cannot collapse into Inf.
    uint32_t mant = (absx >> 13) & 0x3ffu;
    if (mant == 0) mant = 1;
    return static_cast<fp16_t>(sign | 0x7c00u | mant);
  }
  if (absx >= 0x477ff000u) return static_cast<fp16_t>(sign | 0x7c00u);  // Inf, or rounds to it
  if (absx < 0x38800000u) {  // below the smallest normal half: subnormal or zero
    if (absx < 0x33000000u) return static_cast<fp16_t>(sign);  // below half the smallest subnormal
    const uint32_t e = absx >> 23;
    const uint32_t m = (absx & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - e;  // result counts units of 2^-24: m * 2^(e-150) / 2^-24
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (r & 1u))) ++r;
    return static_cast<fp16_t>(sign | r);
  }
  uint32_t r = absx - 0x38000000u;  // rebias exponent 127 -> 15 (in place, mantissa kept)
  const uint32_t rem = r & 0x1fffu;
  r >>= 13;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;  // carry may bump the exponent: correct
  return static_cast<fp16_t>(sign | r);
}

inline float bf16_to_fp32(bf16_t b) { return f32_from_bits(static_cast<uint32_t>(b) << 16); }

// Round to nearest even; NaN stays NaN (forced quiet), as the gguf package's BF16 quantizer does.
inline bf16_t fp32_to_bf16(float f) {
  uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<bf16_t>((u >> 16) | 64u);
  return static_cast<bf16_t>((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
}

}  // namespace pocketlm
