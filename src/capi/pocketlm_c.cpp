// The C API: errors, models, tokenizer and chat formatting (sessions: session_c.cpp).
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <thread>
#include <vector>

#include "capi/capi_internal.h"

namespace pocketlm::capi {
namespace {

// Assigning a std::string can throw; a failure to record a message must not.
thread_local std::string t_last_error;

constexpr int32_t kMaxDefaultThreads = 8;
constexpr int32_t kMaxDefaultCtx = 4096;
constexpr const char* kVersion = "0.1.0";  // kept equal to project(pocketlm VERSION ...)

}  // namespace

plm_status fail(plm_status code, std::string message) noexcept {
  try {
    t_last_error = std::move(message);
  } catch (...) {
    t_last_error.clear();
  }
  return code;
}

plm_status to_plm_status(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return PLM_OK;
    case StatusCode::kInvalidArgument:
      return PLM_ERR_INVALID_ARGUMENT;
    case StatusCode::kMalformedFile:
      return PLM_ERR_MALFORMED;
    case StatusCode::kUnsupported:
      return PLM_ERR_UNSUPPORTED;
    case StatusCode::kNotFound:
      return PLM_ERR_NOT_FOUND;
    case StatusCode::kOutOfRange:
      return PLM_ERR_CONTEXT_FULL;
    case StatusCode::kIoError:
      return PLM_ERR_IO;
    case StatusCode::kOutOfMemory:
      return PLM_ERR_OUT_OF_MEMORY;
    case StatusCode::kCancelled:
      return PLM_ERR_CANCELLED;
    case StatusCode::kInternal:
      return PLM_ERR_INTERNAL;
    default:
      // A code added to StatusCode later, until it is given its own C status here.
      return PLM_ERR_INTERNAL;
  }
}

plm_status fail(const Status& status) noexcept {
  return fail(to_plm_status(status.code()), status.message());
}

int32_t default_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : std::min<int32_t>(static_cast<int32_t>(hw), kMaxDefaultThreads);
}

namespace {

Result<TensorType> kv_type_from_c(int64_t t) {
  switch (t) {
    case PLM_KV_F16:
      return TensorType::kF16;
    case PLM_KV_F32:
      return TensorType::kF32;
    case PLM_KV_Q8_0:
      return TensorType::kQ8_0;
    default:
      return invalid_argument(strfmt("unknown KV cache type %lld", static_cast<long long>(t)));
  }
}

// Copies `s` with its NUL into the caller's buffer, or asks for a bigger one.
plm_status write_string(const std::string& s, char* text, size_t capacity, size_t* len_out) {
  if (s.size() + 1 > capacity) {
    *len_out = s.size() + 1;
    return fail(PLM_ERR_BUFFER_TOO_SMALL,
                strfmt("the text needs %zu bytes with its NUL, the buffer holds %zu", s.size() + 1,
                       capacity));
  }
  std::memcpy(text, s.data(), s.size());
  text[s.size()] = '\0';
  *len_out = s.size();
  return PLM_OK;
}

}  // namespace

Result<const ChatTemplate*> resolve_template(const plm_model* model, const char* name,
                                             std::optional<ChatTemplate>& storage) {
  if (!name) {
    if (!model->lm->chat_template) {
      return unsupported("the model has no chat template pocketlm knows (" +
                         model->lm->chat_template_error + "); name one such as \"chatml\"");
    }
    return &*model->lm->chat_template;
  }
  Result<ChatTemplate> t = ChatTemplate::from_name(name);
  if (!t.ok()) return t.status();
  storage = std::move(t).value();
  return &*storage;
}

Result<std::vector<ChatMessage>> to_messages(const plm_chat_message* messages, size_t n) {
  if (!messages && n > 0) return invalid_argument("messages is NULL");
  std::vector<ChatMessage> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (!messages[i].role || !messages[i].content) {
      return invalid_argument(strfmt("message %zu has a NULL role or content", i));
    }
    out.push_back({messages[i].role, messages[i].content});
  }
  return out;
}

}  // namespace pocketlm::capi

using namespace pocketlm;
using namespace pocketlm::capi;

