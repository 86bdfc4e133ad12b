#include "model/hparams.h"

#include <cmath>
#include <string>

namespace pocketlm {
namespace {

// Upper bounds that no real model reaches; they stop a hostile file from asking for a tensor
// of 2^60 elements before any shape check runs.
constexpr int64_t kMaxDim = int64_t{1} << 20;
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxCtx = int64_t{1} << 24;

class KeyReader {
 public:
  KeyReader(const GgufFile& f, std::string_view arch) : f_(f), prefix_(std::string(arch) + ".") {}

  std::string key(std::string_view k) const { return prefix_ + std::string(k); }

  // Required positive integer in [1, max].
  Status need_int(std::string_view k, int64_t max, int64_t& out) const {
    Result<int64_t> v = f_.get_i64(key(k));
    if (!v.ok()) {
      if (v.status().code() == StatusCode::kNotFound) {
        return malformed(strfmt("model metadata lacks '%s'", key(k).c_str()));
      }
      return v.status();
    }
    return check_int(k, *v, max, out);
  }
  // Optional integer: `out` keeps its default when the key is absent.
  Status opt_int(std::string_view k, int64_t max, int64_t& out) const {
    Result<int64_t> v = f_.get_i64(key(k));
    if (!v.ok()) return v.status().code() == StatusCode::kNotFound ? Status() : v.status();
    return check_int(k, *v, max, out);
  }
  Status opt_float(std::string_view k, float& out) const {
    Result<float> v = f_.get_f32(key(k));
    if (!v.ok()) return v.status().code() == StatusCode::kNotFound ? Status() : v.status();
    if (!std::isfinite(*v)) return malformed(strfmt("'%s' is not finite", key(k).c_str()));
    out = *v;
    return Status();
  }
  // Optional count where 0 means "none": `out` is 0 when the key is absent.
  Status opt_count(std::string_view k, int64_t max, int64_t& out) const {
    out = 0;
    Result<int64_t> v = f_.get_i64(key(k));
    if (!v.ok()) return v.status().code() == StatusCode::kNotFound ? Status() : v.status();
    if (*v == 0) return Status();
    return check_int(k, *v, max, out);
  }
  Result<std::string> opt_string(std::string_view k) const {
    Result<std::string> v = f_.get_string(key(k));
    if (!v.ok() && v.status().code() == StatusCode::kNotFound) return std::string();
    return v;
  }

 private:
  Status check_int(std::string_view k, int64_t v, int64_t max, int64_t& out) const {
    if (v < 1 || v > max) {
      return malformed(strfmt("'%s' = %lld is outside [1, %lld]", key(k).c_str(),
                              static_cast<long long>(v), static_cast<long long>(max)));
    }
    out = v;
    return Status();
  }

