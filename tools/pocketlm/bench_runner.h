// The measurements behind `pocketlm bench`: load times, prefill (pp) and decode (tg) speed per
// thread count, memory, and the memory-bandwidth probe. bench.cpp parses the flags and prints.
//
// Usage:
//   BenchConfig c;  c.model_path = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
//   c.n_prompt = {512};  c.n_gen = {128};  c.threads = {1, 2};  c.repetitions = 5;
//   Result<BenchRun> run = run_bench(c);
//   for (const TestResult& t : run->tests) printf("%s %d %.1f\n", t.test.c_str(), t.threads,
//                                                 t.avg_ts());
//
// What a test measures, as llama-bench does, so the two can be compared:
//  - pp<N>: N token ids (pseudo-random, fixed seed) run through the model in one forward() call
//    (chunks of n_batch) into an empty cache, logits of the last token only.
//  - tg<N>: N decode steps of one token each, from an empty cache, each step's input a
//    pseudo-random id (what the next token is does not change the work).
// Each (test, thread count) first runs once unmeasured (a whole pp; one decode step for tg) so
// that weight pages are resident and caches warm, then `repetitions` timed runs, each from an
// empty cache (position 0: the cache is overwritten, never read beyond what the run wrote).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "runtime/bandwidth_probe.h"

namespace pocketlm::cli {

struct BenchConfig {
  std::string model_path;
  std::vector<int64_t> n_prompt = {512};  // one pp test per value
  std::vector<int64_t> n_gen = {128};     // one tg test per value
  std::vector<int> threads = {1};
  int repetitions = 5;
  int64_t n_ctx = 0;  // 0: the longest test (max n_prompt, max n_gen)
  int64_t n_batch = 512;
  bool warmup = true;
  bool use_mmap = true;
  uint32_t seed = 1234;      // of the token ids
  uint64_t probe_bytes = 0;  // bandwidth probe buffer; 0: no probe
  int probe_passes = 3;
  // Called with a short status line ("pp512 t=2 rep 3/5") as the run advances; may be empty.
  std::function<void(const std::string&)> progress;
};

struct TestResult {
  std::string test;  // "pp512", "tg128"
  int64_t n_prompt = 0;
  int64_t n_gen = 0;
  int threads = 1;
  std::vector<double> samples_ns;  // wall time of each timed repetition

  int64_t n_tokens() const { return n_prompt + n_gen; }
  std::vector<double> samples_ts() const;  // tokens per second of each repetition
  double avg_ns() const;
  double stddev_ns() const;  // sample standard deviation (n - 1), 0 for a single sample
  double avg_ts() const;     // mean of samples_ts (llama-bench averages the rates)
  double stddev_ts() const;
};

struct BenchModelInfo {
  std::string path;
  std::string arch;         // general.architecture
  std::string name;         // general.name, or ""
  std::string type_name;    // "Q4_1", "Q4_K_M": the file type the file declares, else the
                            // type holding the most weight bytes
  std::string desc;         // "llama 135M Q4_1": what llama-bench's model column shows
  uint64_t size_bytes = 0;  // tensor data
  uint64_t n_params = 0;
  // Weight bytes one decode step reads (see decode_weight_bytes).
  uint64_t decode_bytes_per_token = 0;
};

struct BenchRun {
  BenchModelInfo model;
  double load_cold_ms = 0.0;  // first load in this process (the file may be in the page cache)
  double load_warm_ms = 0.0;  // the same file loaded again right after
  uint64_t rss_before_load_bytes = 0;  // resident set just before the first load
  uint64_t peak_rss_bytes = 0;         // after every test, before the bandwidth probe
  uint64_t kv_cache_bytes = 0;
  int64_t n_ctx = 0;
  int64_t n_batch = 0;
  bool use_mmap = true;
  std::string kv_type;  // "f16"
  std::string isa;      // the kernel table that ran: "avx2", "avx512", "neon", "ref"
  std::string cpu_info;
  std::vector<TestResult> tests;       // thread counts outer, then pp tests, then tg tests
  std::vector<BandwidthSample> probe;  // one per distinct thread count (and 1); may be empty

  // The probe sample for `threads`, or nullptr.
  const BandwidthSample* probe_for(int threads) const;
};

// Bytes of weights that one decode step reads: every tensor except the token embedding table,
// of which a step reads one row — unless the output projection is tied to it, which reads the
// whole table.
uint64_t decode_weight_bytes(const Model& model);

// Loads the model twice (cold, then warm; the second copy is benchmarked), runs every test for
// every thread count, then the bandwidth probe when asked for.
Result<BenchRun> run_bench(const BenchConfig& config);

}  // namespace pocketlm::cli
