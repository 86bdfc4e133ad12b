// ForwardState: everything one sequence needs to run the transformer — its KV cache and the
// activation buffers of one batch — allocated once, so decoding allocates nothing per token.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "kernels/matmul.h"
#include "kernels/ref/rope_cache.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace pocketlm {

// Receives named intermediates ("attn_norm", "q", "k", "v", "attn_out", "ffn_out", "l_out",
// "result_norm", "logits", ...) as the forward pass produces them, for layer-by-layer comparison
// with a reference. `layer` is -1 outside the blocks, else the stored block whose weights ran
// (with block sharing a block reports once per run, in order). Data is n_tokens rows of `width`
// floats.
class ActivationObserver {
 public:
  virtual ~ActivationObserver() = default;
  virtual void observe(const char* name, int64_t layer, const float* data, int64_t n_tokens,
                       int64_t width) = 0;
};

struct ForwardOptions {
  int64_t n_ctx = 2048;             // positions the KV cache holds
  int64_t n_batch = 512;            // tokens run through the blocks together (llama.cpp's default)
  TensorType kv_type = TensorType::kF16;
  int max_threads = 1;              // the largest thread pool forward() will be given
  // Sliding-window layers keep all n_ctx positions instead of a ring of window + batch ones
  // (llama.cpp's swa_full): more memory, but the sequence can then be rewound to any position;
  // with rings, forward() refuses positions whose window the ring no longer holds.
  bool swa_full = false;
};

// Cells per executed layer (Hparams::n_layer_exec) of the KV cache forward() needs: n_ctx, or for
// sliding-window layers (without swa_full) a ring of the window plus one batch, rounded up to 32.
std::vector<int64_t> kv_layer_cells(const Hparams& hp, const ForwardOptions& options);

struct ForwardState {
  static Result<ForwardState> create(const Model& model, const ForwardOptions& options);

  ForwardOptions options;
  KvCache kv;
  kernels::RopeCache rope;
  kernels::RopeCache rope_swa;  // sliding-window layers (their own RoPE base)
  kernels::Workspace ws;
  ActivationObserver* observer = nullptr;

  // Batch buffers, n_batch rows each.
  std::vector<float> x;         // (n_batch, n_embd) residual stream
  std::vector<float> h;         // (n_batch, n_embd) normed input of a sub-block
  std::vector<float> q;         // (n_batch, q_dim)
  std::vector<float> k;         // (n_batch, kv_dim)
  std::vector<float> v;         // (n_batch, v_dim)
  std::vector<float> attn;      // (n_batch, n_head * head_dim_v)
  std::vector<float> proj;      // (n_batch, n_embd) output of a projection
  std::vector<float> gate;      // (n_batch, n_ff)
  std::vector<float> up;        // (n_batch, n_ff)
  std::vector<float> cos_sin;   // (n_batch, n_rot) angles: n_rot/2 cosines then n_rot/2 sines
  // Per-thread attention scratch: scores over the attended positions, converted rows.
  std::vector<float> scores;    // (n_threads_max, kv.max_v_stride())
  std::vector<uint8_t> q_conv;  // (n_threads_max, a q head in the KV type's dot activation type)
  std::vector<uint8_t> probs;   // (n_threads_max, max_v_stride * 4 bytes): probabilities, converted
  std::vector<float> v_row;     // (n_threads_max, head_dim_v)
  int max_threads = 0;
};

}  // namespace pocketlm
