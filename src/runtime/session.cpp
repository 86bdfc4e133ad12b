#include "runtime/session.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <new>
#include <utility>

#include "model/transformer.h"
#include "runtime/stop_strings.h"
#include "tokenizer/detokenizer.h"

namespace pocketlm {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

uint64_t peak_rss_bytes() {
  struct rusage ru {};
  if (getrusage(RUSAGE_SELF, &ru) != 0 || ru.ru_maxrss < 0) return 0;
#if defined(__APPLE__)
  return static_cast<uint64_t>(ru.ru_maxrss);  // bytes on Darwin
#else
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;  // kilobytes on Linux and the BSDs
#endif
}

Session::Session(const LoadedModel& model, ForwardState state, int n_threads)
    : model_(&model), state_(std::move(state)), pool_(n_threads), kt_(&kernels::active_kernels()) {}

Result<std::unique_ptr<Session>> Session::create(const LoadedModel& model,
                                                 const SessionOptions& options) {
  if (options.n_ctx < 1)
    return invalid_argument(
        strfmt("n_ctx must be positive, got %lld", static_cast<long long>(options.n_ctx)));
  if (options.n_batch < 1) {
    return invalid_argument(
        strfmt("n_batch must be positive, got %lld", static_cast<long long>(options.n_batch)));
  }
  if (options.n_threads < 1) {
    return invalid_argument(strfmt("n_threads must be positive, got %d", options.n_threads));
  }
  ForwardOptions fo;
  fo.n_ctx = options.n_ctx;
  fo.n_batch = options.n_batch;
  fo.kv_type = options.kv_type;
  fo.max_threads = options.n_threads;
  fo.swa_full = options.swa_full;
  Result<ForwardState> st = ForwardState::create(*model.model, fo);
  if (!st.ok()) return st.status();
  std::unique_ptr<Session> s(new (std::nothrow)
                                 Session(model, std::move(st).value(), options.n_threads));
  if (!s) return Status(StatusCode::kOutOfMemory, "cannot allocate the session");
  try {
    s->logits_.resize(static_cast<size_t>(model.model->hparams().n_vocab));
    s->tokens_.reserve(static_cast<size_t>(options.n_ctx));
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfMemory, "cannot allocate the session's buffers");
  }
  return s;
}

void Session::reset() {
  tokens_.clear();
  text_.clear();
  pending_.reset();
  first_prompt_len_ = 0;
  stats_ = SessionStats();
}

void Session::append_history(const int32_t* ids, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    tokens_.push_back(ids[i]);
    text_ += model_->tokenizer.token_to_piece(ids[i], /*special=*/true);
  }
}

// The cache needs nothing done: positions past the history are simply written again.
void Session::truncate(size_t keep) {
  if (keep >= tokens_.size()) return;
  tokens_.resize(keep);
  text_.clear();
  for (int32_t id : tokens_) text_ += model_->tokenizer.token_to_piece(id, /*special=*/true);
}

Result<bool> Session::feed(const int32_t* ids, size_t n, bool want_logits, bool cancellable) {
  const size_t batch = static_cast<size_t>(state_.options.n_batch);
  for (size_t done = 0; done < n;) {
    if (cancellable && cancel_.load(std::memory_order_relaxed)) return false;
    const size_t m = std::min(batch, n - done);
    const bool last = done + m == n;
    const LogitsFor which = last && want_logits ? LogitsFor::kLast : LogitsFor::kNone;
    PLM_RETURN_IF_ERROR(forward(*model_->model, state_, *kt_, &pool_, ids + done,
                                static_cast<int64_t>(m), n_past(), which, logits_.data()));
    append_history(ids + done, m);
    done += m;
  }
  return true;
}

size_t Session::shift_keep(int32_t n_keep) const {
  const size_t n_ctx = static_cast<size_t>(state_.options.n_ctx);
  const size_t keep = n_keep < 0 ? first_prompt_len_ : static_cast<size_t>(n_keep);
  // At least two tokens past the kept ones, so that half of them (one or more) can go.
  return n_ctx < 2 ? n_ctx : std::min(keep, n_ctx - 2);
}

bool Session::can_shift(int32_t n_keep) const {
  const size_t keep = shift_keep(n_keep);
  return keep < tokens_.size() && (tokens_.size() - keep) / 2 > 0;
}

size_t Session::resumable(size_t keep) const {
  const Hparams& hp = model_->model->hparams();
  if (keep == 0 || !hp.has_swa() || state_.kv.ring_cells() == 0) return keep;
  const size_t first = keep > static_cast<size_t>(hp.n_swa) ? keep - hp.n_swa + 1 : 0;
  for (size_t q = first; q < keep; ++q) {
    if (!state_.kv.ring_holds(static_cast<int64_t>(q))) return 0;
  }
  return keep;
}

