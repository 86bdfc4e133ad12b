#include "bench_runner.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <utility>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "model/forward_state.h"
#include "model/transformer.h"
#include "quant/types.h"
#include "runtime/engine_model.h"
#include "runtime/session.h"

namespace pocketlm::cli {
namespace {

using Clock = std::chrono::steady_clock;

double ns_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
}

// The resident set now (peak_rss_bytes() only knows the maximum): Linux's /proc/self/statm,
// 0 elsewhere.
uint64_t current_rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const int got = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  const long page = sysconf(_SC_PAGESIZE);
  return got == 2 && page > 0 ? resident * static_cast<uint64_t>(page) : 0;
}

// general.file_type values as llama.cpp's quantizer writes them (its llama_ftype): the name says
// what most matrices are, including the k-quant mixes that no single tensor type names.
const char* file_type_name(uint32_t ft) {
  static const std::map<uint32_t, const char*> kNames = {
      {0, "F32"},     {1, "F16"},     {2, "Q4_0"},    {3, "Q4_1"},    {7, "Q8_0"},
      {8, "Q5_0"},    {9, "Q5_1"},    {10, "Q2_K"},   {11, "Q3_K_S"}, {12, "Q3_K_M"},
      {13, "Q3_K_L"}, {14, "Q4_K_S"}, {15, "Q4_K_M"}, {16, "Q5_K_S"}, {17, "Q5_K_M"},
      {18, "Q6_K"},   {32, "BF16"},   {36, "TQ1_0"},  {37, "TQ2_0"},  {38, "MXFP4"}};
  auto it = kNames.find(ft);
  return it == kNames.end() ? nullptr : it->second;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string model_type_name(const GgufFile& file) {
  if (const GgufValue* v = file.find("general.file_type")) {
    if (std::optional<uint64_t> ft = v->as_uint()) {
      if (const char* name = file_type_name(static_cast<uint32_t>(*ft))) return name;
    }
  }
  std::map<std::string, uint64_t> bytes_by_type;
  for (const GgufTensorInfo& t : file.tensors()) {
    if (const TypeTraits* tr = find_type_traits(static_cast<uint32_t>(t.type))) {
      bytes_by_type[tr->name] += t.n_bytes;
    }
  }
  std::string best = "?";
  uint64_t most = 0;
  for (const auto& [name, bytes] : bytes_by_type) {
    if (bytes > most) best = upper(name), most = bytes;
  }
  return best;
}

std::string params_label(uint64_t n) {
  if (n >= 1000000000ull) return strfmt("%.1fB", static_cast<double>(n) / 1e9);
  return strfmt("%.0fM", static_cast<double>(n) / 1e6);
}

BenchModelInfo describe(const LoadedModel& lm, const std::string& path) {
  BenchModelInfo info;
  info.path = path;
  info.arch = lm.architecture;
  info.name = lm.name;
  info.type_name = model_type_name(lm.model->file());
  info.size_bytes = lm.model->weight_bytes();
  info.n_params = lm.n_params;
  info.desc = info.arch + " " + params_label(info.n_params) + " " + info.type_name;
  info.decode_bytes_per_token = decode_weight_bytes(*lm.model);
  return info;
}

class TokenSource {
 public:
  TokenSource(uint32_t seed, int64_t n_vocab)
      : rng_(seed), dist_(0, static_cast<int32_t>(n_vocab - 1)) {}
  int32_t next() { return dist_(rng_); }
  void fill(std::vector<int32_t>* ids) {
    for (int32_t& id : *ids) id = next();
  }

 private:
  std::mt19937 rng_;
  std::uniform_int_distribution<int32_t> dist_;
};

// Everything one thread count's tests share.
struct TestBench {
  const Model* model;
  ForwardState* state;
  ThreadPool* pool;
  const kernels::KernelTable* kt;
  TokenSource* tokens;
  std::vector<float>* logits;
};

Status run_prompt(const TestBench& b, int64_t n) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  b.tokens->fill(&ids);
  return forward(*b.model, *b.state, *b.kt, b.pool, ids.data(), n, /*pos0=*/0, LogitsFor::kLast,
                 b.logits->data());
}

Status run_gen(const TestBench& b, int64_t n) {
  for (int64_t pos = 0; pos < n; ++pos) {
    const int32_t id = b.tokens->next();
    PLM_RETURN_IF_ERROR(forward(*b.model, *b.state, *b.kt, b.pool, &id, 1, pos, LogitsFor::kLast,
                                b.logits->data()));
  }
  return Status();
}

Status run_test(const TestBench& b, const BenchConfig& config, TestResult* t) {
  const bool is_pp = t->n_prompt > 0;
  auto once = [&](int64_t n) { return is_pp ? run_prompt(b, n) : run_gen(b, n); };
  const int64_t n = is_pp ? t->n_prompt : t->n_gen;
  if (config.warmup) {
    if (config.progress) config.progress(strfmt("%s t=%d warm-up", t->test.c_str(), t->threads));
    PLM_RETURN_IF_ERROR(once(is_pp ? n : 1));
  }
  for (int rep = 0; rep < config.repetitions; ++rep) {
    if (config.progress) {
      config.progress(
          strfmt("%s t=%d rep %d/%d", t->test.c_str(), t->threads, rep + 1, config.repetitions));
    }
    const auto t0 = Clock::now();
    PLM_RETURN_IF_ERROR(once(n));
    t->samples_ns.push_back(ns_since(t0));
  }
  return Status();
}

