#include "toolkit/convert/tensor_plan.h"

#include <cmath>
#include <numbers>
#include <unordered_set>

namespace pocketlm::convert {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Builds the plan, remembering which checkpoint tensors were used.
class Planner {
 public:
  Planner(const SafetensorsCheckpoint& ck, TensorType out_type, TensorPlan& plan)
      : ck_(ck), out_type_(out_type), plan_(plan) {}

  // `shape` is the checkpoint's (outermost first); GGUF lists the same dimensions reversed.
  Status take(const std::string& hf_name, std::string gguf_name, std::vector<int64_t> shape,
              bool required, int64_t permute_heads = 0) {
    const SafetensorsTensor* t = ck_.find(hf_name);
    if (t == nullptr) {
      if (!required) return Status();
      return malformed("checkpoint: missing tensor '" + hf_name + "' (expected shape " +
                       shape_text(shape) + ")");
    }
    used_.insert(hf_name);
    if (t->shape != shape) {
      return malformed("checkpoint: tensor '" + hf_name + "' has shape " + shape_text(t->shape) +
                       " where config.json implies " + shape_text(shape));
    }
    if (t->dtype != SafetensorsDtype::kF32 && t->dtype != SafetensorsDtype::kF16 &&
        t->dtype != SafetensorsDtype::kBF16) {
      return unsupported(std::string("checkpoint: tensor '") + hf_name + "' is " +
                         safetensors_dtype_name(t->dtype) + " (only F32, F16 and BF16 convert)");
    }
    PlannedTensor p;
    p.name = std::move(gguf_name);
    p.ne.assign(shape.rbegin(), shape.rend());
    p.type = output_type_for(p.name, p.ne, out_type_);
    if (p.type != out_type_ && out_type_ == TensorType::kQ8_0 && p.ne.size() > 1) {
      fallback_.push_back(p.name);
    }
    p.source = t;
    p.permute_heads = permute_heads;
    plan_.tensors.push_back(std::move(p));
    return Status();
  }

  // Marks a tensor as deliberately not written (a tied output projection).
  void skip(const std::string& hf_name) { used_.insert(hf_name); }

  void generated(std::string name, std::vector<float> values) {
    PlannedTensor p;
    p.name = std::move(name);
    p.ne = {static_cast<int64_t>(values.size())};
    p.type = TensorType::kF32;
    p.values = std::move(values);
    plan_.tensors.push_back(std::move(p));
  }

  // One warning for all the matrices q8_0 could not take.
  void report_fallbacks() {
    if (fallback_.empty()) return;
    plan_.warnings.push_back(
        strfmt("%zu matrices have rows that are not a multiple of 32 (%s%s): "
               "written as f16 instead of q8_0",
               fallback_.size(), fallback_[0].c_str(), fallback_.size() > 1 ? ", ..." : ""));
  }

  Status check_all_used() const {
    for (const SafetensorsTensor* t : ck_.tensors()) {
      if (used_.count(t->name) != 0) continue;
      // Buffers some exporters save beside the weights; no model reads them.
      if (ends_with(t->name, ".rotary_emb.inv_freq") || ends_with(t->name, ".attention.bias") ||
          ends_with(t->name, ".attention.masked_bias")) {
        continue;
      }
      return unsupported("checkpoint: tensor '" + t->name +
                         "' is not part of this architecture (nothing would read it)");
    }
    return Status();
  }

 private:
  const SafetensorsCheckpoint& ck_;
  TensorType out_type_;
  TensorPlan& plan_;
  std::unordered_set<std::string> used_;
  std::vector<std::string> fallback_;
};

}  // namespace

int64_t PlannedTensor::n_rows() const {
  int64_t n = 1;
  for (size_t i = 1; i < ne.size(); ++i) n *= ne[i];
  return n;
}

TensorType output_type_for(const std::string& name, const std::vector<int64_t>& ne,
                           TensorType requested) {
  if (ne.size() <= 1 || ends_with(name, "_norm.weight") || !ends_with(name, ".weight")) {
    return TensorType::kF32;
  }
  if (requested == TensorType::kQ8_0 && ne[0] % 32 != 0) return TensorType::kF16;
  return requested;
}

