#include "toolkit/convert/families.h"

#include <cmath>
#include <string>

namespace pocketlm::convert {
namespace {

constexpr const char* kLlamaArchs[] = {"LlamaForCausalLM", "LLaMAForCausalLM", nullptr};
constexpr const char* kLlamaTypes[] = {"llama", nullptr};
constexpr const char* kMistralArchs[] = {"MistralForCausalLM", nullptr};
constexpr const char* kMistralTypes[] = {"mistral", nullptr};
constexpr const char* kQwen2Archs[] = {"Qwen2ForCausalLM", nullptr};
constexpr const char* kQwen2Types[] = {"qwen2", nullptr};
constexpr const char* kQwen3Archs[] = {"Qwen3ForCausalLM", nullptr};
constexpr const char* kQwen3Types[] = {"qwen3", nullptr};
constexpr const char* kPhi3Archs[] = {"Phi3ForCausalLM", nullptr};
constexpr const char* kPhi3Types[] = {"phi3", nullptr};
constexpr const char* kMobileLlmArchs[] = {"MobileLLMForCausalLM", nullptr};
constexpr const char* kMobileLlmTypes[] = {"mobilellm", nullptr};

// llama3 scaling becomes the rope_freqs tensor; linear and yarn become rope.scaling.* keys.
constexpr const char* kLlamaRopes[] = {"default", "linear", "yarn", "llama3", nullptr};
constexpr const char* kQwenRopes[] = {"default", "linear", "yarn", nullptr};
constexpr const char* kPhi3Ropes[] = {"default", "longrope", nullptr};

const ConvertFamily kFamilies[] = {
    {.name = "llama",
     .hf_architectures = kLlamaArchs,
     .model_types = kLlamaTypes,
     .gguf_arch = "llama",
     .permute_qk = true,
     .attention_bias_allowed = true,
     .write_vocab_size_and_rope_dim = true,
     .head_dim_in_config_class = true,
     .rope_types = kLlamaRopes,
     .default_rms_norm_eps = 1e-6,
     .default_max_position_embeddings = 2048},
    {.name = "mistral",
     .hf_architectures = kMistralArchs,
     .model_types = kMistralTypes,
     .gguf_arch = "llama",
     .permute_qk = true,
     .attention_bias_allowed = true,
     .write_vocab_size_and_rope_dim = true,
     .head_dim_in_config_class = true,
     .sliding_window = SlidingWindowKey::kWhenSet,
     .rope_types = kLlamaRopes,
     .default_rms_norm_eps = 1e-6,
     .default_max_position_embeddings = 4096 * 32},
    {.name = "qwen2",
     .hf_architectures = kQwen2Archs,
     .model_types = kQwen2Types,
     .gguf_arch = "qwen2",
     .qkv_bias = true,
     .rope_types = kQwenRopes,
     .default_rms_norm_eps = 1e-6,
     .default_max_position_embeddings = 32768},
    {.name = "qwen3",
     .hf_architectures = kQwen3Archs,
     .model_types = kQwen3Types,
     .gguf_arch = "qwen3",
     .qk_norm = true,
     .head_dim_in_config_class = true,
     .rope_types = kQwenRopes,
     .default_rms_norm_eps = 1e-6,
     .default_max_position_embeddings = 32768},
    {.name = "phi3",
     .hf_architectures = kPhi3Archs,
     .model_types = kPhi3Types,
     .gguf_arch = "phi3",
     .style = MetadataStyle::kPhi3,
     .fused_qkv = true,
     .fused_gate_up = true,
     .sliding_window = SlidingWindowKey::kAlways,
     .rope_types = kPhi3Ropes,
     .default_rms_norm_eps = 1e-5,
     .default_max_position_embeddings = 4096},
    {.name = "mobilellm",
     .hf_architectures = kMobileLlmArchs,
     .model_types = kMobileLlmTypes,
     .gguf_arch = "llama",
     .permute_qk = true,
     .block_sharing = true,
     .write_vocab_size_and_rope_dim = true,
     .head_dim_in_config_class = true,
     .rope_types = kLlamaRopes,
     .default_rms_norm_eps = 1e-5,
     .default_max_position_embeddings = 2048},
};

bool listed(const char* const* list, std::string_view s) {
  for (; *list != nullptr; ++list) {
    if (s == *list) return true;
  }
  return false;
}

std::string key(const ConvertFamily& fam, const char* suffix) {
  return std::string(fam.gguf_arch) + "." + suffix;
}

// GGUF counts are u32; the config parser already bounded them to 2^40, so the check here is
// for the range u32 can hold.
Status set_u32(GgufWriter& w, std::string k, int64_t v) {
  if (v < 0 || v > 0xffffffffll) {
    return malformed(
        strfmt("%s = %lld does not fit a GGUF u32", k.c_str(), static_cast<long long>(v)));
  }
  return w.set(std::move(k), GgufValue::u32(static_cast<uint32_t>(v)));
}

Status set_f32(GgufWriter& w, std::string k, double v) {
  return w.set(std::move(k), GgufValue::f32(static_cast<float>(v)));
}

double rms_eps(const ConvertFamily& fam, const HfConfig& c) {
  return c.rms_norm_eps.value_or(fam.default_rms_norm_eps);
}
double rope_theta(const ConvertFamily& fam, const HfConfig& c) {
  return c.rope.theta.value_or(fam.default_rope_theta);
}
int64_t max_positions(const ConvertFamily& fam, const HfConfig& c) {
  return c.max_position_embeddings.value_or(fam.default_max_position_embeddings);
}

Status write_generic(const ConvertFamily& fam, const HfConfig& c, uint32_t file_type,
                     GgufWriter& w) {
  PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "block_count"), c.num_hidden_layers));
  PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "context_length"), max_positions(fam, c)));
  PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "embedding_length"), c.hidden_size));
  PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "feed_forward_length"), c.intermediate_size));
  PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "attention.head_count"), c.num_attention_heads));
  PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "attention.head_count_kv"), c.n_head_kv()));
  // llama3 scaling is carried by the rope_freqs tensor alone, as llama.cpp's converter does.
  if (c.rope.type == "linear") {
    PLM_RETURN_IF_ERROR(w.set(key(fam, "rope.scaling.type"), GgufValue::string("linear")));
    PLM_RETURN_IF_ERROR(set_f32(w, key(fam, "rope.scaling.factor"), *c.rope.factor));
  } else if (c.rope.type == "yarn") {
    PLM_RETURN_IF_ERROR(w.set(key(fam, "rope.scaling.type"), GgufValue::string("yarn")));
    PLM_RETURN_IF_ERROR(set_f32(w, key(fam, "rope.scaling.factor"), *c.rope.factor));
    PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "rope.scaling.original_context_length"),
                                original_context_length(fam, c)));
    if (c.rope.attention_factor) {
      PLM_RETURN_IF_ERROR(
          set_f32(w, key(fam, "rope.scaling.yarn_attn_factor"), *c.rope.attention_factor));
    }
    if (c.rope.beta_fast) {
      PLM_RETURN_IF_ERROR(set_f32(w, key(fam, "rope.scaling.yarn_beta_fast"), *c.rope.beta_fast));
    }
    if (c.rope.beta_slow) {
      PLM_RETURN_IF_ERROR(set_f32(w, key(fam, "rope.scaling.yarn_beta_slow"), *c.rope.beta_slow));
    }
  }
  PLM_RETURN_IF_ERROR(set_f32(w, key(fam, "rope.freq_base"), rope_theta(fam, c)));
  PLM_RETURN_IF_ERROR(set_f32(w, key(fam, "attention.layer_norm_rms_epsilon"), rms_eps(fam, c)));
  if (fam.head_dim_in_config_class || c.head_dim_explicit) {
    PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "attention.key_length"), c.head_dim()));
    PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "attention.value_length"), c.head_dim()));
  }
  PLM_RETURN_IF_ERROR(w.set("general.file_type", GgufValue::u32(file_type)));
  if (fam.write_vocab_size_and_rope_dim) {
    PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "vocab_size"), c.vocab_size));
    PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "rope.dimension_count"), c.head_dim()));
  }
  if (fam.sliding_window == SlidingWindowKey::kWhenSet && c.sliding_window.value_or(0) > 0) {
    PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "attention.sliding_window"), *c.sliding_window));
  }
  if (fam.block_sharing && c.layer_sharing) {
    // The paper's immediate block-wise sharing runs each block twice in a row.
    PLM_RETURN_IF_ERROR(set_u32(w, key(fam, kBlockRepeatCountKey), 2));
  }
  return Status();
}

