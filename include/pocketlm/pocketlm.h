/* pocketlm.h: the stable C API of pocketlm, for Android (JNI), iOS (Swift/ObjC) and any FFI.
 *
 * Usage:
 *   plm_model_params mp;  plm_model_params_init(&mp);
 *   plm_model* model = NULL;
 *   if (plm_model_load("models/SmolLM2-135M-Instruct.Q4_1.gguf", &mp, &model) != PLM_OK) {
 *     fprintf(stderr, "%s\n", plm_last_error());  return 1;
 *   }
 *   plm_session_params sp;  plm_session_params_init(&sp);
 *   plm_session* s = NULL;  plm_session_create(model, &sp, &s);
 *   plm_generate_params gp;  plm_generate_params_init(&gp);
 *   gp.max_tokens = 64;
 *   plm_stop_reason why;
 *   plm_session_generate(s, "The capital of France is", &gp, on_token, NULL, &why);
 *   plm_session_free(s);  plm_model_free(model);
 *
 * Rules every function follows:
 *  - Every call that can fail returns a plm_status; on failure plm_last_error() holds one line
 *    saying what went wrong, for the calling thread, until that thread's next failing call.
 *  - No function aborts or throws on bad input; NULL pointers and out-of-range values are
 *    PLM_ERR_INVALID_ARGUMENT.
 *  - Parameter structs start with struct_size and are filled by their *_init function, so fields
 *    can be added at the end without breaking binaries built against an older header.
 *  - Strings are UTF-8. Output text goes into caller buffers: when a buffer is too small the call
 *    returns PLM_ERR_BUFFER_TOO_SMALL and stores the needed size (including the terminating NUL
 *    for strings) in the *_out argument, so the caller can retry.
 *  - A model is immutable once loaded and may be shared by sessions on different threads. A
 *    session is used by one thread at a time, except plm_session_cancel, which any thread may
 *    call at any moment.
 */
#ifndef POCKETLM_H_
#define POCKETLM_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define PLM_API __declspec(dllexport)
#else
#define PLM_API __attribute__((visibility("default")))
#endif

/* Bumped when a function's meaning changes; additions keep the number. */
#define PLM_API_VERSION 1

typedef enum plm_status {
  PLM_OK = 0,
  PLM_ERR_INVALID_ARGUMENT = 1, /* a NULL pointer, a value out of range, an unknown name */
  PLM_ERR_NOT_FOUND = 2,        /* the model file does not exist */
  PLM_ERR_MALFORMED = 3,        /* the file is not a valid GGUF model */
  PLM_ERR_UNSUPPORTED = 4,      /* valid, but an architecture or tensor type we do not run */
  PLM_ERR_IO = 5,               /* reading failed */
  PLM_ERR_OUT_OF_MEMORY = 6,
  PLM_ERR_CONTEXT_FULL = 7,     /* the prompt does not fit the session's context */
  PLM_ERR_BUFFER_TOO_SMALL = 8, /* retry with the size stored in the *_out argument */
  PLM_ERR_CANCELLED = 9,        /* loading was cancelled by the progress callback */
  PLM_ERR_INTERNAL = 10
} plm_status;

/* The message of the calling thread's last failure ("" if none). Valid until its next call. */
PLM_API const char* plm_last_error(void);
/* "PLM_OK", "PLM_ERR_CONTEXT_FULL", ... */
PLM_API const char* plm_status_name(plm_status status);
/* The library version, "0.1.0". */
PLM_API const char* plm_version(void);

/* ----------------------------------------------------------------------------------- models */

typedef struct plm_model plm_model;

typedef enum plm_kv_type { PLM_KV_F16 = 0, PLM_KV_F32 = 1, PLM_KV_Q8_0 = 2 } plm_kv_type;

/* Called with the loaded fraction in [0, 1]; return false to cancel the load. */
typedef bool (*plm_progress_fn)(float fraction, void* user_data);

typedef struct plm_model_params {
  uint32_t struct_size;
  int32_t n_threads;   /* default threads of sessions; 0 = one per physical core */
  int32_t n_ctx;       /* default context of sessions; 0 = the model's, at most 4096 */
  bool use_mmap;       /* true (default): map the file, zero copy; false: read it into memory */
  plm_kv_type kv_type; /* default KV cache type of sessions; F16 by default */
  plm_progress_fn progress;
  void* progress_user_data;
} plm_model_params;

PLM_API void plm_model_params_init(plm_model_params* params);
PLM_API plm_status plm_model_load(const char* path, const plm_model_params* params,
                                  plm_model** model_out);
