// Qwen3 (dense): the Llama block without biases, with RMSNorm over each head of q and k before
// RoPE (attn_q_norm / attn_k_norm, head_dim wide), NeoX RoPE, and heads whose width need not be
// n_embd / n_head (attention.key_length).
#include "model/archs/archs.h"

namespace pocketlm::archs {

const ArchDesc kQwen3 = {
    .name = "qwen3",
    .block = {.gated_ffn = true, .activation = FfnActivation::kSilu, .qk_norm = true},
    .rope_style = kernels::RopeStyle::kNeox,
};

}  // namespace pocketlm::archs
