// What the C API's translation units share: the handle structs behind the opaque pointers, the
// thread's last error, the Status -> plm_status mapping and the exception barrier.
//
// Every extern "C" function body runs inside guarded(), so no C++ exception reaches a C caller:
// std::bad_alloc becomes PLM_ERR_OUT_OF_MEMORY and anything else PLM_ERR_INTERNAL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/status.h"
#include "pocketlm/pocketlm.h"
#include "runtime/engine_model.h"
#include "runtime/session.h"
#include "tokenizer/chat_template.h"

struct plm_model {
  std::unique_ptr<pocketlm::LoadedModel> lm;
  // Defaults of the model's sessions, resolved at load.
  int32_t n_threads = 1;
  int32_t n_ctx = 4096;
  pocketlm::TensorType kv_type = pocketlm::TensorType::kF16;
  std::string chat_format;  // family name of the file's template, "" when none is known
};

struct plm_session {
  plm_model* model = nullptr;
  std::unique_ptr<pocketlm::Session> session;
};

namespace pocketlm::capi {

// Records the calling thread's last failure and returns its code.
plm_status fail(plm_status code, std::string message) noexcept;
// kOutOfRange means "does not fit the context" where sessions return it; elsewhere callers map
// it themselves before calling this.
plm_status fail(const Status& status) noexcept;
plm_status to_plm_status(StatusCode code);

// The field lies wholly inside the caller's struct, whose size (from an older or newer header)
// is its struct_size: only such fields are read or written.
#define PLM_HAS_FIELD(ptr, type, field) \
  ((ptr)->struct_size >= offsetof(type, field) + sizeof(static_cast<type*>(nullptr)->field))

// The integer a C caller stored in an enum-typed field or argument. C lets any int through an
// enum; in C++, loading an enum object whose value lies outside the enumerators' range is
// undefined, so the bits are copied out instead of the enum being read.
template <typename E>
int64_t enum_value(const E& e) {
  std::underlying_type_t<E> v;
  std::memcpy(&v, &e, sizeof(v));
  return static_cast<int64_t>(v);
}

// Runs `body` (returning plm_status) with every exception turned into a status.
template <typename F>
plm_status guarded(F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(PLM_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(PLM_ERR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(PLM_ERR_INTERNAL, "internal error: unknown exception");
  }
}

// The template a chat call names (template_name NULL: the model's own); a named one is built
// into `storage`.
Result<const ChatTemplate*> resolve_template(const plm_model* model, const char* template_name,
                                             std::optional<ChatTemplate>& storage);
Result<std::vector<ChatMessage>> to_messages(const plm_chat_message* messages, size_t n);

// n_threads 0: one per hardware thread, capped (more threads than a phone's big cores only
// adds scheduling noise to memory-bound decoding).
int32_t default_threads();

}  // namespace pocketlm::capi
