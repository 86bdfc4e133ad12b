// The search-based quantizers (quant/quantize_search.h): never worse than the reference rounding
// on the error they minimise, exact on values that already lie on the type's grid, importance
// weights honoured, degenerate rows handled.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quantize_search.h"
#include "quant/quants.h"
#include "quant/types.h"

namespace pocketlm {
namespace {

using T = TensorType;

const T kSearchTypes[] = {T::kQ4_0, T::kQ4_1, T::kQ5_0, T::kQ5_1, T::kQ8_0,
                          T::kQ2_K, T::kQ3_K, T::kQ4_K, T::kQ5_K, T::kQ6_K};

// Box-Muller over mt19937's raw output (whose sequence the standard fixes), so the data -- and
// the error figures below -- are the same with every standard library.
std::vector<float> gaussian(int64_t n, uint32_t seed, float sigma = 0.02f) {
  std::mt19937 rng(seed);
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i += 2) {
    const double u1 = (static_cast<double>(rng()) + 1.0) / 4294967297.0;
    const double u2 = static_cast<double>(rng()) / 4294967296.0;
    const double r = std::sqrt(-2.0 * std::log(u1));
    x[static_cast<size_t>(i)] = static_cast<float>(sigma * r * std::cos(6.283185307179586 * u2));
    if (i + 1 < n) {
      x[static_cast<size_t>(i + 1)] =
          static_cast<float>(sigma * r * std::sin(6.283185307179586 * u2));
    }
  }
  return x;
}

std::vector<float> roundtrip(T t, const std::vector<float>& x, int64_t n_per_row,
                             const float* importance) {
  const int64_t rows = static_cast<int64_t>(x.size()) / n_per_row;
  std::vector<uint8_t> q(row_size(t, n_per_row) * static_cast<size_t>(rows));
  quantize_rows_search(t, x.data(), q.data(), rows, n_per_row, importance);
  std::vector<float> y(x.size());
  type_traits(t).to_float(q.data(), y.data(), static_cast<int64_t>(x.size()));
  return y;
}

// The error the search minimises: weights from search_weights, per block-sized group, per row.
double weighted_error(const std::vector<float>& x, const std::vector<float>& y, int64_t n_per_row,
                      const float* importance) {
  double err = 0.0;
  std::vector<float> w(static_cast<size_t>(n_per_row));
  for (size_t r = 0; r < x.size() / static_cast<size_t>(n_per_row); ++r) {
    const float* xr = x.data() + r * static_cast<size_t>(n_per_row);
    search_weights(importance, static_cast<int>(n_per_row), w.data());
    for (int64_t i = 0; i < n_per_row; ++i) {
      const double d = static_cast<double>(xr[i]) - y[r * static_cast<size_t>(n_per_row) + i];
      err += w[static_cast<size_t>(i)] * d * d;
    }
  }
  return err;
}

double rms_error(const std::vector<float>& x, const std::vector<float>& y) {
  double e = 0.0;
  double s = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    e += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
    s += static_cast<double>(x[i]) * x[i];
  }
  return std::sqrt(e / s);
}

TEST(QuantSearchTest, NeverWorseThanReferenceRounding) {
  // The 32-block types also score the reference rounding, so on their own measure they can only
  // gain; on Gaussian weights they gain clearly.
  const int64_t n = 512;
  const std::vector<float> x = gaussian(8 * n, 1);
  for (T t : {T::kQ4_0, T::kQ4_1, T::kQ5_0, T::kQ5_1, T::kQ8_0}) {
    SCOPED_TRACE(type_traits(t).name);
    std::vector<uint8_t> ref(row_size(t, n) * 8);
    type_traits(t).from_float(x.data(), ref.data(), 8 * n);
    std::vector<float> yr(x.size());
    type_traits(t).to_float(ref.data(), yr.data(), 8 * n);
    const std::vector<float> ys = roundtrip(t, x, n, nullptr);
    const double es = weighted_error(x, ys, n, nullptr);
    const double er = weighted_error(x, yr, n, nullptr);
    EXPECT_LE(es, er);
    EXPECT_LT(es, 0.95 * er) << "the search should beat plain rounding on Gaussian data";
  }
}

