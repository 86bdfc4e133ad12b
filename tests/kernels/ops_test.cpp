// Element-wise kernels: ref/ against double-precision math, every other runnable table (and the
// AVX-512 table through SIMDe where it is built in) against ref/, and the rope angle cache.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ref/rope_cache.h"

namespace pocketlm::kernels {
#if defined(POCKETLM_TEST_OPS_AVX512_SIMDE)
void fill_ops_avx512_simde(OpKernels& t);
#endif

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

struct NamedOps {
  std::string name;
  OpKernels ops;
  // Tables whose documented contract (x86 files) is bit-identity with ref/ for add, mul, scale,
  // axpy and rope, and at most 1 ulp for rms_norm. Other ISAs are held to tolerances only.
  bool exact_contract;
};

std::vector<NamedOps> tables_under_test() {
  std::vector<NamedOps> out;
  for (Isa isa : runnable_isas()) {
    if (isa == Isa::kRef) continue;
    const bool x86 = isa == Isa::kAvx2 || isa == Isa::kAvx512;
    out.push_back({isa_name(isa), kernel_table(isa)->ops, x86});
  }
#if defined(POCKETLM_TEST_OPS_AVX512_SIMDE)
  OpKernels t;
  fill_ops_ref(t);
  fill_ops_avx512_simde(t);
  out.push_back({"avx512-simde", t, true});
#endif
  return out;
}

const OpKernels& ref_ops() { return kernel_table(Isa::kRef)->ops; }

// Distance in representable floats (0 for equal values, also +0 vs -0).
int64_t ulp_diff(float a, float b) {
  if (a == b) return 0;
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : INT64_MAX;
  auto ordered = [](float f) {
    int32_t i;
    std::memcpy(&i, &f, 4);
    return i < 0 ? int64_t{INT32_MIN} - i : int64_t{i};
  };
  const int64_t d = ordered(a) - ordered(b);
  return d < 0 ? -d : d;
}

std::vector<float> random_vec(int64_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

// Lengths that exercise empty-ish rows, every tail length of 8- and 16-wide registers and
// several full registers.
const std::vector<int64_t> kLengths = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 64, 100, 257};

// --- ref/ against double-precision math -----------------------------------------------------

TEST(OpsRef, RmsNormMatchesDoubleMath) {
  for (int64_t n : kLengths) {
    const std::vector<float> x = random_vec(n, -3.0f, 3.0f, 1);
    const std::vector<float> w = random_vec(n, 0.5f, 1.5f, 2);
    std::vector<float> y(x.size()), yw(x.size());
    ref_ops().rms_norm(y.data(), x.data(), nullptr, n, 1e-5f);
    ref_ops().rms_norm(yw.data(), x.data(), w.data(), n, 1e-5f);
    double ss = 0;
    for (float v : x) ss += double(v) * v;
    const double inv = 1.0 / std::sqrt(ss / double(n) + 1e-5);
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_NEAR(y[i], x[i] * inv, 4e-7 * std::abs(x[i] * inv) + 1e-12) << n << " " << i;
      EXPECT_NEAR(yw[i], x[i] * inv * w[i], 6e-7 * std::abs(x[i] * inv * w[i]) + 1e-12);
    }
  }
}

TEST(OpsRef, RmsNormInPlaceAndEps) {
  std::vector<float> x = {0.0f, 0.0f, 0.0f, 0.0f};
  ref_ops().rms_norm(x.data(), x.data(), nullptr, 4, 1e-6f);  // all zero: eps keeps it finite
  for (float v : x) EXPECT_EQ(v, 0.0f);
  std::vector<float> y = {3.0f, -4.0f};
  ref_ops().rms_norm(y.data(), y.data(), nullptr, 2, 0.0f);  // rms = sqrt(12.5)
  EXPECT_FLOAT_EQ(y[0], 3.0f / std::sqrt(12.5f));
  EXPECT_FLOAT_EQ(y[1], -4.0f / std::sqrt(12.5f));
}

