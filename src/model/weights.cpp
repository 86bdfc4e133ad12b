#include "model/weights.h"

#include <string>

namespace pocketlm {
namespace {

std::string shape_str(const GgufTensorInfo& t) {
  std::string s = "[";
  for (uint32_t i = 0; i < t.n_dims; ++i) {
    if (i) s += ", ";
    s += std::to_string(t.ne[i]);
  }
  return s + "]";
}

class Loader {
 public:
  Loader(const GgufFile& f, const ArchDesc& a, std::vector<std::vector<float>>& owned)
      : f_(f), arch_(a), owned_(owned) {}

  // A matrix of `rows` x `cols`. Optional tensors that are absent give an empty Matrix.
  Status matrix(const std::string& name, int64_t rows, int64_t cols, bool required, Matrix& out) {
    const GgufTensorInfo* t = f_.find_tensor(name);
    if (!t) return required ? missing(name) : Status();
    if (t->n_dims != 2 || t->ne[0] != cols || t->ne[1] != rows) {
      return malformed(strfmt("tensor '%s' has shape %s, expected [%lld, %lld]", name.c_str(),
                              shape_str(*t).c_str(), static_cast<long long>(cols),
                              static_cast<long long>(rows)));
    }
    const TypeTraits& tr = type_traits(t->type);
    if (!tr.to_float) {
      return unsupported(strfmt("tensor '%s' has type %s, which pocketlm cannot compute with",
                                name.c_str(), tr.name));
    }
    out = Matrix{t->type, cols, rows, f_.tensor_data(*t)};
    return Status();
  }

  // A vector of n floats (converted from any type); absent optional vectors give nullptr.
  Status vector(const std::string& name, int64_t n, bool required, float add,
                const float*& out) {
    const GgufTensorInfo* t = f_.find_tensor(name);
    if (!t) return required ? missing(name) : Status();
    if (t->n_elements != n || t->ne[0] != n) {
      return malformed(strfmt("tensor '%s' has shape %s, expected [%lld]", name.c_str(),
                              shape_str(*t).c_str(), static_cast<long long>(n)));
    }
    const TypeTraits& tr = type_traits(t->type);
    if (!tr.to_float || n % tr.block_size != 0) {
      return unsupported(strfmt("tensor '%s' has type %s, which pocketlm cannot read as a vector",
                                name.c_str(), tr.name));
    }
    std::vector<float>& v = owned_.emplace_back(static_cast<size_t>(n));
    tr.to_float(f_.tensor_data(*t), v.data(), n);
    if (add != 0.0f) {
      for (float& x : v) x += add;
    }
    out = v.data();
    return Status();
  }

 private:
  Status missing(const std::string& name) const {
    return malformed(strfmt("the %.*s model lacks tensor '%s'", static_cast<int>(arch_.name.size()),
                            arch_.name.data(), name.c_str()));
  }

