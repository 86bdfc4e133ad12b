// ThreadPool: every share runs exactly once per call, the caller is thread 0, workers take part,
// calls may use fewer threads than the pool has, rapid and concurrent calls stay correct, nesting
// does not deadlock, idle workers sleep, and destruction is clean in every state. Shared state
// below is either per-thread slots or atomics, so the tests are race-free under ThreadSanitizer.
#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <thread>
#include <vector>

namespace pocketlm {
namespace {

struct CallRecord {
  std::atomic<int> calls[8] = {};
  std::atomic<int> seen_nth[8] = {};
  std::thread::id ids[8];  // each slot written only by the thread with that index
};

void record(void* ctx, int ith, int nth) {
  CallRecord& r = *static_cast<CallRecord*>(ctx);
  r.calls[ith].fetch_add(1);
  r.seen_nth[ith].store(nth);
  r.ids[ith] = std::this_thread::get_id();
}

TEST(ThreadPool, EveryThreadRunsOnceAndTheCallerIsThreadZero) {
  ThreadPool pool(4);
  EXPECT_EQ(pool.n_threads(), 4);
  CallRecord r;
  pool.run(4, record, &r);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(r.calls[i].load(), 1) << i;
    EXPECT_EQ(r.seen_nth[i].load(), 4) << i;
  }
  EXPECT_EQ(r.ids[0], std::this_thread::get_id());
}

TEST(ThreadPool, WorkersTakePartWhileTheCallerIsBusy) {
  ThreadPool pool(3);
  struct Ctx {
    std::thread::id ids[3];
  } ctx;
  pool.run(
      3,
      [](void* p, int ith, int) {
        // The caller's own share is long: the workers have all the time they need to claim
        // theirs, so those must run on two other threads.
        if (ith == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        static_cast<Ctx*>(p)->ids[ith] = std::this_thread::get_id();
      },
      &ctx);
  EXPECT_EQ(ctx.ids[0], std::this_thread::get_id());
  EXPECT_NE(ctx.ids[1], ctx.ids[0]);
  EXPECT_NE(ctx.ids[2], ctx.ids[0]);
  EXPECT_NE(ctx.ids[1], ctx.ids[2]);
}

TEST(ThreadPool, CallsMayUseFewerThreadsAndCountsAreClamped) {
  ThreadPool pool(4);
  CallRecord r;
  pool.run(2, record, &r);
  EXPECT_EQ(r.calls[0].load(), 1);
  EXPECT_EQ(r.calls[1].load(), 1);
  EXPECT_EQ(r.calls[2].load(), 0);
  EXPECT_EQ(r.calls[3].load(), 0);
  EXPECT_EQ(r.seen_nth[1].load(), 2);

  CallRecord many;
  pool.run(100, record, &many);  // more than the pool has: all 4
  for (int i = 0; i < 4; ++i) EXPECT_EQ(many.seen_nth[i].load(), 4);

  CallRecord none;
  pool.run(0, record, &none);  // fewer than one: the caller alone
  EXPECT_EQ(none.calls[0].load(), 1);
  EXPECT_EQ(none.seen_nth[0].load(), 1);
  EXPECT_EQ(none.calls[1].load(), 0);
}

TEST(ThreadPool, SingleThreadPoolRunsOnTheCaller) {
  ThreadPool pool(1);
  EXPECT_EQ(pool.n_threads(), 1);
  CallRecord r;
  pool.run(3, record, &r);
  EXPECT_EQ(r.calls[0].load(), 1);
  EXPECT_EQ(r.seen_nth[0].load(), 1);
  EXPECT_EQ(r.ids[0], std::this_thread::get_id());
  EXPECT_EQ(ThreadPool(0).n_threads(), 1);
  EXPECT_EQ(ThreadPool(-3).n_threads(), 1);
}

TEST(ThreadPool, ParallelForCoversTheRangeExactlyOnce) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 3, 5, 7, 64, 1001}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::vector<std::atomic<int>> by_thread(4);
      parallel_for(&pool, n, [&](int64_t begin, int64_t end, int ith) {
        ASSERT_LT(begin, end);
        by_thread[static_cast<size_t>(ith)].fetch_add(static_cast<int>(end - begin));
        for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << i;
      // Ranges are balanced: sizes differ by at most one.
      int lo = 1 << 30, hi = 0;
      const int used = static_cast<int>(std::min<int64_t>(threads, n));
      for (int t = 0; t < used; ++t) {
        lo = std::min(lo, by_thread[static_cast<size_t>(t)].load());
        hi = std::max(hi, by_thread[static_cast<size_t>(t)].load());
      }
      if (n > 0) {
        EXPECT_LE(hi - lo, 1) << threads << " threads, n=" << n;
      }
    }
  }
  // A null pool runs everything on the caller.
  int64_t total = 0;
  parallel_for(nullptr, 10, [&](int64_t begin, int64_t end, int ith) {
    EXPECT_EQ(ith, 0);
    total += end - begin;
  });
  EXPECT_EQ(total, 10);
}

