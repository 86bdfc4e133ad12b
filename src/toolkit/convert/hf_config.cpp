#include "toolkit/convert/hf_config.h"

#include <cmath>
#include <utility>

#include "format/json.h"

namespace pocketlm::convert {
namespace {

// Sizes beyond these are no model anyone can run; bounding them keeps every product of two
// sizes (tensor shapes, element counts) far from overflow.
constexpr int64_t kMaxSize = int64_t{1} << 24;
constexpr int64_t kMaxPositions = int64_t{1} << 32;

// Reads typed keys of one JSON object; every error names the file and the key.
class Fields {
 public:
  Fields(const Json& obj, const std::string& where) : obj_(obj), where_(where) {}

  Status positive_int(const char* key, int64_t& out) const {
    const Json* v = obj_.find(key);
    if (v == nullptr) return malformed(where_ + ": missing \"" + key + "\"");
    std::optional<int64_t> i = v->as_int();
    if (!i || *i <= 0 || *i > kMaxSize) {
      return malformed(strfmt("%s: \"%s\" must be a positive integer (at most %lld)",
                              where_.c_str(), key, static_cast<long long>(kMaxSize)));
    }
    out = *i;
    return Status();
  }

  // Absent and null leave `out` empty.
  Status opt_int(const char* key, std::optional<int64_t>& out, int64_t min = 0,
                 int64_t max = kMaxPositions) const {
    const Json* v = obj_.find(key);
    if (v == nullptr || v->is_null()) return Status();
    std::optional<int64_t> i = v->as_int();
    if (!i || *i < min || *i > max) {
      return malformed(strfmt("%s: \"%s\" must be an integer in [%lld, %lld]", where_.c_str(),
                              key, static_cast<long long>(min), static_cast<long long>(max)));
    }
    out = *i;
    return Status();
  }

  Status opt_number(const char* key, std::optional<double>& out) const {
    const Json* v = obj_.find(key);
    if (v == nullptr || v->is_null()) return Status();
    std::optional<double> d = v->as_number();
    if (!d || !std::isfinite(*d)) {
      return malformed(where_ + ": \"" + key + "\" must be a finite number");
    }
    out = *d;
    return Status();
  }

  Status opt_bool(const char* key, std::optional<bool>& out) const {
    const Json* v = obj_.find(key);
    if (v == nullptr || v->is_null()) return Status();
    if (!v->is_bool()) return malformed(where_ + ": \"" + key + "\" must be true or false");
    out = *v->as_bool();
    return Status();
  }

  Status opt_string(const char* key, std::string& out) const {
    const Json* v = obj_.find(key);
    if (v == nullptr || v->is_null()) return Status();
    if (!v->is_string()) return malformed(where_ + ": \"" + key + "\" must be a string");
    out = *v->as_string();
    return Status();
  }

  Status opt_number_list(const char* key, std::vector<double>& out) const {
    const Json* v = obj_.find(key);
    if (v == nullptr || v->is_null()) return Status();
    if (!v->is_array()) return malformed(where_ + ": \"" + key + "\" must be a list of numbers");
    out.clear();
    for (const Json& e : v->items()) {
      std::optional<double> d = e.as_number();
      if (!d || !std::isfinite(*d)) {
        return malformed(where_ + ": \"" + key + "\" must be a list of finite numbers");
      }
      out.push_back(*d);
    }
    return Status();
  }

 private:
  const Json& obj_;
  const std::string& where_;
};

// The members of a rope_scaling / rope_parameters object.
Status read_rope_object(const Json& obj, const std::string& where, RopeParams& rope) {
  Fields f(obj, where);
  std::string type;
  PLM_RETURN_IF_ERROR(f.opt_string("type", type));       // 4.x before "rope_type"
  PLM_RETURN_IF_ERROR(f.opt_string("rope_type", type));  // wins when both are there
  if (!type.empty()) rope.type = type;
  if (rope.type == "su") rope.type = "longrope";  // the Phi-3 preview name of LongRoPE
  PLM_RETURN_IF_ERROR(f.opt_number("rope_theta", rope.theta));
  PLM_RETURN_IF_ERROR(f.opt_number("factor", rope.factor));
  PLM_RETURN_IF_ERROR(f.opt_number("low_freq_factor", rope.low_freq_factor));
  PLM_RETURN_IF_ERROR(f.opt_number("high_freq_factor", rope.high_freq_factor));
  PLM_RETURN_IF_ERROR(
      f.opt_int("original_max_position_embeddings", rope.original_max_position_embeddings, 1));
  PLM_RETURN_IF_ERROR(f.opt_number("attention_factor", rope.attention_factor));
  PLM_RETURN_IF_ERROR(f.opt_number("beta_fast", rope.beta_fast));
  PLM_RETURN_IF_ERROR(f.opt_number("beta_slow", rope.beta_slow));
  PLM_RETURN_IF_ERROR(f.opt_number_list("long_factor", rope.long_factor));
  PLM_RETURN_IF_ERROR(f.opt_number_list("short_factor", rope.short_factor));
  PLM_RETURN_IF_ERROR(f.opt_number("partial_rotary_factor", rope.partial_rotary_factor));
  return Status();
}

}  // namespace

Result<HfConfig> HfConfig::parse(std::string_view text, const std::string& source) {
  Result<Json> doc = Json::parse(text, source);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object()) return malformed(source + ": not a JSON object");

  // Multimodal checkpoints nest the language model's settings in "text_config".
  const Json* root = &*doc;
  if (const Json* tc = doc->find("text_config"); tc != nullptr && tc->is_object()) root = tc;

