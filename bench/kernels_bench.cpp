// Kernel micro-benchmarks: matrix x vector throughput per weight type, ISA and thread count.
//
// The figure that matters for token generation is bytes of weights read per second (printed as
// bytes_per_second): decoding one token streams every weight once, so a matvec that keeps up with
// memory bandwidth is as fast as it can be. Shapes are those of small phone-sized models:
//   2048x2048  a 1-2B model's attention projection (a few MiB: mostly cache-resident here),
//   576x1536   SmolLM2-135M's FFN down projection (k = 1536),
//   49152x576  SmolLM2-135M's output projection (too large for cache: a DRAM-bandwidth figure).
// K-quants need k to be a multiple of 256, so the 49152x576 shape runs only the 32-block types.
// Weights are random blocks with sane scales: speed does not depend on the values.
//
// Also measured: element-wise ops on an 8192-float row (ops/...) and the thread pool's dispatch
// round trip (pool/dispatch/...).
//
// Usage: kernels_bench [--benchmark_filter=matvec/q4_0] (POCKETLM_ISA does not matter here: every
// runnable ISA, reference included, is measured so the speed-ups are visible side by side.)
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/types.h"

namespace pocketlm::kernels {
namespace {

struct Shape {
  int64_t rows;
  int64_t k;
};

constexpr Shape kShapes[] = {{2048, 2048}, {576, 1536}, {49152, 576}};

constexpr TensorType kTypes[] = {TensorType::kF16,  TensorType::kQ4_0, TensorType::kQ4_1,
                                 TensorType::kQ5_0, TensorType::kQ5_1, TensorType::kQ8_0,
                                 TensorType::kQ2_K, TensorType::kQ3_K, TensorType::kQ4_K,
                                 TensorType::kQ5_K, TensorType::kQ6_K};

// Byte offsets of the fp16 scale fields inside one block: random bytes there could be Inf/NaN.
std::vector<size_t> fp16_fields(TensorType t) {
  switch (t) {
    case TensorType::kQ4_0:
      return {offsetof(BlockQ4_0, d)};
    case TensorType::kQ4_1:
      return {offsetof(BlockQ4_1, d), offsetof(BlockQ4_1, m)};
    case TensorType::kQ5_0:
      return {offsetof(BlockQ5_0, d)};
    case TensorType::kQ5_1:
      return {offsetof(BlockQ5_1, d), offsetof(BlockQ5_1, m)};
    case TensorType::kQ8_0:
      return {offsetof(BlockQ8_0, d)};
    case TensorType::kQ2_K:
      return {offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin)};
    case TensorType::kQ3_K:
      return {offsetof(BlockQ3_K, d)};
    case TensorType::kQ4_K:
      return {offsetof(BlockQ4_K, d), offsetof(BlockQ4_K, dmin)};
    case TensorType::kQ5_K:
      return {offsetof(BlockQ5_K, d), offsetof(BlockQ5_K, dmin)};
    case TensorType::kQ6_K:
      return {offsetof(BlockQ6_K, d)};
    default:
      return {};
  }
}

std::vector<uint8_t> random_weights(TensorType t, int64_t rows, int64_t k) {
  const TypeTraits& tr = type_traits(t);
  const size_t bytes = row_size(t, k) * static_cast<size_t>(rows);
  std::vector<uint8_t> w(bytes);
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> val(-1.0f, 1.0f);
  if (t == TensorType::kF16) {
    for (size_t i = 0; i + 1 < bytes; i += 2) {
      const fp16_t h = fp32_to_fp16(val(rng));
      std::memcpy(&w[i], &h, 2);
    }
    return w;
  }
  for (size_t i = 0; i < bytes; i += 4) {
    const uint32_t r = rng();
    std::memcpy(&w[i], &r, std::min<size_t>(4, bytes - i));
  }
  const std::vector<size_t> fields = fp16_fields(t);
  for (size_t b = 0; b < bytes; b += tr.type_size) {
    for (size_t off : fields) {
      const fp16_t h = fp32_to_fp16(0.01f * val(rng));
      std::memcpy(&w[b + off], &h, 2);
    }
  }
  return w;
}

ThreadPool& pool_for(int threads) {
  static ThreadPool one(1);
  static ThreadPool two(2);
  return threads == 1 ? one : two;
}

void bm_matvec(benchmark::State& state, Isa isa, TensorType t, Shape s, int threads) {
  const KernelTable* kt = kernel_table(isa);
  std::vector<uint8_t> w = random_weights(t, s.rows, s.k);
  std::vector<float> x(static_cast<size_t>(s.k));
  std::vector<float> y(static_cast<size_t>(s.rows));
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> val(-1.0f, 1.0f);
  for (float& v : x) v = val(rng);
  Workspace ws;
  ThreadPool& pool = pool_for(threads);
  Status st = matvec(*kt, t, w.data(), s.rows, s.k, x.data(), y.data(), &pool, ws);
  if (!st.ok()) {
    state.SkipWithError(st.message().c_str());
    return;
  }
  for (auto _ : state) {
    st = matvec(*kt, t, w.data(), s.rows, s.k, x.data(), y.data(), &pool, ws);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(w.size()));
}

// Element-wise ops on one activation row of a typical width; bytes = floats read and written.
constexpr int64_t kOpWidth = 8192;

void bm_op(benchmark::State& state, Isa isa, int which) {
  const OpKernels& ops = kernel_table(isa)->ops;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> val(-4.0f, 4.0f);
  std::vector<float> a(kOpWidth), b(kOpWidth), y(kOpWidth), cs(64), sn(64);
  for (float& v : a) v = val(rng);
  for (float& v : b) v = val(rng);
  for (int i = 0; i < 64; ++i) {
    cs[static_cast<size_t>(i)] = std::cos(0.1f * static_cast<float>(i));
    sn[static_cast<size_t>(i)] = std::sin(0.1f * static_cast<float>(i));
  }
  int64_t streams = 2;  // floats moved per element
  for (auto _ : state) {
    switch (which) {
      case 0:
        ops.rms_norm(y.data(), a.data(), b.data(), kOpWidth, 1e-5f);
        streams = 3;
        break;
      case 1:
        std::memcpy(y.data(), a.data(), sizeof(float) * kOpWidth);
        ops.softmax(y.data(), kOpWidth);
        break;
      case 2:
        ops.silu(y.data(), a.data(), kOpWidth);
        break;
      case 3:
        ops.swiglu(y.data(), a.data(), b.data(), kOpWidth);
        streams = 3;
        break;
      case 4:
        ops.gelu_tanh(y.data(), a.data(), kOpWidth);
        break;
      case 5:  // 64 heads of 128, NeoX style
        ops.rope(a.data(), kOpWidth / 128, 128, 128, cs.data(), sn.data(), RopeStyle::kNeox);
        break;
      default: {
        float d = ops.dot_f32(a.data(), b.data(), kOpWidth);
        benchmark::DoNotOptimize(d);
        break;
      }
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kOpWidth * streams * 4);
}

// Cost of handing an (empty) job to the pool and waiting for it: the floor under every
// parallel kernel call in a decode step.
void bm_dispatch(benchmark::State& state, int threads) {
  ThreadPool& pool = pool_for(threads);
  int64_t sink[2 * 16] = {};
  for (auto _ : state) {
    parallel_for(&pool, threads, [&](int64_t begin, int64_t, int ith) { sink[ith * 16] += begin; });
  }
  benchmark::DoNotOptimize(sink);
}

void register_all() {
  const char* const op_names[] = {"rms_norm",  "softmax",   "silu",   "swiglu",
                                  "gelu_tanh", "rope_neox", "dot_f32"};
  for (Isa isa : runnable_isas()) {
    for (int which = 0; which < 7; ++which) {
      const std::string name = std::string("ops/") + op_names[which] + "/" +
                               std::to_string(kOpWidth) + "/" + isa_name(isa);
      benchmark::RegisterBenchmark(name.c_str(), bm_op, isa, which);
    }
  }
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark(("pool/dispatch/threads:" + std::to_string(threads)).c_str(),
                                 bm_dispatch, threads)
        ->UseRealTime();
  }
  for (Isa isa : runnable_isas()) {
    for (TensorType t : kTypes) {
      const TypeTraits& tr = type_traits(t);
      for (const Shape& s : kShapes) {
        if (s.k % tr.block_size != 0) continue;
        for (int threads : {1, 2}) {
          const std::string name = std::string("matvec/") + tr.name + "/" + std::to_string(s.rows) +
                                   "x" + std::to_string(s.k) + "/" + isa_name(isa) +
                                   "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), bm_matvec, isa, t, s, threads)
              ->Unit(benchmark::kMicrosecond)
              ->UseRealTime();
        }
      }
    }
  }
}

}  // namespace
}  // namespace pocketlm::kernels

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::printf("cpu features: %s\n", pocketlm::cpu_features().describe().c_str());
  pocketlm::kernels::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