TEST(QuantSearchTest, ErrorNoWorseThanLlamaCppOnGaussianWeights) {
  // Relative RMS error on these Gaussian rows. The bounds are what llama.cpp's quantizers
  // (ggml_quantize_chunk of llama-cpp-python 0.3.36, no importance matrix) leave on exactly this
  // data, rounded up in the third digit; ours land at 0.2736, 0.1455, 0.0796, 0.0696, 0.0701,
  // 0.0393, 0.0333, 0.0345, 0.0165 and 0.0049 in the order below.
  const struct {
    T type;
    double max_rel_rms;
  } cases[] = {{T::kQ2_K, 0.2922}, {T::kQ3_K, 0.1483}, {T::kQ4_0, 0.0830}, {T::kQ4_1, 0.0764},
               {T::kQ4_K, 0.0701}, {T::kQ5_0, 0.0413}, {T::kQ5_1, 0.0372}, {T::kQ5_K, 0.0353},
               {T::kQ6_K, 0.0175}, {T::kQ8_0, 0.00526}};
  const int64_t n = 1024;
  const std::vector<float> x = gaussian(4 * n, 2);
  for (const auto& c : cases) {
    const double e = rms_error(x, roundtrip(c.type, x, n, nullptr));
    EXPECT_LT(e, c.max_rel_rms) << type_traits(c.type).name;
    EXPECT_GT(e, 0.0) << type_traits(c.type).name;
  }
}

TEST(QuantSearchTest, LegacyTypesAreIdempotent) {
  // Quantize, dequantize: the values now lie on the type's grid. Quantizing them again must
  // reproduce them bit for bit -- which also checks the packing against the reference
  // dequantizers, since a misplaced bit would move a value.
  const int64_t n = 512;
  const std::vector<float> x = gaussian(4 * n, 3);
  for (T t : {T::kQ4_0, T::kQ4_1, T::kQ5_0, T::kQ5_1, T::kQ8_0}) {
    SCOPED_TRACE(type_traits(t).name);
    const std::vector<float> once = roundtrip(t, x, n, nullptr);
    const std::vector<float> twice = roundtrip(t, once, n, nullptr);
    int differ = 0;
    for (size_t i = 0; i < once.size(); ++i) differ += once[i] != twice[i];
    EXPECT_EQ(differ, 0) << "of " << once.size() << " values";
  }
}

// K-quant blocks as llama.cpp's quantizer shapes them: the largest sub-block scale (and min) on
// the end of its integer range, every sub-block's codes reaching both ends of theirs (symmetric
// types: the negative end and an odd code). Such values have exactly one representation, and a
// file dequantized from a K-quant type consists of them.
struct GridMaker {
  std::mt19937 rng;
  explicit GridMaker(uint32_t seed) : rng(seed) {}
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
  fp16_t scale() { return fp32_to_fp16(0.0005f * static_cast<float>(uniform(100, 400))); }
  // n integers in [lo, hi], one of them (at a random place) equal to `forced`.
  std::vector<int> ints(int n, int lo, int hi, int forced) {
    std::vector<int> v(static_cast<size_t>(n));
    for (int& e : v) e = uniform(lo, hi);
    v[static_cast<size_t>(uniform(0, n - 1))] = forced;
    return v;
  }
  // Codes of one sub-block containing both `a` and `b`.
  std::vector<int> codes(int n, int lo, int hi, int a, int b) {
    std::vector<int> v = ints(n, lo, hi, a);
    int at = uniform(0, n - 1);
    while (v[static_cast<size_t>(at)] == a) at = (at + 1) % n;
    v[static_cast<size_t>(at)] = b;
    return v;
  }
};

