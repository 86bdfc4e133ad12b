// Qwen2 / Qwen2.5: the Llama block with biases on the q, k and v projections, and NeoX RoPE
// (rotated halves; its GGUF files keep q and k in the checkpoint's order). The embeddings are
// tied in the small models (no output.weight).
#include "model/archs/archs.h"

namespace pocketlm::archs {

const ArchDesc kQwen2 = {
    .name = "qwen2",
    .block = {.gated_ffn = true, .activation = FfnActivation::kSilu, .qkv_bias = true},
    .rope_style = kernels::RopeStyle::kNeox,
};

}  // namespace pocketlm::archs
