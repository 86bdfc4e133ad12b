// Hyper-parameters of a model, read from GGUF metadata under the architecture's key prefix.
//
// Usage:
//   Result<Hparams> hp = Hparams::from_gguf(file, *arch);
//   int64_t q_dim = hp->n_head * hp->head_dim;
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "format/gguf_reader.h"
#include "model/arch.h"

namespace pocketlm {

enum class RopeScaling : int { kNone = 0, kLinear = 1, kYarn = 2, kLlama3 = 3 };
const char* rope_scaling_name(RopeScaling s);

struct Hparams {
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;  // blocks stored in the file (block_count)
  // Immediate block-wise weight sharing (MobileLLM): each stored block runs this many times in
  // a row, every run with its own KV cache layer. Layer indices of the forward pass, the KV
  // cache and is_swa_layer() count executed layers, 0 .. n_layer_exec() - 1.
  int64_t block_repeat = 1;
  int64_t n_ff = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;    // key/query width per head
  int64_t head_dim_v = 0;  // value width per head
  float norm_eps = 1e-5f;
  // Multiplies q . k in attention: 1 / sqrt(head_dim) unless the architecture rules otherwise.
  float attn_scale = 1.0f;

  // Sliding-window attention (0: none). In a sliding-window layer the query at position p sees
  // the positions p - n_swa + 1 .. p, i.e. the n_swa most recent ones including its own.
  int64_t n_swa = 0;
  int swa_period = 0;  // see ArchDesc::swa_period

  // RoPE
  int64_t n_rot = 0;
  float rope_freq_base = 10000.0f;
  float rope_freq_base_swa = 10000.0f;  // of the sliding-window layers
  float rope_freq_scale_swa = 1.0f;
  RopeScaling rope_scaling = RopeScaling::kNone;
  float rope_freq_scale = 1.0f;  // 1 / scaling factor
  int64_t rope_n_ctx_orig = 0;
  float yarn_ext_factor = 0.0f;
  float yarn_attn_factor = 1.0f;
  // Magnitude multiplier on RoPE's cos and sin (LongRoPE: sqrt(1 + ln(s) / ln(n_ctx_orig)) for a
  // context extended s times), from rope.scaling.attn_factor.
  float rope_attn_factor = 1.0f;
  float yarn_beta_fast = 32.0f;
  float yarn_beta_slow = 1.0f;

  // Reads and validates; errors name the key. n_vocab comes from the token list when the
  // architecture key is absent.
  static Result<Hparams> from_gguf(const GgufFile& file, const ArchDesc& arch);

  bool is_swa_layer(int64_t il) const {
    return n_swa > 0 && swa_period > 0 && (swa_period == 1 || il % swa_period < swa_period - 1);
  }
  int64_t n_layer_exec() const { return n_layer * block_repeat; }
  // The stored block whose weights executed layer il runs.
  int64_t block_of(int64_t il) const { return il / block_repeat; }
  bool has_swa() const { return n_swa > 0 && swa_period > 0; }

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
  int64_t v_dim() const { return n_head_kv * head_dim_v; }
};

}  // namespace pocketlm
