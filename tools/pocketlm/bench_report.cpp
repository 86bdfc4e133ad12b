#include "bench_report.h"

#include <chrono>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "json_writer.h"

namespace pocketlm::cli {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

std::string mib(uint64_t bytes) { return strfmt("%.2f MiB", static_cast<double>(bytes) / kMiB); }

std::string now_iso8601() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Decode bandwidth of a tg test: bytes of weights per token times tokens per second.
double decode_gb_per_s(const BenchRun& run, const TestResult& t) {
  return static_cast<double>(run.model.decode_bytes_per_token) * t.avg_ts() / 1e9;
}

// One flat record per test: the JSON object's members and the CSV row, in one order.
struct Field {
  std::string name;
  enum Kind { kString, kInt, kFloat, kBool, kFloatList } kind = kString;
  std::string s;
  int64_t i = 0;
  double f = 0.0;
  std::vector<double> list;
};

std::vector<Field> fields_of(const BenchRun& run, const TestResult& t, const std::string& time) {
  auto make = [](const char* n, Field::Kind kind) {
    Field f;
    f.name = n;
    f.kind = kind;
    return f;
  };
  auto str = [&](const char* n, std::string v) {
    Field f = make(n, Field::kString);
    f.s = std::move(v);
    return f;
  };
  auto num = [&](const char* n, int64_t v) {
    Field f = make(n, Field::kInt);
    f.i = v;
    return f;
  };
  auto boolean = [&](const char* n, bool v) {
    Field f = make(n, Field::kBool);
    f.i = v ? 1 : 0;
    return f;
  };
  auto flt = [&](const char* n, double v) {
    Field f = make(n, Field::kFloat);
    f.f = v;
    return f;
  };
  auto lst = [&](const char* n, std::vector<double> v) {
    Field f = make(n, Field::kFloatList);
    f.list = std::move(v);
    return f;
  };
  std::vector<Field> f = {
      str("model", run.model.desc),
      str("model_filename", run.model.path),
      str("model_type", run.model.desc),
      num("model_size", static_cast<int64_t>(run.model.size_bytes)),
      num("model_n_params", static_cast<int64_t>(run.model.n_params)),
      str("backends", "CPU"),
      str("isa", run.isa),
      str("cpu_info", run.cpu_info),
      num("n_batch", run.n_batch),
      num("n_ubatch", run.n_batch),
      num("n_ctx", run.n_ctx),
      num("n_threads", t.threads),
      num("threads", t.threads),
      str("type_k", run.kv_type),
      str("type_v", run.kv_type),
      boolean("use_mmap", run.use_mmap),
      boolean("flash_attn", false),
      num("n_prompt", t.n_prompt),
      num("n_gen", t.n_gen),
      str("test", t.test),
      str("test_time", time),
      flt("avg_ns", t.avg_ns()),
      flt("stddev_ns", t.stddev_ns()),
      flt("avg_ts", t.avg_ts()),
      flt("stddev_ts", t.stddev_ts()),
      lst("samples_ns", t.samples_ns),
      lst("samples_ts", t.samples_ts()),
      flt("load_cold_ms", run.load_cold_ms),
      flt("load_warm_ms", run.load_warm_ms),
      num("rss_before_load_bytes", static_cast<int64_t>(run.rss_before_load_bytes)),
      num("peak_rss_bytes", static_cast<int64_t>(run.peak_rss_bytes)),
      num("kv_cache_bytes", static_cast<int64_t>(run.kv_cache_bytes)),
      num("decode_bytes_per_token", static_cast<int64_t>(run.model.decode_bytes_per_token)),
  };
  // Bandwidth columns are always present (CSV rows must line up); 0 where they do not apply.
  const BandwidthSample* probe = run.probe_for(t.threads);
  const double gbs = t.n_gen > 0 ? decode_gb_per_s(run, t) : 0.0;
  const double bound = probe != nullptr ? probe->gb_per_s : 0.0;
  f.push_back(flt("decode_gb_s", gbs));
  f.push_back(flt("bandwidth_probe_gb_s", bound));
  f.push_back(flt("bandwidth_use", bound > 0 ? gbs / bound : 0.0));
  return f;
}

void write_json(std::FILE* out, const BenchRun& run) {
  const std::string time = now_iso8601();
  JsonWriter j(out);
  j.begin_array();
  for (const TestResult& t : run.tests) {
    j.begin_object();
    for (const Field& f : fields_of(run, t, time)) {
      j.key(f.name);
      switch (f.kind) {
        case Field::kString:
          j.string(f.s);
          break;
        case Field::kInt:
          j.integer(f.i);
          break;
        case Field::kFloat:
          j.f64(f.f);
          break;
        case Field::kBool:
          j.boolean(f.i != 0);
          break;
        case Field::kFloatList:
          j.begin_array();
          for (double v : f.list) j.f64(v);
          j.end_array();
          break;
      }
    }
    j.end_object();
  }
  j.end_array();
  j.finish();
}

std::string csv_cell(const Field& f) {
  switch (f.kind) {
    case Field::kString: {
      std::string q = "\"";
      for (char c : f.s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      return q + "\"";
    }
    case Field::kInt:
      return std::to_string(f.i);
    case Field::kFloat:
      return strfmt("%.6g", f.f);
    case Field::kBool:
      return f.i != 0 ? "true" : "false";
    case Field::kFloatList: {
      std::string s = "\"";
      for (size_t k = 0; k < f.list.size(); ++k) s += (k ? " " : "") + strfmt("%.6g", f.list[k]);
      return s + "\"";
    }
  }
  return "";
}

void write_csv(std::FILE* out, const BenchRun& run) {
  const std::string time = now_iso8601();
  bool header = true;
  for (const TestResult& t : run.tests) {
    const std::vector<Field> fields = fields_of(run, t, time);
    if (header) {
      for (size_t k = 0; k < fields.size(); ++k) {
        std::fprintf(out, "%s%s", k ? "," : "", fields[k].name.c_str());
      }
      std::fprintf(out, "\n");
      header = false;
    }
    for (size_t k = 0; k < fields.size(); ++k) {
      std::fprintf(out, "%s%s", k ? "," : "", csv_cell(fields[k]).c_str());
    }
    std::fprintf(out, "\n");
  }
}

void write_markdown(std::FILE* out, const BenchRun& run) {
  const std::string backend = "CPU " + run.isa;
  const std::string params = strfmt("%.2f M", static_cast<double>(run.model.n_params) / 1e6);
  std::fprintf(out, "| %-20s | %10s | %10s | %-10s | %7s | %7s | %20s |\n", "model", "size",
               "params", "backend", "threads", "test", "t/s");
  std::fprintf(out, "| %s | %s: | %s: | %s | %s: | %s: | %s: |\n", std::string(20, '-').c_str(),
               std::string(9, '-').c_str(), std::string(9, '-').c_str(),
               std::string(10, '-').c_str(), std::string(6, '-').c_str(),
               std::string(6, '-').c_str(), std::string(19, '-').c_str());
  for (const TestResult& t : run.tests) {
    const std::string ts = strfmt("%.2f ± %.2f", t.avg_ts(), t.stddev_ts());
    // "±" is two bytes but one column: pad by hand so the table stays aligned in a terminal.
    std::fprintf(out, "| %-20s | %10s | %10s | %-10s | %7d | %7s | %*s |\n", run.model.desc.c_str(),
                 mib(run.model.size_bytes).c_str(), params.c_str(), backend.c_str(), t.threads,
                 t.test.c_str(), 21, ts.c_str());
  }
  std::fprintf(out, "\n");
  std::fprintf(out,
               "load: cold %.1f ms (the first load in this process; the file may already be in "
               "the page cache), warm %.1f ms\n",
               run.load_cold_ms, run.load_warm_ms);
  std::fprintf(out, "memory: peak RSS %s (%s before loading), KV cache %s (n_ctx %lld, %s)\n",
               mib(run.peak_rss_bytes).c_str(), mib(run.rss_before_load_bytes).c_str(),
               mib(run.kv_cache_bytes).c_str(), static_cast<long long>(run.n_ctx),
               run.kv_type.c_str());
  std::fprintf(out, "decode reads %s of weights per token\n",
               mib(run.model.decode_bytes_per_token).c_str());
  if (run.probe.empty()) return;
  std::fprintf(out, "bandwidth probe (sum of a %.2f GiB float array, best pass):",
               static_cast<double>(run.probe.front().bytes) / (kMiB * 1024.0));
  for (const BandwidthSample& s : run.probe) {
    std::fprintf(out, " %d thread%s %.1f GB/s;", s.threads, s.threads == 1 ? "" : "s", s.gb_per_s);
  }
  std::fprintf(out, "\n");
  bool any_tg = false;
  for (const TestResult& t : run.tests) any_tg = any_tg || t.n_gen > 0;
  if (!any_tg) return;
  std::fprintf(out,
               "\n| threads |    test | weights read GB/s | probe GB/s | bound t/s | of bound |\n");
  std::fprintf(out,
               "| ------: | ------: | ----------------: | ---------: | --------: | -------: |\n");
  for (const TestResult& t : run.tests) {
    const BandwidthSample* probe = run.probe_for(t.threads);
    if (t.n_gen == 0 || probe == nullptr) continue;
    const double gbs = decode_gb_per_s(run, t);
    const double bound_ts =
        probe->gb_per_s * 1e9 / static_cast<double>(run.model.decode_bytes_per_token);
    std::fprintf(out, "| %7d | %7s | %17.2f | %10.2f | %9.1f | %7.1f%% |\n", t.threads,
                 t.test.c_str(), gbs, probe->gb_per_s, bound_ts, 100.0 * gbs / probe->gb_per_s);
  }
}

}  // namespace

std::optional<BenchFormat> bench_format_from_name(std::string_view name) {
  if (name == "md") return BenchFormat::kMarkdown;
  if (name == "json") return BenchFormat::kJson;
  if (name == "csv") return BenchFormat::kCsv;
  return std::nullopt;
}

void write_bench_report(std::FILE* out, const BenchRun& run, BenchFormat format) {
  switch (format) {
    case BenchFormat::kMarkdown:
      write_markdown(out, run);
      break;
    case BenchFormat::kJson:
      write_json(out, run);
      break;
    case BenchFormat::kCsv:
      write_csv(out, run);
      break;
  }
  std::fflush(out);
}

}  // namespace pocketlm::cli