extern "C" {

const char* plm_last_error(void) { return t_last_error.c_str(); }

const char* plm_status_name(plm_status status) {
  switch (enum_value(status)) {
    case PLM_OK:
      return "PLM_OK";
    case PLM_ERR_INVALID_ARGUMENT:
      return "PLM_ERR_INVALID_ARGUMENT";
    case PLM_ERR_NOT_FOUND:
      return "PLM_ERR_NOT_FOUND";
    case PLM_ERR_MALFORMED:
      return "PLM_ERR_MALFORMED";
    case PLM_ERR_UNSUPPORTED:
      return "PLM_ERR_UNSUPPORTED";
    case PLM_ERR_IO:
      return "PLM_ERR_IO";
    case PLM_ERR_OUT_OF_MEMORY:
      return "PLM_ERR_OUT_OF_MEMORY";
    case PLM_ERR_CONTEXT_FULL:
      return "PLM_ERR_CONTEXT_FULL";
    case PLM_ERR_BUFFER_TOO_SMALL:
      return "PLM_ERR_BUFFER_TOO_SMALL";
    case PLM_ERR_CANCELLED:
      return "PLM_ERR_CANCELLED";
    case PLM_ERR_INTERNAL:
      return "PLM_ERR_INTERNAL";
  }
  return "PLM_ERR_UNKNOWN";
}

const char* plm_version(void) { return kVersion; }

void plm_model_params_init(plm_model_params* params) {
  if (!params) return;
  *params = plm_model_params{};
  params->struct_size = sizeof(plm_model_params);
  params->n_threads = 0;
  params->n_ctx = 0;
  params->use_mmap = true;
  params->kv_type = PLM_KV_F16;
  params->progress = nullptr;
  params->progress_user_data = nullptr;
}

plm_status plm_model_load(const char* path, const plm_model_params* params, plm_model** model_out) {
  return guarded([&]() -> plm_status {
    if (model_out) *model_out = nullptr;
    if (!path || !params || !model_out) {
      return fail(PLM_ERR_INVALID_ARGUMENT,
                  "plm_model_load: path, params and model_out must "
                  "not be NULL");
    }
    if (params->struct_size < sizeof(uint32_t)) {
      return fail(PLM_ERR_INVALID_ARGUMENT,
                  "plm_model_load: params->struct_size is 0; call plm_model_params_init first");
    }
    plm_model_params p;
    plm_model_params_init(&p);
    if (PLM_HAS_FIELD(params, plm_model_params, n_threads)) p.n_threads = params->n_threads;
    if (PLM_HAS_FIELD(params, plm_model_params, n_ctx)) p.n_ctx = params->n_ctx;
    if (PLM_HAS_FIELD(params, plm_model_params, use_mmap)) p.use_mmap = params->use_mmap;
    int64_t kv_type = PLM_KV_F16;
    if (PLM_HAS_FIELD(params, plm_model_params, kv_type)) kv_type = enum_value(params->kv_type);
    if (PLM_HAS_FIELD(params, plm_model_params, progress)) p.progress = params->progress;
    if (PLM_HAS_FIELD(params, plm_model_params, progress_user_data)) {
      p.progress_user_data = params->progress_user_data;
    }
    if (p.n_threads < 0) {
      return fail(PLM_ERR_INVALID_ARGUMENT,
                  strfmt("n_threads must be 0 or more, got %d", p.n_threads));
    }
    if (p.n_ctx < 0) {
      return fail(PLM_ERR_INVALID_ARGUMENT, strfmt("n_ctx must be 0 or more, got %d", p.n_ctx));
    }
    Result<TensorType> kv = kv_type_from_c(kv_type);
    if (!kv.ok()) return fail(kv.status());

    // The loader reports a missing file as an I/O error; the C API tells the two apart.
    struct stat sb {};
    if (::stat(path, &sb) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
      return fail(PLM_ERR_NOT_FOUND, strfmt("no model file at '%s'", path));
    }

    LoadOptions lo;
    lo.use_mmap = p.use_mmap;
    if (p.progress) {
      const plm_progress_fn fn = p.progress;
      void* ud = p.progress_user_data;
      lo.progress = [fn, ud](float fraction) { return fn(fraction, ud); };
    }
    Result<std::unique_ptr<LoadedModel>> lm = LoadedModel::load(path, lo);
    if (!lm.ok()) {
      // Inside a model file, a required metadata key that is absent makes the file malformed.
      const Status& s = lm.status();
      if (s.code() == StatusCode::kNotFound) return fail(PLM_ERR_MALFORMED, s.message());
      return fail(s);
    }
    std::unique_ptr<plm_model> m(new plm_model());
    m->lm = std::move(lm).value();
    m->n_threads = p.n_threads > 0 ? p.n_threads : default_threads();
    const int64_t n_ctx_train = m->lm->model->hparams().n_ctx_train;
    m->n_ctx =
        p.n_ctx > 0
            ? p.n_ctx
            : static_cast<int32_t>(n_ctx_train > 0 ? std::min<int64_t>(n_ctx_train, kMaxDefaultCtx)
                                                   : kMaxDefaultCtx);
    m->kv_type = *kv;
    if (m->lm->chat_template) m->chat_format = chat_format_name(m->lm->chat_template->format());
    *model_out = m.release();
    return PLM_OK;
  });
}

void plm_model_free(plm_model* model) { delete model; }

plm_status plm_model_get_info(const plm_model* model, plm_model_info* info) {
  return guarded([&]() -> plm_status {
    if (!model || !info) {
      return fail(PLM_ERR_INVALID_ARGUMENT, "plm_model_get_info: model and info must not be NULL");
    }
    if (info->struct_size < sizeof(uint32_t)) {
      return fail(PLM_ERR_INVALID_ARGUMENT,
                  "plm_model_get_info: set info->struct_size = sizeof(plm_model_info)");
    }
    const LoadedModel& lm = *model->lm;
    const Hparams& hp = lm.model->hparams();
    const Tokenizer& tok = lm.tokenizer;
#define PLM_SET(field, value) \
  if (PLM_HAS_FIELD(info, plm_model_info, field)) info->field = (value)
    PLM_SET(architecture, lm.architecture.c_str());
    PLM_SET(name, lm.name.c_str());
    PLM_SET(chat_format, model->chat_format.c_str());
    PLM_SET(n_params, lm.n_params);
    PLM_SET(file_bytes, lm.model->file().file_size());
    PLM_SET(n_vocab, static_cast<int32_t>(hp.n_vocab));
    PLM_SET(n_ctx_train, static_cast<int32_t>(hp.n_ctx_train));
    PLM_SET(n_embd, static_cast<int32_t>(hp.n_embd));
    PLM_SET(n_layer, static_cast<int32_t>(hp.n_layer));
    PLM_SET(n_head, static_cast<int32_t>(hp.n_head));
    PLM_SET(n_head_kv, static_cast<int32_t>(hp.n_head_kv));
    PLM_SET(bos, tok.bos());
    PLM_SET(eos, tok.eos());
    PLM_SET(eot, tok.eot());
    PLM_SET(load_ms, lm.load_ms);
#undef PLM_SET
    return PLM_OK;
  });
}

plm_status plm_tokenize(const plm_model* model, const char* text, size_t text_len, bool add_special,
                        bool parse_special, int32_t* tokens, size_t capacity, size_t* n_out) {
  return guarded([&]() -> plm_status {
    if (!model || !n_out || (!text && text_len > 0) || (!tokens && capacity > 0)) {
      return fail(PLM_ERR_INVALID_ARGUMENT,
                  "plm_tokenize: model, n_out, text (when text_len > 0) and tokens (when "
                  "capacity > 0) must not be NULL");
    }
    const std::vector<int32_t> ids = model->lm->tokenizer.encode(
        std::string_view(text ? text : "", text_len), add_special, parse_special);
    *n_out = ids.size();
    if (ids.size() > capacity) {
      return fail(PLM_ERR_BUFFER_TOO_SMALL,
                  strfmt("the text is %zu tokens, the buffer holds %zu", ids.size(), capacity));
    }
    std::copy(ids.begin(), ids.end(), tokens);
    return PLM_OK;
  });
}

plm_status plm_detokenize(const plm_model* model, const int32_t* tokens, size_t n_tokens,
                          bool remove_special, char* text, size_t capacity, size_t* len_out) {
  return guarded([&]() -> plm_status {
    if (!model || !len_out || (!tokens && n_tokens > 0) || (!text && capacity > 0)) {
      return fail(PLM_ERR_INVALID_ARGUMENT,
                  "plm_detokenize: model, len_out, tokens (when n_tokens > 0) and text (when "
                  "capacity > 0) must not be NULL");
    }
    const Tokenizer& tok = model->lm->tokenizer;
    for (size_t i = 0; i < n_tokens; ++i) {
      if (tokens[i] < 0 || tokens[i] >= tok.n_tokens()) {
        return fail(
            PLM_ERR_INVALID_ARGUMENT,
            strfmt("token %zu is %d, outside the vocabulary of %d", i, tokens[i], tok.n_tokens()));
      }
    }
    const std::vector<int32_t> ids(tokens, tokens + n_tokens);
    // Keeping special tokens means writing their text, so a chat prompt round-trips.
    const std::string s = tok.detokenize(ids, remove_special, /*unparse_special=*/!remove_special);
    return write_string(s, text, capacity, len_out);
  });
}

plm_status plm_chat_format(const plm_model* model, const char* template_name,
                           const plm_chat_message* messages, size_t n_messages,
                           bool add_generation_prompt, char* text, size_t capacity,
                           size_t* len_out) {
  return guarded([&]() -> plm_status {
    if (!model || !len_out || (!text && capacity > 0)) {
      return fail(PLM_ERR_INVALID_ARGUMENT,
                  "plm_chat_format: model, len_out and text (when capacity > 0) must not be NULL");
    }
    Result<std::vector<ChatMessage>> msgs = to_messages(messages, n_messages);
    if (!msgs.ok()) return fail(msgs.status());
    std::optional<ChatTemplate> named;
    Result<const ChatTemplate*> tmpl = resolve_template(model, template_name, named);
    if (!tmpl.ok()) return fail(tmpl.status());
    Result<std::string> s =
        (*tmpl)->render(*msgs, add_generation_prompt, model->lm->bos_text(), model->lm->eos_text());
    if (!s.ok()) return fail(s.status());
    return write_string(*s, text, capacity, len_out);
  });
}

}  // extern "C"
