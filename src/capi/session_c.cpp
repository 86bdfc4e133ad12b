// The C API: sessions, generation and statistics.
#include <cmath>
#include <string>
#include <vector>

#include "capi/capi_internal.h"

namespace pocketlm::capi {
namespace {

constexpr int32_t kDefaultBatch = 256;

// The caller's sampling struct, read field by field as far as its struct_size goes, with the
// C API's "off" values turned into what SamplingParams accepts.
Result<SamplingParams> to_sampling(const plm_sampling_params* c) {
  plm_sampling_params p;
  plm_sampling_params_init(&p);
  if (c->struct_size < sizeof(uint32_t)) {
    return invalid_argument("sampling.struct_size is 0; call plm_generate_params_init first");
  }
#define PLM_TAKE(field) \
  if (PLM_HAS_FIELD(c, plm_sampling_params, field)) p.field = c->field
  PLM_TAKE(temperature);
  PLM_TAKE(top_k);
  PLM_TAKE(top_p);
  PLM_TAKE(min_p);
  PLM_TAKE(repeat_penalty);
  PLM_TAKE(frequency_penalty);
  PLM_TAKE(presence_penalty);
  PLM_TAKE(penalty_last_n);
  PLM_TAKE(seed);
  PLM_TAKE(logit_bias_tokens);
  PLM_TAKE(logit_bias_values);
  PLM_TAKE(n_logit_bias);
#undef PLM_TAKE
  SamplingParams s;
  s.temperature = p.temperature;
  s.top_k = p.top_k;
  s.top_p = p.top_p >= 1.0f ? 1.0f : p.top_p;
  s.min_p = p.min_p <= 0.0f ? 0.0f : p.min_p;
  s.repeat_penalty = p.repeat_penalty;
  s.frequency_penalty = p.frequency_penalty;
  s.presence_penalty = p.presence_penalty;
  s.penalty_last_n = p.penalty_last_n;
  s.seed = p.seed;
  if (p.n_logit_bias > 0) {
    if (!p.logit_bias_tokens || !p.logit_bias_values) {
      return invalid_argument(
          "n_logit_bias > 0 but logit_bias_tokens or logit_bias_values is NULL");
    }
    s.logit_bias.reserve(p.n_logit_bias);
    for (size_t i = 0; i < p.n_logit_bias; ++i) {
      s.logit_bias.emplace_back(p.logit_bias_tokens[i], p.logit_bias_values[i]);
    }
  }
  return s;
}

Result<GenerateOptions> to_options(const plm_generate_params* c) {
  if (c->struct_size < sizeof(uint32_t)) {
    return invalid_argument("params->struct_size is 0; call plm_generate_params_init first");
  }
  plm_generate_params p;
  plm_generate_params_init(&p);
#define PLM_TAKE(field) \
  if (PLM_HAS_FIELD(c, plm_generate_params, field)) p.field = c->field
  PLM_TAKE(sampling);
  PLM_TAKE(max_tokens);
  PLM_TAKE(ignore_eos);
  PLM_TAKE(add_special);
  PLM_TAKE(parse_special);
  PLM_TAKE(stop);
  PLM_TAKE(n_stop);
  int64_t policy = PLM_CONTEXT_STOP;
  if (PLM_HAS_FIELD(c, plm_generate_params, context_policy)) {
    policy = enum_value(c->context_policy);
  }
  PLM_TAKE(n_keep);
#undef PLM_TAKE
  GenerateOptions o;
  Result<SamplingParams> s = to_sampling(&p.sampling);
  if (!s.ok()) return s.status();
  o.sampling = std::move(s).value();
  o.max_tokens = p.max_tokens;
  o.ignore_eos = p.ignore_eos;
  o.add_special = p.add_special;
  o.parse_special = p.parse_special;
  if (p.n_stop > 0 && !p.stop) return invalid_argument("n_stop > 0 but stop is NULL");
  for (size_t i = 0; i < p.n_stop; ++i) {
    if (!p.stop[i]) return invalid_argument(strfmt("stop string %zu is NULL", i));
    o.stop.emplace_back(p.stop[i]);
  }
  switch (policy) {
    case PLM_CONTEXT_STOP:
      o.context_policy = ContextPolicy::kStop;
      break;
    case PLM_CONTEXT_SHIFT:
      o.context_policy = ContextPolicy::kShift;
      break;
    default:
      return invalid_argument(
          strfmt("unknown context policy %lld", static_cast<long long>(policy)));
  }
  if (p.n_keep < -1) return invalid_argument(strfmt("n_keep must be -1 or more, got %d", p.n_keep));
  o.n_keep = p.n_keep;
  return o;
}

// Streams the session's text to the C callback.
TokenSink c_sink(plm_token_fn on_token, void* user_data) {
  if (!on_token) return TokenSink();
  return [on_token, user_data](std::string_view text, int32_t id, float logprob) {
    return on_token(text.data(), text.size(), id, logprob, user_data);
  };
}

plm_status finish(const Result<StopReason>& r, plm_stop_reason* reason) {
  if (!r.ok()) return fail(r.status());
  if (reason) *reason = static_cast<plm_stop_reason>(*r);
  return PLM_OK;
}

}  // namespace
}  // namespace pocketlm::capi

