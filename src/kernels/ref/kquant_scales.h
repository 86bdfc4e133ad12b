// Unpacking of the 6-bit scales that Q3_K, Q4_K and Q5_K pack into 12 bytes.
//
// Shared by the scalar and SIMD dot kernels. The functions are `static` on purpose: this header is
// included by translation units compiled for different instruction sets (-mavx2, -mavx512f, ...),
// and an ordinary inline function would be merged by the linker into one copy that may carry
// instructions the running CPU lacks.
#pragma once

#include <cstdint>
#include <cstring>

namespace pocketlm::kernels {

// Q4_K / Q5_K: out[0..7] = the 8 sub-block scales, out[8..15] = the 8 sub-block mins (0..63).
// Bytes 0..3 hold scales 0..3 and bytes 4..7 mins 0..3 in their low 6 bits; bytes 8..11 hold the
// low 4 bits of scales 4..7 (low nibble) and mins 4..7 (high nibble), whose top 2 bits sit in the
// spare top bits of bytes 0..3 (scales) and 4..7 (mins). Done on 32-bit words, four at a time.
static inline void unpack_q4_k_scales(const uint8_t packed[12], uint8_t out[16]) {
  constexpr uint32_t kLow6 = 0x3f3f3f3fu;
  constexpr uint32_t kLow4 = 0x0f0f0f0fu;
  constexpr uint32_t kLow2 = 0x03030303u;
  uint32_t p[3];
  std::memcpy(p, packed, 12);
  uint32_t u[4];
  u[0] = p[0] & kLow6;                                          // scales 0..3
  u[1] = (p[2] & kLow4) | (((p[0] >> 6) & kLow2) << 4);         // scales 4..7
  u[2] = p[1] & kLow6;                                          // mins 0..3
  u[3] = ((p[2] >> 4) & kLow4) | (((p[1] >> 6) & kLow2) << 4);  // mins 4..7
  std::memcpy(out, u, 16);
}

// Q3_K: the 16 sub-block scales as signed values (stored 6-bit, biased by 32). Bytes 0..7 hold
// the low 4 bits of scales 0..7 (low nibbles) and 8..15 (high nibbles); bytes 8..11 hold the top
// 2 bits, scale i's in byte 8 + i % 4 at bit 2 * (i / 4).
static inline void unpack_q3_k_scales(const uint8_t packed[12], int8_t out[16]) {
  constexpr uint32_t kLow4 = 0x0f0f0f0fu;
  constexpr uint32_t kLow2 = 0x03030303u;
  uint32_t p[3];
  std::memcpy(p, packed, 12);
  uint32_t u[4];
  u[0] = (p[0] & kLow4) | (((p[2] >> 0) & kLow2) << 4);
  u[1] = (p[1] & kLow4) | (((p[2] >> 2) & kLow2) << 4);
  u[2] = ((p[0] >> 4) & kLow4) | (((p[2] >> 4) & kLow2) << 4);
  u[3] = ((p[1] >> 4) & kLow4) | (((p[2] >> 6) & kLow2) << 4);
  uint8_t raw[16];
  std::memcpy(raw, u, 16);
  for (int i = 0; i < 16; ++i) out[i] = static_cast<int8_t>(raw[i] - 32);
}

}  // namespace pocketlm::kernels
