#include "generation_flags.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <utility>

#include "cli.h"
#include "model_path.h"

namespace pocketlm::cli {
namespace {

constexpr std::pair<const char*, const char*> kShortNames[] = {
    {"-n", "--max-tokens"}, {"-t", "--threads"}, {"-c", "--ctx-size"}};

// A generous ceiling that still catches typos such as -t 8000.
constexpr int64_t kMaxThreads = 512;

// Parses all of `text` as one number; from_chars ignores locales, unlike strtof.
template <typename T>
bool parse_number(const std::string& text, T* out) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first != last && *first == '+') ++first;  // from_chars rejects a leading '+'
  auto [end, ec] = std::from_chars(first, last, *out);
  return ec == std::errc() && end == last && first != last;
}

class FlagReader {
 public:
  FlagReader(const char* verb, const ParsedArgs& a) : verb_(verb), a_(a) {}

  bool failed() const { return status_ >= 0; }
  int status() const { return status_; }

  // Reads an integer flag in [lo, hi] into *out when present.
  template <typename T>
  void integer(const char* name, int64_t lo, int64_t hi, const char* range, T* out) {
    if (failed() || !a_.has(name)) return;
    const std::string v = a_.get(name);
    int64_t x = 0;
    if (!parse_number(v, &x)) return fail(name, v, "an integer", range);
    if (x < lo || x > hi) return fail(name, v, nullptr, range);
    *out = static_cast<T>(x);
  }

  void unsigned64(const char* name, uint64_t* out) {
    if (failed() || !a_.has(name)) return;
    const std::string v = a_.get(name);
    if (!parse_number(v, out)) return fail(name, v, "an integer", "0..18446744073709551615");
  }

  // Reads a real number in [lo, hi] (or (lo, hi] when lo_open) into *out when present.
  void real(const char* name, double lo, double hi, bool lo_open, const char* range, float* out) {
    if (failed() || !a_.has(name)) return;
    const std::string v = a_.get(name);
    double x = 0;
    if (!parse_number(v, &x)) return fail(name, v, "a number", range);
    if (!std::isfinite(x) || x < lo || (lo_open && x == lo) || x > hi) {
      return fail(name, v, nullptr, range);
    }
    *out = static_cast<float>(x);
  }

  void error(const std::string& message) {
    if (!failed()) status_ = report_error(verb_, message, kExitUsage);
  }

 private:
  void fail(const char* name, const std::string& value, const char* kind, const char* range) {
    std::string what = kind != nullptr ? std::string("is not ") + kind : "is out of range";
    error("invalid value '" + value + "' for " + shown_name(name) + ": it " + what + " (expected " +
          range + ")");
  }

  // The flag as the user may have typed it: "-n/--max-tokens".
  static std::string shown_name(const std::string& long_name) {
    for (const auto& [shorter, longer] : kShortNames) {
      if (long_name == longer) return std::string(shorter) + "/" + long_name;
    }
    return long_name;
  }

  const char* verb_;
  const ParsedArgs& a_;
  int status_ = -1;
};

}  // namespace

void add_generation_flags(ArgParser* p) {
  p->option("-m", "--model", "MODEL", "GGUF model file (default: see below)");
  p->option("-n", "--max-tokens", "N", "tokens to generate at most; -1: no limit (256)");
  p->option("-t", "--threads", "N", "threads; 0: one per physical core (0)");
  p->option("-c", "--ctx-size", "N", "context size in tokens; 0: the model's, at most 4096 (0)");
  p->option("", "--kv-type", "TYPE", "KV cache type: f16, f32 or q8_0 (f16)");
  p->flag("--swa-full", "sliding-window layers cache every position, not a ring (more memory)");
  p->flag("--no-mmap", "read the model into memory instead of mapping the file");
  p->option("", "--temp", "T", "temperature; 0: greedy (0.8)");
  p->option("", "--top-k", "K", "keep the K most likely tokens; 0: off (40)");
  p->option("", "--top-p", "P", "keep the smallest set with probability >= P, in (0, 1] (0.95)");
  p->option("", "--min-p", "P", "drop tokens below P x the top probability, in [0, 1] (0.05)");
  p->option("", "--repeat-penalty", "R", "penalize recently seen tokens; 1: off (1)");
  p->option("", "--repeat-last-n", "N", "how many recent tokens the penalty sees (64)");
  p->option("", "--seed", "S", "random seed; the same seed gives the same text (0)");
  p->flag("--ignore-eos", "keep generating past the model's end-of-turn tokens");
  p->option("", "--stop", "STR", "stop before this text appears in the output");
  p->option("", "--chat-template", "NAME",
            "chat template: chatml, llama3, gemma, phi3, mistral, ... (the model's)");
  p->option("", "--system", "TEXT", "system message that opens the conversation");
}

GenerationFlags::GenerationFlags() {
  plm_model_params_init(&model_params);
  plm_session_params_init(&session_params);
  plm_generate_params_init(&generate);
}

