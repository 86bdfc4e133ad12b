// matvec / matmul drivers: for every runnable table and every weight type it has a dot kernel
// for, each output must be exactly the table's own dot of that weight row with that quantized
// activation row (vec_dot, or the llama.cpp matrix-kernel order kernels.h assigns to that batch),
// must not depend on the thread count, and must agree with a double-precision product of the
// dequantized operands.
#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/types.h"

namespace pocketlm::kernels {
namespace {

using T = TensorType;

// fp16 scale fields of the block types that have no quantizer to produce them: random bytes
// there could be Inf or NaN, so they are overwritten with small finite scales.
std::vector<size_t> fp16_fields(T t) {
  switch (t) {
    case T::kQ2_K:
      return {offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin)};
    case T::kQ3_K:
      return {offsetof(BlockQ3_K, d)};
    case T::kQ4_K:
      return {offsetof(BlockQ4_K, d), offsetof(BlockQ4_K, dmin)};
    case T::kQ5_K:
      return {offsetof(BlockQ5_K, d), offsetof(BlockQ5_K, dmin)};
    case T::kQ6_K:
      return {offsetof(BlockQ6_K, d)};
    default:
      return {};
  }
}

// rows x k weights: quantized from random floats where the type has a quantizer, otherwise
// random blocks with sane scales. Empty when neither is possible.
std::vector<uint8_t> make_weights(T t, int64_t rows, int64_t k, uint32_t seed) {
  const TypeTraits& tr = type_traits(t);
  const size_t row_bytes = row_size(t, k);
  std::vector<uint8_t> w(row_bytes * static_cast<size_t>(rows));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  if (tr.from_float) {
    std::vector<float> f(static_cast<size_t>(k));
    for (int64_t r = 0; r < rows; ++r) {
      for (float& v : f) v = uni(rng);
      tr.from_float(f.data(), w.data() + static_cast<size_t>(r) * row_bytes, k);
    }
    return w;
  }
  const std::vector<size_t> fields = fp16_fields(t);
  if (fields.empty()) return {};
  for (uint8_t& b : w) b = static_cast<uint8_t>(rng() & 0xff);
  for (size_t b = 0; b < w.size(); b += tr.type_size) {
    for (size_t off : fields) {
      const fp16_t h = fp32_to_fp16(0.02f * uni(rng));
      std::memcpy(&w[b + off], &h, 2);
    }
  }
  return w;
}

std::vector<float> dequantize(T t, const void* row, int64_t k) {
  std::vector<float> f(static_cast<size_t>(k));
  type_traits(t).to_float(row, f.data(), k);
  return f;
}

// sum |w_i a_i| (the scale of a dot product's rounding error) and the exact product, both from
// dequantized operands. Q4_1 and Q5_1 dots fold their minimum in through the Q8_1 block's
// stored s = d * sum(q), which is rounded to fp16, so the reference does the same.
struct RefDot {
  double value = 0;
  double abs_sum = 0;
};

RefDot reference_dot(T wt, const uint8_t* wrow, const std::vector<float>& wf, T at,
                     const void* arow, const std::vector<float>& af) {
  RefDot r;
  for (size_t i = 0; i < wf.size(); ++i) {
    r.value += double(wf[i]) * af[i];
    r.abs_sum += std::abs(double(wf[i]) * af[i]);
  }
  if (at == T::kQ8_1 && (wt == T::kQ4_1 || wt == T::kQ5_1)) {
    const size_t wsize = type_traits(wt).type_size;
    const auto* ab = static_cast<const BlockQ8_1*>(arow);
    for (size_t b = 0; b < wf.size() / 32; ++b) {
      fp16_t m;  // the min sits right after d in both block types
      static_assert(offsetof(BlockQ4_1, m) == offsetof(BlockQ5_1, m));
      std::memcpy(&m, wrow + b * wsize + offsetof(BlockQ4_1, m), 2);
      int sum_q = 0;
      for (int8_t q : ab[b].qs) sum_q += q;
      const double exact = double(fp16_to_fp32(ab[b].d)) * sum_q;
      r.value += double(fp16_to_fp32(m)) * (double(fp16_to_fp32(ab[b].s)) - exact);
    }
  }
  return r;
}

int64_t k_for(T t) {
  const int64_t bs = type_traits(t).block_size;
  return bs == 1 ? 100 : bs == 32 ? 352 : 512;  // float tails, 11 blocks, 2 super-blocks
}

struct Pools {
  ThreadPool p1{1}, p2{2}, p3{3};
  ThreadPool* get(int n) { return n == 1 ? &p1 : n == 2 ? &p2 : &p3; }
};

constexpr int64_t kMaxTokens = 17;

// The dot whose order the driver must use for token t of a batch of n against `rows` weight rows
// (kernels.h): llama.cpp's interleaved order for weights it would repack, its tiled order for
// batches of kTiledMinRows or more, else the one-row vec_dot.
VecDotFn expected_dot(const DotKernels& d, T wt, int64_t rows, int64_t n, int64_t t) {
  const int id = static_cast<int>(wt);
  if (d.vec_dot_interleaved[id] && rows % kInterleavedRows == 0) {
    return d.vec_dot_interleaved_x4[id] && t < n - n % 4 ? d.vec_dot_interleaved_x4[id]
                                                         : d.vec_dot_interleaved[id];
  }
  if (d.vec_dot_tiled[id] && n >= kTiledMinRows) return d.vec_dot_tiled[id];
  return d.vec_dot[id];
}

void check_type(const KernelTable& kt, T wt, int64_t rows, Pools& pools) {
  const TypeTraits& tr = type_traits(wt);
  const int64_t k = k_for(wt);
  SCOPED_TRACE(std::string(isa_name(kt.isa)) + " " + tr.name + " rows=" + std::to_string(rows));
  const std::vector<uint8_t> w = make_weights(wt, rows, k, 7u + static_cast<uint32_t>(wt));
  ASSERT_FALSE(w.empty()) << "no way to make test weights for " << tr.name << ": extend the test";
  const size_t wrow = row_size(wt, k);

  std::mt19937 rng(42);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(kMaxTokens * k));
  for (float& v : x) v = nd(rng);

