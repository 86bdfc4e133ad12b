// Model families that `pocketlm convert` knows: how a Hugging Face checkpoint of each maps onto
// a GGUF architecture, its metadata keys and its tensors.
//
// Usage:
//   const ConvertFamily* fam = find_family(config);        // by architectures[0], then model_type
//   if (fam == nullptr) return unsupported(...);
//   PLM_RETURN_IF_ERROR(check_family_config(*fam, config));
//   PLM_RETURN_IF_ERROR(write_model_metadata(*fam, config, file_type, writer));
//
// A family is data, like an ArchDesc in the model layer: the flags below say what differs, and
// one planner (tensor_plan.h) and one metadata writer read them. Keys and tensor names are
// llama.cpp's, so the files load there too.
//
// Families and what they become:
//   llama      LlamaForCausalLM       -> llama  (Llama 2/3.x, SmolLM; llama3 RoPE as rope_freqs)
//   mistral    MistralForCausalLM     -> llama  (+ llama.attention.sliding_window)
//   qwen2      Qwen2ForCausalLM       -> qwen2  (q/k/v biases)
//   qwen3      Qwen3ForCausalLM       -> qwen3  (per-head q/k RMSNorm)
//   phi3       Phi3ForCausalLM        -> phi3   (fused qkv and gate+up; LongRoPE factor tensors)
//   mobilellm  MobileLLMForCausalLM   -> llama  (+ llama.block_repeat_count for layer sharing)
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.h"
#include "format/gguf_writer.h"
#include "toolkit/convert/hf_config.h"

namespace pocketlm::convert {

// The metadata key that carries MobileLLM's immediate block-wise weight sharing: each stored
// block runs this many times in a row (absent means once). block_count stays the number of
// stored blocks, so a runtime that ignores the key still loads the file.
inline constexpr const char* kBlockRepeatCountKey = "block_repeat_count";

enum class MetadataStyle : uint8_t {
  kGeneric,  // the keys every transformer shares, as llama.cpp's converter writes them
  kPhi3,     // Phi-3's own set (original context length, rope dims from partial rotary, ...)
};

enum class SlidingWindowKey : uint8_t {
  kNever,    // the family has no sliding window (or it is rejected by check_family_config)
  kWhenSet,  // written when config.json sets one (Mistral)
  kAlways,   // always written, 0 for none (Phi-3, as llama.cpp's converter does)
};

struct ConvertFamily {
  std::string_view name;
  const char* const* hf_architectures;  // nullptr-terminated
  const char* const* model_types;       // nullptr-terminated
  std::string_view gguf_arch;
  MetadataStyle style = MetadataStyle::kGeneric;

  // Weights. q/k rows are reordered so each RoPE pair is adjacent when the GGUF architecture
  // rotates adjacent pairs (llama) while transformers rotates the two halves of each head.
  bool permute_qk = false;
  bool qkv_bias = false;                // q/k/v biases are part of the architecture (Qwen2)
  bool qk_norm = false;                 // q_norm / k_norm weights (Qwen3)
  bool fused_qkv = false;               // one qkv_proj (Phi-3), kept fused as attn_qkv
  bool fused_gate_up = false;           // one gate_up_proj (Phi-3), kept fused as ffn_up
  bool block_sharing = false;           // MobileLLM's layer_sharing
  bool attention_bias_allowed = false;  // config "attention_bias": biases on q/k/v/o

  // Metadata.
  bool write_vocab_size_and_rope_dim = false;  // {arch}.vocab_size and {arch}.rope.dimension_count
  bool head_dim_in_config_class = false;       // the transformers config always carries head_dim
  SlidingWindowKey sliding_window = SlidingWindowKey::kNever;
  const char* const* rope_types;  // accepted rope types, nullptr-terminated

  // Defaults of the family's transformers config class, for keys config.json may omit.
  double default_rms_norm_eps = 1e-6;
  double default_rope_theta = 10000.0;
  int64_t default_max_position_embeddings = 2048;
};

// The family of a config: architectures[0] decides; model_type is used when there is none.
// nullptr when pocketlm does not know it.
const ConvertFamily* find_family(const HfConfig& config);
// "LlamaForCausalLM, MistralForCausalLM, ..." for the unknown-architecture message.
std::string supported_architectures();

// Rejects settings the family's GGUF form cannot express (an unsupported RoPE type, Qwen2's
// optional sliding window, partial rotary outside Phi-3, biases on the MLP, ...).
Status check_family_config(const ConvertFamily& fam, const HfConfig& config);

// True when the output projection shares the token embedding (no output.weight is written).
bool ties_embeddings(const ConvertFamily& fam, const HfConfig& config);
// Rotary dimensions per head (Phi-3's partial rotary factor applied).
int64_t rope_dims(const ConvertFamily& fam, const HfConfig& config);

// Writes the architecture's hyper-parameters (block count, sizes, RoPE, norms, windows, ...)
// and general.file_type. `file_type` is llama.cpp's LLAMA_FTYPE value for the output type.
Status write_model_metadata(const ConvertFamily& fam, const HfConfig& config, uint32_t file_type,
                            GgufWriter& w);

// The LongRoPE attention scale that transformers applies to cos/sin: attention_factor when the
// config gives it, else sqrt(1 + ln(s) / ln(original context)) with s the scaling factor (or
// max/original positions), and 1 when s <= 1.
double longrope_attn_factor(const HfConfig& config);
// The original context length LongRoPE and yarn are defined against.
int64_t original_context_length(const ConvertFamily& fam, const HfConfig& config);

}  // namespace pocketlm::convert
