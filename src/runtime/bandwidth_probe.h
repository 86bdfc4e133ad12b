// BandwidthProbe: how fast this machine streams memory into its cores — the bound that decoding
// cannot beat, since each decoded token reads every weight of the model once.
//
// Usage:
//   ThreadPool pool(2);
//   Result<BandwidthProbe> probe = BandwidthProbe::create(size_t{1} << 30, &pool);
//   if (!probe.ok()) return probe.status();
//   BandwidthSample one = probe->measure(&pool, 1, 3);   // best of 3 passes, 1 thread
//   BandwidthSample two = probe->measure(&pool, 2, 3);   // the same buffer, 2 threads
//   printf("%.1f GB/s\n", two.gb_per_s);
//
// A pass sums every float of the buffer; with n threads each sums one contiguous slice. The sum
// keeps several independent vector accumulators, so the adds never wait on each other and the
// loop runs as fast as memory delivers (a plain float loop would be bound by one add chain, since
// the compiler may not reorder float additions). The buffer is far larger than any cache, and
// the best pass is reported: slower passes measure other processes, not the memory.
//
// The buffer is resident for the probe's lifetime (it raises the process's peak RSS: measure
// memory use before creating one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "core/status.h"
#include "core/thread_pool.h"

namespace pocketlm {

struct BandwidthSample {
  int threads = 0;
  uint64_t bytes = 0;         // read per pass
  double best_seconds = 0.0;  // of the fastest pass
  double gb_per_s = 0.0;      // bytes / best_seconds / 1e9
};

class BandwidthProbe {
 public:
  // Allocates and fills `bytes` (rounded down to whole 64-byte lines, at least one line) using
  // the pool's threads, so every page is resident and first-touch placed before any pass.
  static Result<BandwidthProbe> create(size_t bytes, ThreadPool* pool);

  // `n_threads` is clamped to the pool's size; `passes` to at least 1.
  BandwidthSample measure(ThreadPool* pool, int n_threads, int passes) const;

  size_t bytes() const { return n_floats_ * sizeof(float); }
  // The sum of the last pass, so the passes have an observable result (tests check it).
  double last_sum() const { return last_sum_; }

 private:
  struct AlignedDelete {
    void operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  BandwidthProbe() = default;

  std::unique_ptr<float[], AlignedDelete> data_;
  size_t n_floats_ = 0;
  mutable double last_sum_ = 0.0;
};

}  // namespace pocketlm