TEST(OpsRef, SoftmaxMatchesDoubleMath) {
  for (int64_t n : kLengths) {
    std::vector<float> x = random_vec(n, -20.0f, 20.0f, 3);
    std::vector<double> e(x.size());
    double mx = -1e300, sum = 0;
    for (float v : x) mx = std::max(mx, double(v));
    for (size_t i = 0; i < x.size(); ++i) sum += (e[i] = std::exp(double(x[i]) - mx));
    const std::vector<float> in = x;
    ref_ops().softmax(x.data(), n);
    double total = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      // x - max is rounded to float first: a relative error of ~ulp(|x - max|) in the exponent.
      const double rel = 4e-7 + 6e-8 * std::abs(double(in[i]) - mx);
      EXPECT_NEAR(x[i], e[i] / sum, rel * e[i] / sum + 1e-30);
      total += x[i];
    }
    EXPECT_NEAR(total, 1.0, 1e-5);
  }
}

TEST(OpsRef, SoftmaxMaskedEntriesAndFullyMaskedRow) {
  std::vector<float> x = {1.0f, -kInf, 2.0f, -kInf};
  ref_ops().softmax(x.data(), 4);
  EXPECT_EQ(x[1], 0.0f);
  EXPECT_EQ(x[3], 0.0f);
  EXPECT_NEAR(x[0], 1.0 / (1.0 + std::exp(1.0)), 1e-7);
  EXPECT_NEAR(x[2], 1.0 / (1.0 + std::exp(-1.0)), 1e-7);
  std::vector<float> all(5, -kInf);
  ref_ops().softmax(all.data(), 5);
  for (float v : all) EXPECT_EQ(v, 0.0f);
}

TEST(OpsRef, ActivationsMatchDoubleMath) {
  const std::vector<float> x = random_vec(2000, -12.0f, 12.0f, 4);
  const std::vector<float> u = random_vec(2000, -2.0f, 2.0f, 5);
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<float> silu(x.size()), gelu(x.size()), swiglu(x.size()), geglu(x.size());
  ref_ops().silu(silu.data(), x.data(), n);
  ref_ops().gelu_tanh(gelu.data(), x.data(), n);
  ref_ops().swiglu(swiglu.data(), x.data(), u.data(), n);
  ref_ops().geglu_tanh(geglu.data(), x.data(), u.data(), n);
  for (size_t i = 0; i < x.size(); ++i) {
    const double xd = x[i];
    const double s = xd / (1.0 + std::exp(-xd));
    const double g =
        0.5 * xd *
        (1.0 + std::tanh(std::sqrt(2.0 / std::numbers::pi) * (xd + 0.044715 * xd * xd * xd)));
    EXPECT_NEAR(silu[i], s, 3e-7 * std::abs(s) + 1e-30) << xd;
    EXPECT_NEAR(swiglu[i], s * u[i], 4e-7 * std::abs(s * u[i]) + 1e-30) << xd;
    // 1 + tanh(u) cancels for negative x in float: the error is absolute, about 0.5|x| ulp(1).
    EXPECT_NEAR(gelu[i], g, 4e-7 * std::abs(g) + 1.2e-7 * std::abs(xd)) << xd;
    EXPECT_NEAR(geglu[i], g * u[i], (4e-7 * std::abs(g) + 1.2e-7 * std::abs(xd)) * std::abs(u[i]));
  }
  // Limits: silu(-inf side) -> -0, gelu(large) -> x.
  float big[2] = {-200.0f, 200.0f}, out[2];
  ref_ops().silu(out, big, 2);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 200.0f);
  ref_ops().gelu_tanh(out, big, 2);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 200.0f);
}