  // The expected outputs: the table's own kernels, called directly.
  const T at = tr.vec_dot_type;
  const size_t arow = at == T::kF32 ? static_cast<size_t>(k) * 4 : row_size(at, k);
  std::vector<uint8_t> act(arow * kMaxTokens);
  for (int64_t t = 0; t < kMaxTokens; ++t) {
    if (at == T::kF32) {
      std::memcpy(&act[static_cast<size_t>(t) * arow], &x[static_cast<size_t>(t * k)], arow);
    } else {
      ASSERT_NE(kt.dot.quantize_act[static_cast<int>(at)], nullptr);
      kt.dot.quantize_act[static_cast<int>(at)](&x[static_cast<size_t>(t * k)],
                                                &act[static_cast<size_t>(t) * arow], k);
    }
  }
  std::vector<std::vector<float>> wf, af, xf;
  for (int64_t r = 0; r < rows; ++r)
    wf.push_back(dequantize(wt, &w[static_cast<size_t>(r) * wrow], k));
  for (int64_t t = 0; t < kMaxTokens; ++t) {
    const float* xt = &x[static_cast<size_t>(t * k)];
    xf.emplace_back(xt, xt + k);
    af.push_back(at == T::kF32 ? xf.back()
                               : dequantize(at, &act[static_cast<size_t>(t) * arow], k));
  }
  // direct(n, t, r): the expected kernel for a batch of n, called directly; every order must also
  // be the dot product of the dequantized operands.
  auto direct = [&](int64_t n, int64_t t, int64_t r) {
    float out;
    expected_dot(kt.dot, wt, rows, n, t)(k, &out, &w[static_cast<size_t>(r) * wrow],
                                         &act[static_cast<size_t>(t) * arow]);
    return out;
  };
  for (int64_t n : {int64_t{1}, int64_t{5}, kMaxTokens}) {
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        const RefDot ref = reference_dot(wt, &w[static_cast<size_t>(r) * wrow], wf[size_t(r)], at,
                                         &act[static_cast<size_t>(t) * arow], af[size_t(t)]);
        ASSERT_NEAR(direct(n, t, r), ref.value, 2e-5 * ref.abs_sum + 1e-6)
            << "n " << n << " token " << t << " row " << r;
      }
    }
  }

  Workspace ws;
  for (int threads : {1, 2, 3}) {
    ThreadPool* pool = pools.get(threads);
    std::vector<float> y(static_cast<size_t>(rows), -1.0f);
    ASSERT_TRUE(matvec(kt, wt, w.data(), rows, k, x.data(), y.data(), pool, ws).ok());
    for (int64_t r = 0; r < rows; ++r) {
      ASSERT_EQ(y[static_cast<size_t>(r)], direct(1, 0, r))
          << "matvec threads=" << threads << " row " << r;
    }
    for (int64_t n : {int64_t{1}, int64_t{5}, kMaxTokens}) {
      std::vector<float> out(static_cast<size_t>(n * rows), -1.0f);
      ASSERT_TRUE(matmul(kt, wt, w.data(), rows, k, x.data(), n, out.data(), pool, ws).ok());
      for (size_t i = 0; i < out.size(); ++i) {
        const int64_t t = static_cast<int64_t>(i) / rows, r = static_cast<int64_t>(i) % rows;
        ASSERT_EQ(out[i], direct(n, t, r))
            << "matmul threads=" << threads << " n=" << n << " token " << t << " row " << r;
      }
    }
  }

  // Float activations: the weight rows against x itself.
  if (VecDotF32Fn f32 = kt.dot.vec_dot_f32[static_cast<int>(wt)]) {
    const int64_t n = 5;
    for (int threads : {1, 3}) {
      std::vector<float> out(static_cast<size_t>(n * rows));
      ASSERT_TRUE(matmul(kt, wt, w.data(), rows, k, x.data(), n, out.data(), pools.get(threads), ws,
                         ActivationPath::kFloat)
                      .ok());
      for (int64_t t = 0; t < n; ++t) {
        for (int64_t r = 0; r < rows; ++r) {
          float expect;
          f32(k, &expect, &w[static_cast<size_t>(r) * wrow], &x[static_cast<size_t>(t * k)]);
          ASSERT_EQ(out[static_cast<size_t>(t * rows + r)], expect) << "f32 path t=" << t;
          const RefDot ref = reference_dot(wt, &w[static_cast<size_t>(r) * wrow], wf[size_t(r)],
                                           T::kF32, nullptr, xf[size_t(t)]);
          ASSERT_NEAR(expect, ref.value, 2e-5 * ref.abs_sum + 1e-6);
        }
      }
    }
  }
}

