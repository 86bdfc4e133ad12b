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

#include "kernels/kernels.h"

namespace pocketlm {

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
};

// nullptr for architectures pocketlm does not run.
const ArchDesc* find_arch(std::string_view name);

}  // namespace pocketlm