TEST(OpsRef, RopeRotatesPairsInBothStyles) {
  const int64_t n_heads = 3, head_dim = 10, n_rot = 6;
  const std::vector<float> x = random_vec(n_heads * head_dim, -1.0f, 1.0f, 6);
  const std::vector<float> ang = {0.3f, -1.1f, 2.5f};
  std::vector<float> cs, sn;
  for (float a : ang) {
    cs.push_back(std::cos(a));
    sn.push_back(std::sin(a));
  }
  for (RopeStyle style : {RopeStyle::kNormal, RopeStyle::kNeox}) {
    std::vector<float> y = x;
    ref_ops().rope(y.data(), n_heads, head_dim, n_rot, cs.data(), sn.data(), style);
    for (int64_t h = 0; h < n_heads; ++h) {
      const float* a = x.data() + h * head_dim;
      const float* b = y.data() + h * head_dim;
      for (int64_t i = 0; i < n_rot / 2; ++i) {
        const int64_t i0 = style == RopeStyle::kNeox ? i : 2 * i;
        const int64_t i1 = style == RopeStyle::kNeox ? i + n_rot / 2 : 2 * i + 1;
        const double c = std::cos(double(ang[i])), s = std::sin(double(ang[i]));
        EXPECT_NEAR(b[i0], a[i0] * c - a[i1] * s, 1e-6);
        EXPECT_NEAR(b[i1], a[i0] * s + a[i1] * c, 1e-6);
      }
      for (int64_t d = n_rot; d < head_dim; ++d) EXPECT_EQ(b[d], a[d]);  // partial rotary
    }
  }
}

TEST(OpsRef, ArithmeticAndDot) {
  const std::vector<float> a = {1.5f, -2.0f, 3.25f}, b = {4.0f, 0.5f, -1.0f};
  std::vector<float> y(3);
  ref_ops().add(y.data(), a.data(), b.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{5.5f, -1.5f, 2.25f}));
  ref_ops().mul(y.data(), a.data(), b.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{6.0f, -1.0f, -3.25f}));
  ref_ops().scale(y.data(), a.data(), 2.0f, 3);
  EXPECT_EQ(y, (std::vector<float>{3.0f, -4.0f, 6.5f}));
  y = b;
  ref_ops().axpy(y.data(), a.data(), -2.0f, 3);
  EXPECT_EQ(y, (std::vector<float>{1.0f, 4.5f, -7.5f}));
  EXPECT_EQ(ref_ops().dot_f32(a.data(), b.data(), 3), 6.0f - 1.0f - 3.25f);
  // Accumulated in double: the small terms survive next to a large one.
  const std::vector<float> p = {1e8f, 1.0f, 1.0f, -1e8f}, q = {1.0f, 1.0f, 1.0f, 1.0f};
  EXPECT_EQ(ref_ops().dot_f32(p.data(), q.data(), 4), 2.0f);
}

// --- every other table against ref/ ----------------------------------------------------------

class OpsVsRef : public ::testing::Test {
 protected:
  std::vector<NamedOps> tables = tables_under_test();
};

TEST_F(OpsVsRef, EveryRunnableTableIsUnderTest) {
  std::string names;
  for (const NamedOps& t : tables) names += t.name + " ";
  std::printf("ops tables under test: %s\n", names.c_str());
  for (Isa isa : runnable_isas()) {
    if (isa != Isa::kRef) {
      EXPECT_NE(names.find(std::string(isa_name(isa)) + " "), std::string::npos) << isa_name(isa);
    }
  }
#if defined(POCKETLM_TEST_OPS_AVX512_SIMDE)
  EXPECT_NE(names.find("avx512-simde"), std::string::npos);
#endif
}

TEST_F(OpsVsRef, ElementwiseArithmeticIsBitIdentical) {
  for (const NamedOps& t : tables) {
    SCOPED_TRACE(t.name);
    for (int64_t n : kLengths) {
      const std::vector<float> a = random_vec(n, -100.0f, 100.0f, 10);
      const std::vector<float> b = random_vec(n, -3.0f, 3.0f, 11);
      std::vector<float> r(a.size()), s(a.size());
      auto check = [&](const char* op) {
        for (int64_t i = 0; i < n; ++i) {
          if (t.exact_contract) {
            ASSERT_EQ(ulp_diff(r[i], s[i]), 0) << op << " n=" << n << " i=" << i;
          } else {
            ASSERT_LE(ulp_diff(r[i], s[i]), 1) << op << " n=" << n << " i=" << i;
          }
        }
      };
      ref_ops().add(r.data(), a.data(), b.data(), n);
      t.ops.add(s.data(), a.data(), b.data(), n);
      check("add");
      ref_ops().mul(r.data(), a.data(), b.data(), n);
      t.ops.mul(s.data(), a.data(), b.data(), n);
      check("mul");
      ref_ops().scale(r.data(), a.data(), 0.37f, n);
      t.ops.scale(s.data(), a.data(), 0.37f, n);
      check("scale");
      r = b;
      s = b;
      ref_ops().axpy(r.data(), a.data(), -0.61f, n);
      t.ops.axpy(s.data(), a.data(), -0.61f, n);
      check("axpy");
      // In place (y aliases an input) gives the same answer.
      s = a;
      t.ops.add(s.data(), s.data(), b.data(), n);
      ref_ops().add(r.data(), a.data(), b.data(), n);
      check("add in place");
    }
  }
}