TEST(ThreadPool, ManyRapidCalls) {
  ThreadPool pool(3);
  std::vector<int64_t> partial(3, 0);  // slot per thread index
  int64_t expected = 0;
  for (int call = 0; call < 2000; ++call) {
    const int64_t n = 1 + call % 97;
    parallel_for(&pool, n, [&](int64_t begin, int64_t end, int ith) {
      for (int64_t i = begin; i < end; ++i) partial[static_cast<size_t>(ith)] += i;
    });
    expected += n * (n - 1) / 2;
  }
  EXPECT_EQ(partial[0] + partial[1] + partial[2], expected);
}

TEST(ThreadPool, WorkersWakeAfterSleeping) {
  ThreadPool pool(3);
  for (int round = 0; round < 3; ++round) {
    // Long enough for the workers to give up spinning and block.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CallRecord r;
    pool.run(3, record, &r);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(r.calls[i].load(), 1) << "round " << round;
  }
}

TEST(ThreadPool, CallerWaitsForASlowWorker) {
  ThreadPool pool(2);
  std::atomic<int> done{0};
  auto slow = [&](int64_t, int64_t, int ith) {
    // The caller's short delay lets the worker claim share 1, which then outlasts the caller's
    // spin budget: the caller blocks and the worker must wake it.
    std::this_thread::sleep_for(std::chrono::milliseconds(ith == 0 ? 10 : 40));
    done.fetch_add(1);
  };
  parallel_for(&pool, 2, slow);
  EXPECT_EQ(done.load(), 2);
}

TEST(ThreadPool, NestedCallRunsOnTheCallingThread) {
  ThreadPool pool(3);
  std::atomic<int> inner_calls{0};
  std::atomic<int> inner_nth_sum{0};
  struct Ctx {
    ThreadPool* pool;
    std::atomic<int>* calls;
    std::atomic<int>* nth_sum;
  } ctx{&pool, &inner_calls, &inner_nth_sum};
  pool.run(
      3,
      [](void* p, int, int) {
        Ctx& c = *static_cast<Ctx*>(p);
        c.pool->run(
            3,
            [](void* q, int ith, int nth) {
              Ctx& d = *static_cast<Ctx*>(q);
              EXPECT_EQ(ith, 0);
              d.calls->fetch_add(1);
              d.nth_sum->fetch_add(nth);
            },
            p);
      },
      &ctx);
  EXPECT_EQ(inner_calls.load(), 3);    // once per outer thread
  EXPECT_EQ(inner_nth_sum.load(), 3);  // each with nth == 1
}

TEST(ThreadPool, ConcurrentCallersAreSerialised) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  auto caller = [&] {
    for (int i = 0; i < 200; ++i) {
      parallel_for(&pool, 30, [&](int64_t begin, int64_t end, int) {
        total.fetch_add(end - begin, std::memory_order_relaxed);
      });
    }
  };
  std::thread a(caller), b(caller);
  caller();
  a.join();
  b.join();
  EXPECT_EQ(total.load(), 3 * 200 * 30);
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

TEST(ThreadPool, IdleWorkersDoNotBurnTheCpu) {
  ThreadPool pool(4);
  CallRecord r;
  pool.run(4, record, &r);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past the spin budget
  const double before = process_cpu_seconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double used = process_cpu_seconds() - before;
  // Three spinning workers would use ~600 ms of CPU here; sleeping ones use next to nothing.
  EXPECT_LT(used, 0.05) << "idle pool used " << used << " s of CPU in 0.2 s";
}

TEST(ThreadPool, DestructionInEveryState) {
  for (int i = 0; i < 50; ++i) {
    ThreadPool fresh(3);  // destroyed without ever running
  }
  for (int i = 0; i < 50; ++i) {
    ThreadPool used(3);  // destroyed while workers spin right after a job
    CallRecord r;
    used.run(3, record, &r);
  }
  {
    ThreadPool sleeping(3);  // destroyed while workers block
    CallRecord r;
    sleeping.run(3, record, &r);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  {
    ThreadPool partly(4);  // some workers never woken
    CallRecord r;
    partly.run(2, record, &r);
  }
  SUCCEED();
}

TEST(ThreadPool, StressPerThreadSlots) {
  // Each job writes only its own slots and the caller reads them after run() returns: run()'s
  // completion must publish every worker's writes (TSan checks that happens-before edge).
  ThreadPool pool(3);
  std::vector<int64_t> slots(3 * 64, 0);
  for (int job = 1; job <= 1000; ++job) {
    const int nth_req = 1 + job % 3;
    struct Ctx {
      std::vector<int64_t>* slots;
      int job;
    } ctx{&slots, job};
    pool.run(
        nth_req,
        [](void* p, int ith, int) {
          Ctx& c = *static_cast<Ctx*>(p);
          (*c.slots)[static_cast<size_t>(ith) * 64] = c.job;
        },
        &ctx);
    for (int t = 0; t < nth_req; ++t) ASSERT_EQ(slots[static_cast<size_t>(t) * 64], job) << t;
  }
}

}  // namespace
}  // namespace pocketlm