Status write_phi3(const ConvertFamily& fam, const HfConfig& c, uint32_t file_type, GgufWriter& w) {
  PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "context_length"), max_positions(fam, c)));
  PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "rope.scaling.original_context_length"),
                              original_context_length(fam, c)));
  PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "embedding_length"), c.hidden_size));
  PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "feed_forward_length"), c.intermediate_size));
  PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "block_count"), c.num_hidden_layers));
  PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "attention.head_count"), c.num_attention_heads));
  PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "attention.head_count_kv"), c.n_head_kv()));
  PLM_RETURN_IF_ERROR(set_f32(w, key(fam, "attention.layer_norm_rms_epsilon"), rms_eps(fam, c)));
  PLM_RETURN_IF_ERROR(set_u32(w, key(fam, "rope.dimension_count"), rope_dims(fam, c)));
  PLM_RETURN_IF_ERROR(set_f32(w, key(fam, "rope.freq_base"), rope_theta(fam, c)));
  PLM_RETURN_IF_ERROR(w.set("general.file_type", GgufValue::u32(file_type)));
  PLM_RETURN_IF_ERROR(
      set_u32(w, key(fam, "attention.sliding_window"), c.sliding_window.value_or(0)));
  if (c.rope.type == "longrope") {
    PLM_RETURN_IF_ERROR(set_f32(w, key(fam, "rope.scaling.attn_factor"), longrope_attn_factor(c)));
  }
  return Status();
}

}  // namespace