TEST_F(OpsVsRef, DotF32WithinFloatAccumulationBound) {
  for (const NamedOps& t : tables) {
    SCOPED_TRACE(t.name);
    for (int64_t n : kLengths) {
      const std::vector<float> a = random_vec(n, -2.0f, 2.0f, 12);
      const std::vector<float> b = random_vec(n, -2.0f, 2.0f, 13);
      double abs_sum = 0;
      for (int64_t i = 0; i < n; ++i) abs_sum += std::abs(double(a[i]) * b[i]);
      const float r = ref_ops().dot_f32(a.data(), b.data(), n);
      const float s = t.ops.dot_f32(a.data(), b.data(), n);
      // Float accumulation over at most n / lanes + 4 terms per lane, plus the final reduction.
      EXPECT_NEAR(s, r, 1e-6 * abs_sum + 1e-30) << "n=" << n;
    }
  }
}

TEST_F(OpsVsRef, RmsNormWithinOneUlp) {
  for (const NamedOps& t : tables) {
    SCOPED_TRACE(t.name);
    for (int64_t n : kLengths) {
      const std::vector<float> x = random_vec(n, -5.0f, 5.0f, 14);
      const std::vector<float> w = random_vec(n, -2.0f, 2.0f, 15);
      for (const float* wp : {static_cast<const float*>(nullptr), w.data()}) {
        std::vector<float> r(x.size()), s(x.size());
        ref_ops().rms_norm(r.data(), x.data(), wp, n, 1e-6f);
        t.ops.rms_norm(s.data(), x.data(), wp, n, 1e-6f);
        const int64_t limit = t.exact_contract ? 1 : 4;
        for (int64_t i = 0; i < n; ++i) ASSERT_LE(ulp_diff(r[i], s[i]), limit) << n << " " << i;
        s = x;  // in place
        t.ops.rms_norm(s.data(), s.data(), wp, n, 1e-6f);
        for (int64_t i = 0; i < n; ++i) ASSERT_LE(ulp_diff(r[i], s[i]), limit) << n << " " << i;
      }
    }
  }
}

TEST_F(OpsVsRef, RopeMatchesRef) {
  for (const NamedOps& t : tables) {
    SCOPED_TRACE(t.name);
    // head_dim/n_rot pairs: full rotary at common sizes, partial rotary, odd pair counts.
    const int64_t shapes[][2] = {{64, 64}, {128, 128}, {80, 32}, {96, 64}, {10, 6}, {36, 34}};
    for (const auto& sh : shapes) {
      const int64_t head_dim = sh[0], n_rot = sh[1], n_heads = 3;
      const std::vector<float> x = random_vec(n_heads * head_dim, -4.0f, 4.0f, 16);
      std::vector<float> cs(static_cast<size_t>(n_rot / 2)), sn(cs.size());
      const std::vector<float> ang = random_vec(n_rot / 2, -50.0f, 50.0f, 17);
      for (size_t i = 0; i < ang.size(); ++i) {
        cs[i] = std::cos(ang[i]) * 1.1f;  // a YaRN-like magnitude factor is part of the input
        sn[i] = std::sin(ang[i]) * 1.1f;
      }
      for (RopeStyle style : {RopeStyle::kNormal, RopeStyle::kNeox}) {
        std::vector<float> r = x, s = x;
        ref_ops().rope(r.data(), n_heads, head_dim, n_rot, cs.data(), sn.data(), style);
        t.ops.rope(s.data(), n_heads, head_dim, n_rot, cs.data(), sn.data(), style);
        for (size_t i = 0; i < r.size(); ++i) {
          if (t.exact_contract) {
            ASSERT_EQ(ulp_diff(r[i], s[i]), 0) << head_dim << "/" << n_rot << " i=" << i;
          } else {
            ASSERT_NEAR(r[i], s[i], 2e-6f) << head_dim << "/" << n_rot << " i=" << i;
          }
        }
      }
    }
  }
}

