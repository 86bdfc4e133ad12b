// Phi-3 (mini): the Llama block with one fused attn_qkv projection (q, k then v rows) and one
// ffn_up holding the gate rows then the up rows, both split into views at load; NeoX RoPE over
// rope.dimension_count dimensions. The 128K variants scale RoPE with LongRoPE: per-pair divisors
// rope_factors_short / rope_factors_long (see ModelWeights::rope_factors) and a magnitude
// factor on cos and sin (rope.scaling.attn_factor). Every layer attends to the last
// `attention.sliding_window` positions (0: all), as the reference implementation masks them.
#include "model/archs/archs.h"

namespace pocketlm::archs {

const ArchDesc kPhi3 = {
    .name = "phi3",
    .block = {.gated_ffn = true,
              .activation = FfnActivation::kSilu,
              .fused_qkv = true,
              .fused_gate_up = true},
    .rope_style = kernels::RopeStyle::kNeox,
    .swa_period = 1,
    .swa_optional = true,
};

}  // namespace pocketlm::archs