  const GgufFile& f_;
  std::string prefix_;
};

}  // namespace

const char* rope_scaling_name(RopeScaling s) {
  switch (s) {
    case RopeScaling::kNone:
      return "none";
    case RopeScaling::kLinear:
      return "linear";
    case RopeScaling::kYarn:
      return "yarn";
    case RopeScaling::kLlama3:
      return "llama3";
  }
  return "?";
}

Result<Hparams> Hparams::from_gguf(const GgufFile& file, const ArchDesc& arch) {
  Hparams h;
  const KeyReader r(file, arch.name);
  PLM_RETURN_IF_ERROR(r.need_int("embedding_length", kMaxDim, h.n_embd));
  PLM_RETURN_IF_ERROR(r.need_int("block_count", kMaxLayers, h.n_layer));
  PLM_RETURN_IF_ERROR(r.opt_int("block_repeat_count", kMaxLayers, h.block_repeat));
  if (h.n_layer_exec() > kMaxLayers) {
    return malformed(strfmt(
        "%lld blocks repeated %lld times exceed %lld layers", static_cast<long long>(h.n_layer),
        static_cast<long long>(h.block_repeat), static_cast<long long>(kMaxLayers)));
  }
  PLM_RETURN_IF_ERROR(r.need_int("feed_forward_length", kMaxDim, h.n_ff));
  PLM_RETURN_IF_ERROR(r.need_int("attention.head_count", kMaxDim, h.n_head));
  h.n_head_kv = h.n_head;
  PLM_RETURN_IF_ERROR(r.opt_int("attention.head_count_kv", kMaxDim, h.n_head_kv));
  h.n_ctx_train = 2048;
  PLM_RETURN_IF_ERROR(r.opt_int("context_length", kMaxCtx, h.n_ctx_train));
  if (h.n_embd % h.n_head != 0) {
    return malformed(strfmt("embedding width %lld is not a multiple of the %lld heads",
                            static_cast<long long>(h.n_embd), static_cast<long long>(h.n_head)));
  }
  if (h.n_head % h.n_head_kv != 0) {
    return malformed(strfmt("%lld query heads cannot be grouped over %lld key/value heads",
                            static_cast<long long>(h.n_head), static_cast<long long>(h.n_head_kv)));
  }
  h.head_dim = h.n_embd / h.n_head;
  PLM_RETURN_IF_ERROR(r.opt_int("attention.key_length", kMaxDim, h.head_dim));
  h.head_dim_v = h.head_dim;
  PLM_RETURN_IF_ERROR(r.opt_int("attention.value_length", kMaxDim, h.head_dim_v));
  PLM_RETURN_IF_ERROR(r.opt_float("attention.layer_norm_rms_epsilon", h.norm_eps));
  if (!(h.norm_eps > 0.0f)) return malformed("the RMSNorm epsilon must be positive");

  h.n_rot = h.head_dim;
  PLM_RETURN_IF_ERROR(r.opt_int("rope.dimension_count", h.head_dim, h.n_rot));
  if (h.n_rot % 2 != 0) return malformed("rope.dimension_count must be even");
  PLM_RETURN_IF_ERROR(r.opt_float("rope.freq_base", h.rope_freq_base));
  if (!(h.rope_freq_base > 0.0f)) return malformed("rope.freq_base must be positive");
  h.attn_scale = 1.0f / std::sqrt(static_cast<float>(h.head_dim));

  if (arch.swa_period > 0) {
    h.swa_period = arch.swa_period;
    if (arch.swa_optional) {
      PLM_RETURN_IF_ERROR(r.opt_count("attention.sliding_window", kMaxCtx, h.n_swa));
    } else {
      PLM_RETURN_IF_ERROR(r.need_int("attention.sliding_window", kMaxCtx, h.n_swa));
    }
    h.rope_freq_base_swa =
        arch.rope_freq_base_swa > 0.0f ? arch.rope_freq_base_swa : h.rope_freq_base;
    PLM_RETURN_IF_ERROR(r.opt_float("rope.freq_base_swa", h.rope_freq_base_swa));
    if (!(h.rope_freq_base_swa > 0.0f)) return malformed("rope.freq_base_swa must be positive");
  }

  Result<std::string> scaling = r.opt_string("rope.scaling.type");
  if (!scaling.ok()) return scaling.status();
  if (*scaling == "" || *scaling == "none") {
    h.rope_scaling = RopeScaling::kNone;
  } else if (*scaling == "linear") {
    h.rope_scaling = RopeScaling::kLinear;
  } else if (*scaling == "yarn") {
    h.rope_scaling = RopeScaling::kYarn;
  } else if (*scaling == "llama3") {
    h.rope_scaling = RopeScaling::kLlama3;
  } else {
    return unsupported(strfmt("RoPE scaling '%s' is not supported", scaling->c_str()));
  }
  float factor = 0.0f;
  PLM_RETURN_IF_ERROR(r.opt_float("rope.scaling.factor", factor));
  if (factor == 0.0f) {
    float scale = 1.0f;  // older files store the reciprocal directly
    PLM_RETURN_IF_ERROR(r.opt_float("rope.scale_linear", scale));
    factor = scale;
  }
  if (!(factor > 0.0f)) return malformed("rope.scaling.factor must be positive");
  if (h.rope_scaling == RopeScaling::kLinear || h.rope_scaling == RopeScaling::kYarn) {
    h.rope_freq_scale = 1.0f / factor;
  }
  PLM_RETURN_IF_ERROR(r.opt_float("rope.scaling.attn_factor", h.rope_attn_factor));
  if (!(h.rope_attn_factor > 0.0f)) return malformed("rope.scaling.attn_factor must be positive");
  h.rope_n_ctx_orig = h.n_ctx_train;
  PLM_RETURN_IF_ERROR(
      r.opt_int("rope.scaling.original_context_length", kMaxCtx, h.rope_n_ctx_orig));
  // An architecture that gives its sliding-window layers their own RoPE base trains them without
  // context scaling too (Gemma 3: the global layers' linear factor does not apply to them).
  h.rope_freq_scale_swa = arch.rope_freq_base_swa > 0.0f ? 1.0f : h.rope_freq_scale;
  if (h.rope_scaling == RopeScaling::kYarn) {
    // Full YaRN blending; its magnitude correction (0.1 ln(factor) + 1) follows from
    // freq_scale inside the angle computation.
    h.yarn_ext_factor = 1.0f;
    PLM_RETURN_IF_ERROR(r.opt_float("rope.scaling.yarn_beta_fast", h.yarn_beta_fast));
    PLM_RETURN_IF_ERROR(r.opt_float("rope.scaling.yarn_beta_slow", h.yarn_beta_slow));
  }

  h.n_vocab = 0;
  PLM_RETURN_IF_ERROR(r.opt_int("vocab_size", kMaxDim, h.n_vocab));
  if (h.n_vocab == 0) {
    Result<const std::vector<std::string>*> toks = file.get_string_array("tokenizer.ggml.tokens");
    if (!toks.ok()) return malformed("the model has neither a vocab_size nor a token list");
    h.n_vocab = static_cast<int64_t>((*toks)->size());
  }
  if (arch.finish_hparams) PLM_RETURN_IF_ERROR(arch.finish_hparams(h));
  return h;
}

}  // namespace pocketlm
