// config.json reading (transformers 4.x and 5.x spellings), family lookup and the metadata each
// family writes.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>

#include "format/gguf_writer.h"
#include "toolkit/convert/families.h"
#include "toolkit/convert/hf_config.h"
#include "toolkit/convert/tensor_plan.h"

namespace pocketlm::convert {
namespace {

HfConfig parse(const std::string& text) {
  Result<HfConfig> c = HfConfig::parse(text, "config.json");
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : HfConfig();
}

const std::string kSizes =
    R"("vocab_size": 256, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
       "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 131072,
       "rms_norm_eps": 1e-05, "tie_word_embeddings": true)";

// Llama 3.2 as transformers 4.x writes it, and as 5.x writes it.
const std::string kLlama4x = R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", )" +
                             kSizes + R"(, "rope_theta": 500000.0, "rope_scaling": {
    "factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
    "original_max_position_embeddings": 8192, "rope_type": "llama3"}})";
const std::string kLlama5x = R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", )" +
                             kSizes + R"(, "rope_parameters": {"rope_theta": 500000.0,
    "factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
    "original_max_position_embeddings": 8192, "rope_type": "llama3"}})";

std::vector<GgufKv> metadata_of(const HfConfig& c) {
  const ConvertFamily* fam = find_family(c);
  EXPECT_NE(fam, nullptr);
  if (fam == nullptr) return {};
  EXPECT_TRUE(check_family_config(*fam, c).ok());
  GgufWriter w;
  EXPECT_TRUE(write_model_metadata(*fam, c, 1, w).ok());
  return w.metadata();
}