// Dequantized values of n_blocks random canonical blocks of K-quant type t.
std::vector<float> canonical_grid(T t, int n_blocks, uint32_t seed) {
  GridMaker g(seed);
  std::vector<uint8_t> raw(type_traits(t).type_size * static_cast<size_t>(n_blocks), 0);
  for (int ib = 0; ib < n_blocks; ++ib) {
    uint8_t* blk = raw.data() + type_traits(t).type_size * static_cast<size_t>(ib);
    if (t == T::kQ4_K || t == T::kQ5_K) {
      const int nmax = t == T::kQ4_K ? 15 : 31;
      auto* b = reinterpret_cast<BlockQ4_K*>(blk);  // Q5_K starts with the same fields
      auto* b5 = reinterpret_cast<BlockQ5_K*>(blk);
      b->d = g.scale();
      b->dmin = g.scale();
      const std::vector<int> sc = g.ints(8, 1, 63, 63);
      const std::vector<int> m = g.ints(8, 0, 63, 63);
      uint8_t* scales = t == T::kQ4_K ? b->scales : b5->scales;
      uint8_t* qs = t == T::kQ4_K ? b->qs : b5->qs;
      for (int j = 0; j < 4; ++j) {
        scales[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
        scales[j + 4] = static_cast<uint8_t>((m[j] & 63) | ((m[j + 4] >> 4) << 6));
        scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
      }
      for (int j = 0; j < 8; ++j) {
        const std::vector<int> q = g.codes(32, 0, nmax, 0, nmax);
        for (int l = 0; l < 32; ++l) {
          qs[(j / 2) * 32 + l] |= static_cast<uint8_t>((q[l] & 15) << (4 * (j % 2)));
          if (nmax == 31) b5->qh[l] |= static_cast<uint8_t>(((q[l] >> 4) & 1) << j);
        }
      }
    } else if (t == T::kQ2_K) {
      auto* b = reinterpret_cast<BlockQ2_K*>(blk);
      b->d = g.scale();
      b->dmin = g.scale();
      const std::vector<int> sc = g.ints(16, 1, 15, 15);
      const std::vector<int> m = g.ints(16, 0, 15, 15);
      for (int j = 0; j < 16; ++j) {
        b->scales[j] = static_cast<uint8_t>(sc[j] | (m[j] << 4));
        const std::vector<int> q = g.codes(16, 0, 3, 0, 3);
        for (int l = 0; l < 16; ++l) {
          const int e = j * 16 + l;
          b->qs[(e / 128) * 32 + e % 32] |= static_cast<uint8_t>(q[l] << (2 * ((e % 128) / 32)));
        }
      }
    } else if (t == T::kQ6_K) {
      auto* b = reinterpret_cast<BlockQ6_K*>(blk);
      b->d = g.scale();
      const std::vector<int> sc = g.ints(16, -127, 127, -128);
      for (int j = 0; j < 16; ++j) {
        b->scales[j] = static_cast<int8_t>(sc[j] == 0 ? 1 : sc[j]);
        const std::vector<int> q = g.codes(16, -32, 31, -32, 2 * g.uniform(-15, 15) + 1);
        for (int l = 0; l < 16; ++l) {
          const int e = j * 16 + l;
          const int u = q[l] + 32;
          const int half = e / 128;
          const int r = e % 128;
          b->ql[half * 64 + r % 64] |= static_cast<uint8_t>((u & 15) << (4 * (r / 64)));
          b->qh[half * 32 + r % 32] |= static_cast<uint8_t>(((u >> 4) & 3) << (2 * (r / 32)));
        }
      }
    } else if (t == T::kQ3_K) {
      auto* b = reinterpret_cast<BlockQ3_K*>(blk);
      b->d = g.scale();
      const std::vector<int> sc = g.ints(16, -31, 31, -32);
      for (int j = 0; j < 16; ++j) {
        const int u = (sc[j] == 0 ? 1 : sc[j]) + 32;
        b->scales[j % 8] |= static_cast<uint8_t>((u & 15) << (4 * (j / 8)));
        b->scales[8 + j % 4] |= static_cast<uint8_t>(((u >> 4) & 3) << (2 * (j / 4)));
        const std::vector<int> q = g.codes(16, -4, 3, -4, 2 * g.uniform(-2, 1) + 1);
        for (int l = 0; l < 16; ++l) {
          const int e = j * 16 + l;
          const int v = q[l] + 4;
          b->qs[(e / 128) * 32 + e % 32] |= static_cast<uint8_t>((v & 3) << (2 * ((e % 128) / 32)));
          b->hmask[e % 32] |= static_cast<uint8_t>((v >> 2) << (e / 32));
        }
      }
    }
  }
  std::vector<float> x(static_cast<size_t>(n_blocks) * kQK_K);
  type_traits(t).to_float(raw.data(), x.data(), static_cast<int64_t>(x.size()));
  return x;
}

TEST(QuantSearchTest, KQuantGridsComeBackExactly) {
  // What makes re-quantizing a K-quant file to its own type lossless (Gemma 3's Q4_K_M source
  // holds Q4_K and Q6_K tensors): both levels of the search must find the one representation.
  for (T t : {T::kQ2_K, T::kQ3_K, T::kQ4_K, T::kQ5_K, T::kQ6_K}) {
    SCOPED_TRACE(type_traits(t).name);
    const std::vector<float> grid = canonical_grid(t, 8, 11);
    const std::vector<float> back = roundtrip(t, grid, 2 * kQK_K, nullptr);
    int differ = 0;
    for (size_t i = 0; i < grid.size(); ++i) differ += grid[i] != back[i];
    EXPECT_EQ(differ, 0) << "of " << grid.size() << " values";
  }
}

TEST(QuantSearchTest, GridsComeBackExactlyUnderImportanceWeights) {
  // Gemma 3's reference is its Q4_K_M file dequantized: quantized with an importance matrix to the
  // same types, it must come back as it was, since an exact fit has no error under any weights.
  // Importance spread over three orders of magnitude, as real matrices are.
  const int64_t n = 2 * kQK_K;
  std::vector<float> imp(static_cast<size_t>(n));
  std::mt19937 rng(13);
  for (float& v : imp) v = std::pow(10.0f, std::uniform_real_distribution<float>(-2.0f, 1.0f)(rng));
  for (T t : {T::kQ2_K, T::kQ3_K, T::kQ4_K, T::kQ5_K, T::kQ6_K}) {
    SCOPED_TRACE(type_traits(t).name);
    const std::vector<float> grid = canonical_grid(t, 8, 12);
    const std::vector<float> back = roundtrip(t, grid, n, imp.data());
    int differ = 0;
    for (size_t i = 0; i < grid.size(); ++i) differ += grid[i] != back[i];
    EXPECT_EQ(differ, 0) << "of " << grid.size() << " values";
  }
  const std::vector<float> x = gaussian(4 * n, 14);
  for (T t : {T::kQ4_0, T::kQ4_1, T::kQ5_0, T::kQ5_1, T::kQ8_0}) {
    SCOPED_TRACE(type_traits(t).name);
    const std::vector<float> grid = roundtrip(t, x, n, nullptr);
    EXPECT_EQ(roundtrip(t, grid, n, imp.data()), grid);
  }
}

TEST(QuantSearchTest, ReferenceRoundingOfA4BitGridIsKept) {
  // A file dequantized from Q4_1 re-quantizes to Q4_1, Q5_1 (half the step) and Q4_K without
  // loss: the grid-sharing case the quantization report notes.
  const int64_t n = 256;
  const std::vector<float> x = gaussian(4 * n, 4);
  std::vector<uint8_t> q41(row_size(T::kQ4_1, n) * 4);
  quantize_row_q4_1(x.data(), q41.data(), 4 * n);
  std::vector<float> grid(x.size());
  dequantize_row_q4_1(q41.data(), grid.data(), 4 * n);
  for (T t : {T::kQ4_1, T::kQ5_1}) {
    EXPECT_EQ(rms_error(grid, roundtrip(t, grid, n, nullptr)), 0.0) << type_traits(t).name;
  }
  // Q4_K cannot hold Q4_1's half-precision minimums exactly (its are 6-bit multiples of one
  // scale), but the search gets close: plain Gaussian data loses 8 times as much.
  EXPECT_LT(rms_error(grid, roundtrip(T::kQ4_K, grid, n, nullptr)), 0.02);
}

TEST(QuantSearchTest, ImportanceMovesTheErrorToUnimportantColumns) {
  const int64_t n = 256;
  const std::vector<float> x = gaussian(16 * n, 5);
  // Every fourth column matters a hundred times more.
  std::vector<float> imp(static_cast<size_t>(n), 0.01f);
  for (int64_t j = 0; j < n; j += 4) imp[static_cast<size_t>(j)] = 1.0f;
  for (T t : kSearchTypes) {
    SCOPED_TRACE(type_traits(t).name);
    const std::vector<float> plain = roundtrip(t, x, n, nullptr);
    const std::vector<float> weighted = roundtrip(t, x, n, imp.data());
    const double e_plain = weighted_error(x, plain, n, imp.data());
    const double e_weighted = weighted_error(x, weighted, n, imp.data());
    EXPECT_LT(e_weighted, e_plain);
  }
}

TEST(QuantSearchTest, ZeroImportanceEverywhereFallsBackToPlainWeights) {
  const int64_t n = 256;
  const std::vector<float> x = gaussian(2 * n, 6);
  const std::vector<float> zero(static_cast<size_t>(n), 0.0f);
  for (T t : kSearchTypes) {
    EXPECT_EQ(roundtrip(t, x, n, zero.data()), roundtrip(t, x, n, nullptr)) << type_traits(t).name;
  }
}

TEST(QuantSearchTest, DegenerateRows) {
  const int64_t n = 256;
  for (T t : kSearchTypes) {
    SCOPED_TRACE(type_traits(t).name);
    const std::vector<float> zeros(static_cast<size_t>(n), 0.0f);
    for (float v : roundtrip(t, zeros, n, nullptr)) EXPECT_EQ(v, 0.0f);
    // A constant row: symmetric types hit it exactly with code +-1 or the largest code, affine
    // ones through their minimum; all get within half a percent.
    const std::vector<float> constant(static_cast<size_t>(n), 0.75f);
    for (float v : roundtrip(t, constant, n, nullptr)) EXPECT_NEAR(v, 0.75f, 0.005f);
    // A single spike among zeros. Affine types put the zeros on their top code, off by the
    // rounding of scale and minimum (0.00024 for Q4_1: 15 * fp16(0.2) - 3; 0.0012 for Q4_K,
    // whose minimum is a 6-bit multiple of a half-precision scale): within 0.07% of the spike.
    std::vector<float> spike(static_cast<size_t>(n), 0.0f);
    spike[37] = -3.0f;
    const std::vector<float> ys = roundtrip(t, spike, n, nullptr);
    EXPECT_NEAR(ys[37], -3.0f, 0.02f);
    for (int64_t i = 0; i < n; ++i) {
      if (i != 37) {
        EXPECT_NEAR(ys[static_cast<size_t>(i)], 0.0f, 2e-3f);
      }
    }
  }
}

TEST(QuantSearchTest, NonFiniteInputDoesNotCrash) {
  const int64_t n = 256;
  std::vector<float> x = gaussian(n, 7);
  x[3] = std::numeric_limits<float>::infinity();
  x[100] = std::numeric_limits<float>::quiet_NaN();
  for (T t : kSearchTypes) {
    std::vector<uint8_t> q(row_size(t, n));
    quantize_rows_search(t, x.data(), q.data(), 1, n, nullptr);
  }
}

TEST(QuantSearchTest, FloatTypesConvert) {
  const std::vector<float> x = gaussian(64, 8);
  EXPECT_EQ(roundtrip(T::kF32, x, 64, nullptr), x);
  const std::vector<float> h = roundtrip(T::kF16, x, 64, nullptr);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(h[i], x[i], 1e-3f * std::fabs(x[i]) + 1e-7f);
  EXPECT_TRUE(has_search_quantizer(T::kBF16));
  EXPECT_FALSE(has_search_quantizer(T::kQ8_K));
  EXPECT_FALSE(has_search_quantizer(T::kIQ4_NL));
}

TEST(QuantSearchTest, Deterministic) {
  const int64_t n = 512;
  const std::vector<float> x = gaussian(2 * n, 9);
  for (T t : kSearchTypes) {
    std::vector<uint8_t> a(row_size(t, n) * 2);
    std::vector<uint8_t> b(a.size());
    quantize_rows_search(t, x.data(), a.data(), 2, n, nullptr);
    quantize_rows_search(t, x.data(), b.data(), 2, n, nullptr);
    EXPECT_EQ(a, b) << type_traits(t).name;
  }
}

}  // namespace
}  // namespace pocketlm