std::vector<float> llama3_rope_factors(const HfConfig& c, int64_t head_dim) {
  const double base = c.rope.theta.value_or(10000.0);
  const double factor = c.rope.factor.value_or(8.0);
  const double low_freq_factor = c.rope.low_freq_factor.value_or(1.0);
  const double high_freq_factor = c.rope.high_freq_factor.value_or(4.0);
  // transformers reads the original context from the RoPE parameters; a top-level key or
  // Llama 3's 8192 stand in when they lack it.
  const double old_ctx = static_cast<double>(c.rope.original_max_position_embeddings.value_or(
      c.original_max_position_embeddings.value_or(8192)));
  const double low_freq_wavelen = old_ctx / low_freq_factor;
  const double high_freq_wavelen = old_ctx / high_freq_factor;
  std::vector<float> out;
  for (int64_t i = 0; i < head_dim; i += 2) {
    const double freq =
        1.0 / std::pow(base, static_cast<double>(i) / static_cast<double>(head_dim));
    const double wavelen = 2.0 * std::numbers::pi / freq;
    double f;
    if (wavelen < high_freq_wavelen) {
      f = 1.0;
    } else if (wavelen > low_freq_wavelen) {
      f = factor;
    } else {
      const double smooth =
          (old_ctx / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
      f = 1.0 / ((1.0 - smooth) / factor + smooth);
    }
    out.push_back(static_cast<float>(f));
  }
  return out;
}

Result<TensorPlan> plan_tensors(const ConvertFamily& fam, const HfConfig& c,
                                const SafetensorsCheckpoint& ck, TensorType out_type) {
  TensorPlan plan;
  Planner p(ck, out_type, plan);
  const int64_t E = c.hidden_size, V = c.vocab_size, F = c.intermediate_size;
  const int64_t H = c.num_attention_heads, KV = c.n_head_kv(), D = c.head_dim();

  PLM_RETURN_IF_ERROR(p.take("model.embed_tokens.weight", "token_embd.weight", {V, E}, true));
  if (c.rope.type == "llama3") p.generated("rope_freqs.weight", llama3_rope_factors(c, D));
  if (c.rope.type == "longrope") {
    std::vector<float> lf(c.rope.long_factor.begin(), c.rope.long_factor.end());
    std::vector<float> sf(c.rope.short_factor.begin(), c.rope.short_factor.end());
    p.generated("rope_factors_long.weight", std::move(lf));
    p.generated("rope_factors_short.weight", std::move(sf));
  }

  const bool qkv_bias = fam.qkv_bias || c.attention_bias;
  const int64_t q_perm = fam.permute_qk ? H : 0;
  const int64_t k_perm = fam.permute_qk ? KV : 0;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string hf = "model.layers." + std::to_string(i) + ".";
    const std::string gg = "blk." + std::to_string(i) + ".";
    PLM_RETURN_IF_ERROR(p.take(hf + "input_layernorm.weight", gg + "attn_norm.weight", {E}, true));
    if (fam.fused_qkv) {
      PLM_RETURN_IF_ERROR(p.take(hf + "self_attn.qkv_proj.weight", gg + "attn_qkv.weight",
                                 {(H + 2 * KV) * D, E}, true));
    } else {
      PLM_RETURN_IF_ERROR(
          p.take(hf + "self_attn.q_proj.weight", gg + "attn_q.weight", {H * D, E}, true, q_perm));
      PLM_RETURN_IF_ERROR(
          p.take(hf + "self_attn.k_proj.weight", gg + "attn_k.weight", {KV * D, E}, true, k_perm));
      PLM_RETURN_IF_ERROR(
          p.take(hf + "self_attn.v_proj.weight", gg + "attn_v.weight", {KV * D, E}, true));
      if (qkv_bias) {
        PLM_RETURN_IF_ERROR(
            p.take(hf + "self_attn.q_proj.bias", gg + "attn_q.bias", {H * D}, true, q_perm));
        PLM_RETURN_IF_ERROR(
            p.take(hf + "self_attn.k_proj.bias", gg + "attn_k.bias", {KV * D}, true, k_perm));
        PLM_RETURN_IF_ERROR(
            p.take(hf + "self_attn.v_proj.bias", gg + "attn_v.bias", {KV * D}, true));
      }
    }
    if (fam.qk_norm) {
      PLM_RETURN_IF_ERROR(
          p.take(hf + "self_attn.q_norm.weight", gg + "attn_q_norm.weight", {D}, true));
      PLM_RETURN_IF_ERROR(
          p.take(hf + "self_attn.k_norm.weight", gg + "attn_k_norm.weight", {D}, true));
    }
    PLM_RETURN_IF_ERROR(
        p.take(hf + "self_attn.o_proj.weight", gg + "attn_output.weight", {E, H * D}, true));
    if (c.attention_bias) {
      PLM_RETURN_IF_ERROR(p.take(hf + "self_attn.o_proj.bias", gg + "attn_output.bias", {E}, true));
    }
    PLM_RETURN_IF_ERROR(
        p.take(hf + "post_attention_layernorm.weight", gg + "ffn_norm.weight", {E}, true));
    if (fam.fused_gate_up) {
      // Kept fused: GGUF's ffn_up holds the gate rows, then the up rows.
      PLM_RETURN_IF_ERROR(
          p.take(hf + "mlp.gate_up_proj.weight", gg + "ffn_up.weight", {2 * F, E}, true));
    } else {
      PLM_RETURN_IF_ERROR(
          p.take(hf + "mlp.gate_proj.weight", gg + "ffn_gate.weight", {F, E}, true));
      PLM_RETURN_IF_ERROR(p.take(hf + "mlp.up_proj.weight", gg + "ffn_up.weight", {F, E}, true));
    }
    PLM_RETURN_IF_ERROR(p.take(hf + "mlp.down_proj.weight", gg + "ffn_down.weight", {E, F}, true));
  }
  PLM_RETURN_IF_ERROR(p.take("model.norm.weight", "output_norm.weight", {E}, true));
  if (ties_embeddings(fam, c)) {
    // transformers ties the output projection to the embedding whatever the file holds; the
    // GGUF convention for that is an absent output.weight.
    p.skip("lm_head.weight");
  } else {
    PLM_RETURN_IF_ERROR(p.take("lm_head.weight", "output.weight", {V, E}, true));
  }
  PLM_RETURN_IF_ERROR(p.check_all_used());
  p.report_fallbacks();
  return plan;
}

}  // namespace pocketlm::convert