  const GgufFile& f_;
  const ArchDesc& arch_;
  std::vector<std::vector<float>>& owned_;
};

std::string blk(int64_t i, const char* what) {
  return "blk." + std::to_string(i) + "." + what + ".weight";
}
std::string blk_bias(int64_t i, const char* what) {
  return "blk." + std::to_string(i) + "." + what + ".bias";
}

}  // namespace

Result<ModelWeights> ModelWeights::load(const GgufFile& file, const ArchDesc& arch,
                                        const Hparams& hp) {
  ModelWeights w;
  Loader ld(file, arch, w.owned_);
  const float norm_add = arch.norm_weight_plus_one ? 1.0f : 0.0f;
  const BlockDesc& b = arch.block;

  PLM_RETURN_IF_ERROR(ld.matrix("token_embd.weight", hp.n_vocab, hp.n_embd, true, w.token_embd));
  PLM_RETURN_IF_ERROR(ld.vector("output_norm.weight", hp.n_embd, true, norm_add, w.output_norm));
  PLM_RETURN_IF_ERROR(ld.matrix("output.weight", hp.n_vocab, hp.n_embd,
                                !arch.output_may_be_tied, w.output));
  if (!w.output) {
    w.output = w.token_embd;
    w.tied_output = true;
  }
  const int64_t n_pairs = hp.n_rot / 2;
  if (file.find_tensor("rope_freqs.weight")) {
    const float* f = nullptr;
    PLM_RETURN_IF_ERROR(ld.vector("rope_freqs.weight", n_pairs, true, 0.0f, f));
    w.rope_freqs.assign(f, f + n_pairs);
  }
  if (file.find_tensor("rope_factors_long.weight") ||
      file.find_tensor("rope_factors_short.weight")) {
    const float* lf = nullptr;
    const float* sf = nullptr;
    PLM_RETURN_IF_ERROR(ld.vector("rope_factors_long.weight", n_pairs, true, 0.0f, lf));
    PLM_RETURN_IF_ERROR(ld.vector("rope_factors_short.weight", n_pairs, true, 0.0f, sf));
    w.rope_factors_long.assign(lf, lf + n_pairs);
    w.rope_factors_short.assign(sf, sf + n_pairs);
  }

  w.layers.resize(static_cast<size_t>(hp.n_layer));
  for (int64_t i = 0; i < hp.n_layer; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    PLM_RETURN_IF_ERROR(ld.vector(blk(i, "attn_norm"), hp.n_embd, true, norm_add, l.attn_norm));
    if (b.fused_qkv) {
      Matrix qkv;
      const int64_t rows = hp.q_dim() + hp.kv_dim() + hp.v_dim();
      PLM_RETURN_IF_ERROR(ld.matrix(blk(i, "attn_qkv"), rows, hp.n_embd, true, qkv));
      l.wq = qkv.row_range(0, hp.q_dim());
      l.wk = qkv.row_range(hp.q_dim(), hp.kv_dim());
      l.wv = qkv.row_range(hp.q_dim() + hp.kv_dim(), hp.v_dim());
    } else {
      PLM_RETURN_IF_ERROR(ld.matrix(blk(i, "attn_q"), hp.q_dim(), hp.n_embd, true, l.wq));
      PLM_RETURN_IF_ERROR(ld.matrix(blk(i, "attn_k"), hp.kv_dim(), hp.n_embd, true, l.wk));
      PLM_RETURN_IF_ERROR(ld.matrix(blk(i, "attn_v"), hp.v_dim(), hp.n_embd, true, l.wv));
    }
    PLM_RETURN_IF_ERROR(
        ld.matrix(blk(i, "attn_output"), hp.n_embd, hp.n_head * hp.head_dim_v, true, l.wo));
    // Biases are required where the architecture always has them; a llama-style file may carry
    // them too (attention_bias), all three or none.
    PLM_RETURN_IF_ERROR(ld.vector(blk_bias(i, "attn_q"), hp.q_dim(), b.qkv_bias, 0.0f, l.bq));
    PLM_RETURN_IF_ERROR(ld.vector(blk_bias(i, "attn_k"), hp.kv_dim(), b.qkv_bias, 0.0f, l.bk));
    PLM_RETURN_IF_ERROR(ld.vector(blk_bias(i, "attn_v"), hp.v_dim(), b.qkv_bias, 0.0f, l.bv));
    if ((l.bq != nullptr) != (l.bk != nullptr) || (l.bq != nullptr) != (l.bv != nullptr)) {
      return malformed(strfmt("block %lld has biases on some but not all of q, k and v",
                              static_cast<long long>(i)));
    }
    PLM_RETURN_IF_ERROR(ld.vector(blk_bias(i, "attn_output"), hp.n_embd, false, 0.0f, l.bo));
    PLM_RETURN_IF_ERROR(
        ld.vector(blk(i, "attn_q_norm"), hp.head_dim, b.qk_norm, norm_add, l.q_norm));
    PLM_RETURN_IF_ERROR(
        ld.vector(blk(i, "attn_k_norm"), hp.head_dim, b.qk_norm, norm_add, l.k_norm));
    PLM_RETURN_IF_ERROR(ld.vector(blk(i, "post_attention_norm"), hp.n_embd, b.post_attn_norm,
                                  norm_add, l.post_attn_norm));
    PLM_RETURN_IF_ERROR(ld.vector(blk(i, "ffn_norm"), hp.n_embd, true, norm_add, l.ffn_norm));
    if (b.fused_gate_up) {
      Matrix gate_up;
      PLM_RETURN_IF_ERROR(ld.matrix(blk(i, "ffn_up"), 2 * hp.n_ff, hp.n_embd, true, gate_up));
      l.ffn_gate = gate_up.row_range(0, hp.n_ff);
      l.ffn_up = gate_up.row_range(hp.n_ff, hp.n_ff);
    } else {
      PLM_RETURN_IF_ERROR(
          ld.matrix(blk(i, "ffn_gate"), hp.n_ff, hp.n_embd, b.gated_ffn, l.ffn_gate));
      PLM_RETURN_IF_ERROR(ld.matrix(blk(i, "ffn_up"), hp.n_ff, hp.n_embd, true, l.ffn_up));
    }
    PLM_RETURN_IF_ERROR(ld.matrix(blk(i, "ffn_down"), hp.n_embd, hp.n_ff, true, l.ffn_down));
    PLM_RETURN_IF_ERROR(ld.vector(blk(i, "post_ffw_norm"), hp.n_embd, b.post_ffn_norm, norm_add,
                                  l.post_ffn_norm));
  }
  return w;
}

}  // namespace pocketlm