  HfConfig c;
  c.source = source;
  Fields f(*root, source);
  Fields top(*doc, source);
  if (const Json* a = doc->find("architectures"); a != nullptr && !a->is_null()) {
    if (!a->is_array() || (a->size() > 0 && !a->items()[0].is_string())) {
      return malformed(source + ": \"architectures\" must be a list of names");
    }
    if (a->size() > 0) c.architecture = *a->items()[0].as_string();
  }
  PLM_RETURN_IF_ERROR(top.opt_string("model_type", c.model_type));
  PLM_RETURN_IF_ERROR(f.opt_string("model_type", c.model_type));

  PLM_RETURN_IF_ERROR(f.positive_int("vocab_size", c.vocab_size));
  PLM_RETURN_IF_ERROR(f.positive_int("hidden_size", c.hidden_size));
  PLM_RETURN_IF_ERROR(f.positive_int("intermediate_size", c.intermediate_size));
  PLM_RETURN_IF_ERROR(f.positive_int("num_hidden_layers", c.num_hidden_layers));
  PLM_RETURN_IF_ERROR(f.positive_int("num_attention_heads", c.num_attention_heads));
  PLM_RETURN_IF_ERROR(f.opt_int("num_key_value_heads", c.num_key_value_heads, 1, kMaxSize));
  PLM_RETURN_IF_ERROR(f.opt_int("head_dim", c.head_dim_explicit, 1, kMaxSize));
  PLM_RETURN_IF_ERROR(f.opt_int("max_position_embeddings", c.max_position_embeddings, 1));
  PLM_RETURN_IF_ERROR(
      f.opt_int("original_max_position_embeddings", c.original_max_position_embeddings, 1));
  PLM_RETURN_IF_ERROR(f.opt_number("rms_norm_eps", c.rms_norm_eps));
  PLM_RETURN_IF_ERROR(top.opt_bool("tie_word_embeddings", c.tie_word_embeddings));
  PLM_RETURN_IF_ERROR(f.opt_bool("tie_word_embeddings", c.tie_word_embeddings));
  PLM_RETURN_IF_ERROR(f.opt_int("sliding_window", c.sliding_window, 0));
  PLM_RETURN_IF_ERROR(f.opt_bool("use_sliding_window", c.use_sliding_window));
  PLM_RETURN_IF_ERROR(f.opt_string("hidden_act", c.hidden_act));
  std::optional<bool> b;
  PLM_RETURN_IF_ERROR(f.opt_bool("attention_bias", b));
  c.attention_bias = b.value_or(false);
  b.reset();
  PLM_RETURN_IF_ERROR(f.opt_bool("mlp_bias", b));
  c.mlp_bias = b.value_or(false);
  PLM_RETURN_IF_ERROR(f.opt_bool("share_embedding", c.share_embedding));
  b.reset();
  PLM_RETURN_IF_ERROR(f.opt_bool("layer_sharing", b));
  c.layer_sharing = b.value_or(false);

  // A list of end-of-sequence ids (Llama 3.1) is not one id: such keys are skipped.
  for (auto [key, slot] :
       {std::pair{"bos_token_id", &c.bos_token_id}, std::pair{"eos_token_id", &c.eos_token_id},
        std::pair{"pad_token_id", &c.pad_token_id}}) {
    const Json* v = root->find(key);
    if (v != nullptr && v->as_int() && *v->as_int() >= 0) *slot = *v->as_int();
  }

  // RoPE: 4.x top-level keys first, then rope_scaling, then 5.x rope_parameters (which wins).
  PLM_RETURN_IF_ERROR(f.opt_number("rope_theta", c.rope.theta));
  PLM_RETURN_IF_ERROR(f.opt_number("partial_rotary_factor", c.rope.partial_rotary_factor));
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    const Json* r = root->find(key);
    if (r == nullptr || r->is_null()) continue;
    if (!r->is_object()) return malformed(source + ": \"" + key + "\" must be an object or null");
    const std::string where = source + ": " + key;
    // Per-attention-kind parameters: the full-attention ones describe the model's RoPE.
    if (const Json* full = r->find("full_attention"); full != nullptr) {
      if (!full->is_object()) return malformed(where + ".full_attention must be an object");
      PLM_RETURN_IF_ERROR(read_rope_object(*full, where + ".full_attention", c.rope));
    } else {
      PLM_RETURN_IF_ERROR(read_rope_object(*r, where, c.rope));
    }
  }

  if (c.n_head_kv() > c.num_attention_heads || c.num_attention_heads % c.n_head_kv() != 0) {
    return malformed(strfmt("%s: %lld attention heads do not divide into %lld key/value heads",
                            source.c_str(), static_cast<long long>(c.num_attention_heads),
                            static_cast<long long>(c.n_head_kv())));
  }
  if (!c.head_dim_explicit && c.hidden_size % c.num_attention_heads != 0) {
    return malformed(
        strfmt("%s: hidden_size %lld is not a multiple of %lld heads (and no "
               "head_dim is given)",
               source.c_str(), static_cast<long long>(c.hidden_size),
               static_cast<long long>(c.num_attention_heads)));
  }
  if (c.head_dim() % 2 != 0) {
    return malformed(strfmt("%s: head dimension %lld is odd, RoPE rotates pairs", source.c_str(),
                            static_cast<long long>(c.head_dim())));
  }
  return c;
}

}  // namespace pocketlm::convert
