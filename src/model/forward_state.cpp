#include "model/forward_state.h"

#include <algorithm>
#include <new>

namespace pocketlm {

Result<ForwardState> ForwardState::create(const Model& model, const ForwardOptions& options) {
  const Hparams& hp = model.hparams();
  if (options.n_ctx < 1) return invalid_argument("the context must hold at least one token");
  if (options.n_batch < 1) return invalid_argument("the batch must hold at least one token");
  ForwardState st;
  st.options = options;
  st.options.n_batch = std::min(options.n_batch, options.n_ctx);
  st.max_threads = std::max(1, options.max_threads);

  Result<KvCache> kv =
      KvCache::create(options.kv_type, hp.n_layer, options.n_ctx, hp.kv_dim(), hp.v_dim());
  if (!kv.ok()) return kv.status();
  st.kv = std::move(kv).value();

  kernels::RopeConfig rc;
  rc.n_rot = static_cast<int>(hp.n_rot);
  rc.freq_base = hp.rope_freq_base;
  rc.freq_scale = hp.rope_freq_scale;
  rc.freq_factors = model.weights().rope_freqs;
  rc.ext_factor = hp.yarn_ext_factor;
  rc.attn_factor = hp.yarn_attn_factor;
  rc.beta_fast = hp.yarn_beta_fast;
  rc.beta_slow = hp.yarn_beta_slow;
  rc.n_ctx_orig = static_cast<int>(hp.rope_n_ctx_orig);
  Result<kernels::RopeCache> rope = kernels::RopeCache::create(rc);
  if (!rope.ok()) return rope.status();
  st.rope = std::move(rope).value();

  const size_t b = static_cast<size_t>(st.options.n_batch);
  const TensorType act = type_traits(options.kv_type).vec_dot_type;
  try {
    st.x.resize(b * hp.n_embd);
    st.h.resize(b * hp.n_embd);
    st.q.resize(b * hp.q_dim());
    st.k.resize(b * hp.kv_dim());
    st.v.resize(b * hp.v_dim());
    st.attn.resize(b * hp.n_head * hp.head_dim_v);
    st.proj.resize(b * hp.n_embd);
    st.gate.resize(b * hp.n_ff);
    st.up.resize(b * hp.n_ff);
    st.cos_sin.resize(b * hp.n_rot);
    const size_t nt = static_cast<size_t>(st.max_threads);
    st.scores.resize(nt * static_cast<size_t>(st.kv.v_stride()));
    st.probs.resize(nt * static_cast<size_t>(st.kv.v_stride()) * 4);
    st.q_conv.resize(nt * row_size(act, hp.head_dim));
    st.v_row.resize(nt * static_cast<size_t>(hp.head_dim_v));
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfMemory, "cannot allocate the activation buffers");
  }
  return st;
}

}  // namespace pocketlm