PLM_API void plm_model_free(plm_model* model); /* NULL is fine */

typedef struct plm_model_info {
  uint32_t struct_size;
  const char* architecture; /* "llama", "gemma3", ... (owned by the model) */
  const char* name;         /* general.name, or "" */
  const char* chat_format;  /* "chatml", "llama3", ...; "" when the model has no known template */
  uint64_t n_params;
  uint64_t file_bytes;
  int32_t n_vocab;
  int32_t n_ctx_train;
  int32_t n_embd;
  int32_t n_layer;
  int32_t n_head;
  int32_t n_head_kv;
  int32_t bos, eos, eot; /* -1 when absent */
  double load_ms;
} plm_model_info;

/* Set info->struct_size = sizeof(plm_model_info) before the call. */
PLM_API plm_status plm_model_get_info(const plm_model* model, plm_model_info* info);

/* ------------------------------------------------------------------------------- tokenizer */

/* Text to token ids. add_special: add BOS/EOS as the model asks; parse_special: turn
 * special-token strings such as "<|im_start|>" into their ids. *n_out receives the count. */
PLM_API plm_status plm_tokenize(const plm_model* model, const char* text, size_t text_len,
                                bool add_special, bool parse_special, int32_t* tokens,
                                size_t capacity, size_t* n_out);
/* Token ids to text (NUL-terminated). remove_special drops BOS/EOS-like control tokens.
 * *len_out receives the length without the NUL. */
PLM_API plm_status plm_detokenize(const plm_model* model, const int32_t* tokens, size_t n_tokens,
                                  bool remove_special, char* text, size_t capacity,
                                  size_t* len_out);

/* ------------------------------------------------------------------------------------ chat */

typedef struct plm_chat_message {
  const char* role; /* "system", "user", "assistant" */
  const char* content;
} plm_chat_message;

/* Renders a conversation as the prompt text the model expects. template_name NULL: the model's
 * own tokenizer.chat_template; otherwise a family name ("chatml", "llama3", "gemma", "phi3",
 * "mistral", ...). add_generation_prompt opens the assistant's turn. */
PLM_API plm_status plm_chat_format(const plm_model* model, const char* template_name,
                                   const plm_chat_message* messages, size_t n_messages,
                                   bool add_generation_prompt, char* text, size_t capacity,
                                   size_t* len_out);

/* -------------------------------------------------------------------------------- sampling */

typedef struct plm_sampling_params {
  uint32_t struct_size;
  float temperature;       /* <= 0: greedy. Default 0.8 */
  int32_t top_k;           /* <= 0: off. Default 40 */
  float top_p;             /* >= 1: off. Default 0.95 */
  float min_p;             /* <= 0: off. Default 0.05 */
  float repeat_penalty;    /* 1: off (default) */
  float frequency_penalty; /* 0: off (default) */
  float presence_penalty;  /* 0: off (default) */
  int32_t penalty_last_n;  /* window of recent tokens the penalties see. Default 64 */
  uint64_t seed;           /* same seed, same output. Default 0 */
  const int32_t* logit_bias_tokens; /* n_logit_bias tokens and the values added to their logits */
  const float* logit_bias_values;   /* (-INFINITY bans a token) */
  size_t n_logit_bias;
} plm_sampling_params;

PLM_API void plm_sampling_params_init(plm_sampling_params* params);

/* -------------------------------------------------------------------------------- sessions */

typedef struct plm_session plm_session;

typedef struct plm_session_params {
  uint32_t struct_size;
  int32_t n_ctx;       /* 0: the model's default */
  int32_t n_threads;   /* 0: the model's default */
  int32_t n_batch;     /* prompt tokens per forward batch; 0: 256 */
  int32_t kv_type;     /* a plm_kv_type, or -1 (default) for the model's default */
  /* Nonzero: sliding-window layers (Gemma 3, Mistral) keep every position instead of a ring of
     window + batch cells. More memory; edits that rewind past the ring need no re-prefill. */
  int32_t swa_full;
} plm_session_params;

PLM_API void plm_session_params_init(plm_session_params* params);
PLM_API plm_status plm_session_create(plm_model* model, const plm_session_params* params,
                                      plm_session** session_out);
PLM_API void plm_session_free(plm_session* session); /* NULL is fine */
/* Forgets everything the session holds (its KV cache and history). */
PLM_API plm_status plm_session_reset(plm_session* session);
/* Tokens held in the session's KV cache, and its capacity. */
PLM_API int32_t plm_session_n_past(const plm_session* session);
PLM_API int32_t plm_session_n_ctx(const plm_session* session);