int GenerationFlags::read(const char* verb, const ParsedArgs& a) {
  FlagReader r(verb, a);
  plm_sampling_params& s = generate.sampling;
  r.integer("--max-tokens", -1, std::numeric_limits<int32_t>::max(), "-1 or more",
            &generate.max_tokens);
  r.integer("--threads", 0, kMaxThreads, "0..512", &session_params.n_threads);
  r.integer("--ctx-size", 0, std::numeric_limits<int32_t>::max(), "0 or more",
            &session_params.n_ctx);
  constexpr double kHuge = std::numeric_limits<float>::max();
  r.real("--temp", 0, kHuge, false, "0 or more", &s.temperature);
  r.integer("--top-k", 0, std::numeric_limits<int32_t>::max(), "0 or more", &s.top_k);
  r.real("--top-p", 0, 1, true, "more than 0, at most 1", &s.top_p);
  r.real("--min-p", 0, 1, false, "0..1", &s.min_p);
  r.real("--repeat-penalty", 0, kHuge, true, "more than 0", &s.repeat_penalty);
  r.integer("--repeat-last-n", 0, std::numeric_limits<int32_t>::max(), "0 or more",
            &s.penalty_last_n);
  r.unsigned64("--seed", &s.seed);
  if (a.has("--kv-type")) {
    const std::string t = a.get("--kv-type");
    if (t == "f16") {
      session_params.kv_type = PLM_KV_F16;
    } else if (t == "f32") {
      session_params.kv_type = PLM_KV_F32;
    } else if (t == "q8_0") {
      session_params.kv_type = PLM_KV_Q8_0;
    } else {
      r.error("invalid value '" + t + "' for --kv-type (expected f16, f32 or q8_0)");
    }
  }
  if (a.has("--stop")) {
    stop_ = a.get("--stop");
    if (stop_.empty()) r.error("--stop needs a non-empty text");
    stop_ptr_ = stop_.c_str();
    generate.stop = &stop_ptr_;
    generate.n_stop = 1;
  }
  if (r.failed()) return r.status();
  generate.ignore_eos = a.has("--ignore-eos");
  model_params.use_mmap = !a.has("--no-mmap");
  session_params.swa_full = a.has("--swa-full") ? 1 : 0;
  chat_template_ = a.get("--chat-template");
  system = a.get("--system");

  std::string error;
  if (!resolve_model_path(a.get("--model"), &model_path, &error)) {
    return report_error(verb, error, kExitUsage);
  }
  return -1;
}

int open_engine(const char* verb, const GenerationFlags& g, Engine* engine) {
  plm_model* model = nullptr;
  if (plm_status st = plm_model_load(g.model_path.c_str(), &g.model_params, &model); st != PLM_OK) {
    return report_api_error(verb, st);
  }
  engine->model.reset(model);
  plm_session* session = nullptr;
  if (plm_status st = plm_session_create(model, &g.session_params, &session); st != PLM_OK) {
    return report_api_error(verb, st);
  }
  engine->session.reset(session);
  return -1;
}

int exit_status_for(plm_status status) {
  switch (status) {
    case PLM_ERR_INVALID_ARGUMENT:
    case PLM_ERR_NOT_FOUND:
    case PLM_ERR_MALFORMED:
    case PLM_ERR_UNSUPPORTED:
    case PLM_ERR_CONTEXT_FULL:
      return kExitUsage;
    default:
      return kExitFailure;
  }
}

int report_api_error(const char* verb, plm_status status) {
  std::string message = plm_last_error();
  if (message.empty()) message = plm_status_name(status);
  return report_error(verb, message, exit_status_for(status));
}

const char* stop_reason_label(plm_stop_reason reason) {
  switch (reason) {
    case PLM_STOP_EOG:
      return "eog";
    case PLM_STOP_MAX_TOKENS:
      return "max_tokens";
    case PLM_STOP_STRING:
      return "stop_string";
    case PLM_STOP_CANCELLED:
    case PLM_STOP_CALLBACK:
      return "cancelled";
    case PLM_STOP_CONTEXT_FULL:
      return "context_full";
    case PLM_STOP_NONE:
      break;
  }
  return "none";
}

std::string stats_line(const plm_session* session) {
  plm_stats st{};
  st.struct_size = sizeof(st);
  if (plm_session_get_stats(session, &st) != PLM_OK) return "";
  char buf[320];
  std::string reused =
      st.reused_tokens > 0 ? " (+" + std::to_string(st.reused_tokens) + " reused)" : "";
  std::snprintf(buf, sizeof(buf),
                "prompt %d tok%s, %.1f tok/s | generated %d tok, %.1f tok/s | ttft %.0f ms | "
                "load %.0f ms | peak RSS %.0f MiB | KV %.1f MiB",
                st.prompt_tokens, reused.c_str(), st.prefill_tok_s, st.generated_tokens,
                st.decode_tok_s, st.ttft_ms, st.load_ms,
                static_cast<double>(st.peak_rss_bytes) / (1024.0 * 1024.0),
                static_cast<double>(st.kv_cache_bytes) / (1024.0 * 1024.0));
  return buf;
}

}  // namespace pocketlm::cli
