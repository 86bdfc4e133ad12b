// `pocketlm bench -m MODEL [-p 512] [-n 128] [-t 1,2] [-r 5] [--format md|json|csv]
// [--plot FILE.svg]`: prefill and decode speed in the manner of llama-bench (so the numbers can
// be set beside its), plus load time, memory and how much of the memory bandwidth decoding uses.
// The measuring is in bench_runner.h, the printing in bench_report.h and bench_plot.h.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "args.h"
#include "bench_plot.h"
#include "bench_report.h"
#include "bench_runner.h"
#include "cli.h"
#include "model_path.h"

namespace pocketlm::cli {
namespace {

constexpr const char* kVerb = "bench";
constexpr int64_t kMaxTokens = 1 << 20;
constexpr int kMaxThreads = 1024;

// A comma-separated list of integers in [lo, hi], like llama-bench's "-p 128,512".
bool parse_list(const std::string& text, int64_t lo, int64_t hi, std::vector<int64_t>* out) {
  out->clear();
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos) return false;
    errno = 0;
    const long long v = std::strtoll(item.c_str(), nullptr, 10);
    if (errno != 0 || v < lo || v > hi) return false;
    out->push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return !out->empty();
}

bool parse_one(const std::string& text, int64_t lo, int64_t hi, int64_t* out) {
  std::vector<int64_t> v;
  if (!parse_list(text, lo, hi, &v) || v.size() != 1) return false;
  *out = v[0];
  return true;
}

int bad_value(const char* option, const std::string& value, const char* what) {
  return report_error(
      kVerb, std::string("invalid value '") + value + "' for " + option + ": " + what, kExitUsage);
}

int run_bench_verb(const std::vector<std::string>& args) {
  const int n_cpu = std::max(1u, std::thread::hardware_concurrency());
  ArgParser p(kVerb,
              "pocketlm bench [-m MODEL] [-p 512] [-n 128] [-t N,...] [-r 5] "
              "[--format md|json|csv] [--plot FILE.svg]");
  p.option("-m", "--model", "MODEL", "GGUF model file");
  p.option("-p", "--n-prompt", "N,...",
           "prefill tests: N tokens in one batch (default 512; 0: none)");
  p.option("-n", "--n-gen", "N,...", "decode tests: N tokens one at a time (default 128; 0: none)");
  p.option("-t", "--threads", "N,...",
           strfmt("thread counts to run every test with (default %d)", n_cpu));
  p.option("-r", "--repetitions", "N", "timed runs per test, after one warm-up (default 5)");
  p.option("-c", "--ctx-size", "N", "KV cache positions (default: the longest test)");
  p.option("-b", "--batch-size", "N", "tokens per forward batch in prefill (default 512)");
  p.option("", "--format", "FMT", "md (default), json or csv, on stdout");
  p.option("", "--plot", "FILE.svg", "also draw tokens/s as an SVG bar chart");
  p.option("", "--probe-mib", "N", "bandwidth probe buffer in MiB (default 1024; 0: no probe)");
  p.option("", "--seed", "N", "seed of the token ids (default 1234)");
  p.flag("--no-warmup", "skip the unmeasured run before each test");
  p.flag("--no-mmap", "read the model into memory instead of mapping it");
  p.epilog(
      "pp<N> runs N token ids through the model in one go into an empty cache; tg<N> decodes N\n"
      "tokens one at a time from an empty cache. Each is repeated -r times after a warm-up;\n"
      "t/s is the mean and standard deviation over the repetitions (llama-bench's method).\n"
      "Also reported: load time (cold = the first load in this process, which may still find\n"
      "the file in the OS page cache; warm = loaded again), peak RSS, KV cache bytes, weight\n"
      "bytes read per decoded token and, against a memory-bandwidth probe (sum of a float\n"
      "array, best of 3, run once at the end), the bandwidth decoding achieves.\n" +
      std::string(kModelPathHelp));
  ParsedArgs a;
  if (int rc = p.parse(args, 0, 0, &a); rc >= 0) return rc;

  BenchConfig c;
  std::string error;
  if (!resolve_model_path(a.get("--model"), &c.model_path, &error)) {
    return report_error(kVerb, error, kExitUsage);
  }
  std::vector<int64_t> list;
  if (a.has("--n-prompt")) {
    if (!parse_list(a.get("--n-prompt"), 0, kMaxTokens, &list)) {
      return bad_value("-p", a.get("--n-prompt"), "expected token counts like 128,512");
    }
    c.n_prompt.clear();
    for (int64_t v : list) {
      if (v > 0) c.n_prompt.push_back(v);
    }
  }
  if (a.has("--n-gen")) {
    if (!parse_list(a.get("--n-gen"), 0, kMaxTokens, &list)) {
      return bad_value("-n", a.get("--n-gen"), "expected token counts like 128");
    }
    c.n_gen.clear();
    for (int64_t v : list) {
      if (v > 0) c.n_gen.push_back(v);
    }
  }
  if (c.n_prompt.empty() && c.n_gen.empty()) {
    return report_error(kVerb, "nothing to run: -p and -n are both 0", kExitUsage);
  }
  c.threads = {n_cpu};
  if (a.has("--threads")) {
    if (!parse_list(a.get("--threads"), 1, kMaxThreads, &list)) {
      return bad_value("-t", a.get("--threads"), "expected thread counts like 1,2");
    }
    c.threads.assign(list.begin(), list.end());
  }
  int64_t v = 0;
  if (a.has("--repetitions")) {
    if (!parse_one(a.get("--repetitions"), 1, 100000, &v)) {
      return bad_value("-r", a.get("--repetitions"), "expected a count of 1 or more");
    }
    c.repetitions = static_cast<int>(v);
  }
  if (a.has("--ctx-size")) {
    if (!parse_one(a.get("--ctx-size"), 1, kMaxTokens, &v)) {
      return bad_value("-c", a.get("--ctx-size"), "expected a positive number of positions");
    }
    c.n_ctx = v;
  }
  if (a.has("--batch-size")) {
    if (!parse_one(a.get("--batch-size"), 1, kMaxTokens, &v)) {
      return bad_value("-b", a.get("--batch-size"), "expected a positive number of tokens");
    }
    c.n_batch = v;
  }
  c.probe_bytes = uint64_t{1024} << 20;
  if (a.has("--probe-mib")) {
    if (!parse_one(a.get("--probe-mib"), 0, 1 << 20, &v)) {
      return bad_value("--probe-mib", a.get("--probe-mib"), "expected a size in MiB");
    }
    c.probe_bytes = static_cast<uint64_t>(v) << 20;
  }
  if (a.has("--seed")) {
    if (!parse_one(a.get("--seed"), 0, 0xffffffffll, &v)) {
      return bad_value("--seed", a.get("--seed"), "expected a number");
    }
    c.seed = static_cast<uint32_t>(v);
  }
  std::optional<BenchFormat> format = bench_format_from_name(a.get("--format", "md"));
  if (!format) return bad_value("--format", a.get("--format"), "expected md, json or csv");
  c.warmup = !a.has("--no-warmup");
  c.use_mmap = !a.has("--no-mmap");

  const bool tty = isatty(STDERR_FILENO) != 0;
  if (tty) {
    c.progress = [](const std::string& what) {
      std::fprintf(stderr, "\r\033[Kpocketlm bench: %s", what.c_str());
      std::fflush(stderr);
    };
  }
  Result<BenchRun> run = run_bench(c);
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (!run.ok()) return report_status(kVerb, run.status());

  write_bench_report(stdout, *run, *format);
  if (a.has("--plot")) {
    if (Status s = write_bench_plot(a.get("--plot"), *run); !s.ok()) {
      return report_status(kVerb, s);
    }
  }
  return kExitOk;
}

const VerbRegistrar kBench({kVerb, "Measure prefill and decode speed (like llama-bench)",
                            run_bench_verb});

}  // namespace
}  // namespace pocketlm::cli
