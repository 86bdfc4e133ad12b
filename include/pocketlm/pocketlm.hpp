// pocketlm.hpp: a header-only C++ RAII wrapper over the C API in pocketlm.h.
//
// Usage:
//   plm::Result<plm::Model> model = plm::Model::load("models/SmolLM2-135M-Instruct.Q4_1.gguf");
//   if (!model.ok()) { std::fprintf(stderr, "%s\n", model.status().message.c_str()); return 1; }
//   plm::Result<plm::Session> session = plm::Session::create(*model);
//   if (!session.ok()) { ... }
//   plm::GenerateParams gp;               // plm_generate_params_init defaults
//   gp.c.max_tokens = 64;
//   gp.c.sampling.temperature = 0.0f;     // greedy
//   gp.stop = {"\n\n"};
//   plm::Result<plm_stop_reason> why = session->generate(
//       "The capital of France is", gp, [](std::string_view text, int32_t, float) {
//         std::fwrite(text.data(), 1, text.size(), stdout);
//         return true;                      // false stops the generation
//       });
//   plm_stats st = session->stats();
//
// Like the library beneath it, the wrapper throws nothing of its own: fallible calls return a
// plm::Result<T> (or a plm::Status) carrying the C status code and plm_last_error()'s message,
// read at once so it cannot be overwritten by a later call. An exception thrown by the caller's
// own token callback stops the generation and is rethrown from generate()/chat() once the C
// call has returned, so it never unwinds through the C API.
//
// Thread safety is the C API's: a Model may be shared by sessions on several threads; a Session
// is used by one thread at a time, except cancel(), which any thread may call.
#ifndef POCKETLM_HPP_
#define POCKETLM_HPP_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pocketlm/pocketlm.h"

namespace plm {

// A C status with the message that came with it.
struct Status {
  plm_status code = PLM_OK;
  std::string message;

  bool ok() const { return code == PLM_OK; }
  const char* name() const { return plm_status_name(code); }

  // The status of the call that just returned `code` on this thread.
  static Status from_call(plm_status code) {
    if (code == PLM_OK) return Status();
    const char* m = plm_last_error();
    return Status{code, (m && *m) ? std::string(m) : std::string(plm_status_name(code))};
  }
};

// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

inline ::plm_model_params default_model_params() {
  ::plm_model_params p;
  plm_model_params_init(&p);
  return p;
}

inline ::plm_session_params default_session_params() {
  ::plm_session_params p;
  plm_session_params_init(&p);
  return p;
}

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

// Receives each piece of the reply: its text (complete UTF-8, possibly empty while text is held
// back), the token id just sampled and its log-probability. Return false to stop.
using TokenCallback = std::function<bool(std::string_view text, int32_t id, float logprob)>;

// plm_generate_params with C++ storage for the arrays it points to. Set the scalar fields in
// `c` (c.max_tokens, c.sampling.temperature, ...); the stop strings and logit biases live here
// and are wired into c's pointers at each call, so a GenerateParams may be copied freely.
struct GenerateParams {
  ::plm_generate_params c;
  std::vector<std::string> stop;
  std::vector<int32_t> logit_bias_tokens;  // parallel to logit_bias_values
  std::vector<float> logit_bias_values;

  GenerateParams() { plm_generate_params_init(&c); }
};

namespace detail {

// Turns the C callback into a call of the caller's std::function, catching what it throws.
struct CallbackBridge {
  const TokenCallback* fn = nullptr;
  std::exception_ptr error;

  static bool call(const char* text, size_t len, int32_t token, float logprob, void* user) {
    auto* self = static_cast<CallbackBridge*>(user);
    if (!self->fn || !*self->fn) return true;
    try {
      return (*self->fn)(std::string_view(text, len), token, logprob);
    } catch (...) {
      self->error = std::current_exception();
      return false;
    }
  }
};

// A GenerateParams' C struct with its pointers aimed at storage that lives as long as this.
class WiredParams {
 public:
  explicit WiredParams(const GenerateParams& p) : c_(p.c) {
    stop_.reserve(p.stop.size());
    for (const std::string& s : p.stop) stop_.push_back(s.c_str());
    c_.stop = stop_.empty() ? nullptr : stop_.data();
    c_.n_stop = stop_.size();
    const size_t n_bias = std::min(p.logit_bias_tokens.size(), p.logit_bias_values.size());
    c_.sampling.logit_bias_tokens = n_bias ? p.logit_bias_tokens.data() : nullptr;
    c_.sampling.logit_bias_values = n_bias ? p.logit_bias_values.data() : nullptr;
    c_.sampling.n_logit_bias = n_bias;
  }
  const ::plm_generate_params* get() const { return &c_; }

 private:
  ::plm_generate_params c_;
  std::vector<const char*> stop_;
};

inline std::vector<::plm_chat_message> c_messages(std::span<const ChatMessage> messages) {
  std::vector<::plm_chat_message> out;
  out.reserve(messages.size());
  for (const ChatMessage& m : messages) out.push_back({m.role.c_str(), m.content.c_str()});
  return out;
}

}  // namespace detail

class Model {
 public:
  Model() = default;
  ~Model() { plm_model_free(model_); }
  Model(Model&& o) noexcept : model_(std::exchange(o.model_, nullptr)) {}
  Model& operator=(Model&& o) noexcept {
    if (this != &o) {
      plm_model_free(model_);
      model_ = std::exchange(o.model_, nullptr);
    }
    return *this;
  }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  static Result<Model> load(const std::string& path,
                            const ::plm_model_params& params = default_model_params()) {
    ::plm_model* m = nullptr;
    const plm_status st = plm_model_load(path.c_str(), &params, &m);
    if (st != PLM_OK) return Status::from_call(st);
    Model out;
    out.model_ = m;
    return out;
  }