// silu and swiglu depend on the vector exponential only through exp(-x) / (1 + exp(-x)), so a
// dense sweep bounds the exponential's error over the whole range where silu is not 0 or x.
TEST_F(OpsVsRef, SiluAndSwigluWithinFourUlp) {
  std::vector<float> x;
  for (float v = -95.0f; v <= 95.0f; v += 0.0137f) x.push_back(v);
  x.insert(x.end(), {0.0f, -0.0f, 1e-30f, -1e-30f, 88.7f, -88.7f, 87.4f, -87.4f, 300.0f, -300.0f});
  const int64_t n = static_cast<int64_t>(x.size());
  const std::vector<float> u = random_vec(n, -3.0f, 3.0f, 18);
  for (const NamedOps& t : tables) {
    SCOPED_TRACE(t.name);
    std::vector<float> r(x.size()), s(x.size());
    ref_ops().silu(r.data(), x.data(), n);
    t.ops.silu(s.data(), x.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      // Where exp(-x) overflows near -88.7, the result is about x * 1e-38: only absolute.
      if (std::abs(r[i]) < 1e-35f) {
        ASSERT_LE(std::abs(s[i]), 1e-35f) << x[i];
      } else {
        ASSERT_LE(ulp_diff(r[i], s[i]), 4) << "silu(" << x[i] << ") " << r[i] << " vs " << s[i];
      }
    }
    ref_ops().swiglu(r.data(), x.data(), u.data(), n);
    t.ops.swiglu(s.data(), x.data(), u.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      if (std::abs(r[i]) < 1e-35f) {
        ASSERT_LE(std::abs(s[i]), 1e-35f) << x[i];
      } else {
        ASSERT_LE(ulp_diff(r[i], s[i]), 5) << "swiglu(" << x[i] << ") " << r[i] << " vs " << s[i];
      }
    }
  }
}

TEST_F(OpsVsRef, GeluAndGegluWithinBound) {
  std::vector<float> x;
  for (float v = -12.0f; v <= 12.0f; v += 0.0031f) x.push_back(v);
  x.insert(x.end(), {0.0f, -0.0f, 50.0f, -50.0f, 1e4f, -1e4f});
  const int64_t n = static_cast<int64_t>(x.size());
  const std::vector<float> u = random_vec(n, -3.0f, 3.0f, 19);
  for (const NamedOps& t : tables) {
    SCOPED_TRACE(t.name);
    std::vector<float> r(x.size()), s(x.size());
    ref_ops().gelu_tanh(r.data(), x.data(), n);
    t.ops.gelu_tanh(s.data(), x.data(), n);
    // Relative 4 ulp, except where the reference's own 1 + tanh cancellation dominates: there
    // both are within ~0.5 |x| ulp(1) of the true value.
    for (int64_t i = 0; i < n; ++i) {
      const float tol = 4.8e-7f * std::abs(r[i]) + 1.2e-7f * std::abs(x[i]);
      ASSERT_NEAR(r[i], s[i], tol) << "gelu(" << x[i] << ")";
    }
    ref_ops().geglu_tanh(r.data(), x.data(), u.data(), n);
    t.ops.geglu_tanh(s.data(), x.data(), u.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const float tol = 6e-7f * std::abs(r[i]) + 1.2e-7f * std::abs(x[i] * u[i]);
      ASSERT_NEAR(r[i], s[i], tol) << "geglu(" << x[i] << ")";
    }
  }
}