using namespace pocketlm;
using namespace pocketlm::capi;

extern "C" {

void plm_sampling_params_init(plm_sampling_params* params) {
  if (!params) return;
  *params = plm_sampling_params{};
  params->struct_size = sizeof(plm_sampling_params);
  // The same defaults as SamplingParams.
  const SamplingParams d;
  params->temperature = d.temperature;
  params->top_k = d.top_k;
  params->top_p = d.top_p;
  params->min_p = d.min_p;
  params->repeat_penalty = d.repeat_penalty;
  params->frequency_penalty = d.frequency_penalty;
  params->presence_penalty = d.presence_penalty;
  params->penalty_last_n = d.penalty_last_n;
  params->seed = d.seed;
  params->logit_bias_tokens = nullptr;
  params->logit_bias_values = nullptr;
  params->n_logit_bias = 0;
}

void plm_session_params_init(plm_session_params* params) {
  if (!params) return;
  *params = plm_session_params{};
  params->struct_size = sizeof(plm_session_params);
  params->n_ctx = 0;
  params->n_threads = 0;
  params->n_batch = 0;
  params->kv_type = -1;
  params->swa_full = 0;
}

void plm_generate_params_init(plm_generate_params* params) {
  if (!params) return;
  *params = plm_generate_params{};
  params->struct_size = sizeof(plm_generate_params);
  plm_sampling_params_init(&params->sampling);
  params->max_tokens = 256;
  params->ignore_eos = false;
  params->add_special = true;
  params->parse_special = true;
  params->stop = nullptr;
  params->n_stop = 0;
  params->context_policy = PLM_CONTEXT_STOP;
  params->n_keep = -1;
}

const char* plm_stop_reason_name(plm_stop_reason reason) {
  switch (enum_value(reason)) {
    case PLM_STOP_NONE:
      return "PLM_STOP_NONE";
    case PLM_STOP_EOG:
      return "PLM_STOP_EOG";
    case PLM_STOP_MAX_TOKENS:
      return "PLM_STOP_MAX_TOKENS";
    case PLM_STOP_STRING:
      return "PLM_STOP_STRING";
    case PLM_STOP_CANCELLED:
      return "PLM_STOP_CANCELLED";
    case PLM_STOP_CALLBACK:
      return "PLM_STOP_CALLBACK";
    case PLM_STOP_CONTEXT_FULL:
      return "PLM_STOP_CONTEXT_FULL";
  }
  return "PLM_STOP_UNKNOWN";
}

plm_status plm_session_create(plm_model* model, const plm_session_params* params,
                              plm_session** session_out) {
  return guarded([&]() -> plm_status {
    if (session_out) *session_out = nullptr;
    if (!model || !params || !session_out) {
      return fail(PLM_ERR_INVALID_ARGUMENT,
                  "plm_session_create: model, params and session_out must not be NULL");
    }
    if (params->struct_size < sizeof(uint32_t)) {
      return fail(PLM_ERR_INVALID_ARGUMENT,
                  "plm_session_create: params->struct_size is 0; call plm_session_params_init");
    }
    plm_session_params p;
    plm_session_params_init(&p);
    if (PLM_HAS_FIELD(params, plm_session_params, n_ctx)) p.n_ctx = params->n_ctx;
    if (PLM_HAS_FIELD(params, plm_session_params, n_threads)) p.n_threads = params->n_threads;
    if (PLM_HAS_FIELD(params, plm_session_params, n_batch)) p.n_batch = params->n_batch;
    if (PLM_HAS_FIELD(params, plm_session_params, kv_type)) p.kv_type = params->kv_type;
    if (PLM_HAS_FIELD(params, plm_session_params, swa_full)) p.swa_full = params->swa_full;
    if (p.n_ctx < 0 || p.n_threads < 0 || p.n_batch < 0 || p.kv_type < -1) {
      return fail(PLM_ERR_INVALID_ARGUMENT,
                  strfmt("plm_session_create: n_ctx %d, n_threads %d, n_batch %d must be 0 (the "
                         "default) or more, kv_type %d -1 (the default) or a plm_kv_type",
                         p.n_ctx, p.n_threads, p.n_batch, p.kv_type));
    }
    SessionOptions so;
    so.n_ctx = p.n_ctx > 0 ? p.n_ctx : model->n_ctx;
    so.n_threads = p.n_threads > 0 ? p.n_threads : model->n_threads;
    so.n_batch = p.n_batch > 0 ? p.n_batch : kDefaultBatch;
    so.kv_type = model->kv_type;
    so.swa_full = p.swa_full != 0;
    if (p.kv_type >= 0) {
      switch (p.kv_type) {
        case PLM_KV_F16:
          so.kv_type = TensorType::kF16;
          break;
        case PLM_KV_F32:
          so.kv_type = TensorType::kF32;
          break;
        case PLM_KV_Q8_0:
          so.kv_type = TensorType::kQ8_0;
          break;
        default:
          return fail(PLM_ERR_INVALID_ARGUMENT, strfmt("unknown KV cache type %d", p.kv_type));
      }
    }
    Result<std::unique_ptr<Session>> s = Session::create(*model->lm, so);
    if (!s.ok()) return fail(s.status());
    std::unique_ptr<plm_session> h(new plm_session());
    h->model = model;
    h->session = std::move(s).value();
    *session_out = h.release();
    return PLM_OK;
  });
}

void plm_session_free(plm_session* session) { delete session; }

plm_status plm_session_reset(plm_session* session) {
  return guarded([&]() -> plm_status {
    if (!session) return fail(PLM_ERR_INVALID_ARGUMENT, "plm_session_reset: session is NULL");
    session->session->reset();
    return PLM_OK;
  });
}

int32_t plm_session_n_past(const plm_session* session) {
  return session ? static_cast<int32_t>(session->session->n_past()) : 0;
}

int32_t plm_session_n_ctx(const plm_session* session) {
  return session ? static_cast<int32_t>(session->session->n_ctx()) : 0;
}

plm_status plm_session_generate(plm_session* session, const char* prompt,
                                const plm_generate_params* params, plm_token_fn on_token,
                                void* user_data, plm_stop_reason* reason) {
  return guarded([&]() -> plm_status {
    if (reason) *reason = PLM_STOP_NONE;
    if (!session || !prompt || !params) {
      return fail(PLM_ERR_INVALID_ARGUMENT,
                  "plm_session_generate: session, prompt and params must not be NULL");
    }
    Result<GenerateOptions> o = to_options(params);
    if (!o.ok()) return fail(o.status());
    return finish(session->session->generate(prompt, *o, c_sink(on_token, user_data)), reason);
  });
}

plm_status plm_session_chat(plm_session* session, const char* template_name,
                            const plm_chat_message* messages, size_t n_messages,
                            const plm_generate_params* params, plm_token_fn on_token,
                            void* user_data, plm_stop_reason* reason) {
  return guarded([&]() -> plm_status {
    if (reason) *reason = PLM_STOP_NONE;
    if (!session || !params) {
      return fail(PLM_ERR_INVALID_ARGUMENT,
                  "plm_session_chat: session and params must not be NULL");
    }
    Result<std::vector<ChatMessage>> msgs = to_messages(messages, n_messages);
    if (!msgs.ok()) return fail(msgs.status());
    std::optional<ChatTemplate> named;
    Result<const ChatTemplate*> tmpl = resolve_template(session->model, template_name, named);
    if (!tmpl.ok()) return fail(tmpl.status());
    Result<GenerateOptions> o = to_options(params);
    if (!o.ok()) return fail(o.status());
    return finish(session->session->chat(*msgs, *tmpl, *o, c_sink(on_token, user_data)), reason);
  });
}

void plm_session_cancel(plm_session* session) {
  if (session) session->session->cancel();
}

plm_status plm_session_get_stats(const plm_session* session, plm_stats* stats) {
  return guarded([&]() -> plm_status {
    if (!session || !stats) {
      return fail(PLM_ERR_INVALID_ARGUMENT,
                  "plm_session_get_stats: session and stats must not be NULL");
    }
    if (stats->struct_size < sizeof(uint32_t)) {
      return fail(PLM_ERR_INVALID_ARGUMENT,
                  "plm_session_get_stats: set stats->struct_size = sizeof(plm_stats)");
    }
    const SessionStats& s = session->session->stats();
#define PLM_SET(field, value) \
  if (PLM_HAS_FIELD(stats, plm_stats, field)) stats->field = (value)
    PLM_SET(load_ms, session->model->lm->load_ms);
    PLM_SET(prompt_tokens, s.prompt_tokens);
    PLM_SET(reused_tokens, s.reused_tokens);
    PLM_SET(generated_tokens, s.generated_tokens);
    PLM_SET(prefill_ms, s.prefill_ms);
    PLM_SET(decode_ms, s.decode_ms);
    PLM_SET(prefill_tok_s, s.prefill_tok_s());
    PLM_SET(decode_tok_s, s.decode_tok_s());
    PLM_SET(ttft_ms, s.ttft_ms);
    PLM_SET(n_past, static_cast<int32_t>(session->session->n_past()));
    PLM_SET(peak_rss_bytes, peak_rss_bytes());
    PLM_SET(kv_cache_bytes, static_cast<uint64_t>(session->session->kv_cache_bytes()));
#undef PLM_SET
    return PLM_OK;
  });
}

}  // extern "C"