TEST(Matmul, EveryTableEveryTypeMatchesItsKernelsAndTheReference) {
  Pools pools;
  for (Isa isa : runnable_isas()) {
    const KernelTable& kt = *kernel_table(isa);
    int tested = 0;
    for (uint32_t id = 0; id < kTensorTypeIdLimit; ++id) {
      const TypeTraits* tr = find_type_traits(id);
      if (!tr || !kt.dot.vec_dot[id] || !tr->to_float) continue;
      check_type(kt, tr->type, 37, pools);  // rows: prime, not a multiple of any thread count
      ++tested;
    }
    EXPECT_GE(tested, 1) << isa_name(isa) << " has no dot kernels at all";
    std::printf("matmul: %s table, %d weight types checked\n", isa_name(isa), tested);
  }
}

TEST(Matmul, ManyRowsUseFullRowBlocks) {
  // Enough rows that work items reach their full size, with a remainder block at the end.
  Pools pools;
  for (Isa isa : runnable_isas()) {
    check_type(*kernel_table(isa), T::kQ4_0, 150, pools);
    check_type(*kernel_table(isa), T::kQ4_K, 75, pools);
  }
}

// Row counts that are multiples of 8 take llama.cpp's interleaved order where a table has one
// (AVX2: Q4_K, rows four at a time then one at a time), and batches of 8 or more the tiled order
// (AVX2: Q6_K); check_type expects exactly those kernels.
TEST(Matmul, RowMultiplesOfEightAndLargeBatchesTakeLlamaCppOrders) {
  Pools pools;
  for (Isa isa : runnable_isas()) {
    check_type(*kernel_table(isa), T::kQ4_K, 40, pools);
    check_type(*kernel_table(isa), T::kQ6_K, 40, pools);
  }
}

