/* The C API end to end, compiled as C11: what a C, JNI or Swift caller sees, on the real SmolLM2
 * model. Usage: capi_test MODEL.gguf  (exit 77 = skipped: the model file is absent).
 *
 * Expected texts come from llama.cpp on the same file: greedy decoding of "The capital of France
 * is" gives token ids 7042 (" Paris") 30 (".") ... */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pocketlm/pocketlm.h"

static int g_failures = 0;

#define CHECK(cond)                                                                            \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, \
              plm_last_error());                                                               \
      ++g_failures;                                                                            \
    }                                                                                          \
  } while (0)

#define CHECK_STATUS(expr, want)                                                                   \
  do {                                                                                             \
    plm_status got_ = (expr);                                                                      \
    if (got_ != (want)) {                                                                          \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s)\n", __FILE__, __LINE__, \
              #expr, plm_status_name(got_), plm_status_name(want), plm_last_error());              \
      ++g_failures;                                                                                \
    }                                                                                              \
  } while (0)

/* ------------------------------------------------------------------ collecting the reply */

typedef struct Reply {
  char text[4096];
  size_t len;
  int32_t ids[512];
  int n_calls;
  int stop_after; /* > 0: the callback returns false on this call */
  atomic_int started;
} Reply;

static void reply_init(Reply* r) {
  memset(r, 0, sizeof(*r));
  atomic_init(&r->started, 0);
}

static bool on_token(const char* text, size_t len, int32_t token, float logprob, void* user) {
  Reply* r = (Reply*)user;
  if (len > 0 && text == NULL) ++g_failures;
  if (!(logprob <= 0.0f)) ++g_failures; /* a log-probability, so never positive (nor NaN) */
  if (r->len + len < sizeof(r->text)) {
    memcpy(r->text + r->len, text, len);
    r->len += len;
    r->text[r->len] = '\0';
  }
  if (r->n_calls < 512) r->ids[r->n_calls] = token;
  ++r->n_calls;
  atomic_store(&r->started, 1);
  return !(r->stop_after > 0 && r->n_calls >= r->stop_after);
}

static plm_generate_params greedy(int32_t max_tokens) {
  plm_generate_params gp;
  plm_generate_params_init(&gp);
  gp.sampling.temperature = 0.0f;
  gp.max_tokens = max_tokens;
  return gp;
}

static plm_stats get_stats(const plm_session* s) {
  plm_stats st;
  memset(&st, 0, sizeof(st));
  st.struct_size = sizeof(st);
  CHECK_STATUS(plm_session_get_stats(s, &st), PLM_OK);
  return st;
}

/* --------------------------------------------------------------------------------- tests */

typedef struct Progress {
  int calls;
  float last;
  bool answer;
} Progress;

static bool on_progress(float fraction, void* user) {
  Progress* p = (Progress*)user;
  if (!(fraction >= p->last && fraction <= 1.0f)) ++g_failures; /* rises, within [0, 1] */
  p->last = fraction;
  ++p->calls;
  return p->answer;
}

static void test_progress(const char* model_path) {
  plm_model_params mp;
  plm_model_params_init(&mp);
  Progress p = {0, 0.0f, true};
  mp.progress = on_progress;
  mp.progress_user_data = &p;
  plm_model* m = NULL;
  CHECK_STATUS(plm_model_load(model_path, &mp, &m), PLM_OK);
  CHECK(p.calls >= 1 && p.last == 1.0f);
  plm_model_free(m);

  /* Reading the file into memory reports as it goes; returning false cancels. */
  Progress stop = {0, 0.0f, false};
  mp.use_mmap = false;
  mp.progress_user_data = &stop;
  m = (plm_model*)&mp;
  CHECK_STATUS(plm_model_load(model_path, &mp, &m), PLM_ERR_CANCELLED);
  CHECK(m == NULL);
  CHECK(stop.calls == 1 && stop.last < 1.0f);
}

static void test_bad_arguments(const char* model_path) {
  plm_model_params mp;
  plm_model_params_init(&mp);
  plm_model* m = (plm_model*)&mp; /* must be overwritten with NULL on failure */

  CHECK_STATUS(plm_model_load(NULL, &mp, &m), PLM_ERR_INVALID_ARGUMENT);
  CHECK(m == NULL);
  CHECK(strlen(plm_last_error()) > 0);
  CHECK_STATUS(plm_model_load(model_path, NULL, &m), PLM_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(plm_model_load(model_path, &mp, NULL), PLM_ERR_INVALID_ARGUMENT);

  CHECK_STATUS(plm_model_load("/nonexistent/dir/model.gguf", &mp, &m), PLM_ERR_NOT_FOUND);
  CHECK(m == NULL);
  CHECK(strstr(plm_last_error(), "/nonexistent/dir/model.gguf") != NULL);

  /* A file that is not GGUF. */
  char junk_path[] = "capi_test_junk_XXXXXX";
  int fd = mkstemp(junk_path);
  CHECK(fd >= 0);
  if (fd >= 0) {
    const char junk[] = "this is not a GGUF file, only some text long enough to be read";
    CHECK(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
    close(fd);
    CHECK_STATUS(plm_model_load(junk_path, &mp, &m), PLM_ERR_MALFORMED);
    CHECK(m == NULL);
    CHECK(strlen(plm_last_error()) > 0);
    mp.use_mmap = false; /* the read-into-memory path says the same */
    CHECK_STATUS(plm_model_load(junk_path, &mp, &m), PLM_ERR_MALFORMED);
    mp.use_mmap = true;
    unlink(junk_path);
  }

  plm_model_params bad = mp;
  bad.struct_size = 0; /* never initialized */
  CHECK_STATUS(plm_model_load(model_path, &bad, &m), PLM_ERR_INVALID_ARGUMENT);
  bad = mp;
  bad.kv_type = (plm_kv_type)7;
  CHECK_STATUS(plm_model_load(model_path, &bad, &m), PLM_ERR_INVALID_ARGUMENT);
  bad = mp;
  bad.n_ctx = -5;
  CHECK_STATUS(plm_model_load(model_path, &bad, &m), PLM_ERR_INVALID_ARGUMENT);

  plm_model_info info;
  info.struct_size = sizeof(info);
  CHECK_STATUS(plm_model_get_info(NULL, &info), PLM_ERR_INVALID_ARGUMENT);
  size_t n = 0;
  CHECK_STATUS(plm_tokenize(NULL, "x", 1, true, false, NULL, 0, &n), PLM_ERR_INVALID_ARGUMENT);
  plm_session_params sp;
  plm_session_params_init(&sp);
  plm_session* s = (plm_session*)&sp;
  CHECK_STATUS(plm_session_create(NULL, &sp, &s), PLM_ERR_INVALID_ARGUMENT);
  CHECK(s == NULL);
  plm_generate_params gp = greedy(1);
  CHECK_STATUS(plm_session_generate(NULL, "x", &gp, on_token, NULL, NULL),
               PLM_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(plm_session_reset(NULL), PLM_ERR_INVALID_ARGUMENT);
  plm_model_free(NULL);
  plm_session_free(NULL);
  plm_session_cancel(NULL);

  CHECK(strcmp(plm_status_name(PLM_ERR_CONTEXT_FULL), "PLM_ERR_CONTEXT_FULL") == 0);
  CHECK(strcmp(plm_stop_reason_name(PLM_STOP_STRING), "PLM_STOP_STRING") == 0);
  CHECK(strcmp(plm_status_name((plm_status)99), "PLM_ERR_UNKNOWN") == 0);
  CHECK(strcmp(plm_stop_reason_name((plm_stop_reason)99), "PLM_STOP_UNKNOWN") == 0);
  CHECK(strcmp(plm_version(), "0.1.0") == 0);
}

static void test_info(const plm_model* m, const char* model_path) {
  plm_model_info info;
  memset(&info, 0, sizeof(info));
  info.struct_size = sizeof(info);
  CHECK_STATUS(plm_model_get_info(m, &info), PLM_OK);
  CHECK(strcmp(info.architecture, "llama") == 0);
  CHECK(strcmp(info.chat_format, "chatml") == 0);
  CHECK(strcmp(info.name, "Smollm2 135M 8k Lc100K Mix1 Ep2") == 0);
  CHECK(info.n_params == 134515008u);
  struct stat sb;
  CHECK(stat(model_path, &sb) == 0 && info.file_bytes == (uint64_t)sb.st_size);
  CHECK(info.n_vocab == 49152);
  CHECK(info.n_ctx_train == 8192);
  CHECK(info.n_embd == 576);
  CHECK(info.n_layer == 30);
  CHECK(info.n_head == 9);
  CHECK(info.n_head_kv == 3);
  CHECK(info.bos == 1);
  CHECK(info.eos == 2);
  CHECK(info.eot == 2 || info.eot == 0); /* both end a turn; see Tokenizer::special() */
  CHECK(info.load_ms > 0.0);

  /* An older caller's smaller struct: the fields past its end are not touched. */
  plm_model_info small;
  memset(&small, 0xab, sizeof(small));
  small.struct_size = (uint32_t)offsetof(plm_model_info, n_params);
  CHECK_STATUS(plm_model_get_info(m, &small), PLM_OK);
  CHECK(strcmp(small.architecture, "llama") == 0);
  CHECK(small.n_params == 0xababababababababull);
  CHECK(small.n_vocab == (int32_t)0xabababab);
}

static void test_tokenizer(const plm_model* m) {
  const char* text = "Hello world! Caf\xc3\xa9 \xf0\x9f\x98\x80 <|im_start|>";
  int32_t ids[64];
  size_t n = 0;
  CHECK_STATUS(plm_tokenize(m, text, strlen(text), true, true, ids, 64, &n), PLM_OK);
  CHECK(n > 5 && n < 32);
  CHECK(ids[0] == 19556 && ids[1] == 905 && ids[2] == 17); /* "Hello" " world" "!" */
  CHECK(ids[n - 1] == 1); /* <|im_start|>, parsed as the special token */

  /* Too small: the call says how many are needed, then succeeds with that. */
  size_t need = 0;
  CHECK_STATUS(plm_tokenize(m, text, strlen(text), true, true, ids, 2, &need),
               PLM_ERR_BUFFER_TOO_SMALL);
  CHECK(need == n);
  CHECK(strlen(plm_last_error()) > 0);
  CHECK_STATUS(plm_tokenize(m, text, strlen(text), true, true, NULL, 0, &need),
               PLM_ERR_BUFFER_TOO_SMALL);
  CHECK(need == n);

  /* Without parse_special the marker is plain text: several ordinary tokens. */
  int32_t plain[64];
  size_t n_plain = 0;
  CHECK_STATUS(plm_tokenize(m, text, strlen(text), true, false, plain, 64, &n_plain), PLM_OK);
  CHECK(n_plain > n);

  /* Round trip, keeping special tokens' text. */
  char buf[256];
  size_t len = 0;
  CHECK_STATUS(plm_detokenize(m, ids, n, false, buf, sizeof(buf), &len), PLM_OK);
  CHECK(len == strlen(text) && strcmp(buf, text) == 0);
  /* remove_special drops the control token. */
  CHECK_STATUS(plm_detokenize(m, ids, n, true, buf, sizeof(buf), &len), PLM_OK);
  CHECK(strcmp(buf, "Hello world! Caf\xc3\xa9 \xf0\x9f\x98\x80 ") == 0);

  /* BUFFER_TOO_SMALL for text: the needed size counts the NUL. */
  char tiny[4];
  size_t need_bytes = 0;
  CHECK_STATUS(plm_detokenize(m, ids, n, false, tiny, sizeof(tiny), &need_bytes),
               PLM_ERR_BUFFER_TOO_SMALL);
  CHECK(need_bytes == strlen(text) + 1);
  char* exact = (char*)malloc(need_bytes);
  CHECK_STATUS(plm_detokenize(m, ids, n, false, exact, need_bytes, &len), PLM_OK);
  CHECK(len == strlen(text) && strcmp(exact, text) == 0);
  free(exact);

  int32_t bad = 49152;
  CHECK_STATUS(plm_detokenize(m, &bad, 1, false, buf, sizeof(buf), &len), PLM_ERR_INVALID_ARGUMENT);
}

static void test_chat_format(const plm_model* m) {
  plm_chat_message conv[2] = {{"system", "You are brief."}, {"user", "Hi"}};
  char buf[512];
  size_t len = 0;
  CHECK_STATUS(plm_chat_format(m, NULL, conv, 2, true, buf, sizeof(buf), &len), PLM_OK);
  const char* want =
      "<|im_start|>system\nYou are brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
      "<|im_start|>assistant\n";
  CHECK(strcmp(buf, want) == 0);
  CHECK(len == strlen(want));

  /* The model's template writes its default system prompt when the conversation has none. */
  CHECK_STATUS(plm_chat_format(m, NULL, conv + 1, 1, false, buf, sizeof(buf), &len), PLM_OK);
  CHECK(
      strcmp(buf,
             "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
             "Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n") == 0);

  /* A named template; an unknown name; a NULL field. */
  CHECK_STATUS(plm_chat_format(m, "llama3", conv + 1, 1, true, buf, sizeof(buf), &len), PLM_OK);
  CHECK(strstr(buf, "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>") != NULL);
  CHECK_STATUS(plm_chat_format(m, "no-such-template", conv, 2, true, buf, sizeof(buf), &len),
               PLM_ERR_INVALID_ARGUMENT);
  CHECK(strstr(plm_last_error(), "no-such-template") != NULL);
  plm_chat_message broken = {"user", NULL};
  CHECK_STATUS(plm_chat_format(m, NULL, &broken, 1, true, buf, sizeof(buf), &len),
               PLM_ERR_INVALID_ARGUMENT);
  size_t need = 0;
  CHECK_STATUS(plm_chat_format(m, NULL, conv, 2, true, buf, 8, &need), PLM_ERR_BUFFER_TOO_SMALL);
  CHECK(need == strlen(want) + 1);
}

static void test_generate(plm_session* s) {
  /* Greedy: llama.cpp's continuation. */
  Reply r;
  reply_init(&r);
  plm_generate_params gp = greedy(16);
  plm_stop_reason why = PLM_STOP_NONE;
  CHECK_STATUS(plm_session_generate(s, "The capital of France is", &gp, on_token, &r, &why),
               PLM_OK);
  CHECK(why == PLM_STOP_MAX_TOKENS);
  CHECK(r.n_calls == 16);
  CHECK(r.ids[0] == 7042 && r.ids[1] == 30);
  CHECK(strncmp(r.text, " Paris.", 7) == 0);
  plm_stats st = get_stats(s);
  CHECK(st.prompt_tokens == 5);
  CHECK(st.reused_tokens == 0);
  CHECK(st.generated_tokens == 16);
  CHECK(st.n_past == 5 + 15); /* the 16th token was sampled, not yet fed */
  CHECK(plm_session_n_past(s) == 20);
  CHECK(st.decode_tok_s > 0.0 && st.prefill_tok_s > 0.0);
  CHECK(st.ttft_ms > 0.0 && st.decode_ms > 0.0 && st.prefill_ms > 0.0);
  CHECK(st.peak_rss_bytes > 50u * 1024 * 1024); /* the model alone maps ~98 MB */
  CHECK(st.load_ms > 0.0);
  printf("greedy: \"%s\" (prefill %.1f tok/s, decode %.1f tok/s, ttft %.1f ms, rss %.1f MB)\n",
         r.text, st.prefill_tok_s, st.decode_tok_s, st.ttft_ms, st.peak_rss_bytes / 1048576.0);

  /* A continuation reuses the cache: only the held-back token and the new text are fed. */
  reply_init(&r);
  gp = greedy(2);
  CHECK_STATUS(plm_session_generate(s, " Also,", &gp, on_token, &r, &why), PLM_OK);
  st = get_stats(s);
  CHECK(st.reused_tokens == 20);
  CHECK(st.prompt_tokens >= 2 && st.prompt_tokens <= 4);

  /* Stop string: the output ends before it, and never shows it. */
  CHECK_STATUS(plm_session_reset(s), PLM_OK);
  CHECK(plm_session_n_past(s) == 0);
  reply_init(&r);
  gp = greedy(16);
  const char* stops[] = {"."};
  gp.stop = stops;
  gp.n_stop = 1;
  CHECK_STATUS(plm_session_generate(s, "The capital of France is", &gp, on_token, &r, &why),
               PLM_OK);
  CHECK(why == PLM_STOP_STRING);
  CHECK(strcmp(r.text, " Paris") == 0);
  CHECK(r.n_calls == 2);

  /* max_tokens. */
  CHECK_STATUS(plm_session_reset(s), PLM_OK);
  reply_init(&r);
  gp = greedy(3);
  CHECK_STATUS(plm_session_generate(s, "Once upon a time", &gp, on_token, &r, &why), PLM_OK);
  CHECK(why == PLM_STOP_MAX_TOKENS && r.n_calls == 3);
  CHECK(get_stats(s).generated_tokens == 3);

  /* The callback stops it. */
  CHECK_STATUS(plm_session_reset(s), PLM_OK);
  reply_init(&r);
  r.stop_after = 2;
  gp = greedy(10);
  CHECK_STATUS(plm_session_generate(s, "Once upon a time", &gp, on_token, &r, &why), PLM_OK);
  CHECK(why == PLM_STOP_CALLBACK && r.n_calls == 2);

  /* Bad generate parameters change nothing. */
  const int32_t before = plm_session_n_past(s);
  gp = greedy(4);
  gp.struct_size = 0;
  CHECK_STATUS(plm_session_generate(s, "x", &gp, on_token, &r, &why), PLM_ERR_INVALID_ARGUMENT);
  gp = greedy(4);
  gp.sampling.top_p = -1.0f;
  CHECK_STATUS(plm_session_generate(s, "x", &gp, on_token, &r, &why), PLM_ERR_INVALID_ARGUMENT);
  gp = greedy(4);
  gp.n_stop = 1; /* with stop == NULL */
  CHECK_STATUS(plm_session_generate(s, "x", &gp, on_token, &r, &why), PLM_ERR_INVALID_ARGUMENT);
  gp = greedy(4);
  gp.context_policy = (plm_context_policy)5;
  CHECK_STATUS(plm_session_generate(s, "x", &gp, on_token, &r, &why), PLM_ERR_INVALID_ARGUMENT);
  CHECK(plm_session_n_past(s) == before);
}

static void test_seeded(plm_session* s) {
  Reply a, b;
  plm_generate_params gp;
  plm_generate_params_init(&gp);
  gp.max_tokens = 12;
  gp.ignore_eos = true;
  gp.sampling.temperature = 1.0f;
  gp.sampling.seed = 1234;
  plm_stop_reason why;
  reply_init(&a);
  CHECK_STATUS(plm_session_reset(s), PLM_OK);
  CHECK_STATUS(plm_session_generate(s, "My favourite colour is", &gp, on_token, &a, &why), PLM_OK);
  reply_init(&b);
  CHECK_STATUS(plm_session_reset(s), PLM_OK);
  CHECK_STATUS(plm_session_generate(s, "My favourite colour is", &gp, on_token, &b, &why), PLM_OK);
  CHECK(a.n_calls == 12 && b.n_calls == 12);
  CHECK(memcmp(a.ids, b.ids, sizeof(a.ids[0]) * 12) == 0);
  CHECK(strcmp(a.text, b.text) == 0);
  printf("seeded: \"%s\"\n", a.text);
}

typedef struct CancelJob {
  plm_session* session;
  Reply* reply;
} CancelJob;

static void* cancel_when_started(void* arg) {
  CancelJob* job = (CancelJob*)arg;
  while (!atomic_load(&job->reply->started)) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  plm_session_cancel(job->session);
  return NULL;
}

static void test_cancel(plm_session* s) {
  CHECK_STATUS(plm_session_reset(s), PLM_OK);
  Reply r;
  reply_init(&r);
  plm_generate_params gp = greedy(200);
  gp.ignore_eos = true;
  CancelJob job = {s, &r};
  pthread_t th;
  CHECK(pthread_create(&th, NULL, cancel_when_started, &job) == 0);
  plm_stop_reason why = PLM_STOP_NONE;
  CHECK_STATUS(plm_session_generate(s, "Count: one, two, three,", &gp, on_token, &r, &why), PLM_OK);
  pthread_join(th, NULL);
  CHECK(why == PLM_STOP_CANCELLED);
  CHECK(r.n_calls >= 1 && r.n_calls < 200);
  /* The flag is cleared by the next call. */
  reply_init(&r);
  gp = greedy(2);
  CHECK_STATUS(plm_session_generate(s, " four", &gp, on_token, &r, &why), PLM_OK);
  CHECK(why == PLM_STOP_MAX_TOKENS && r.n_calls == 2);
}

/* Two chat turns; llama.cpp gives the same two replies for this conversation. */
static void test_chat(const plm_model* m, plm_session* s) {
  CHECK_STATUS(plm_session_reset(s), PLM_OK);
  plm_generate_params gp = greedy(24);
  Reply first;
  reply_init(&first);
  const char* q1 = "What is the capital of France? Answer in one word.";
  plm_chat_message turn1[1] = {{"user", q1}};
  plm_stop_reason why;
  CHECK_STATUS(plm_session_chat(s, NULL, turn1, 1, &gp, on_token, &first, &why), PLM_OK);
  CHECK(why == PLM_STOP_EOG);
  CHECK(strcmp(first.text, "The capital of France is Paris.") == 0);
  CHECK(first.ids[first.n_calls - 1] == 2); /* <|im_end|>, delivered with no text */
  const int32_t after_first = plm_session_n_past(s);
  plm_stats st = get_stats(s);
  CHECK(after_first == st.prompt_tokens + st.generated_tokens - 1); /* the EOG is not fed */

  Reply second;
  reply_init(&second);
  plm_chat_message turn2[3] = {
      {"user", q1},
      {"assistant", first.text},
      {"user", "And of Italy? Answer in one word."},
  };
  CHECK_STATUS(plm_session_chat(s, NULL, turn2, 3, &gp, on_token, &second, &why), PLM_OK);
  st = get_stats(s);
  printf("chat: \"%s\" then \"%s\" (turn 2 reused %d tokens, prefilled %d)\n", first.text,
         second.text, st.reused_tokens, st.prompt_tokens);
  CHECK(why == PLM_STOP_EOG);
  CHECK(strcmp(second.text, "The capital of Italy is Rome.") == 0);
  /* Only "<|im_end|>\n<|im_start|>user\nAnd of Italy? ...<|im_start|>assistant\n" is new. */
  const char* fresh =
      "<|im_end|>\n<|im_start|>user\nAnd of Italy? Answer in one word.<|im_end|>\n"
      "<|im_start|>assistant\n";
  int32_t ids[64];
  size_t n_fresh = 0;
  CHECK_STATUS(plm_tokenize(m, fresh, strlen(fresh), false, true, ids, 64, &n_fresh), PLM_OK);
  CHECK(st.reused_tokens == after_first);
  CHECK(st.prompt_tokens == (int32_t)n_fresh);
  CHECK(st.n_past == after_first + (int32_t)n_fresh + st.generated_tokens - 1);
}

static void test_context(const plm_model* m) {
  plm_session_params sp;
  plm_session_params_init(&sp);
  sp.n_ctx = 32;
  sp.n_batch = 8; /* several prefill chunks */
  plm_session* s = NULL;
  CHECK_STATUS(plm_session_create((plm_model*)m, &sp, &s), PLM_OK);
  if (!s) return;
  CHECK(plm_session_n_ctx(s) == 32);

  char long_prompt[512] = "";
  for (int i = 0; i < 20; ++i) strcat(long_prompt, "one two ");
  Reply r;
  reply_init(&r);
  plm_generate_params gp = greedy(4);
  plm_stop_reason why = PLM_STOP_EOG;
  CHECK_STATUS(plm_session_generate(s, long_prompt, &gp, on_token, &r, &why), PLM_ERR_CONTEXT_FULL);
  CHECK(strstr(plm_last_error(), "context holds 32") != NULL);
  CHECK(why == PLM_STOP_NONE);
  CHECK(r.n_calls == 0 && plm_session_n_past(s) == 0);

  /* Still usable; policy "stop" ends generation when the context is full. */
  gp = greedy(-1);
  gp.ignore_eos = true;
  CHECK_STATUS(plm_session_generate(s, "The capital of France is", &gp, on_token, &r, &why),
               PLM_OK);
  CHECK(why == PLM_STOP_CONTEXT_FULL);
  CHECK(plm_session_n_past(s) == 32);
  CHECK(r.n_calls == 32 - 5 + 1);

  /* Policy "shift" goes on past the end of the context. */
  CHECK_STATUS(plm_session_reset(s), PLM_OK);
  reply_init(&r);
  gp = greedy(40);
  gp.ignore_eos = true;
  gp.context_policy = PLM_CONTEXT_SHIFT;
  CHECK_STATUS(plm_session_generate(s, "The capital of France is", &gp, on_token, &r, &why),
               PLM_OK);
  CHECK(why == PLM_STOP_MAX_TOKENS && r.n_calls == 40);
  CHECK(plm_session_n_past(s) <= 32);
  plm_session_free(s);

  /* Out-of-range session parameters. */
  sp.n_ctx = -1;
  CHECK_STATUS(plm_session_create((plm_model*)m, &sp, &s), PLM_ERR_INVALID_ARGUMENT);
  sp.n_ctx = 0;
  sp.kv_type = 9;
  CHECK_STATUS(plm_session_create((plm_model*)m, &sp, &s), PLM_ERR_INVALID_ARGUMENT);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.gguf\n", argv[0]);
    return 2;
  }
  const char* model_path = argv[1];
  if (access(model_path, R_OK) != 0) {
    printf("SKIP: %s is absent (run scripts/fetch_models.py)\n", model_path);
    return 77;
  }
  test_bad_arguments(model_path);
  test_progress(model_path);

  plm_model_params mp;
  plm_model_params_init(&mp);
  plm_model* m = NULL;
  CHECK_STATUS(plm_model_load(model_path, &mp, &m), PLM_OK);
  if (!m) return 1;
  test_info(m, model_path);
  test_tokenizer(m);
  test_chat_format(m);

  plm_session_params sp;
  plm_session_params_init(&sp);
  sp.n_ctx = 512;
  plm_session* s = NULL;
  CHECK_STATUS(plm_session_create(m, &sp, &s), PLM_OK);
  if (s) {
    test_generate(s);
    test_seeded(s);
    test_cancel(s);
    test_chat(m, s);
    plm_session_free(s);
  }
  test_context(m);
  plm_model_free(m);

  if (g_failures) {
    fprintf(stderr, "%d check(s) failed\n", g_failures);
    return 1;
  }
  printf("all C API checks passed\n");
  return 0;
}
