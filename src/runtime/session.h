// Session: one conversation with a model — its KV cache, the tokens in it and the generation
// loop that extends them.
//
// Usage:
//   Result<std::unique_ptr<LoadedModel>> m = LoadedModel::load(path, LoadOptions());
//   SessionOptions so;  so.n_ctx = 2048;  so.n_threads = 2;
//   Result<std::unique_ptr<Session>> s = Session::create(**m, so);
//   GenerateOptions go;  go.max_tokens = 64;  go.sampling.temperature = 0;
//   Result<StopReason> why = (*s)->generate("The capital of France is", go,
//       [](std::string_view text, int32_t id, float logprob) { print(text); return true; });
//   // why.status().code() == StatusCode::kOutOfRange: the prompt does not fit the context.
//
// What the session holds: history() are the token ids whose keys and values are in the cache
// (positions 0..n_past()-1) and history_text() their text (special tokens written out), which
// chat() compares with each newly rendered conversation to reuse the common part.
//
// The generation loop: tokenize -> check the prompt fits (else kOutOfRange and nothing changes)
// -> prefill in chunks of n_batch (cancellable between chunks) -> repeat: sample, stream the
// text through the UTF-8-safe detokenizer and the stop-string matcher, stop at end of generation
// (unless ignore_eos), max_tokens, a stop string, cancel(), the callback's `false` or a full
// context; else feed the token and go on.
//
// The last sampled token of a generation is never fed through the model: an end-of-generation
// token because the conversation's next rendering writes it back as text, any other one because
// the generation stopped. A non-EOG last token is kept and fed first by the next generate(), so
// that a continuation sees the whole reply; chat() drops it, since the rendering has its text.
//
// Context shift (ContextPolicy::kShift): when the cache is full, the first n_keep tokens stay,
// the oldest half of the rest is dropped and the remaining tail is run through the model again
// at its new positions. The cache stores keys after RoPE, so moving them would mean re-rotating
// every cached key; recomputing the tail costs one prefill of at most n_ctx/2 tokens per shift
// and keeps the cache exactly what a fresh prefill of the kept tokens gives.
//
// Thread safety: one thread at a time uses a Session, except cancel(), which any thread may call
// whenever it likes. The LoadedModel must outlive its sessions.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "model/forward_state.h"
#include "runtime/engine_model.h"
#include "runtime/sampler.h"
#include "tokenizer/chat_template.h"

namespace pocketlm {

// Values equal the C API's plm_stop_reason.
enum class StopReason : int {
  kNone = 0,
  kEog = 1,
  kMaxTokens = 2,
  kString = 3,
  kCancelled = 4,
  kCallback = 5,
  kContextFull = 6,
};

enum class ContextPolicy : int { kStop = 0, kShift = 1 };

struct SessionOptions {
  int64_t n_ctx = 4096;
  int n_threads = 1;
  int64_t n_batch = 256;  // prompt tokens per forward() call; also the cancellation granularity
  TensorType kv_type = TensorType::kF16;
  // Sliding-window layers keep every position instead of a ring of window + batch cells: more
  // memory, but no re-prefill when a chat edit or a context shift rewinds past the ring.
  bool swa_full = false;
};

struct GenerateOptions {
  SamplingParams sampling;
  int32_t max_tokens = 256;   // < 0: no limit
  bool ignore_eos = false;    // go on past end-of-generation tokens
  bool add_special = true;    // BOS/EOS as the vocabulary asks; only ever into an empty session
  bool parse_special = true;  // "<|im_start|>" in the prompt becomes its token
  std::vector<std::string> stop;
  ContextPolicy context_policy = ContextPolicy::kStop;
  int32_t n_keep = -1;  // tokens kept when shifting; -1: the first prompt's
};

// Receives the reply as it is generated; return false to stop. See plm_token_fn.
using TokenSink = std::function<bool(std::string_view text, int32_t id, float logprob)>;

// Of the last generate()/chat().
struct SessionStats {
  int32_t prompt_tokens = 0;     // prefilled
  int32_t reused_tokens = 0;     // already in the cache
  int32_t generated_tokens = 0;  // sampled
  int32_t shifts = 0;            // context shifts
  double prefill_ms = 0.0;
  double decode_ms = 0.0;  // wall time of the sampling loop (sampling, forwards, callbacks)
  double ttft_ms = 0.0;    // from the call to the first sampled token
  double prefill_tok_s() const { return prefill_ms > 0 ? prompt_tokens * 1e3 / prefill_ms : 0.0; }
  double decode_tok_s() const { return decode_ms > 0 ? generated_tokens * 1e3 / decode_ms : 0.0; }
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> create(const LoadedModel& model,
                                                 const SessionOptions& options);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Appends `prompt` to the session and generates. kOutOfRange: the prompt does not fit.
  Result<StopReason> generate(std::string_view prompt, const GenerateOptions& options,
                              const TokenSink& sink);
  // Renders the conversation with `tmpl` (nullptr: the model's own template), opens the
  // assistant's turn and generates, reusing the part of the conversation already in the cache.
  // The template's end-of-turn markers are added to options.stop.
  Result<StopReason> chat(std::span<const ChatMessage> messages, const ChatTemplate* tmpl,
                          const GenerateOptions& options, const TokenSink& sink);