  ::plm_model* get() const { return model_; }
  explicit operator bool() const { return model_ != nullptr; }

  // Fields that are strings point into the model and live as long as it.
  ::plm_model_info info() const {
    ::plm_model_info i{};
    i.struct_size = sizeof(i);
    plm_model_get_info(model_, &i);
    return i;
  }

  Result<std::vector<int32_t>> tokenize(std::string_view text, bool add_special = true,
                                        bool parse_special = false) const {
    std::vector<int32_t> ids(text.size() + 2);
    size_t n = 0;
    plm_status st = plm_tokenize(model_, text.data(), text.size(), add_special, parse_special,
                                 ids.data(), ids.size(), &n);
    if (st == PLM_ERR_BUFFER_TOO_SMALL) {
      ids.resize(n);
      st = plm_tokenize(model_, text.data(), text.size(), add_special, parse_special, ids.data(),
                        ids.size(), &n);
    }
    if (st != PLM_OK) return Status::from_call(st);
    ids.resize(n);
    return ids;
  }

  Result<std::string> detokenize(std::span<const int32_t> tokens,
                                 bool remove_special = false) const {
    return read_string([&](char* buf, size_t cap, size_t* len) {
      return plm_detokenize(model_, tokens.data(), tokens.size(), remove_special, buf, cap, len);
    });
  }

  // template_name nullptr: the model's own chat template.
  Result<std::string> chat_format(std::span<const ChatMessage> messages,
                                  bool add_generation_prompt = true,
                                  const char* template_name = nullptr) const {
    const std::vector<::plm_chat_message> cm = detail::c_messages(messages);
    return read_string([&](char* buf, size_t cap, size_t* len) {
      return plm_chat_format(model_, template_name, cm.data(), cm.size(), add_generation_prompt,
                             buf, cap, len);
    });
  }

 private:
  // The BUFFER_TOO_SMALL protocol: try a guess, retry once with the size the call asks for.
  template <typename F>
  static Result<std::string> read_string(F&& call) {
    std::string s(256, '\0');
    size_t len = 0;
    plm_status st = call(s.data(), s.size(), &len);
    if (st == PLM_ERR_BUFFER_TOO_SMALL) {
      s.resize(len);
      st = call(s.data(), s.size(), &len);
    }
    if (st != PLM_OK) return Status::from_call(st);
    s.resize(len);
    return s;
  }

  ::plm_model* model_ = nullptr;
};

class Session {
 public:
  Session() = default;
  ~Session() { plm_session_free(session_); }
  Session(Session&& o) noexcept : session_(std::exchange(o.session_, nullptr)) {}
  Session& operator=(Session&& o) noexcept {
    if (this != &o) {
      plm_session_free(session_);
      session_ = std::exchange(o.session_, nullptr);
    }
    return *this;
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The model must outlive the session.
  static Result<Session> create(const Model& model,
                                const ::plm_session_params& params = default_session_params()) {
    ::plm_session* s = nullptr;
    const plm_status st = plm_session_create(model.get(), &params, &s);
    if (st != PLM_OK) return Status::from_call(st);
    Session out;
    out.session_ = s;
    return out;
  }

  ::plm_session* get() const { return session_; }
  explicit operator bool() const { return session_ != nullptr; }

  // Appends `prompt` to what the session holds and generates; returns why generation ended.
  Result<plm_stop_reason> generate(const std::string& prompt, const GenerateParams& params,
                                   const TokenCallback& on_token) {
    const detail::WiredParams wired(params);
    detail::CallbackBridge bridge{&on_token, nullptr};
    plm_stop_reason why = PLM_STOP_NONE;
    const plm_status st = plm_session_generate(session_, prompt.c_str(), wired.get(),
                                               &detail::CallbackBridge::call, &bridge, &why);
    return finish(st, why, bridge);
  }

  // Renders the whole conversation, reuses what the session already holds, generates the reply.
  Result<plm_stop_reason> chat(std::span<const ChatMessage> messages, const GenerateParams& params,
                               const TokenCallback& on_token, const char* template_name = nullptr) {
    const std::vector<::plm_chat_message> cm = detail::c_messages(messages);
    const detail::WiredParams wired(params);
    detail::CallbackBridge bridge{&on_token, nullptr};
    plm_stop_reason why = PLM_STOP_NONE;
    const plm_status st =
        plm_session_chat(session_, template_name, cm.data(), cm.size(), wired.get(),
                         &detail::CallbackBridge::call, &bridge, &why);
    return finish(st, why, bridge);
  }

  // Thread-safe: asks a running generate/chat to stop at the next token.
  void cancel() const { plm_session_cancel(session_); }

  Status reset() { return Status::from_call(plm_session_reset(session_)); }
  int32_t n_past() const { return plm_session_n_past(session_); }
  int32_t n_ctx() const { return plm_session_n_ctx(session_); }

  ::plm_stats stats() const {
    ::plm_stats s{};
    s.struct_size = sizeof(s);
    plm_session_get_stats(session_, &s);
    return s;
  }

 private:
  static Result<plm_stop_reason> finish(plm_status st, plm_stop_reason why,
                                        const detail::CallbackBridge& bridge) {
    if (bridge.error) std::rethrow_exception(bridge.error);  // the caller's own exception
    if (st != PLM_OK) return Status::from_call(st);
    return why;
  }

  ::plm_session* session_ = nullptr;
};

}  // namespace plm

#endif  // POCKETLM_HPP_
