// A fixed set of persistent worker threads for the compute kernels.
//
// Usage:
//   ThreadPool pool(4);                                  // the caller plus 3 workers
//   parallel_for(&pool, rows, [&](int64_t begin, int64_t end, int ith) {
//     for (int64_t r = begin; r < end; ++r) y[r] = dot(w + r * k, x, k);
//   });
//   pool.run(2, [](void* ctx, int ith, int nth) { ... }, &state);  // raw form, 2 threads
//
// A decode step dispatches hundreds of small jobs per token, so dispatch must cost microseconds:
// workers spin briefly on their own cache line after a job, and only after a longer idle spell do
// they block on a condition variable (so an idle process does not burn a core). No call allocates.
// The calling thread takes part as thread 0 and returns when every thread has finished its share.
// Once its own share is done, the caller also runs any share whose worker has not picked it up
// yet, so a worker that is descheduled (an oversubscribed or busy phone) costs nothing; fn must
// therefore not assume which OS thread runs a given ith, only that each ith runs exactly once.
//
// Thread safety: run() may be called from several threads; the calls are serialised. A call made
// from inside a job of the same pool (nesting) does not deadlock: it runs on the calling thread
// alone (ith 0, nth 1).
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>

namespace pocketlm {

class ThreadPool {
 public:
  using TaskFn = void (*)(void* ctx, int ith, int nth);

  // n_threads counts the calling thread, so ThreadPool(1) starts no worker. Values < 1 mean 1.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const { return n_threads_; }

  // Runs fn(ctx, ith, nth) for ith in [0, nth) with nth = clamp(n_threads_to_use, 1, n_threads())
  // and returns once all have returned. fn(ctx, 0, nth) runs on the calling thread.
  void run(int n_threads_to_use, TaskFn fn, void* ctx);

 private:
  struct Worker;
  void worker_loop(int ith);
  void wait_for_workers();

  int n_threads_ = 1;
  std::unique_ptr<Worker[]> workers_;  // index 0 unused: thread 0 is the caller

  // The job being run: written by the caller before it wakes the workers, read by them after.
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int nth_ = 1;

  alignas(64) std::atomic<int> pending_{0};  // workers still running the current job
  std::atomic<bool> caller_sleeping_{false};
  std::mutex caller_mutex_;
  std::condition_variable caller_cv_;

  std::atomic<bool> stop_{false};
  std::mutex run_mutex_;  // serialises run() calls from different threads
};

// Splits [0, n) into at most pool->n_threads() contiguous ranges, one per thread, and calls
// f(begin, end, ith) for each non-empty range. A null pool runs f(0, n, 0) on the caller.
// f is called by reference: no copy, no allocation.
template <typename F>
void parallel_for(ThreadPool* pool, int64_t n, F&& f) {
  if (n <= 0) return;
  const int nth = pool ? static_cast<int>(std::min<int64_t>(pool->n_threads(), n)) : 1;
  if (nth <= 1) {
    f(int64_t{0}, n, 0);
    return;
  }
  struct Ctx {
    std::remove_reference_t<F>* f;
    int64_t n;
  } ctx{&f, n};
  pool->run(
      nth,
      [](void* p, int ith, int nth_used) {
        const Ctx& c = *static_cast<const Ctx*>(p);
        const int64_t begin = c.n * ith / nth_used;
        const int64_t end = c.n * (ith + 1) / nth_used;
        if (begin < end) (*c.f)(begin, end, ith);
      },
      &ctx);
}

}  // namespace pocketlm