typedef enum plm_context_policy {
  PLM_CONTEXT_STOP = 0,  /* generation stops with PLM_STOP_CONTEXT_FULL (default) */
  PLM_CONTEXT_SHIFT = 1  /* drop the oldest half of the tokens after the first n_keep, go on */
} plm_context_policy;

typedef struct plm_generate_params {
  uint32_t struct_size;
  plm_sampling_params sampling;
  int32_t max_tokens;         /* < 0: until end of generation or a full context. Default 256 */
  bool ignore_eos;            /* keep going past end-of-generation tokens */
  bool add_special;           /* tokenize the prompt with BOS/EOS as the model asks; default:
                                 true when the session is empty */
  bool parse_special;         /* special-token strings in the prompt become their ids (true) */
  const char* const* stop;    /* n_stop stop strings: generation ends before the first match */
  size_t n_stop;
  plm_context_policy context_policy;
  int32_t n_keep;             /* tokens kept at the start when shifting; -1 = the first prompt */
} plm_generate_params;

PLM_API void plm_generate_params_init(plm_generate_params* params);

typedef enum plm_stop_reason {
  PLM_STOP_NONE = 0,
  PLM_STOP_EOG = 1,          /* the model ended its turn (EOS/EOT) */
  PLM_STOP_MAX_TOKENS = 2,
  PLM_STOP_STRING = 3,       /* a stop string matched */
  PLM_STOP_CANCELLED = 4,    /* plm_session_cancel */
  PLM_STOP_CALLBACK = 5,     /* the token callback returned false */
  PLM_STOP_CONTEXT_FULL = 6
} plm_stop_reason;

PLM_API const char* plm_stop_reason_name(plm_stop_reason reason);

/* Receives the reply as it is generated. `text` is complete UTF-8 (never half a character) and
 * may be empty while a multi-byte character or a possible stop string is held back; `token` is
 * the id just sampled and `logprob` its log-probability under the model. Return false to stop.
 * text is not NUL-terminated. */
typedef bool (*plm_token_fn)(const char* text, size_t text_len, int32_t token, float logprob,
                             void* user_data);

/* Appends `prompt` to what the session already holds (its earlier prompts and replies stay in
 * the KV cache and are not computed again), then generates. The reason generation ended goes to
 * *reason (may be NULL). A prompt that cannot fit the context is PLM_ERR_CONTEXT_FULL and
 * leaves the session as it was. */
PLM_API plm_status plm_session_generate(plm_session* session, const char* prompt,
                                        const plm_generate_params* params, plm_token_fn on_token,
                                        void* user_data, plm_stop_reason* reason);

/* Multi-turn chat: renders the whole conversation with the template (NULL: the model's), opens
 * the assistant's turn and generates the reply. The part of the conversation the session already
 * holds (earlier turns, its own earlier replies) is reused from the KV cache, not prefilled
 * again. Pass every earlier reply back exactly as the callback delivered it. */
PLM_API plm_status plm_session_chat(plm_session* session, const char* template_name,
                                    const plm_chat_message* messages, size_t n_messages,
                                    const plm_generate_params* params, plm_token_fn on_token,
                                    void* user_data, plm_stop_reason* reason);

/* Asks a running generate/chat on this session to stop at the next token (thread-safe; the
 * call returns at once). The flag is cleared when the next generate/chat starts. */
PLM_API void plm_session_cancel(plm_session* session);

typedef struct plm_stats {
  uint32_t struct_size;
  double load_ms;           /* the model's load time */
  int32_t prompt_tokens;    /* of the last generate/chat: tokens prefilled */
  int32_t reused_tokens;    /*   tokens reused from the KV cache */
  int32_t generated_tokens; /*   tokens sampled */
  double prefill_ms;
  double decode_ms;
  double prefill_tok_s;
  double decode_tok_s;
  double ttft_ms;           /*   from the call to the first sampled token */
  int32_t n_past;           /* tokens now in the KV cache */
  uint64_t peak_rss_bytes;  /* of the process so far */
  uint64_t kv_cache_bytes;  /* the session's KV cache, allocated for its whole context */
} plm_stats;

/* Set stats->struct_size = sizeof(plm_stats) before the call. */
PLM_API plm_status plm_session_get_stats(const plm_session* session, plm_stats* stats);

#ifdef __cplusplus
}
#endif

#endif /* POCKETLM_H_ */