const GgufValue* find(const std::vector<GgufKv>& kvs, const std::string& key) {
  for (const GgufKv& kv : kvs) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

TEST(HfConfig, Transformers4And5SpellingsAgree) {
  HfConfig a = parse(kLlama4x);
  HfConfig b = parse(kLlama5x);
  for (const HfConfig* c : {&a, &b}) {
    EXPECT_EQ(c->architecture, "LlamaForCausalLM");
    EXPECT_EQ(c->rope.type, "llama3");
    EXPECT_EQ(*c->rope.theta, 500000.0);
    EXPECT_EQ(*c->rope.factor, 32.0);
    EXPECT_EQ(*c->rope.original_max_position_embeddings, 8192);
    EXPECT_EQ(c->head_dim(), 16);
    EXPECT_EQ(c->n_head_kv(), 2);
  }
  std::vector<GgufKv> ma = metadata_of(a), mb = metadata_of(b);
  ASSERT_EQ(ma.size(), mb.size());
  for (size_t i = 0; i < ma.size(); ++i) {
    EXPECT_EQ(ma[i].key, mb[i].key);
    EXPECT_TRUE(ma[i].value == mb[i].value) << ma[i].key;
  }
  EXPECT_EQ(llama3_rope_factors(a, 16), llama3_rope_factors(b, 16));
}

TEST(HfConfig, LlamaMetadataKeys) {
  std::vector<GgufKv> m = metadata_of(parse(kLlama4x));
  EXPECT_EQ(*find(m, "llama.block_count")->as_uint(), 2u);
  EXPECT_EQ(*find(m, "llama.context_length")->as_uint(), 131072u);
  EXPECT_EQ(*find(m, "llama.embedding_length")->as_uint(), 64u);
  EXPECT_EQ(*find(m, "llama.feed_forward_length")->as_uint(), 128u);
  EXPECT_EQ(*find(m, "llama.attention.head_count")->as_uint(), 4u);
  EXPECT_EQ(*find(m, "llama.attention.head_count_kv")->as_uint(), 2u);
  EXPECT_EQ(*find(m, "llama.rope.freq_base")->as_float(), 500000.0);
  EXPECT_EQ(find(m, "llama.attention.layer_norm_rms_epsilon")->type(), GgufValueType::kFloat32);
  EXPECT_EQ(*find(m, "llama.attention.layer_norm_rms_epsilon")->as_float(),
            static_cast<double>(1e-5f));
  EXPECT_EQ(*find(m, "llama.attention.key_length")->as_uint(), 16u);
  EXPECT_EQ(*find(m, "llama.vocab_size")->as_uint(), 256u);
  EXPECT_EQ(*find(m, "llama.rope.dimension_count")->as_uint(), 16u);
  EXPECT_EQ(*find(m, "general.file_type")->as_uint(), 1u);
  // llama3 scaling travels as the rope_freqs tensor, not as keys.
  EXPECT_EQ(find(m, "llama.rope.scaling.type"), nullptr);
  EXPECT_EQ(find(m, "llama.attention.sliding_window"), nullptr);
}

TEST(HfConfig, Llama3RopeFactorsFollowTheWavelengthBands) {
  HfConfig c = parse(kLlama4x);
  // theta 500000, head 16: wavelengths 6.3, 32, 167, 860 (< 2048: factor 1), 4437 (blend),
  // 23000 and beyond (> 8192: factor 32).
  std::vector<float> f = llama3_rope_factors(c, 16);
  ASSERT_EQ(f.size(), 8u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(f[i], 1.0f) << i;
  for (int i = 5; i < 8; ++i) EXPECT_EQ(f[i], 32.0f) << i;
  const double wavelen = 2 * std::numbers::pi * std::pow(500000.0, 8.0 / 16.0);
  const double smooth = (8192.0 / wavelen - 1.0) / 3.0;
  EXPECT_FLOAT_EQ(f[4], static_cast<float>(1.0 / ((1 - smooth) / 32.0 + smooth)));
}

TEST(HfConfig, DefaultsOfTheFamilyWhenKeysAreAbsent) {
  HfConfig c = parse(R"({"architectures": ["Phi3ForCausalLM"], "vocab_size": 100,
      "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
      "num_attention_heads": 4, "rope_scaling": null})");
  std::vector<GgufKv> m = metadata_of(c);
  EXPECT_EQ(*find(m, "phi3.attention.head_count_kv")->as_uint(), 4u);
  EXPECT_EQ(*find(m, "phi3.context_length")->as_uint(), 4096u);
  EXPECT_EQ(*find(m, "phi3.rope.scaling.original_context_length")->as_uint(), 4096u);
  EXPECT_EQ(*find(m, "phi3.rope.freq_base")->as_float(), 10000.0);
  EXPECT_EQ(*find(m, "phi3.attention.layer_norm_rms_epsilon")->as_float(),
            static_cast<double>(1e-5f));
  EXPECT_EQ(*find(m, "phi3.attention.sliding_window")->as_uint(), 0u);
  EXPECT_EQ(*find(m, "phi3.rope.dimension_count")->as_uint(), 8u);
  EXPECT_EQ(find(m, "phi3.rope.scaling.attn_factor"), nullptr);
  EXPECT_EQ(find(m, "phi3.vocab_size"), nullptr);
}

TEST(HfConfig, Phi3LongRopeBothSpellings) {
  const std::string sizes =
      R"("vocab_size": 100, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
         "num_attention_heads": 4, "max_position_embeddings": 131072)";
  const std::string f = R"("long_factor": [1, 2, 3, 4], "short_factor": [1, 1, 1, 1])";
  HfConfig v4 = parse(R"({"architectures": ["Phi3ForCausalLM"], )" + sizes +
                      R"(, "original_max_position_embeddings": 4096, "rope_theta": 10000.0,
                         "rope_scaling": {"type": "su", )" +
                      f + "}}");
  HfConfig v5 = parse(R"({"architectures": ["Phi3ForCausalLM"], )" + sizes +
                      R"(, "rope_parameters": {"rope_type": "longrope", "rope_theta": 10000.0,
                         "original_max_position_embeddings": 4096, "partial_rotary_factor": 1.0, )" +
                      f + "}}");
  for (const HfConfig* c : {&v4, &v5}) {
    EXPECT_EQ(c->rope.type, "longrope");
    std::vector<GgufKv> m = metadata_of(*c);
    EXPECT_EQ(*find(m, "phi3.rope.scaling.original_context_length")->as_uint(), 4096u);
    EXPECT_EQ(*find(m, "phi3.context_length")->as_uint(), 131072u);
    // sqrt(1 + ln(32) / ln(4096)), as transformers scales cos/sin.
    EXPECT_FLOAT_EQ(static_cast<float>(*find(m, "phi3.rope.scaling.attn_factor")->as_float()),
                    static_cast<float>(std::sqrt(1 + std::log(32.0) / std::log(4096.0))));
  }
}

TEST(HfConfig, FamiliesByArchitectureAndModelType) {
  auto fam_of = [](const std::string& extra) {
    Result<HfConfig> c = HfConfig::parse(
        R"({"vocab_size": 8, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1,
            "num_attention_heads": 2, )" +
            extra + "}",
        "config.json");
    EXPECT_TRUE(c.ok()) << c.status().message();
    const ConvertFamily* f = c.ok() ? find_family(*c) : nullptr;
    return f == nullptr ? std::string("none") : std::string(f->name);
  };
  EXPECT_EQ(fam_of(R"("architectures": ["LlamaForCausalLM"])"), "llama");
  EXPECT_EQ(fam_of(R"("architectures": ["MistralForCausalLM"])"), "mistral");
  EXPECT_EQ(fam_of(R"("architectures": ["Qwen2ForCausalLM"])"), "qwen2");
  EXPECT_EQ(fam_of(R"("architectures": ["Qwen3ForCausalLM"])"), "qwen3");
  EXPECT_EQ(fam_of(R"("architectures": ["Phi3ForCausalLM"])"), "phi3");
  EXPECT_EQ(fam_of(R"("architectures": ["MobileLLMForCausalLM"])"), "mobilellm");
  EXPECT_EQ(fam_of(R"("model_type": "qwen3")"), "qwen3");
  EXPECT_EQ(fam_of(R"("architectures": ["GPT2LMHeadModel"], "model_type": "llama")"), "none");
  EXPECT_EQ(fam_of(R"("model_type": "gemma3")"), "none");
  EXPECT_NE(supported_architectures().find("Phi3ForCausalLM"), std::string::npos);
}