  // Thread-safe; the running (or next starting) generation clears it when it starts.
  void cancel() { cancel_.store(true, std::memory_order_relaxed); }
  void reset();

  int64_t n_past() const { return static_cast<int64_t>(tokens_.size()); }
  int64_t n_ctx() const { return state_.options.n_ctx; }
  const SessionStats& stats() const { return stats_; }
  size_t kv_cache_bytes() const { return state_.kv.bytes(); }
  const std::vector<int32_t>& history() const { return tokens_; }
  const std::string& history_text() const { return text_; }
  const LoadedModel& model() const { return *model_; }

 private:
  // Keep the first `keep` tokens of the history, then feed `tokens`.
  struct Plan {
    size_t keep = 0;
    std::vector<int32_t> tokens;
  };

  Session(const LoadedModel& model, ForwardState state, int n_threads);

  Result<Plan> plan_chat(std::span<const ChatMessage> messages, const ChatTemplate& tmpl) const;
  Result<StopReason> run(Plan plan, const GenerateOptions& options,
                         std::span<const std::string> extra_stops, const TokenSink& sink,
                         std::chrono::steady_clock::time_point t_call);
  // Runs ids through the model at the end of the history in chunks of n_batch, appending each
  // chunk to the history once its keys and values are in the cache. Returns false when
  // cancel() interrupted it (the history then holds the chunks done). Logits of the last id go
  // to logits_ when `want_logits`.
  Result<bool> feed(const int32_t* ids, size_t n, bool want_logits, bool cancellable);
  // Makes room for one token by the policy described in the file comment; false: no room can
  // be made, or cancel() interrupted the recomputation.
  Result<bool> shift(int32_t n_keep);
  bool can_shift(int32_t n_keep) const;
  size_t shift_keep(int32_t n_keep) const;  // n_keep resolved and clamped
  // The longest prefix of `keep` history tokens the cache can continue after: `keep`, unless a
  // sliding-window ring has overwritten part of the window before it (then 0).
  size_t resumable(size_t keep) const;
  void truncate(size_t keep);
  void append_history(const int32_t* ids, size_t n);

  const LoadedModel* model_;
  ForwardState state_;
  ThreadPool pool_;
  const kernels::KernelTable* kt_;
  std::optional<Sampler> sampler_;  // made per call: every call starts from its own seed
  std::vector<float> logits_;       // (n_vocab) of the last token fed
  std::vector<int32_t> tokens_;     // ids in the cache, position order
  std::string text_;                // their pieces, special tokens written out
  std::optional<int32_t> pending_;  // last sampled, not fed (see the file comment)
  size_t first_prompt_len_ = 0;     // n_keep = -1
  SessionStats stats_;
  std::atomic<bool> cancel_{false};
};

// Peak resident set size of the process so far, in bytes (0 where the OS does not say).
uint64_t peak_rss_bytes();

}  // namespace pocketlm
