// The weights of a model: views into the mapped GGUF file, checked against the hyper-parameters.
//
// Matrices stay where the file maps them (zero copy, any tensor type); small vectors (norm
// weights, biases) are converted to float once at load, which is also where Gemma-style (w - 1)
// norm weights get their 1 added back, so the forward pass never special-cases them. Fused
// projections (Phi-3's attn_qkv, and its ffn_up holding gate then up) become row-range views of
// the one tensor, so the forward pass sees separate q, k, v, gate and up matrices.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "format/gguf_reader.h"
#include "model/arch.h"
#include "model/hparams.h"
#include "quant/types.h"

namespace pocketlm {

// A 2-D weight matrix in the file: `rows` rows of `cols` elements (cols is GGUF's ne[0]).
struct Matrix {
  TensorType type = TensorType::kF32;
  int64_t cols = 0;
  int64_t rows = 0;
  const void* data = nullptr;  // null: the model has no such tensor
  explicit operator bool() const { return data != nullptr; }
  size_t row_bytes() const { return row_size(type, cols); }
  // Rows [first, first + n) as a matrix of their own (rows are whole blocks of any type).
  Matrix row_range(int64_t first, int64_t n) const {
    return Matrix{type, cols, n, static_cast<const uint8_t*>(data) + first * row_bytes()};
  }
};

struct LayerWeights {
  const float* attn_norm = nullptr;  // (n_embd)
  Matrix wq;                         // (q_dim rows, n_embd cols)
  Matrix wk;                         // (kv_dim, n_embd)
  Matrix wv;                         // (v_dim, n_embd)
  Matrix wo;                         // (n_embd, n_head * head_dim_v)
  const float* bq = nullptr;         // optional biases (q_dim), (kv_dim), (v_dim), (n_embd)
  const float* bk = nullptr;
  const float* bv = nullptr;
  const float* bo = nullptr;
  const float* q_norm = nullptr;     // optional per-head norms (head_dim)
  const float* k_norm = nullptr;
  const float* post_attn_norm = nullptr;  // optional (n_embd)
  const float* ffn_norm = nullptr;        // (n_embd)
  Matrix ffn_gate;                        // (n_ff, n_embd), gated FFNs only
  Matrix ffn_up;                          // (n_ff, n_embd)
  Matrix ffn_down;                        // (n_embd, n_ff)
  const float* post_ffn_norm = nullptr;   // optional (n_embd)
};

struct ModelWeights {
  Matrix token_embd;                  // (n_vocab, n_embd)
  const float* output_norm = nullptr; // (n_embd)
  Matrix output;                      // (n_vocab, n_embd); token_embd when tied
  bool tied_output = false;
  std::vector<float> rope_freqs;      // optional per-pair RoPE divisors (n_rot / 2)
  // LongRoPE (Phi-3 128K): per-pair divisors for contexts beyond rope.scaling.original_context
  // _length and within it (n_rot / 2 each), or both empty.
  std::vector<float> rope_factors_long;
  std::vector<float> rope_factors_short;
  std::vector<LayerWeights> layers;   // (n_layer stored blocks)

  // The per-pair RoPE divisors a context of n_ctx positions runs with (empty: none). LongRoPE
  // picks its long factors when n_ctx exceeds the original training context, as llama.cpp does
  // (transformers picks by the sequence length reached; a sequence that stays within the
  // context it was given gets the same factors either way unless it crosses that length).
  const std::vector<float>& rope_factors(const Hparams& hp, int64_t n_ctx) const {
    if (rope_factors_long.empty()) return rope_freqs;
    return n_ctx > hp.rope_n_ctx_orig ? rope_factors_long : rope_factors_short;
  }

  // Builds the views and float copies; every tensor's presence, type and shape is checked and a
  // mismatch names the tensor, what was expected and what the file holds.
  static Result<ModelWeights> load(const GgufFile& file, const ArchDesc& arch, const Hparams& hp);

 private:
  std::vector<std::vector<float>> owned_;  // storage behind the float vectors above
};

}  // namespace pocketlm
