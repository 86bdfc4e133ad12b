// Table-wide checks of dot kernels against the scalar reference, shared by dot_test.cpp (every
// runnable ISA table) and dot_avx512_emulated_test.cpp (the AVX-512 code built over SIMDe).
//
// Inputs: random weight blocks (random bytes, so every bit pattern a quantizer might never emit
// is reached, with the fp16 scales overwritten by sane finite values), activations drawn from a
// normal distribution with and without large outliers, and sizes of one block up to 4096.
// Tolerances are relative to sum |w_i * a_i| of the dequantized operands, the natural scale of
// the rounding error of a dot product.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/types.h"

namespace pocketlm::kernels::dot_check {

using T = TensorType;

inline int at(T t) { return static_cast<int>(t); }

// The weight types every table must cover, and the activation types they pair with.
inline const std::vector<T>& weight_types() {
  static const std::vector<T> kTypes = {T::kF32,  T::kF16,  T::kBF16, T::kQ4_0, T::kQ4_1,
                                        T::kQ5_0, T::kQ5_1, T::kQ8_0, T::kQ2_K, T::kQ3_K,
                                        T::kQ4_K, T::kQ5_K, T::kQ6_K};
  return kTypes;
}
inline const std::vector<T>& activation_types() {
  static const std::vector<T> kTypes = {T::kF32, T::kF16, T::kBF16, T::kQ8_0, T::kQ8_1, T::kQ8_K};
  return kTypes;
}

// Sizes in elements: one block, an odd number of blocks (SIMD loops that pair blocks must handle
// the leftover), a long row; float types also get ragged lengths for the scalar tails.
inline std::vector<int64_t> sizes_for(T t) {
  const int64_t bs = type_traits(t).block_size;
  if (bs == 1) return {7, 1007, 4096};
  if (bs == 32) return {32, 288, 4096};
  return {256, 768, 4096};
}

inline std::string name_of(T t) { return type_traits(t).name; }

class Rng {
 public:
  explicit Rng(uint32_t seed) : gen_(seed) {}
  float normal() { return normal_(gen_); }
  float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(gen_); }
  uint8_t byte() { return static_cast<uint8_t>(gen_() & 0xff); }
  bool coin() { return (gen_() & 1) != 0; }

 private:
  std::mt19937 gen_;
  std::normal_distribution<float> normal_{0.0f, 1.0f};
};

// A block scale in +-[1e-3, 1e-1] (either sign is legal), as fp16.
inline fp16_t sane_scale(Rng& r) {
  const float d = r.uniform(1e-3f, 1e-1f);
  return fp32_to_fp16(r.coin() ? d : -d);
}
inline fp16_t sane_min(Rng& r) { return fp32_to_fp16(r.uniform(-0.1f, 0.1f)); }

template <typename Block, typename Fix>
void fix_blocks(std::vector<uint8_t>& data, Fix fix) {
  Block* b = reinterpret_cast<Block*>(data.data());
  for (size_t i = 0; i < data.size() / sizeof(Block); ++i) fix(b[i]);
}

// One row of n weights of type t.
inline std::vector<uint8_t> random_weights(T t, int64_t n, Rng& r) {
  std::vector<uint8_t> data(row_size(t, n));
  if (t == T::kF32 || t == T::kF16 || t == T::kBF16) {
    for (int64_t i = 0; i < n; ++i) {
      const float v = r.normal() * 0.1f;
      if (t == T::kF32) std::memcpy(data.data() + 4 * i, &v, 4);
      const uint16_t h = t == T::kF16 ? fp32_to_fp16(v) : fp32_to_bf16(v);
      if (t != T::kF32) std::memcpy(data.data() + 2 * i, &h, 2);
    }
    return data;
  }
  for (uint8_t& b : data) b = r.byte();
  switch (t) {
    case T::kQ4_0:
      fix_blocks<BlockQ4_0>(data, [&](BlockQ4_0& b) { b.d = sane_scale(r); });
      break;
    case T::kQ5_0:
      fix_blocks<BlockQ5_0>(data, [&](BlockQ5_0& b) { b.d = sane_scale(r); });
      break;
    case T::kQ8_0:
      fix_blocks<BlockQ8_0>(data, [&](BlockQ8_0& b) { b.d = sane_scale(r); });
      break;
    case T::kQ3_K:
      fix_blocks<BlockQ3_K>(data, [&](BlockQ3_K& b) { b.d = sane_scale(r); });
      break;
    case T::kQ6_K:
      fix_blocks<BlockQ6_K>(data, [&](BlockQ6_K& b) { b.d = sane_scale(r); });
      break;
    case T::kQ4_1:
      fix_blocks<BlockQ4_1>(data, [&](BlockQ4_1& b) {
        b.d = sane_scale(r);
        b.m = sane_min(r);
      });
      break;
    case T::kQ5_1:
      fix_blocks<BlockQ5_1>(data, [&](BlockQ5_1& b) {
        b.d = sane_scale(r);
        b.m = sane_min(r);
      });
      break;
    // K-quant mins are subtracted: dmin keeps the sign of a scale too.
    case T::kQ2_K:
      fix_blocks<BlockQ2_K>(data, [&](BlockQ2_K& b) {
        b.d = sane_scale(r);
        b.dmin = sane_scale(r);
      });
      break;
    case T::kQ4_K:
      fix_blocks<BlockQ4_K>(data, [&](BlockQ4_K& b) {
        b.d = sane_scale(r);
        b.dmin = sane_scale(r);
      });
      break;
    case T::kQ5_K:
      fix_blocks<BlockQ5_K>(data, [&](BlockQ5_K& b) {
        b.d = sane_scale(r);
        b.dmin = sane_scale(r);
      });
      break;
    default:
      ADD_FAILURE() << "no weight generator for " << name_of(t);
  }
  return data;
}

