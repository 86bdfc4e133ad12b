#include "model/forward_state.h"

#include <algorithm>
#include <new>

namespace pocketlm {
namespace {

Result<kernels::RopeCache> rope_cache(const Hparams& hp, const ModelWeights& w, int64_t n_ctx,
                                      float freq_base, float freq_scale) {
  kernels::RopeConfig rc;
  rc.n_rot = static_cast<int>(hp.n_rot);
  rc.freq_base = freq_base;
  rc.freq_scale = freq_scale;
  rc.freq_factors = w.rope_factors(hp, n_ctx);
  rc.ext_factor = hp.yarn_ext_factor;
  rc.attn_factor = hp.yarn_attn_factor * hp.rope_attn_factor;
  rc.beta_fast = hp.yarn_beta_fast;
  rc.beta_slow = hp.yarn_beta_slow;
  rc.n_ctx_orig = static_cast<int>(hp.rope_n_ctx_orig);
  return kernels::RopeCache::create(rc);
}

}  // namespace

std::vector<int64_t> kv_layer_cells(const Hparams& hp, const ForwardOptions& options) {
  const int64_t n_ctx = options.n_ctx;
  const int64_t n_batch = std::min(options.n_batch, n_ctx);
  // A batch of n tokens at pos0 attends back to pos0 - n_swa + 1 while writing up to
  // pos0 + n - 1, so the ring must span n_swa + n - 1 positions.
  const int64_t ring = (hp.n_swa + n_batch - 1 + 31) / 32 * 32;
  std::vector<int64_t> cells(static_cast<size_t>(hp.n_layer_exec()), n_ctx);
  if (!options.swa_full && ring < n_ctx) {
    for (int64_t il = 0; il < hp.n_layer_exec(); ++il) {
      if (hp.is_swa_layer(il)) cells[static_cast<size_t>(il)] = ring;
    }
  }
  return cells;
}

Result<ForwardState> ForwardState::create(const Model& model, const ForwardOptions& options) {
  const Hparams& hp = model.hparams();
  if (options.n_ctx < 1) return invalid_argument("the context must hold at least one token");
  if (options.n_batch < 1) return invalid_argument("the batch must hold at least one token");
  ForwardState st;
  st.options = options;
  st.options.n_batch = std::min(options.n_batch, options.n_ctx);
  st.max_threads = std::max(1, options.max_threads);

  Result<KvCache> kv = KvCache::create(options.kv_type, options.n_ctx, hp.kv_dim(), hp.v_dim(),
                                       kv_layer_cells(hp, st.options));
  if (!kv.ok()) return kv.status();
  st.kv = std::move(kv).value();

  Result<kernels::RopeCache> rope =
      rope_cache(hp, model.weights(), options.n_ctx, hp.rope_freq_base, hp.rope_freq_scale);
  if (!rope.ok()) return rope.status();
  st.rope = std::move(rope).value();
  if (hp.has_swa()) {
    rope = rope_cache(hp, model.weights(), options.n_ctx, hp.rope_freq_base_swa,
                      hp.rope_freq_scale_swa);
    if (!rope.ok()) return rope.status();
    st.rope_swa = std::move(rope).value();
  }

  const size_t b = static_cast<size_t>(st.options.n_batch);
  const TensorType act = type_traits(options.kv_type).vec_dot_type;
  const size_t span = static_cast<size_t>(st.kv.max_v_stride());
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
    st.scores.resize(nt * span);
    st.probs.resize(nt * span * 4);
    st.q_conv.resize(nt * row_size(act, hp.head_dim));
    st.v_row.resize(nt * static_cast<size_t>(hp.head_dim_v));
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfMemory, "cannot allocate the activation buffers");
  }
  return st;
}

}  // namespace pocketlm