Result<std::unique_ptr<LoadedModel>> timed_load(const std::string& path, bool use_mmap,
                                                double* ms) {
  LoadOptions lo;
  lo.use_mmap = use_mmap;
  const auto t0 = Clock::now();
  Result<std::unique_ptr<LoadedModel>> m = LoadedModel::load(path, lo);
  *ms = ns_since(t0) / 1e6;
  return m;
}

}  // namespace

std::vector<double> TestResult::samples_ts() const {
  std::vector<double> ts;
  for (double ns : samples_ns) {
    ts.push_back(ns > 0 ? 1e9 * static_cast<double>(n_tokens()) / ns : 0);
  }
  return ts;
}

namespace {
double mean(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  double s = 0.0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}
double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean(v);
  double s = 0.0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}
}  // namespace

double TestResult::avg_ns() const { return mean(samples_ns); }
double TestResult::stddev_ns() const { return stddev(samples_ns); }
double TestResult::avg_ts() const { return mean(samples_ts()); }
double TestResult::stddev_ts() const { return stddev(samples_ts()); }

const BandwidthSample* BenchRun::probe_for(int threads) const {
  for (const BandwidthSample& s : probe) {
    if (s.threads == threads) return &s;
  }
  return nullptr;
}

uint64_t decode_weight_bytes(const Model& model) {
  const ModelWeights& w = model.weights();
  const uint64_t table = w.token_embd.row_bytes() * static_cast<uint64_t>(w.token_embd.rows);
  uint64_t bytes = model.weight_bytes() - std::min(table, model.weight_bytes());
  // A tied output reads the whole table (the looked-up row is part of it); else one row.
  bytes += w.tied_output ? table : w.token_embd.row_bytes();
  return bytes;
}

Result<BenchRun> run_bench(const BenchConfig& config) {
  BenchRun run;
  run.n_batch = config.n_batch;
  run.use_mmap = config.use_mmap;
  run.kv_type = "f16";
  const kernels::KernelTable& kt = kernels::active_kernels();
  run.isa = kernels::isa_name(kt.isa);
  run.cpu_info = cpu_features().describe();

  run.rss_before_load_bytes = current_rss_bytes();
  double cold_ms = 0.0, warm_ms = 0.0;
  {
    Result<std::unique_ptr<LoadedModel>> cold =
        timed_load(config.model_path, config.use_mmap, &cold_ms);
    if (!cold.ok()) return cold.status();
  }
  Result<std::unique_ptr<LoadedModel>> loaded =
      timed_load(config.model_path, config.use_mmap, &warm_ms);
  if (!loaded.ok()) return loaded.status();
  const LoadedModel& lm = **loaded;
  const Model& model = *lm.model;
  run.load_cold_ms = cold_ms;
  run.load_warm_ms = warm_ms;
  run.model = describe(lm, config.model_path);

  int64_t longest = 1;
  for (int64_t n : config.n_prompt) longest = std::max(longest, n);
  for (int64_t n : config.n_gen) longest = std::max(longest, n);
  run.n_ctx = config.n_ctx > 0 ? config.n_ctx : longest;
  if (run.n_ctx < longest) {
    return invalid_argument(strfmt("the context (%lld) is shorter than the longest test (%lld)",
                                   static_cast<long long>(run.n_ctx),
                                   static_cast<long long>(longest)));
  }

  std::vector<float> logits(static_cast<size_t>(model.hparams().n_vocab));
  TokenSource tokens(config.seed, model.hparams().n_vocab);
  for (int nth : config.threads) {
    ForwardOptions fo;
    fo.n_ctx = run.n_ctx;
    fo.n_batch = config.n_batch;
    fo.kv_type = TensorType::kF16;
    fo.max_threads = nth;
    Result<ForwardState> st = ForwardState::create(model, fo);
    if (!st.ok()) return st.status();
    run.kv_cache_bytes = st->kv.bytes();
    ThreadPool pool(nth);
    const TestBench b{&model, &*st, &pool, &kt, &tokens, &logits};
    std::vector<TestResult> group;
    for (int64_t n : config.n_prompt) {
      group.push_back({strfmt("pp%lld", static_cast<long long>(n)), n, 0, nth, {}});
    }
    for (int64_t n : config.n_gen) {
      group.push_back({strfmt("tg%lld", static_cast<long long>(n)), 0, n, nth, {}});
    }
    for (TestResult& t : group) {
      PLM_RETURN_IF_ERROR(run_test(b, config, &t));
      run.tests.push_back(std::move(t));
    }
  }
  run.peak_rss_bytes = peak_rss_bytes();

  if (config.probe_bytes > 0) {
    std::set<int> counts(config.threads.begin(), config.threads.end());
    counts.insert(1);
    ThreadPool pool(*counts.rbegin());
    if (config.progress) config.progress("bandwidth probe");
    Result<BandwidthProbe> probe = BandwidthProbe::create(config.probe_bytes, &pool);
    if (!probe.ok()) return probe.status();
    for (int nth : counts) run.probe.push_back(probe->measure(&pool, nth, config.probe_passes));
  }
  return run;
}

}  // namespace pocketlm::cli