TEST_F(OpsVsRef, SoftmaxWithinFourUlpAndMasking) {
  for (const NamedOps& t : tables) {
    SCOPED_TRACE(t.name);
    for (int64_t n : kLengths) {
      for (float spread : {1.0f, 30.0f, 200.0f}) {
        std::vector<float> x = random_vec(n, -spread, spread, 20);
        if (n > 3) x[1] = x[n - 1] = -kInf;  // masked positions
        std::vector<float> r = x, s = x;
        ref_ops().softmax(r.data(), n);
        t.ops.softmax(s.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          if (std::isinf(x[i])) {
            ASSERT_EQ(s[i], 0.0f);
          } else if (r[i] < 1e-37f) {  // underflow region of exp: absolute
            ASSERT_LE(s[i], 1e-37f);
          } else {
            ASSERT_LE(ulp_diff(r[i], s[i]), 4) << "n=" << n << " i=" << i;
          }
        }
      }
      std::vector<float> masked(static_cast<size_t>(n), -kInf);
      t.ops.softmax(masked.data(), n);
      for (float v : masked) ASSERT_EQ(v, 0.0f);
    }
  }
}

TEST_F(OpsVsRef, NanPropagatesThroughActivations) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x(19, 1.0f);
  x[0] = nan;
  x[17] = nan;
  for (const NamedOps& t : tables) {
    SCOPED_TRACE(t.name);
    std::vector<float> y(x.size());
    t.ops.silu(y.data(), x.data(), 19);
    EXPECT_TRUE(std::isnan(y[0]) && std::isnan(y[17]) && y[1] == y[1]);
    t.ops.gelu_tanh(y.data(), x.data(), 19);
    EXPECT_TRUE(std::isnan(y[0]) && std::isnan(y[17]) && y[1] == y[1]);
  }
}

// --- rope angles ---------------------------------------------------------------------------

TEST(RopeCache, PlainAnglesFollowTheBaseFrequencies) {
  RopeConfig c;
  c.n_rot = 64;
  c.freq_base = 10000.0f;
  Result<RopeCache> rc = RopeCache::create(c);
  ASSERT_TRUE(rc.ok()) << rc.status().message();
  std::vector<float> cs(32), sn(32);
  rc->angles(0, cs.data(), sn.data());
  for (int i = 0; i < 32; ++i) {
    EXPECT_EQ(cs[i], 1.0f);
    EXPECT_EQ(sn[i], 0.0f);
  }
  for (int64_t pos : {1, 7, 300}) {
    rc->angles(pos, cs.data(), sn.data());
    for (int i = 0; i < 32; ++i) {
      const double theta = double(pos) * std::pow(10000.0, -2.0 * i / 64);
      // The angle is advanced by repeated float multiplication: relative error ~ i ulp.
      const double tol = theta * (i + 1) * 1.2e-7 + 2e-7;
      EXPECT_NEAR(cs[i], std::cos(theta), tol) << pos << " " << i;
      EXPECT_NEAR(sn[i], std::sin(theta), tol) << pos << " " << i;
    }
  }
}

TEST(RopeCache, LinearScalingAndFrequencyFactors) {
  RopeConfig c;
  c.n_rot = 8;
  c.freq_base = 500000.0f;
  c.freq_scale = 0.25f;
  c.freq_factors = {1.0f, 2.0f, 4.0f, 8.0f};
  Result<RopeCache> rc = RopeCache::create(c);
  ASSERT_TRUE(rc.ok()) << rc.status().message();
  std::vector<float> cs(4), sn(4);
  rc->angles(5, cs.data(), sn.data());
  for (int i = 0; i < 4; ++i) {
    const double theta = 5.0 * std::pow(500000.0, -2.0 * i / 8) / c.freq_factors[i] * 0.25;
    EXPECT_NEAR(cs[i], std::cos(theta), 1e-6);
    EXPECT_NEAR(sn[i], std::sin(theta), 1e-6);
  }
}