TEST(HfConfig, SettingsAFamilyCannotExpressAreRefused) {
  auto check = [](const std::string& arch, const std::string& extra) {
    Result<HfConfig> c = HfConfig::parse(R"({"architectures": [")" + arch +
                                             R"("], "vocab_size": 8, "hidden_size": 32,
            "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2)" +
                                             extra + "}",
                                         "config.json");
    EXPECT_TRUE(c.ok()) << c.status().message();
    return check_family_config(*find_family(*c), *c);
  };
  EXPECT_TRUE(check("LlamaForCausalLM", "").ok());
  EXPECT_EQ(check("LlamaForCausalLM", R"(, "hidden_act": "gelu")").code(),
            StatusCode::kUnsupported);
  EXPECT_EQ(check("LlamaForCausalLM", R"(, "rope_scaling": {"rope_type": "dynamic", "factor": 2})")
                .code(),
            StatusCode::kUnsupported);
  EXPECT_EQ(check("LlamaForCausalLM", R"(, "rope_scaling": {"rope_type": "linear"})").code(),
            StatusCode::kMalformedFile);
  EXPECT_EQ(
      check("Qwen2ForCausalLM", R"(, "use_sliding_window": true, "sliding_window": 8)").code(),
      StatusCode::kUnsupported);
  EXPECT_EQ(check("Qwen3ForCausalLM", R"(, "attention_bias": true)").code(),
            StatusCode::kUnsupported);
  EXPECT_EQ(check("LlamaForCausalLM", R"(, "mlp_bias": true)").code(), StatusCode::kUnsupported);
  EXPECT_EQ(check("Phi3ForCausalLM", R"(, "rope_scaling": {"type": "longrope",
                  "long_factor": [1, 2], "short_factor": [1, 1]})")
                .code(),
            StatusCode::kMalformedFile);
  EXPECT_EQ(check("LlamaForCausalLM", R"(, "partial_rotary_factor": 0.5)").code(),
            StatusCode::kUnsupported);
}

TEST(HfConfig, MalformedConfigs) {
  auto err = [](const std::string& text) {
    Result<HfConfig> c = HfConfig::parse(text, "config.json");
    EXPECT_FALSE(c.ok()) << text;
    return c.ok() ? std::string() : c.status().message();
  };
  EXPECT_NE(err("[1]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(err(R"({"hidden_size": 8})").find("missing \"vocab_size\""), std::string::npos);
  EXPECT_NE(err(R"({"vocab_size": -1})").find("positive integer"), std::string::npos);
  EXPECT_NE(err(R"({"vocab_size": 8, "hidden_size": 8, "intermediate_size": 8,
                    "num_hidden_layers": 1, "num_attention_heads": 3})")
                .find("not a multiple"),
            std::string::npos);
  EXPECT_NE(err(R"({"vocab_size": 8, "hidden_size": 8, "intermediate_size": 8,
                    "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 3})")
                .find("key/value heads"),
            std::string::npos);
  EXPECT_NE(err(R"({"vocab_size": 8, "hidden_size": 8, "intermediate_size": 8,
                    "num_hidden_layers": 1, "num_attention_heads": 2, "rope_theta": "x"})")
                .find("rope_theta"),
            std::string::npos);
  EXPECT_NE(err(R"({"vocab_size": 8, "hidden_size": 8, "intermediate_size": 8,
                    "num_hidden_layers": 1, "num_attention_heads": 2, "rope_scaling": 3})")
                .find("rope_scaling"),
            std::string::npos);
  EXPECT_NE(err(R"({"vocab_size": 8, "hidden_size": 8, "intermediate_size": 8,
                    "num_hidden_layers": 1, "num_attention_heads": 8})")
                .find("odd"),
            std::string::npos);
}

TEST(HfConfig, Llama31EosListIsSkipped) {
  HfConfig c = parse(R"({"vocab_size": 8, "hidden_size": 8, "intermediate_size": 8,
      "num_hidden_layers": 1, "num_attention_heads": 2, "bos_token_id": 1,
      "eos_token_id": [2, 3]})");
  EXPECT_EQ(*c.bos_token_id, 1);
  EXPECT_FALSE(c.eos_token_id);
}

}  // namespace
}  // namespace pocketlm::convert