const ConvertFamily* find_family(const HfConfig& config) {
  if (!config.architecture.empty()) {
    for (const ConvertFamily& f : kFamilies) {
      if (listed(f.hf_architectures, config.architecture)) return &f;
    }
    return nullptr;
  }
  for (const ConvertFamily& f : kFamilies) {
    if (listed(f.model_types, config.model_type)) return &f;
  }
  return nullptr;
}

std::string supported_architectures() {
  std::string s;
  for (const ConvertFamily& f : kFamilies) {
    for (const char* const* a = f.hf_architectures; *a != nullptr; ++a) {
      if (!s.empty()) s += ", ";
      s += *a;
    }
  }
  return s;
}

bool ties_embeddings(const ConvertFamily& fam, const HfConfig& c) {
  if (fam.block_sharing && c.share_embedding) return *c.share_embedding;
  return c.tie_word_embeddings.value_or(false);
}

int64_t rope_dims(const ConvertFamily& fam, const HfConfig& c) {
  if (fam.style != MetadataStyle::kPhi3) return c.head_dim();
  // Phi-3 counts rotary dimensions from the whole embedding, as its converter does.
  const double partial = c.rope.partial_rotary_factor.value_or(1.0);
  return static_cast<int64_t>(partial * static_cast<double>(c.hidden_size)) / c.num_attention_heads;
}

int64_t original_context_length(const ConvertFamily& fam, const HfConfig& c) {
  if (c.rope.original_max_position_embeddings) return *c.rope.original_max_position_embeddings;
  if (c.original_max_position_embeddings) return *c.original_max_position_embeddings;
  return max_positions(fam, c);
}