// Normal activations; with outliers, about one element in 64 is scaled up 50x, as happens in
// real hidden states, which stresses the 8-bit quantizers' scale choice.
inline std::vector<float> random_activations(int64_t n, bool outliers, Rng& r) {
  std::vector<float> a(static_cast<size_t>(n));
  for (float& v : a) {
    v = r.normal();
    if (outliers && (r.byte() & 63) == 0) v *= 50.0f;
  }
  return a;
}

inline std::vector<float> dequantize(T t, const void* data, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  type_traits(t).to_float(data, out.data(), n);
  return out;
}

// sum |w_i * a_i| and sum w_i * a_i, in double.
struct FloatDot {
  double abs_sum = 0.0;
  double sum = 0.0;
};
inline FloatDot float_dot(const std::vector<float>& w, const std::vector<float>& a) {
  FloatDot d;
  for (size_t i = 0; i < w.size(); ++i) {
    const double p = static_cast<double>(w[i]) * static_cast<double>(a[i]);
    d.sum += p;
    d.abs_sum += std::fabs(p);
  }
  return d;
}

// Dots of quantized weights are integer-exact per block in every table; what remains is float
// rounding of the per-block scaling and of the accumulation (ref keeps a float running sum, SIMD
// tables several lanes), far below 1e-5 of sum |w*a| at these lengths. Float weights likewise.
constexpr double kVecDotTolerance = 1e-5;

inline void expect_close(float got, float want, double scale, double tol, const char* what) {
  const double err = std::fabs(static_cast<double>(got) - static_cast<double>(want));
  EXPECT_LE(err, tol * scale + 1e-30)
      << what << ": got " << got << ", want " << want << " (sum|w*a| = " << scale << ")";
}

// vec_dot of `table` against ref, on activations quantized once by the ref quantizer so both
// see the same bytes.
inline void check_vec_dot(const DotKernels& table, const DotKernels& ref, const std::string& isa) {
  Rng r(1234);
  for (T wt : weight_types()) {
    const T at_type = type_traits(wt).vec_dot_type;
    for (int64_t n : sizes_for(wt)) {
      for (bool outliers : {false, true}) {
        SCOPED_TRACE("isa " + isa + ", weights " + name_of(wt) + " x " + name_of(at_type) + ", n " +
                     std::to_string(n) + (outliers ? ", with outliers" : ""));
        ASSERT_NE(table.vec_dot[at(wt)], nullptr);
        ASSERT_NE(ref.quantize_act[at(at_type)], nullptr);
        const std::vector<uint8_t> w = random_weights(wt, n, r);
        const std::vector<float> af = random_activations(n, outliers, r);
        std::vector<uint8_t> aq(row_size(at_type, n));
        ref.quantize_act[at(at_type)](af.data(), aq.data(), n);

        float want = 0.0f, got = 0.0f;
        ref.vec_dot[at(wt)](n, &want, w.data(), aq.data());
        table.vec_dot[at(wt)](n, &got, w.data(), aq.data());
        const FloatDot fd =
            float_dot(dequantize(wt, w.data(), n), dequantize(at_type, aq.data(), n));
        expect_close(got, want, fd.abs_sum, kVecDotTolerance, "vec_dot");
      }
    }
  }
}