Result<bool> Session::shift(int32_t n_keep) {
  if (!can_shift(n_keep)) return false;
  size_t keep = shift_keep(n_keep);
  const size_t n_discard = (tokens_.size() - keep) / 2;
  // A ring no longer holds the window before the kept tokens: they are fed again with the tail.
  const size_t resume = resumable(keep);
  std::vector<int32_t> tail(tokens_.begin() + static_cast<std::ptrdiff_t>(resume),
                            tokens_.begin() + static_cast<std::ptrdiff_t>(keep));
  tail.insert(tail.end(), tokens_.begin() + static_cast<std::ptrdiff_t>(keep + n_discard),
              tokens_.end());
  keep = resume;
  truncate(keep);
  ++stats_.shifts;
  // Cancelling here leaves a shorter, still consistent history.
  Result<bool> fed = feed(tail.data(), tail.size(), /*want_logits=*/false, /*cancellable=*/true);
  if (!fed.ok()) return fed.status();
  return *fed;
}

Result<StopReason> Session::generate(std::string_view prompt, const GenerateOptions& options,
                                     const TokenSink& sink) {
  cancel_.store(false, std::memory_order_relaxed);
  const Clock::time_point t_call = Clock::now();
  Plan plan;
  plan.keep = tokens_.size();
  if (pending_) plan.tokens.push_back(*pending_);
  const bool add_special = options.add_special && tokens_.empty() && !pending_;
  model_->tokenizer.encode(prompt, add_special, options.parse_special, plan.tokens);
  return run(std::move(plan), options, {}, sink, t_call);
}

Result<Session::Plan> Session::plan_chat(std::span<const ChatMessage> messages,
                                         const ChatTemplate& tmpl) const {
  const Tokenizer& tok = model_->tokenizer;
  Result<std::string> rendered =
      tmpl.render(messages, /*add_generation_prompt=*/true, model_->bos_text(), model_->eos_text());
  if (!rendered.ok()) return rendered.status();
  // The template writes BOS itself, or the vocabulary asks for it to be added.
  const bool add_bos = tok.add_bos() && !tmpl.emits_bos() && tok.bos() != kNoToken;
  const std::string bos_piece = add_bos ? model_->bos_text() : std::string();

  Plan plan;
  if (!tokens_.empty() && text_.size() >= bos_piece.size() &&
      std::string_view(text_).substr(0, bos_piece.size()) == bos_piece &&
      std::string_view(*rendered).starts_with(std::string_view(text_).substr(bos_piece.size()))) {
    // The usual case: the history is the conversation so far (up to the previous reply), so
    // only the new turns are tokenized.
    plan.keep = tokens_.size();
    const size_t from = text_.size() - bos_piece.size();
    tok.encode(std::string_view(*rendered).substr(from), /*add_special=*/false,
               /*parse_special=*/true, plan.tokens);
    return plan;
  }
  // The conversation was edited, or a reply was cut (stop string, max tokens): keep the longest
  // run of tokens the history shares with the whole conversation.
  std::vector<int32_t> full;
  if (add_bos) full.push_back(tok.bos());
  tok.encode(*rendered, /*add_special=*/false, /*parse_special=*/true, full);
  size_t lcp = 0;
  while (lcp < full.size() && lcp < tokens_.size() && full[lcp] == tokens_[lcp]) ++lcp;
  plan.keep = lcp;
  plan.tokens.assign(full.begin() + static_cast<std::ptrdiff_t>(lcp), full.end());
  return plan;
}

Result<StopReason> Session::chat(std::span<const ChatMessage> messages, const ChatTemplate* tmpl,
                                 const GenerateOptions& options, const TokenSink& sink) {
  cancel_.store(false, std::memory_order_relaxed);
  const Clock::time_point t_call = Clock::now();
  if (!tmpl) {
    if (!model_->chat_template) {
      return unsupported("the model has no chat template pocketlm knows (" +
                         model_->chat_template_error + "); name one");
    }
    tmpl = &*model_->chat_template;
  }
  Result<Plan> plan = plan_chat(messages, *tmpl);
  if (!plan.ok()) return plan.status();
  const std::vector<std::string> stops = tmpl->stop_strings();
  return run(std::move(plan).value(), options, stops, sink, t_call);
}