double longrope_attn_factor(const HfConfig& c) {
  if (c.rope.attention_factor) return *c.rope.attention_factor;
  const double orig = static_cast<double>(c.rope.original_max_position_embeddings.value_or(
      c.original_max_position_embeddings.value_or(c.max_position_embeddings.value_or(1))));
  const double scale = c.rope.factor.value_or(
      static_cast<double>(c.max_position_embeddings.value_or(static_cast<int64_t>(orig))) / orig);
  if (scale <= 1.0) return 1.0;
  return std::sqrt(1.0 + std::log(scale) / std::log(orig));
}

Status check_family_config(const ConvertFamily& fam, const HfConfig& c) {
  const std::string& src = c.source;
  const std::string fam_name(fam.name);
  if (c.hidden_act != "silu") {
    return unsupported(src + ": hidden_act '" + c.hidden_act + "' is not supported for " +
                       fam_name + " (expected silu)");
  }
  if (c.mlp_bias) return unsupported(src + ": MLP biases (mlp_bias) are not supported");
  if (c.attention_bias && !fam.attention_bias_allowed) {
    return unsupported(src + ": attention_bias is not supported for " + fam_name);
  }
  if (!listed(fam.rope_types, c.rope.type)) {
    return unsupported(src + ": RoPE type '" + c.rope.type + "' is not supported for " + fam_name);
  }
  if (c.use_sliding_window.value_or(false)) {
    return unsupported(src +
                       ": sliding-window attention (use_sliding_window) is not supported "
                       "for " +
                       fam_name);
  }
  if (fam.style != MetadataStyle::kPhi3 && c.rope.partial_rotary_factor &&
      *c.rope.partial_rotary_factor != 1.0) {
    return unsupported(src + ": partial_rotary_factor is not supported for " + fam_name);
  }
  const int64_t n_rot = rope_dims(fam, c);
  if (n_rot <= 0 || n_rot % 2 != 0 || n_rot > c.head_dim()) {
    return malformed(strfmt("%s: %lld rotary dimensions per head do not fit a head of %lld",
                            src.c_str(), static_cast<long long>(n_rot),
                            static_cast<long long>(c.head_dim())));
  }
  if ((c.rope.type == "linear" || c.rope.type == "yarn") && !(c.rope.factor.value_or(0.0) > 0.0)) {
    return malformed(src + ": RoPE type '" + c.rope.type + "' needs a positive factor");
  }
  if (c.rope.type == "llama3") {
    const double factor = c.rope.factor.value_or(8.0);
    const double lo = c.rope.low_freq_factor.value_or(1.0);
    const double hi = c.rope.high_freq_factor.value_or(4.0);
    if (!(factor > 0.0) || !(lo > 0.0) || !(hi > 0.0)) {
      return malformed(src + ": llama3 RoPE factors must be positive");
    }
  }
  if (c.rope.type == "longrope") {
    const size_t half = static_cast<size_t>(n_rot / 2);
    if (c.rope.long_factor.size() != half || c.rope.short_factor.size() != half) {
      return malformed(
          strfmt("%s: LongRoPE needs long_factor and short_factor of %zu entries "
                 "(rotary dimensions / 2), found %zu and %zu",
                 src.c_str(), half, c.rope.long_factor.size(), c.rope.short_factor.size()));
    }
    for (const std::vector<double>* v : {&c.rope.long_factor, &c.rope.short_factor}) {
      for (double x : *v) {
        if (!(x > 0.0)) return malformed(src + ": LongRoPE factors must be positive");
      }
    }
    if (original_context_length(fam, c) < 2) {
      return malformed(src + ": LongRoPE needs original_max_position_embeddings >= 2");
    }
  }
  if (fam.block_sharing && c.layer_sharing && c.num_hidden_layers * 2 > 0xffffffffll) {
    return malformed(src + ": too many layers");
  }
  return Status();
}

Status write_model_metadata(const ConvertFamily& fam, const HfConfig& config, uint32_t file_type,
                            GgufWriter& w) {
  if (fam.style == MetadataStyle::kPhi3) return write_phi3(fam, config, file_type, w);
  return write_generic(fam, config, file_type, w);
}

}  // namespace pocketlm::convert
