// ArchDesc: an architecture described as data, read by the one generic transformer.
//
// Usage:
//   const ArchDesc* a = find_arch("llama");          // from general.architecture
//   if (!a) return unsupported(...);
//   if (a->block.gated_ffn) ...
//
// Adding an architecture is one file under src/model/archs/ that defines its ArchDesc, and one
// line in archs/registry.cpp. Nothing outside src/model/archs/ switches on the architecture: the
// loader and the forward pass only read these flags.
#pragma once

#include <string_view>

#include "core/status.h"
#include "kernels/kernels.h"

namespace pocketlm {

struct Hparams;

// kGeluTanh runs through the fp16 lookup table llama.cpp's CPU backend uses
// (OpKernels::gelu_tanh_fp16 / geglu_tanh_fp16), so the FFN rounds as it does.
enum class FfnActivation : int { kSilu = 0, kGeluTanh = 1 };

// How one transformer block is wired.
struct BlockDesc {
  bool gated_ffn = true;             // down(act(gate(x)) * up(x)) rather than down(act(up(x)))
  FfnActivation activation = FfnActivation::kSilu;
  bool qkv_bias = false;             // Qwen2: biases on the q, k and v projections
  bool qk_norm = false;              // Qwen3, Gemma 3: RMSNorm over each head of q and k
  bool post_attn_norm = false;       // Gemma 2/3: norm on the attention output before the residual
  bool post_ffn_norm = false;        // Gemma 2/3: norm on the FFN output before the residual
  bool fused_qkv = false;            // Phi-3: one attn_qkv weight
  bool fused_gate_up = false;        // Phi-3: one ffn_up weight holding gate and up
};

struct ArchDesc {
  std::string_view name;             // GGUF general.architecture, also the metadata key prefix
  BlockDesc block;
  kernels::RopeStyle rope_style = kernels::RopeStyle::kNormal;
  // Norm weights stored as (w - 1), Gemma's convention: 1 is added at load so the forward pass
  // always multiplies by the stored weight.
  bool norm_weight_plus_one = false;
  bool scale_embeddings = false;     // Gemma: token embeddings times sqrt(n_embd)
  bool output_may_be_tied = true;    // no output.weight means the token embedding is reused
  // Gemma: q is multiplied by the attention scale before the scores are taken (and the scores are
  // not scaled), rather than the scores after. Both are the same product in exact arithmetic, but
  // q is rounded to F16 for the score dots, so where the scale applies changes that rounding.
  bool scale_q = false;
  // Sliding-window attention: when non-zero, layer il attends only to the last
  // `attention.sliding_window` positions unless il % swa_period == swa_period - 1 (Gemma 3:
  // 5 local layers, then a global one); 1 means every layer (Mistral, Phi-3). The window size is
  // required metadata then, unless swa_optional.
  int swa_period = 0;
  // The window key may be absent or 0, meaning no sliding window: Mistral checkpoints are
  // written as `llama` with the key added, Phi-3 files always carry it (0 when the model has
  // none).
  bool swa_optional = false;
  // RoPE base of the sliding-window layers, when it differs from the model's (Gemma 3 trains its
  // local layers with 10000 and its global ones with rope.freq_base); 0 means the same.
  // `rope.freq_base_swa` in the metadata overrides it.
  float rope_freq_base_swa = 0.0f;
  // Architecture-specific hyper-parameter rules that no metadata key carries (Gemma 3 27B's
  // attention scale); null when there are none. Runs after the keys are read.
  Status (*finish_hparams)(Hparams& hp) = nullptr;
};

// nullptr for architectures pocketlm does not run.
const ArchDesc* find_arch(std::string_view name);

}  // namespace pocketlm
