#include "core/thread_pool.h"

#include <chrono>
#include <system_error>

namespace pocketlm {
namespace {

// How long an idle thread waits actively before blocking. A decode step alternates parallel
// matrix products with short single-threaded ops (norms, rope, sampling), so the next job usually
// arrives within microseconds: spinning through such gaps saves a kernel round-trip per job,
// while blocking after half a millisecond keeps an idle process from holding a core.
constexpr auto kPauseSpin = std::chrono::microseconds(50);   // busy-wait with a CPU pause hint
constexpr auto kYieldSpin = std::chrono::microseconds(500);  // then give the core to others
constexpr int kClockEvery = 64;                              // spins between clock reads

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ __volatile__("yield");
#endif
}

// The pool whose job the current thread is running (workers: always their own pool), so a nested
// run() can be detected instead of deadlocking.
thread_local const ThreadPool* t_current_pool = nullptr;

// Spins, then yields, until `ready()` holds or the idle budget is spent; returns ready().
template <typename Ready>
bool spin_until(Ready ready) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  for (int i = 1;; ++i) {
    if (ready()) return true;
    if (i % kClockEvery == 0) {
      const auto idle = Clock::now() - start;
      if (idle >= kYieldSpin) return ready();
      if (idle >= kPauseSpin) {
        std::this_thread::yield();
        continue;
      }
    }
    cpu_relax();
  }
}

}  // namespace

struct alignas(64) ThreadPool::Worker {
  std::atomic<uint32_t> go{0};  // bumped once for every job this worker takes part in (or stop)
  // 0 while this worker's share of the current job is unclaimed; whoever swaps in the 1 (the
  // worker, or the caller once its own share is done) runs the share. A worker that has not been
  // scheduled by then (a busy core, an oversubscribed phone) so never delays the call.
  std::atomic<uint32_t> unclaimed_share{0};
  std::atomic<bool> sleeping{false};
  std::mutex mutex;
  std::condition_variable cv;
  std::thread thread;
};

ThreadPool::ThreadPool(int n_threads) {
  n_threads_ = n_threads < 1 ? 1 : n_threads;
  workers_ = std::make_unique<Worker[]>(static_cast<size_t>(n_threads_));
  for (int i = 1; i < n_threads_; ++i) {
    try {
      workers_[i].thread = std::thread([this, i] { worker_loop(i); });
    } catch (const std::system_error&) {
      // The system refused another thread: run with those we have rather than fail.
      n_threads_ = i;
      break;
    }
  }
}

ThreadPool::~ThreadPool() {
  std::lock_guard<std::mutex> lock(run_mutex_);
  stop_.store(true, std::memory_order_release);
  for (int i = 1; i < n_threads_; ++i) {
    Worker& w = workers_[i];
    w.go.fetch_add(1, std::memory_order_seq_cst);
    std::lock_guard<std::mutex> wl(w.mutex);
    w.cv.notify_one();
  }
  for (int i = 1; i < n_threads_; ++i) workers_[i].thread.join();
}

void ThreadPool::run(int n_threads_to_use, TaskFn fn, void* ctx) {
  const int nth = std::clamp(n_threads_to_use, 1, n_threads_);
  if (nth == 1 || t_current_pool == this) {
    fn(ctx, 0, 1);
    return;
  }
  std::lock_guard<std::mutex> lock(run_mutex_);
  // Only participants are woken, and each reads the job only after seeing its own `go` change:
  // the fields below are stable until every participant has counted itself out of pending_.
  fn_ = fn;
  ctx_ = ctx;
  nth_ = nth;
  pending_.store(nth - 1, std::memory_order_relaxed);
  for (int i = 1; i < nth; ++i) {
    Worker& w = workers_[i];
    // Release: whoever claims the share (an acquire exchange that reads this 1) sees the job.
    w.unclaimed_share.store(1, std::memory_order_release);
    // seq_cst pairs with the worker's store of `sleeping` then load of `go`: either we see it
    // asleep and notify, or it sees the new `go` before it blocks.
    w.go.fetch_add(1, std::memory_order_seq_cst);
    if (w.sleeping.load(std::memory_order_seq_cst)) {
      std::lock_guard<std::mutex> wl(w.mutex);
      w.cv.notify_one();
    }
  }
  const ThreadPool* outer = t_current_pool;
  t_current_pool = this;
  fn(ctx, 0, nth);
  // Shares whose worker has not woken up yet are cheaper to run here than to wait for.
  for (int i = nth - 1; i >= 1; --i) {
    if (workers_[i].unclaimed_share.exchange(0, std::memory_order_acq_rel) != 0) {
      fn(ctx, i, nth);
      pending_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  t_current_pool = outer;
  wait_for_workers();
}

void ThreadPool::wait_for_workers() {
  if (spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) return;
  std::unique_lock<std::mutex> lock(caller_mutex_);
  caller_sleeping_.store(true, std::memory_order_seq_cst);
  while (pending_.load(std::memory_order_seq_cst) != 0) caller_cv_.wait(lock);
  caller_sleeping_.store(false, std::memory_order_relaxed);
}

void ThreadPool::worker_loop(int ith) {
  t_current_pool = this;
  Worker& w = workers_[ith];
  uint32_t seen = 0;
  for (;;) {
    uint32_t go = seen;
    const bool woke = spin_until([&] {
      go = w.go.load(std::memory_order_acquire);
      return go != seen;
    });
    if (!woke) {
      std::unique_lock<std::mutex> lock(w.mutex);
      w.sleeping.store(true, std::memory_order_seq_cst);
      while ((go = w.go.load(std::memory_order_seq_cst)) == seen) w.cv.wait(lock);
      w.sleeping.store(false, std::memory_order_relaxed);
    }
    seen = go;
    if (stop_.load(std::memory_order_acquire)) return;
    // The caller may have run this share already. If it has even started the next job, the
    // claim takes that job's share (the release store of 1 orders the job fields before it) and
    // the `go` bump still pending for it finds nothing left to claim.
    if (w.unclaimed_share.exchange(0, std::memory_order_acq_rel) == 0) continue;

    fn_(ctx_, ith, nth_);

    if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        caller_sleeping_.load(std::memory_order_seq_cst)) {
      std::lock_guard<std::mutex> lock(caller_mutex_);
      caller_cv_.notify_one();
    }
  }
}

}  // namespace pocketlm
