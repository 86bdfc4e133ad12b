#include "runtime/bandwidth_probe.h"

#include <algorithm>
#include <chrono>
#include <vector>

namespace pocketlm {
namespace {

constexpr size_t kLineFloats = 16;  // 64 bytes: one cache line, four 16-byte vectors

// A 16-byte vector of floats (SSE on x86-64, NEON on ARM): every target pocketlm builds for has
// it without extra compiler flags, and four of them cover a cache line per loop iteration.
typedef float Vec4 __attribute__((vector_size(16)));

struct Slices {
  float* data = nullptr;
  size_t n_lines = 0;
  double* partial = nullptr;  // (nth) one sum per thread
};

void line_range(size_t n_lines, int ith, int nth, size_t* begin, size_t* end) {
  *begin = n_lines * static_cast<size_t>(ith) / static_cast<size_t>(nth);
  *end = n_lines * static_cast<size_t>(ith + 1) / static_cast<size_t>(nth);
}

void fill_slice(void* ctx, int ith, int nth) {
  const Slices& s = *static_cast<const Slices*>(ctx);
  size_t begin = 0, end = 0;
  line_range(s.n_lines, ith, nth, &begin, &end);
  // Small exact values: the sum of a pass is an integer computed exactly in double.
  for (size_t i = begin * kLineFloats; i < end * kLineFloats; ++i) {
    s.data[i] = static_cast<float>(i % 8);
  }
}

void sum_slice(void* ctx, int ith, int nth) {
  const Slices& s = *static_cast<const Slices*>(ctx);
  size_t begin = 0, end = 0;
  line_range(s.n_lines, ith, nth, &begin, &end);
  Vec4 a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
  // Flush the float accumulators into a double every 2^16 lines: partial sums stay below 2^24,
  // so each float add is exact and the pass's total is exact too.
  constexpr size_t kFlushLines = size_t{1} << 16;
  double total = 0.0;
  for (size_t chunk = begin; chunk < end; chunk += kFlushLines) {
    const size_t stop = std::min(end, chunk + kFlushLines);
    const Vec4* p = reinterpret_cast<const Vec4*>(s.data + chunk * kLineFloats);
    for (size_t l = chunk; l < stop; ++l, p += 4) {
      a0 += p[0];
      a1 += p[1];
      a2 += p[2];
      a3 += p[3];
    }
    const Vec4 t = (a0 + a1) + (a2 + a3);
    total += static_cast<double>(t[0]) + t[1] + t[2] + t[3];
    a0 = Vec4{0, 0, 0, 0};
    a1 = a0;
    a2 = a0;
    a3 = a0;
  }
  s.partial[ith] = total;
}

}  // namespace

Result<BandwidthProbe> BandwidthProbe::create(size_t bytes, ThreadPool* pool) {
  const size_t n_lines = std::max<size_t>(1, bytes / (kLineFloats * sizeof(float)));
  BandwidthProbe probe;
  const size_t n_bytes = n_lines * kLineFloats * sizeof(float);
  float* raw = static_cast<float*>(::operator new[](n_bytes, std::align_val_t(64), std::nothrow));
  if (raw == nullptr) {
    return Status(StatusCode::kOutOfMemory,
                  strfmt("cannot allocate %zu bytes for the bandwidth probe", bytes));
  }
  probe.data_.reset(raw);
  probe.n_floats_ = n_lines * kLineFloats;
  Slices s{raw, n_lines, nullptr};
  pool->run(pool->n_threads(), fill_slice, &s);
  return probe;
}

BandwidthSample BandwidthProbe::measure(ThreadPool* pool, int n_threads, int passes) const {
  const int nth = std::clamp(n_threads, 1, pool->n_threads());
  std::vector<double> partial(static_cast<size_t>(nth), 0.0);
  Slices s{data_.get(), n_floats_ / kLineFloats, partial.data()};
  BandwidthSample out;
  out.threads = nth;
  out.bytes = n_floats_ * sizeof(float);
  for (int pass = 0; pass < std::max(1, passes); ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    pool->run(nth, sum_slice, &s);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (pass == 0 || sec < out.best_seconds) out.best_seconds = sec;
    double sum = 0.0;
    for (double v : partial) sum += v;
    last_sum_ = sum;
  }
  out.gb_per_s = out.best_seconds > 0 ? static_cast<double>(out.bytes) / out.best_seconds / 1e9 : 0;
  return out;
}

}  // namespace pocketlm