TEST(Matmul, RejectsWhatItCannotCompute) {
  const KernelTable& kt = *kernel_table(Isa::kRef);
  Workspace ws;
  std::vector<uint8_t> w(4096);
  std::vector<float> x(512, 1.0f), y(4, 7.0f);
  // k not a multiple of the block size.
  Status s = matvec(kt, T::kQ4_0, w.data(), 4, 48, x.data(), y.data(), nullptr, ws);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("q4_0"), std::string::npos) << s.message();
  // A type without a dot kernel.
  s = matvec(kt, T::kIQ2_XXS, w.data(), 4, 256, x.data(), y.data(), nullptr, ws);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  // Not a type at all.
  s = matvec(kt, static_cast<T>(63), w.data(), 4, 256, x.data(), y.data(), nullptr, ws);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = matmul(kt, T::kQ8_0, w.data(), 4, 0, x.data(), 1, y.data(), nullptr, ws);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  for (float v : y) EXPECT_EQ(v, 7.0f);  // failures leave the output alone
  // Empty products succeed and write nothing.
  EXPECT_TRUE(matmul(kt, T::kQ8_0, w.data(), 0, 32, x.data(), 3, y.data(), nullptr, ws).ok());
  EXPECT_TRUE(matmul(kt, T::kQ8_0, w.data(), 4, 32, x.data(), 0, y.data(), nullptr, ws).ok());
  for (float v : y) EXPECT_EQ(v, 7.0f);
}

TEST(Matmul, WorkspaceGrowsOnlyWhenNeeded) {
  Workspace ws;
  EXPECT_EQ(ws.capacity(), 0u);
  void* a = ws.reserve(1000);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 64, 0u);
  EXPECT_GE(ws.capacity(), 1000u);
  EXPECT_EQ(ws.reserve(10), a);
  EXPECT_EQ(ws.reserve(ws.capacity()), a);
  void* b = ws.reserve(ws.capacity() + 1);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 64, 0u);
  const size_t cap = ws.capacity();
  Workspace moved(std::move(ws));
  EXPECT_EQ(moved.capacity(), cap);
  EXPECT_EQ(moved.reserve(1), b);
  EXPECT_EQ(ws.capacity(), 0u);  // NOLINT(bugprone-use-after-move): moved-from state is defined

  // A steady-state call reuses the buffer.
  const KernelTable& kt = active_kernels();
  const std::vector<uint8_t> w = make_weights(T::kQ8_0, 8, 256, 3);
  std::vector<float> x(256 * 4, 0.5f), y(8 * 4);
  ASSERT_TRUE(matmul(kt, T::kQ8_0, w.data(), 8, 256, x.data(), 4, y.data(), nullptr, moved).ok());
  const size_t after_first = moved.capacity();
  void* p = moved.reserve(1);
  ASSERT_TRUE(matmul(kt, T::kQ8_0, w.data(), 8, 256, x.data(), 4, y.data(), nullptr, moved).ok());
  EXPECT_EQ(moved.capacity(), after_first);
  EXPECT_EQ(moved.reserve(1), p);
}

}  // namespace
}  // namespace pocketlm::kernels
