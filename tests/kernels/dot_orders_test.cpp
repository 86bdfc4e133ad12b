// llama.cpp's matrix-kernel orders (DotKernels::vec_dot_interleaved, _x4, vec_dot_tiled): every
// entry a table sets must equal its scalar model (kernels/ref/dot_orders_ref.h) bit for bit, and
// every scalar model must compute the same dot product as the reference vec_dot.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "dot_check.h"
#include "kernels/kernels.h"
#include "kernels/ref/dot_orders_ref.h"
#include "quant/types.h"

namespace pocketlm::kernels {
namespace {

using dot_check::at;
using dot_check::T;

// kind: 0 interleaved, 1 interleaved_x4, 2 tiled.
VecDotFn entry(const DotKernels& d, int kind, T t) {
  switch (kind) {
    case 0:
      return d.vec_dot_interleaved[at(t)];
    case 1:
      return d.vec_dot_interleaved_x4[at(t)];
    default:
      return d.vec_dot_tiled[at(t)];
  }
}

const char* kind_name(int kind) {
  return kind == 0 ? "interleaved" : kind == 1 ? "interleaved_x4" : "tiled";
}

// The scalar model of (kind, weight type), or null when there is none.
VecDotFn model(int kind, T t) {
  if (t == T::kQ4_K && kind == 0) return ref::vec_dot_q4_k_interleaved;
  if (t == T::kQ4_K && kind == 1) return ref::vec_dot_q4_k_interleaved_x4;
  if (t == T::kQ6_K && kind == 2) return ref::vec_dot_q6_k_tiled;
  return nullptr;
}

const DotKernels& ref_dot() { return kernel_table(Isa::kRef)->dot; }

// Random rows of t and Q8_K activations (quantized by the reference), for each size.
template <typename F>
void for_each_case(T t, F f) {
  dot_check::Rng r(99);
  for (int64_t n : {int64_t{256}, int64_t{768}, int64_t{4096}}) {
    for (bool outliers : {false, true}) {
      for (int rep = 0; rep < 4; ++rep) {
        const std::vector<uint8_t> w = dot_check::random_weights(t, n, r);
        const std::vector<float> a = dot_check::random_activations(n, outliers, r);
        std::vector<uint8_t> q(row_size(T::kQ8_K, n));
        ref_dot().quantize_act[at(T::kQ8_K)](a.data(), q.data(), n);
        SCOPED_TRACE("n " + std::to_string(n) + (outliers ? " with outliers" : ""));
        f(n, w, a, q);
      }
    }
  }
}

TEST(DotOrders, EveryTableEntryEqualsItsScalarModel) {
  int checked = 0;
  for (Isa isa : runnable_isas()) {
    const DotKernels& d = kernel_table(isa)->dot;
    for (uint32_t id = 0; id < kTensorTypeIdLimit; ++id) {
      const T t = static_cast<T>(id);
      for (int kind = 0; kind < 3; ++kind) {
        const VecDotFn fn = entry(d, kind, t);
        if (!fn) continue;
        const VecDotFn want = model(kind, t);
        ASSERT_NE(want, nullptr) << isa_name(isa) << " has a " << kind_name(kind) << " order for "
                                 << type_traits(t).name << " without a scalar model";
        SCOPED_TRACE(std::string(isa_name(isa)) + " " + kind_name(kind) + " " +
                     type_traits(t).name);
        for_each_case(t, [&](int64_t n, const std::vector<uint8_t>& w, const std::vector<float>&,
                             const std::vector<uint8_t>& q) {
          float got = 0.0f, expect = 0.0f;
          fn(n, &got, w.data(), q.data());
          want(n, &expect, w.data(), q.data());
          ASSERT_EQ(got, expect);
          ++checked;
        });
      }
    }
  }
  std::printf("dot orders: %d rows checked bit for bit\n", checked);
}

// The tiles of the orders (vec_dot_interleaved_x4_tile, vec_dot_tiled_tile) must give each output
// exactly what the order's one-output entry gives: any count of rows (partial row groups) and of
// tokens (an odd last one), and rows longer than a tile unpacks ahead (it falls back to the dot).
TEST(DotOrders, TilesEqualTheirOneOutputEntries) {
  int checked = 0;
  for (Isa isa : runnable_isas()) {
    const DotKernels& d = kernel_table(isa)->dot;
    for (int kind : {1, 2}) {
      for (T t : {T::kQ4_K, T::kQ6_K}) {
        const VecDotTileFn tile =
            kind == 1 ? d.vec_dot_interleaved_x4_tile[at(t)] : d.vec_dot_tiled_tile[at(t)];
        if (!tile) continue;
        const VecDotFn one = entry(d, kind, t);
        ASSERT_NE(one, nullptr) << isa_name(isa) << ": a tile without its one-output order";
        SCOPED_TRACE(std::string(isa_name(isa)) + " " + kind_name(kind) + " " +
                     type_traits(t).name);
        dot_check::Rng r(7);
        for (int64_t k : {int64_t{256}, int64_t{2048}, int64_t{65 * 256}}) {
          for (int64_t rows : {int64_t{1}, int64_t{4}, int64_t{7}}) {
            const int64_t n_tok = 5;
            const size_t wrow = row_size(t, k), arow = row_size(T::kQ8_K, k);
            std::vector<uint8_t> w, q(arow * n_tok);
            for (int64_t i = 0; i < rows; ++i) {
              const std::vector<uint8_t> row = dot_check::random_weights(t, k, r);
              w.insert(w.end(), row.begin(), row.end());
            }
            for (int64_t j = 0; j < n_tok; ++j) {
              const std::vector<float> a = dot_check::random_activations(k, j == 2, r);
              ref_dot().quantize_act[at(T::kQ8_K)](a.data(), &q[arow * j], k);
            }
            const int64_t stride = rows + 3;  // outputs need not be packed
            std::vector<float> y(static_cast<size_t>(stride * n_tok), -7.0f);
            tile(k, w.data(), wrow, rows, q.data(), arow, n_tok, y.data(), stride);
            for (int64_t j = 0; j < n_tok; ++j) {
              for (int64_t i = 0; i < stride; ++i) {
                const float got = y[static_cast<size_t>(j * stride + i)];
                if (i >= rows) {
                  ASSERT_EQ(got, -7.0f) << "wrote past the rows: k " << k << " token " << j;
                  continue;
                }
                float want = 0.0f;
                one(k, &want, &w[wrow * i], &q[arow * j]);
                ASSERT_EQ(got, want) << "k " << k << " rows " << rows << " row " << i
                                     << " token " << j;
                ++checked;
              }
            }
          }
        }
      }
    }
  }
  std::printf("dot order tiles: %d outputs checked bit for bit\n", checked);
}

// The reference table keeps the plain truth: no matrix-kernel orders (they mirror x86 builds).
TEST(DotOrders, ReferenceAndNeonTablesHaveNone) {
  for (Isa isa : {Isa::kRef, Isa::kNeon}) {
    const KernelTable* kt = kernel_table(isa);
    if (!kt) continue;
    for (uint32_t id = 0; id < kTensorTypeIdLimit; ++id) {
      EXPECT_EQ(kt->dot.vec_dot_interleaved[id], nullptr) << isa_name(isa);
      EXPECT_EQ(kt->dot.vec_dot_interleaved_x4[id], nullptr) << isa_name(isa);
      EXPECT_EQ(kt->dot.vec_dot_tiled[id], nullptr) << isa_name(isa);
      EXPECT_EQ(kt->dot.vec_dot_interleaved_x4_tile[id], nullptr) << isa_name(isa);
      EXPECT_EQ(kt->dot.vec_dot_tiled_tile[id], nullptr) << isa_name(isa);
    }
  }
}

// Each scalar model is the same dot product as the reference vec_dot, to float rounding.
TEST(DotOrders, ScalarModelsComputeTheReferenceDot) {
  for (T t : {T::kQ4_K, T::kQ6_K}) {
    for (int kind = 0; kind < 3; ++kind) {
      const VecDotFn m = model(kind, t);
      if (!m) continue;
      SCOPED_TRACE(std::string(kind_name(kind)) + " " + type_traits(t).name);
      for_each_case(t, [&](int64_t n, const std::vector<uint8_t>& w, const std::vector<float>&,
                           const std::vector<uint8_t>& q) {
        float got = 0.0f, want = 0.0f;
        m(n, &got, w.data(), q.data());
        ref_dot().vec_dot[at(t)](n, &want, w.data(), q.data());
        const std::vector<float> wf = dot_check::dequantize(t, w.data(), n);
        const std::vector<float> af = dot_check::dequantize(T::kQ8_K, q.data(), n);
        const dot_check::FloatDot fd = dot_check::float_dot(wf, af);
        dot_check::expect_close(got, want, fd.abs_sum, dot_check::kVecDotTolerance, "model");
        dot_check::expect_close(got, static_cast<float>(fd.sum), fd.abs_sum,
                                dot_check::kVecDotTolerance, "float dot");
      });
    }
  }
}

#if defined(__x86_64__) || defined(_M_X64)
// llama.cpp's AVX2 build repacks Q4_K and runs Q6_K batches through its tiled kernel; the AVX2
// table (and the AVX-512 one built on it) must carry those orders.
TEST(DotOrders, Avx2TablesCarryLlamaCppOrders) {
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    const KernelTable* kt = kernel_table(isa);
    if (!kt) continue;
    EXPECT_NE(kt->dot.vec_dot_interleaved[at(T::kQ4_K)], nullptr) << isa_name(isa);
    EXPECT_NE(kt->dot.vec_dot_interleaved_x4[at(T::kQ4_K)], nullptr) << isa_name(isa);
    EXPECT_NE(kt->dot.vec_dot_tiled[at(T::kQ6_K)], nullptr) << isa_name(isa);
  }
}
#endif

}  // namespace
}  // namespace pocketlm::kernels
