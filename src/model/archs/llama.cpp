// Llama family: Llama 2/3.x, SmolLM/SmolLM2, MobileLLM (without block sharing), Mistral-style
// checkpoints converted as `llama`. RMSNorm, SwiGLU, grouped-query attention, adjacent-pair RoPE
// (the GGUF converter permutes q/k so that pairs are adjacent).
#include "model/archs/archs.h"

namespace pocketlm::archs {

const ArchDesc kLlama = {
    .name = "llama",
    .block = {.gated_ffn = true, .activation = FfnActivation::kSilu},
    .rope_style = kernels::RopeStyle::kNormal,
};

}  // namespace pocketlm::archs