Result<StopReason> Session::run(Plan plan, const GenerateOptions& options,
                                std::span<const std::string> extra_stops, const TokenSink& sink,
                                Clock::time_point t_call) {
  const Tokenizer& tok = model_->tokenizer;
  const int32_t n_vocab = static_cast<int32_t>(logits_.size());
  const size_t n_ctx = static_cast<size_t>(state_.options.n_ctx);
  PLM_RETURN_IF_ERROR(options.sampling.validate(n_vocab));
  if (options.n_keep < -1) {
    return invalid_argument(strfmt("n_keep must be -1 or more, got %d", options.n_keep));
  }

  // Logits come from the last token fed: with nothing new to feed, feed the last kept one again.
  if (plan.tokens.empty()) {
    if (plan.keep == 0) {
      return invalid_argument(
          "nothing to generate from: the prompt is empty and so is the session");
    }
    --plan.keep;
    plan.tokens.push_back(tokens_[plan.keep]);
  }
  if (plan.keep + plan.tokens.size() > n_ctx) {
    return Status(StatusCode::kOutOfRange,
                  strfmt("the prompt is %zu tokens but the context holds %zu (%zu already used)",
                         plan.tokens.size(), n_ctx, plan.keep));
  }

  // A sliding-window ring that no longer holds the window before the reused tokens cannot
  // continue after them: those are fed again.
  const bool first_prompt = plan.keep == 0 || tokens_.empty();
  if (const size_t resume = resumable(plan.keep); resume < plan.keep) {
    plan.tokens.insert(plan.tokens.begin(), tokens_.begin() + static_cast<std::ptrdiff_t>(resume),
                       tokens_.begin() + static_cast<std::ptrdiff_t>(plan.keep));
    plan.keep = resume;
  }

  // From here on the session changes.
  stats_ = SessionStats();
  stats_.reused_tokens = static_cast<int32_t>(plan.keep);
  pending_.reset();
  truncate(plan.keep);
  if (first_prompt) first_prompt_len_ = plan.tokens.size();

  const Clock::time_point t_prefill = Clock::now();
  Result<bool> fed =
      feed(plan.tokens.data(), plan.tokens.size(), /*want_logits=*/true, /*cancellable=*/true);
  stats_.prefill_ms = ms_since(t_prefill);
  stats_.prompt_tokens = static_cast<int32_t>(tokens_.size() - plan.keep);
  if (!fed.ok()) return fed.status();
  if (!*fed) return StopReason::kCancelled;
  if (options.max_tokens == 0) return StopReason::kMaxTokens;

  sampler_.reset();
  sampler_.emplace(options.sampling, n_vocab);
  // The penalties see the recent context too, not just this reply.
  const size_t window = static_cast<size_t>(options.sampling.penalty_last_n);
  for (size_t i = tokens_.size() - std::min(window, tokens_.size()); i < tokens_.size(); ++i) {
    sampler_->accept(tokens_[i]);
  }

  std::vector<std::string> stops = options.stop;
  stops.insert(stops.end(), extra_stops.begin(), extra_stops.end());
  StopStringMatcher matcher(std::move(stops));
  StreamingDetokenizer detok(tok, /*special=*/false);

  const Clock::time_point t_decode = Clock::now();
  StopReason why = StopReason::kNone;
  for (;;) {
    float logprob = 0.0f;
    const int32_t id = sampler_->sample(logits_.data(), &logprob);
    sampler_->accept(id);
    if (++stats_.generated_tokens == 1) stats_.ttft_ms = ms_since(t_call);

    // Decide before the callback whether this token ends the generation, so that the held-back
    // text can go out with it.
    const bool eog = !options.ignore_eos && tok.is_eog(id);
    const bool full = tokens_.size() >= n_ctx;
    if (eog) {
      why = StopReason::kEog;
    } else if (options.max_tokens > 0 && stats_.generated_tokens >= options.max_tokens) {
      why = StopReason::kMaxTokens;
    } else if (cancel_.load(std::memory_order_relaxed)) {
      why = StopReason::kCancelled;
    } else if (full &&
               (options.context_policy == ContextPolicy::kStop || !can_shift(options.n_keep))) {
      why = StopReason::kContextFull;
    }
    std::string text = matcher.push(eog ? std::string() : detok.push(id));
    if (matcher.matched()) {
      why = StopReason::kString;
    } else if (why != StopReason::kNone) {
      text += matcher.push(detok.flush());
      if (matcher.matched()) {
        why = StopReason::kString;
      } else {
        text += matcher.flush();
      }
    }
    const bool go_on = !sink || sink(text, id, logprob);
    if (why == StopReason::kNone && !go_on) why = StopReason::kCallback;
    if (why != StopReason::kNone) {
      if (why != StopReason::kEog) pending_ = id;
      break;
    }

    if (full) {
      Result<bool> room = shift(options.n_keep);
      if (!room.ok()) return room.status();
      if (!*room) {  // cancel() interrupted the recomputation
        why = StopReason::kCancelled;
        pending_ = id;
        break;
      }
    }
    // Not cancellable: a cancel is seen when the next token is sampled, so that the text held
    // back so far still goes out with that token.
    Result<bool> step = feed(&id, 1, /*want_logits=*/true, /*cancellable=*/false);
    if (!step.ok()) return step.status();
  }
  stats_.decode_ms = ms_since(t_decode);
  return why;
}

}  // namespace pocketlm
