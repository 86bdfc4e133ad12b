// Llama family: Llama 2/3.x, SmolLM/SmolLM2, Mistral and MobileLLM checkpoints converted as
// `llama`. RMSNorm, SwiGLU, grouped-query attention, adjacent-pair RoPE (the GGUF converter
// permutes q/k so that pairs are adjacent); optional q/k/v/o biases (attention_bias).
//
// Mistral: every layer attends to the last `attention.sliding_window` positions when the file
// carries that key (pocketlm's converter writes it; files without it attend to everything).
// MobileLLM: `block_repeat_count` runs each block twice in a row (see Hparams::block_repeat).
#include "model/archs/archs.h"

namespace pocketlm::archs {

const ArchDesc kLlama = {
    .name = "llama",
    .block = {.gated_ffn = true, .activation = FfnActivation::kSilu},
    .rope_style = kernels::RopeStyle::kNormal,
    .swa_period = 1,
    .swa_optional = true,
};

}  // namespace pocketlm::archs
