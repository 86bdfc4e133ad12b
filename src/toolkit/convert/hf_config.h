// HfConfig: the parts of a Hugging Face config.json that conversion needs, with the spellings of
// transformers 4.x and 5.x folded into one shape.
//
// Usage:
//   Result<HfConfig> c = HfConfig::parse(json_text, "hf/llama/config.json");
//   if (!c.ok()) return c.status();
//   int64_t head_dim = c->head_dim();
//   if (c->rope.type == "llama3") ...
//
// transformers 4.x writes "rope_theta" at the top level and scaling as "rope_scaling"
// ({"rope_type" or the older "type", "factor", ...}, or null); 5.x writes one "rope_parameters"
// object holding "rope_theta" and "rope_type" (with "default" for no scaling), and may nest it
// per attention kind ({"full_attention": {...}, "sliding_attention": {...}}). Both become
// RopeParams. Keys that a model's config class always writes are required; keys that only
// describe defaults fall back to the defaults of the transformers class of that model family.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace pocketlm::convert {

struct RopeParams {
  std::string type = "default";  // "default", "linear", "yarn", "llama3", "longrope", "dynamic"
  std::optional<double> theta;
  std::optional<double> factor;
  std::optional<double> low_freq_factor;   // llama3
  std::optional<double> high_freq_factor;  // llama3
  std::optional<int64_t> original_max_position_embeddings;
  std::optional<double> attention_factor;  // longrope, yarn
  std::optional<double> beta_fast;         // yarn
  std::optional<double> beta_slow;         // yarn
  std::vector<double> long_factor;         // longrope
  std::vector<double> short_factor;        // longrope
  std::optional<double> partial_rotary_factor;
};

struct HfConfig {
  std::string source;        // the file, for messages
  std::string architecture;  // architectures[0] ("" when the file has none)
  std::string model_type;

  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  std::optional<int64_t> num_key_value_heads;
  std::optional<int64_t> head_dim_explicit;  // "head_dim" when the file has it
  std::optional<int64_t> max_position_embeddings;
  std::optional<int64_t> original_max_position_embeddings;  // top level (Phi-3 4.x)
  std::optional<double> rms_norm_eps;
  std::optional<bool> tie_word_embeddings;
  std::optional<int64_t> sliding_window;   // null and absent are both "none"
  std::optional<bool> use_sliding_window;  // Qwen2: the window applies only when true
  std::string hidden_act = "silu";
  bool attention_bias = false;
  bool mlp_bias = false;
  RopeParams rope;

  // MobileLLM (remote-code configs): input/output embedding sharing and immediate block-wise
  // weight sharing.
  std::optional<bool> share_embedding;
  bool layer_sharing = false;

  // Token ids the model's config names (integers only; lists are ignored, as by the reference
  // converter).
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> eos_token_id;
  std::optional<int64_t> pad_token_id;

  static Result<HfConfig> parse(std::string_view text, const std::string& source);

  int64_t n_head_kv() const { return num_key_value_heads.value_or(num_attention_heads); }
  int64_t head_dim() const {
    return head_dim_explicit.value_or(num_attention_heads > 0 ? hidden_size / num_attention_heads
                                                              : 0);
  }
};

}  // namespace pocketlm::convert
