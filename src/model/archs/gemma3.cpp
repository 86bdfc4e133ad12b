// Gemma 3 (text): RMSNorm before and after both the attention and the FFN, RMSNorm over each head
// of q and k, GELU(tanh)-gated FFN, NeoX RoPE, embeddings scaled by sqrt(n_embd), tied output, and
// sliding-window attention in five of every six layers (window `attention.sliding_window`, RoPE
// base 10000) with a global sixth layer (RoPE base `rope.freq_base`).
//
// The GGUF converter already stores the norm weights as 1 + w, so nothing is added at load. q is
// scaled before the score dots, as the reference implementation does (query_pre_attn_scalar).
#include <cmath>

#include "model/archs/archs.h"
#include "model/hparams.h"

namespace pocketlm::archs {
namespace {

// The 27B model (62 layers) scales attention by 1 / sqrt(n_embd / n_head) (its
// query_pre_attn_scalar is 168 while its heads are 128 wide); the others by 1 / sqrt(head_dim).
Status gemma3_hparams(Hparams& hp) {
  constexpr int64_t kLayers27B = 62;
  if (hp.n_layer == kLayers27B) {
    hp.attn_scale = 1.0f / std::sqrt(static_cast<float>(hp.n_embd / hp.n_head));
  }
  return Status();
}

}  // namespace

const ArchDesc kGemma3 = {
    .name = "gemma3",
    .block = {.gated_ffn = true,
              .activation = FfnActivation::kGeluTanh,
              .qk_norm = true,
              .post_attn_norm = true,
              .post_ffn_norm = true},
    .rope_style = kernels::RopeStyle::kNeox,
    .norm_weight_plus_one = false,
    .scale_embeddings = true,
    .output_may_be_tied = true,
    .scale_q = true,
    .swa_period = 6,
    .rope_freq_base_swa = 10000.0f,
    .finish_hparams = gemma3_hparams,
};

}  // namespace pocketlm::archs
