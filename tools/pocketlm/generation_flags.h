// The flags `run` and `chat` share (model, context, threads, KV cache, sampling, stopping), the
// C API handles they open, and the one-line statistics both print.
//
// Usage:
//   ArgParser p("run", "pocketlm run ...");
//   add_generation_flags(&p);
//   ParsedArgs a;
//   if (int rc = p.parse(args, 0, 0, &a); rc >= 0) return rc;
//   GenerationFlags g;
//   if (int rc = g.read("run", a); rc >= 0) return rc;
//   Engine e;
//   if (int rc = open_engine("run", g, &e); rc >= 0) return rc;
//   plm_session_generate(e.session.get(), prompt, &g.generate, on_token, &out, &reason);
//
// Bad values (-n abc, --top-p 2, --kv-type q5) are caught here, before the model loads, with one
// line that names the flag and the accepted range.
#pragma once

#include <memory>
#include <string>

#include "args.h"
#include "pocketlm/pocketlm.h"

namespace pocketlm::cli {

void add_generation_flags(ArgParser* p);

class GenerationFlags {
 public:
  GenerationFlags();
  // generate.stop points into this object.
  GenerationFlags(const GenerationFlags&) = delete;
  GenerationFlags& operator=(const GenerationFlags&) = delete;

  // Fills the fields from the parsed flags. Returns -1 to go on, or the exit status after one
  // error line on stderr.
  int read(const char* verb, const ParsedArgs& a);

  // nullptr: the model's own template.
  const char* chat_template() const {
    return chat_template_.empty() ? nullptr : chat_template_.c_str();
  }

  std::string model_path;
  std::string system;  // --system, "" when absent
  plm_model_params model_params;
  plm_session_params session_params;
  plm_generate_params generate;

 private:
  std::string chat_template_;
  std::string stop_;
  const char* stop_ptr_ = nullptr;
};

struct ModelFree {
  void operator()(plm_model* m) const { plm_model_free(m); }
};
struct SessionFree {
  void operator()(plm_session* s) const { plm_session_free(s); }
};

struct Engine {
  std::unique_ptr<plm_model, ModelFree> model;
  std::unique_ptr<plm_session, SessionFree> session;
};

// Loads the model and opens a session. Returns -1 to go on, or the exit status after one error
// line on stderr.
int open_engine(const char* verb, const GenerationFlags& g, Engine* engine);

// The exit status for a failed C API call: 2 when the input was at fault (a missing or malformed
// model, a bad value, a prompt that does not fit), 1 when the work failed.
int exit_status_for(plm_status status);
// Prints "pocketlm <verb>: <plm_last_error()>" and returns exit_status_for(status).
int report_api_error(const char* verb, plm_status status);

// The stop reason as jsonl output names it: "eog", "max_tokens", "stop_string", "cancelled",
// "context_full".
const char* stop_reason_label(plm_stop_reason reason);

// "prompt 12 tok, 123.4 tok/s | generated 64 tok, 45.6 tok/s | ttft 98 ms | load 40 ms |
// peak RSS 180 MiB" (without a newline); "" when the session has no statistics.
std::string stats_line(const plm_session* session);

}  // namespace pocketlm::cli
