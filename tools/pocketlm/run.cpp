// `pocketlm run (-p PROMPT | -f FILE) [flags]`: one prompt in, the continuation streamed out.
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "args.h"
#include "cli.h"
#include "generation_flags.h"
#include "interrupt.h"
#include "json_writer.h"
#include "model_path.h"
#include "pocketlm/pocketlm.h"

namespace pocketlm::cli {
namespace {

constexpr const char* kVerb = "run";

constexpr const char* kRunHelp =
    "Streams the continuation of the prompt to stdout (the prompt itself is not repeated) and\n"
    "ends with one statistics line on stderr. Sampling runs with the defaults shown; --temp 0\n"
    "is greedy, and the same --seed gives the same text. --chat renders the prompt (after\n"
    "--system, when given) with the model's chat template or --chat-template and generates the\n"
    "assistant's reply.\n"
    "\n"
    "--format jsonl prints one line per token, {\"id\":..,\"text\":..,\"logprob\":..} (text may\n"
    "be \"\" while a multi-byte character or a possible stop string is held back), then\n"
    "{\"stop\":REASON,\"stats\":{...}} with REASON one of eog, max_tokens, stop_string,\n"
    "cancelled, context_full.\n"
    "\n"
    "Ctrl-C stops generation; the statistics are still printed and the exit status is 130.\n"
    "Exit status 2: bad arguments, a missing or unreadable model or prompt file, or a prompt\n"
    "longer than the context.\n"
    "\n";

// Reads all of `path` ("-": stdin) into *out; false with *error set when it cannot.
bool read_prompt_file(const std::string& path, std::string* out, std::string* error) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    *error = "cannot open prompt file '" + path + "': " + std::strerror(errno);
    return false;
  }
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out->append(buf, n);
  bool failed = std::ferror(f) != 0;
  int err = errno;
  if (f != stdin) std::fclose(f);
  if (failed) {
    *error = "reading prompt file '" + path + "' failed: " + std::strerror(err);
    return false;
  }
  return true;
}

// JSON has no infinities; a token the model gave probability 0 (possible under a logit bias
// or --ignore-eos) reads back as null.
std::string json_number(float v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v));
  return buf;
}

struct Output {
  bool jsonl = false;
  bool wrote_text = false;
  bool write_failed = false;
};

bool on_token(const char* text, size_t len, int32_t token, float logprob, void* user_data) {
  auto* out = static_cast<Output*>(user_data);
  if (out->jsonl) {
    std::string line = "{\"id\":" + std::to_string(token) +
                       ",\"text\":" + JsonWriter::quote(std::string_view(text, len)) +
                       ",\"logprob\":" + json_number(logprob) + "}\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
  } else if (len > 0) {
    std::fwrite(text, 1, len, stdout);
    out->wrote_text = true;
  }
  // Flushed per token so a reader (a terminal, a pipe) sees the reply as it is generated.
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    out->write_failed = true;
    return false;
  }
  return !interrupted();
}

void print_jsonl_end(const plm_session* session, plm_stop_reason reason) {
  plm_stats st{};
  st.struct_size = sizeof(st);
  plm_session_get_stats(session, &st);
  std::printf(
      "{\"stop\":\"%s\",\"stats\":{\"prompt_tokens\":%d,\"reused_tokens\":%d,"
      "\"generated_tokens\":%d,\"prefill_ms\":%s,\"decode_ms\":%s,\"prefill_tok_s\":%s,"
      "\"decode_tok_s\":%s,\"ttft_ms\":%s,\"load_ms\":%s,\"n_past\":%d,"
      "\"peak_rss_bytes\":%" PRIu64 ",\"kv_cache_bytes\":%" PRIu64 "}}\n",
      stop_reason_label(reason), st.prompt_tokens, st.reused_tokens, st.generated_tokens,
      json_number(static_cast<float>(st.prefill_ms)).c_str(),
      json_number(static_cast<float>(st.decode_ms)).c_str(),
      json_number(static_cast<float>(st.prefill_tok_s)).c_str(),
      json_number(static_cast<float>(st.decode_tok_s)).c_str(),
      json_number(static_cast<float>(st.ttft_ms)).c_str(),
      json_number(static_cast<float>(st.load_ms)).c_str(), st.n_past, st.peak_rss_bytes,
      st.kv_cache_bytes);
}

int run_run(const std::vector<std::string>& args) {
  ArgParser p(kVerb, "pocketlm run [-m MODEL] (-p PROMPT | -f FILE) [options]");
  p.option("-p", "--prompt", "TEXT", "the prompt");
  p.option("-f", "--file", "FILE", "read the prompt from FILE ('-': stdin)");
  p.flag("--chat", "send the prompt as one user turn through the model's chat template");
  p.option("", "--format", "FORMAT", "text (default) or jsonl: one JSON object per token");
  add_generation_flags(&p);
  p.epilog(std::string(kRunHelp) + kModelPathHelp);
  ParsedArgs a;
  if (int rc = p.parse(args, 0, 0, &a); rc >= 0) return rc;

  if (a.has("--prompt") == a.has("--file")) {
    return report_error(kVerb, "give the prompt with exactly one of -p TEXT or -f FILE",
                        kExitUsage);
  }
  const std::string format = a.get("--format", "text");
  if (format != "text" && format != "jsonl") {
    return report_error(
        kVerb, "invalid value '" + format + "' for --format (expected text or jsonl)", kExitUsage);
  }
  const bool chat = a.has("--chat");
  if (!chat && (a.has("--system") || a.has("--chat-template"))) {
    return report_error(kVerb, "--system and --chat-template need --chat", kExitUsage);
  }
  GenerationFlags g;
  if (int rc = g.read(kVerb, a); rc >= 0) return rc;
  std::string prompt = a.get("--prompt");
  if (a.has("--file")) {
    std::string error;
    if (!read_prompt_file(a.get("--file"), &prompt, &error)) {
      return report_error(kVerb, error, kExitUsage);
    }
  }

  Engine e;
  if (int rc = open_engine(kVerb, g, &e); rc >= 0) return rc;
  plm_session* session = e.session.get();
  install_interrupt_handler();
  set_interrupt_target(session);

  Output out;
  out.jsonl = format == "jsonl";
  plm_stop_reason reason = PLM_STOP_NONE;
  plm_status st;
  if (chat) {
    std::vector<plm_chat_message> messages;
    if (!g.system.empty()) messages.push_back({"system", g.system.c_str()});
    messages.push_back({"user", prompt.c_str()});
    st = plm_session_chat(session, g.chat_template(), messages.data(), messages.size(), &g.generate,
                          on_token, &out, &reason);
  } else {
    st = plm_session_generate(session, prompt.c_str(), &g.generate, on_token, &out, &reason);
  }
  set_interrupt_target(nullptr);
  if (st != PLM_OK) return report_api_error(kVerb, st);

  if (out.write_failed) return report_error(kVerb, "writing to stdout failed", kExitFailure);
  if (out.jsonl) {
    print_jsonl_end(session, reason);
  } else if (out.wrote_text) {
    std::fputc('\n', stdout);  // so a shell prompt does not follow the reply on its line
  }
  std::fflush(stdout);
  if (std::string line = stats_line(session); !line.empty()) {
    std::fprintf(stderr, "pocketlm: %s\n", line.c_str());
  }
  if (interrupted()) return kExitInterrupted;
  if (std::ferror(stdout)) return report_error(kVerb, "writing to stdout failed", kExitFailure);
  return kExitOk;
}

const VerbRegistrar kRun({"run", "Generate a continuation of one prompt", run_run});

}  // namespace
}  // namespace pocketlm::cli