inline void check_vec_dot_f32(const DotKernels& table, const DotKernels& ref,
                              const std::string& isa) {
  Rng r(4321);
  for (T wt : weight_types()) {
    for (int64_t n : sizes_for(wt)) {
      for (bool outliers : {false, true}) {
        SCOPED_TRACE("isa " + isa + ", weights " + name_of(wt) + " x f32 activations, n " +
                     std::to_string(n) + (outliers ? ", with outliers" : ""));
        ASSERT_NE(table.vec_dot_f32[at(wt)], nullptr);
        const std::vector<uint8_t> w = random_weights(wt, n, r);
        const std::vector<float> a = random_activations(n, outliers, r);
        float want = 0.0f, got = 0.0f;
        ref.vec_dot_f32[at(wt)](n, &want, w.data(), a.data());
        table.vec_dot_f32[at(wt)](n, &got, w.data(), a.data());
        const FloatDot fd = float_dot(dequantize(wt, w.data(), n), a);
        expect_close(got, want, fd.abs_sum, kVecDotTolerance, "vec_dot_f32");
      }
    }
  }
}

// Rows that reach the corners of the quantizers: an all-zero block, ties for the largest
// magnitude (+m and -m: the first wins in Q8_K), values that land exactly on .5 after scaling
// (amax 127 gives scale 1: round-half-away for Q8_0/Q8_1, half-to-even for Q8_K), tiny values
// (subnormal fp16 scales) and large ones.
inline std::vector<std::vector<float>> quantizer_rows(Rng& r) {
  std::vector<std::vector<float>> rows;
  const int64_t n = 512;
  rows.push_back(random_activations(n, false, r));
  rows.push_back(random_activations(n, true, r));
  rows.push_back(random_activations(n + 7 * 32, true, r));  // Q8_K uses its first 512

  std::vector<float> corners(static_cast<size_t>(n), 0.0f);  // block 0 and super-block 0 stay 0
  for (int64_t i = 256; i < n; ++i) {
    corners[i] = static_cast<float>(r.byte() % 254 - 127) + 0.5f;  // exact .5 ties, |x| < 127
  }
  corners[256 + 3] = 127.0f;    // amax 127 in the first Q8_0 block of the second super-block
  corners[256 + 40] = -127.0f;  // tie with opposite sign, later
  for (int64_t b = 256 + 64; b < n; b += 32) corners[b] = (b / 32) % 2 ? 127.0f : -127.0f;
  rows.push_back(corners);

  std::vector<float> tiny = random_activations(n, false, r), huge = tiny;
  for (float& v : tiny) v *= 1e-6f;
  for (float& v : huge) v *= 1e5f;
  rows.push_back(tiny);
  rows.push_back(huge);
  return rows;
}

// Quantizers are compared byte for byte: every table reproduces the reference's float
// operations and rounding exactly for finite inputs.
inline void check_quantize_act(const DotKernels& table, const DotKernels& ref,
                               const std::string& isa) {
  Rng r(99);
  const std::vector<std::vector<float>> rows = quantizer_rows(r);
  for (T at_type : activation_types()) {
    ASSERT_NE(table.quantize_act[at(at_type)], nullptr) << isa << " " << name_of(at_type);
    const int64_t bs = type_traits(at_type).block_size;
    for (size_t ri = 0; ri < rows.size(); ++ri) {
      const int64_t n = static_cast<int64_t>(rows[ri].size()) / bs * bs;
      SCOPED_TRACE("isa " + isa + ", quantize_act " + name_of(at_type) + ", row " +
                   std::to_string(ri) + ", n " + std::to_string(n));
      const size_t bytes = row_size(at_type, n);
      std::vector<uint8_t> want(bytes + 16, 0xcd), got(bytes + 16, 0xcd);
      ref.quantize_act[at(at_type)](rows[ri].data(), want.data(), n);
      table.quantize_act[at(at_type)](rows[ri].data(), got.data(), n);
      size_t first_diff = bytes + 16;
      for (size_t i = 0; i < got.size() && first_diff == bytes + 16; ++i) {
        if (got[i] != want[i]) first_diff = i;
      }
      EXPECT_EQ(first_diff, bytes + 16)
          << "first differing byte " << first_diff << " of " << bytes << " (block "
          << first_diff / type_traits(at_type).type_size << "): got " << int(got[first_diff])
          << ", want " << int(want[first_diff]);
    }
  }
}

}  // namespace pocketlm::kernels::dot_check