TEST(RopeCache, YarnBlendsExtrapolationAndInterpolation) {
  RopeConfig c;
  c.n_rot = 128;
  c.freq_base = 10000.0f;
  c.freq_scale = 0.25f;
  c.ext_factor = 1.0f;
  c.attn_factor = 1.0f;
  c.beta_fast = 32.0f;
  c.beta_slow = 1.0f;
  c.n_ctx_orig = 4096;
  Result<RopeCache> rc = RopeCache::create(c);
  ASSERT_TRUE(rc.ok()) << rc.status().message();
  // corr_dim(b) = 128 ln(4096 / (2 pi b)) / (2 ln 10000): 20.94 for b = 32, 45.03 for b = 1.
  EXPECT_EQ(rc->corr_low(), 20.0f);
  EXPECT_EQ(rc->corr_high(), 46.0f);
  std::vector<float> cs(64), sn(64);
  const int64_t pos = 3;
  rc->angles(pos, cs.data(), sn.data());
  const double mscale = 1.0 + 0.1 * std::log(1.0 / 0.25);
  for (int i = 0; i < 64; ++i) {
    const double extrap = double(pos) * std::pow(10000.0, -2.0 * i / 128);
    const double ramp = 1.0 - std::min(1.0, std::max(0.0, (i - 20.0) / (46.0 - 20.0)));
    const double theta = extrap * 0.25 * (1 - ramp) + extrap * ramp;
    EXPECT_NEAR(cs[i], std::cos(theta) * mscale, 2e-6) << i;
    EXPECT_NEAR(sn[i], std::sin(theta) * mscale, 2e-6) << i;
  }
  // Low pairs (fast rotations) keep the unscaled angle, high pairs are fully interpolated.
  EXPECT_NEAR(std::atan2(sn[60], cs[60]), double(pos) * std::pow(10000.0, -120.0 / 128) * 0.25,
              1e-6);
  EXPECT_NEAR(std::atan2(sn[2], cs[2]), double(pos) * std::pow(10000.0, -4.0 / 128), 1e-6);
}

TEST(RopeCache, AppliedAtPositionZeroIsIdentity) {
  RopeConfig c;
  c.n_rot = 16;
  Result<RopeCache> rc = RopeCache::create(c);
  ASSERT_TRUE(rc.ok());
  std::vector<float> cs(8), sn(8);
  rc->angles(0, cs.data(), sn.data());
  const std::vector<float> x = random_vec(2 * 24, -1.0f, 1.0f, 21);
  for (RopeStyle style : {RopeStyle::kNormal, RopeStyle::kNeox}) {
    std::vector<float> y = x;
    ref_ops().rope(y.data(), 2, 24, 16, cs.data(), sn.data(), style);
    EXPECT_EQ(y, x);
  }
}

TEST(RopeCache, RejectsInvalidConfigurations) {
  RopeConfig c;
  c.n_rot = 7;
  EXPECT_EQ(RopeCache::create(c).status().code(), StatusCode::kInvalidArgument);
  c.n_rot = 0;
  EXPECT_FALSE(RopeCache::create(c).ok());
  c.n_rot = 8;
  c.freq_base = 0.0f;
  EXPECT_FALSE(RopeCache::create(c).ok());
  c.freq_base = 10000.0f;
  c.freq_scale = -1.0f;
  EXPECT_FALSE(RopeCache::create(c).ok());
  c.freq_scale = 1.0f;
  c.freq_factors = {1.0f, 2.0f};  // needs 4
  Result<RopeCache> bad = RopeCache::create(c);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("frequency factors"), std::string::npos);
  c.freq_factors = {1.0f, 0.0f, 1.0f, 1.0f};
  EXPECT_FALSE(RopeCache::create(c).ok());
  c.freq_factors.clear();
  c.ext_factor = 1.0f;  // YaRN without the original context
  EXPECT_FALSE(RopeCache::create(c).ok());
  c.n_ctx_orig = 2048;
  EXPECT_TRUE(RopeCache::create(c).ok());
}

}  // namespace
}  // namespace pocketlm::kernels
