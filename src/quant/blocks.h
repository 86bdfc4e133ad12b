// Block layouts of the quantized tensor types, byte-compatible with GGUF files.
//
// Each struct is exactly the on-disk block; tensors are arrays of these. The static_asserts pin
// the sizes that the GGUF format fixes. Element order inside a block follows the format, which
// is why several types store the low nibbles of the first half and then the second half.
#pragma once

#include <cstdint>

#include "quant/fp16.h"

namespace pocketlm {

inline constexpr int kQK4_0 = 32;
inline constexpr int kQK4_1 = 32;
inline constexpr int kQK5_0 = 32;
inline constexpr int kQK5_1 = 32;
inline constexpr int kQK8_0 = 32;
inline constexpr int kQK8_1 = 32;
inline constexpr int kQK_K = 256;       // super-block size of the K-quants
inline constexpr int kKScaleSize = 12;  // packed 6-bit scales/mins of Q4_K and Q5_K

struct BlockQ4_0 {
  fp16_t d;               // scale
  uint8_t qs[kQK4_0 / 2];  // nibbles: low = elements 0..15, high = 16..31
};
struct BlockQ4_1 {
  fp16_t d;  // scale
  fp16_t m;  // min
  uint8_t qs[kQK4_1 / 2];
};
struct BlockQ5_0 {
  fp16_t d;
  uint8_t qh[4];  // 5th bit of each of the 32 elements
  uint8_t qs[kQK5_0 / 2];
};
struct BlockQ5_1 {
  fp16_t d;
  fp16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK5_1 / 2];
};
struct BlockQ8_0 {
  fp16_t d;
  int8_t qs[kQK8_0];
};
struct BlockQ8_1 {
  fp16_t d;  // scale
  fp16_t s;  // d * sum(qs): lets Q4_1/Q5_1 dot products fold in their min
  int8_t qs[kQK8_1];
};
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];  // 4-bit scale (low) and 4-bit min (high) per 16 elements
  uint8_t qs[kQK_K / 4];       // 2-bit quants
  fp16_t d;                    // super-block scale of the scales
  fp16_t dmin;                 // super-block scale of the mins
};
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];  // high bit of each quant
  uint8_t qs[kQK_K / 4];     // low 2 bits
  uint8_t scales[12];        // 16 6-bit scales, packed
  fp16_t d;
};
struct BlockQ4_K {
  fp16_t d;
  fp16_t dmin;
  uint8_t scales[kKScaleSize];  // 8 6-bit scales and 8 6-bit mins, packed
  uint8_t qs[kQK_K / 2];
};
struct BlockQ5_K {
  fp16_t d;
  fp16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];      // low 4 bits
  uint8_t qh[kQK_K / 4];      // high 2 bits
  int8_t scales[kQK_K / 16];  // 8-bit scales
  fp16_t d;
};
struct BlockQ8_K {
  float d;                     // float, not half: activations need the range
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];   // sums of each 16 quants, used to apply K-quant mins cheaply
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace pocketlm
