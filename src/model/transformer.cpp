#include "model/transformer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/matmul.h"

namespace pocketlm {
namespace {

using kernels::KernelTable;

struct Pass {
  const Model& model;
  const Hparams& hp;
  const ArchDesc& arch;
  ForwardState& st;
  const KernelTable& kt;
  ThreadPool* pool;

  void observe(const char* name, int64_t layer, const float* data, int64_t n, int64_t width) {
    if (st.observer) st.observer->observe(name, layer, data, n, width);
  }

  // Y (n x m.rows) = X (n x m.cols) * M^T.
  Status project(const Matrix& m, const float* x, int64_t n, float* y) {
    if (n == 1) return kernels::matvec(kt, m.type, m.data, m.rows, m.cols, x, y, pool, st.ws);
    return kernels::matmul(kt, m.type, m.data, m.rows, m.cols, x, n, y, pool, st.ws);
  }

  // Adds bias (width) to each of the n rows of y.
  void add_rows(float* y, const float* bias, int64_t n, int64_t width) {
    for (int64_t t = 0; t < n; ++t) kt.ops.add(y + t * width, y + t * width, bias, width);
  }

  void norm_rows(float* y, const float* x, const float* w, int64_t n, int64_t width) {
    for (int64_t t = 0; t < n; ++t) {
      kt.ops.rms_norm(y + t * width, x + t * width, w, width, hp.norm_eps);
    }
  }

  Status embed(const int32_t* tokens, int64_t n) {
    const Matrix& e = model.weights().token_embd;
    const ToFloatFn to_float = type_traits(e.type).to_float;
    const float scale = std::sqrt(static_cast<float>(hp.n_embd));
    for (int64_t t = 0; t < n; ++t) {
      if (tokens[t] < 0 || tokens[t] >= hp.n_vocab) {
        return invalid_argument(strfmt("token id %d at input position %lld is outside the "
                                       "vocabulary of %lld", tokens[t], static_cast<long long>(t),
                                       static_cast<long long>(hp.n_vocab)));
      }
      const uint8_t* row = static_cast<const uint8_t*>(e.data) +
                           static_cast<size_t>(tokens[t]) * e.row_bytes();
      float* x = st.x.data() + t * hp.n_embd;
      to_float(row, x, hp.n_embd);
      if (arch.scale_embeddings) kt.ops.scale(x, x, scale, hp.n_embd);
    }
    observe("inp_embd", -1, st.x.data(), n, hp.n_embd);
    return Status();
  }

  // Rotates q and k of every token in the chunk; angles are computed once per token.
  void rope(int64_t layer, int64_t n, int64_t pos0) {
    const int64_t half = hp.n_rot / 2;
    const kernels::RopeCache& rc = hp.is_swa_layer(layer) ? st.rope_swa : st.rope;
    for (int64_t t = 0; t < n; ++t) {
      float* cs = st.cos_sin.data() + t * hp.n_rot;
      rc.angles(pos0 + t, cs, cs + half);
      kt.ops.rope(st.q.data() + t * hp.q_dim(), hp.n_head, hp.head_dim, hp.n_rot, cs, cs + half,
                  arch.rope_style);
      kt.ops.rope(st.k.data() + t * hp.kv_dim(), hp.n_head_kv, hp.head_dim, hp.n_rot, cs,
                  cs + half, arch.rope_style);
    }
  }

  void store_kv(int64_t layer, int64_t n, int64_t pos0) {
    const TensorType kv = st.kv.type();
    const kernels::QuantizeRowFn conv = kt.dot.quantize_act[static_cast<uint32_t>(kv)];
    for (int64_t t = 0; t < n; ++t) {
      conv(st.k.data() + t * hp.kv_dim(), st.kv.k_row(layer, pos0 + t), hp.kv_dim());
      st.kv.store_v(layer, pos0 + t, st.v.data() + t * hp.v_dim(), conv);
    }
  }

  // Causal attention of every (token, head) pair of the chunk over the cache.
  //
  // With an F16 cache this follows llama.cpp's (non-flash) attention step by step, because the
  // rounding of each step decides near-tied tokens: q is rounded to F16, scores are F16 dots
  // (a chunk of two or more tokens in the tiled order, a single token in the one-row order),
  // scaled, soft-maxed, the probabilities rounded to F16 and multiplied with the transposed
  // values as dots over positions, padded with zeros to the kernel's step (8 tiled, 32 one-row).
  //
  // A sliding-window query sees only the last n_swa positions. The dots over positions still
  // start at a multiple of 32 below the window, with the positions in front of it masked (-inf
  // scores, zero probabilities): llama.cpp's cache holds position p in cell p and masks the cells
  // outside the window, so each position lands in the same accumulator lane and the softmax sums
  // group positions by eights the same way, which makes the masked cells exact zeros that change
  // nothing; a ring cache lays those positions out the same way (see kv_cache.h).
  void attention(int64_t layer, int64_t n, int64_t pos0, float score_scale) {
    const TensorType kv = st.kv.type();
    const TypeTraits& kv_tr = type_traits(kv);
    const TensorType act = kv_tr.vec_dot_type;
    const kernels::QuantizeRowFn conv_q = kt.dot.quantize_act[static_cast<uint32_t>(act)];
    const kernels::VecDotFn one_row = kt.dot.vec_dot[static_cast<uint32_t>(kv)];
    const bool tiled = n >= 2 && kv == TensorType::kF16 && kt.dot.vec_dot_f16_tiled;
    const kernels::VecDotFn dot = tiled && hp.head_dim % 8 == 0 ? kt.dot.vec_dot_f16_tiled : one_row;
    const kernels::VecDotFn dot_v = tiled ? kt.dot.vec_dot_f16_tiled : one_row;
    // The same dots many rows at a time (scores: consecutive cells; values: consecutive columns).
    const kernels::VecDotTileFn dot_tile =
        tiled && dot == kt.dot.vec_dot_f16_tiled ? kt.dot.vec_dot_f16_tiled_tile : nullptr;
    const kernels::VecDotTileFn dot_v_tile = tiled ? kt.dot.vec_dot_f16_tiled_tile : nullptr;
    const size_t k_row_bytes = st.kv.k_row_bytes();
    const int64_t cells = st.kv.cells(layer);
    const int64_t pad = tiled ? 8 : 32;
    const ToFloatFn v_to_float = kv_tr.to_float;
    const int64_t group = hp.n_head / hp.n_head_kv;
    const size_t q_conv_bytes = row_size(act, hp.head_dim);
    const int64_t attn_width = hp.n_head * hp.head_dim_v;
    const bool transposed = st.kv.v_transposed();
    const size_t elem = transposed ? kv_tr.type_size : 0;
    const int64_t window = hp.is_swa_layer(layer) ? hp.n_swa : 0;
    const int64_t span = st.kv.max_v_stride();
    constexpr float kNegInf = -std::numeric_limits<float>::infinity();

    parallel_for(pool, n * hp.n_head, [&](int64_t begin, int64_t end, int ith) {
      float* scores = st.scores.data() + static_cast<size_t>(ith) * span;
      uint8_t* probs = st.probs.data() + static_cast<size_t>(ith) * span * 4;
      uint8_t* qc = st.q_conv.data() + static_cast<size_t>(ith) * q_conv_bytes;
      float* vrow = st.v_row.data() + static_cast<size_t>(ith) * hp.head_dim_v;
      for (int64_t item = begin; item < end; ++item) {
        const int64_t t = item / hp.n_head;
        const int64_t head = item % hp.n_head;
        const int64_t kvh = head / group;
        const int64_t pos = pos0 + t;
        const int64_t first = window > 0 ? std::max<int64_t>(0, pos - window + 1) : 0;
        const int64_t start = first / 32 * 32;  // positions [start, first) are masked
        const int64_t len = pos + 1 - start;
        conv_q(st.q.data() + t * hp.q_dim() + head * hp.head_dim, qc, hp.head_dim);
        const size_t k_off = row_size(kv, kvh * hp.head_dim);
        for (int64_t j = start; j < first; ++j) scores[j - start] = kNegInf;
        if (dot_tile) {
          // Runs of positions whose cells are consecutive (a ring wraps at most once).
          for (int64_t j = first; j <= pos;) {
            const int64_t run = std::min(pos + 1 - j, cells - st.kv.cell_of(layer, j));
            float* sj = scores + (j - start);
            dot_tile(hp.head_dim, st.kv.k_row(layer, j) + k_off, k_row_bytes, run, qc, 0, 1, sj, 0);
            for (int64_t i = 0; i < run; ++i) sj[i] *= score_scale;
            j += run;
          }
        } else {
          for (int64_t j = first; j <= pos; ++j) {
            float s;
            dot(hp.head_dim, &s, st.kv.k_row(layer, j) + k_off, qc);
            scores[j - start] = s * score_scale;
          }
        }
        kt.ops.softmax(scores, len);
        float* out = st.attn.data() + t * attn_width + head * hp.head_dim_v;
        if (transposed) {
          const int64_t base = st.kv.v_span(layer, start);
          const int64_t n_pad = std::min((len + pad - 1) / pad * pad, st.kv.v_stride(layer) - base);
          if (kv == TensorType::kF16) {
            conv_q(scores, probs, len);  // F16 conversion: the rounding llama.cpp applies
          } else {
            std::memcpy(probs, scores, sizeof(float) * static_cast<size_t>(len));
          }
          std::memset(probs + static_cast<size_t>(len) * elem, 0,
                      static_cast<size_t>(n_pad - len) * elem);
          const size_t off = static_cast<size_t>(base) * elem;
          if (dot_v_tile) {
            const size_t col_bytes = static_cast<size_t>(st.kv.v_stride(layer)) * elem;
            dot_v_tile(n_pad, st.kv.v_col(layer, kvh * hp.head_dim_v) + off, col_bytes,
                       hp.head_dim_v, probs, 0, 1, out, 0);
          } else {
            for (int64_t d = 0; d < hp.head_dim_v; ++d) {
              dot_v(n_pad, out + d, st.kv.v_col(layer, kvh * hp.head_dim_v + d) + off, probs);
            }
          }
        } else {
          std::memset(out, 0, sizeof(float) * static_cast<size_t>(hp.head_dim_v));
          const size_t v_off = row_size(kv, kvh * hp.head_dim_v);
          for (int64_t j = first; j <= pos; ++j) {
            v_to_float(st.kv.v_row(layer, j) + v_off, vrow, hp.head_dim_v);
            kt.ops.axpy(out, vrow, scores[j - start], hp.head_dim_v);
          }
        }
      }
    });
  }

  // One transformer layer over the chunk's n rows: executed layer il (its KV cache layer, its
  // sliding window) runs stored block hp.block_of(il), which also names it to the observer (a
  // shared block reports once per run, so what it observes sums over both, as its weights do).
  // The rows after the attention projection can be cut to the last n_out (the last layer, when
  // only those rows' logits are wanted): llama.cpp computes only its output rows there, and a
  // batch of another size may take another matrix kernel, with another order of float
  // additions. Returns the rows kept in st.x.
  Status block(int64_t il, int64_t n, int64_t pos0, int64_t n_out, int64_t& kept) {
    const int64_t blk = hp.block_of(il);
    const LayerWeights& w = model.weights().layers[static_cast<size_t>(blk)];
    const BlockDesc& b = arch.block;
    const int64_t E = hp.n_embd;

    norm_rows(st.h.data(), st.x.data(), w.attn_norm, n, E);
    observe("attn_norm", blk, st.h.data(), n, E);
    PLM_RETURN_IF_ERROR(project(w.wq, st.h.data(), n, st.q.data()));
    PLM_RETURN_IF_ERROR(project(w.wk, st.h.data(), n, st.k.data()));
    PLM_RETURN_IF_ERROR(project(w.wv, st.h.data(), n, st.v.data()));
    if (w.bq) {
      add_rows(st.q.data(), w.bq, n, hp.q_dim());
      add_rows(st.k.data(), w.bk, n, hp.kv_dim());
      add_rows(st.v.data(), w.bv, n, hp.v_dim());
    }
    observe("q", blk, st.q.data(), n, hp.q_dim());
    observe("k", blk, st.k.data(), n, hp.kv_dim());
    observe("v", blk, st.v.data(), n, hp.v_dim());
    if (w.q_norm) {
      norm_rows(st.q.data(), st.q.data(), w.q_norm, n * hp.n_head, hp.head_dim);
      norm_rows(st.k.data(), st.k.data(), w.k_norm, n * hp.n_head_kv, hp.head_dim);
    }
    rope(il, n, pos0);
    float score_scale = hp.attn_scale;
    if (arch.scale_q) {
      kt.ops.scale(st.q.data(), st.q.data(), hp.attn_scale, n * hp.q_dim());
      score_scale = 1.0f;
    }
    observe("q_rope", blk, st.q.data(), n, hp.q_dim());
    observe("k_rope", blk, st.k.data(), n, hp.kv_dim());
    store_kv(il, n, pos0);
    attention(il, n, pos0, score_scale);
    observe("attn_out", blk, st.attn.data(), n, hp.n_head * hp.head_dim_v);
    PLM_RETURN_IF_ERROR(project(w.wo, st.attn.data(), n, st.proj.data()));
    if (w.bo) add_rows(st.proj.data(), w.bo, n, E);
    if (n_out < n) {
      // Keep the last n_out rows of the residual and of the projection, moved to the front.
      const size_t drop = static_cast<size_t>(n - n_out) * static_cast<size_t>(E);
      const size_t keep = static_cast<size_t>(n_out) * static_cast<size_t>(E);
      std::memmove(st.x.data(), st.x.data() + drop, keep * sizeof(float));
      std::memmove(st.proj.data(), st.proj.data() + drop, keep * sizeof(float));
      n = n_out;
    }
    kept = n;
    if (n == 0) return Status();
    if (w.post_attn_norm) {
      observe("attn_wo", blk, st.proj.data(), n, E);
      norm_rows(st.proj.data(), st.proj.data(), w.post_attn_norm, n, E);
    }
    observe("attn_proj", blk, st.proj.data(), n, E);
    kt.ops.add(st.x.data(), st.x.data(), st.proj.data(), n * E);
    observe("ffn_inp", blk, st.x.data(), n, E);

    norm_rows(st.h.data(), st.x.data(), w.ffn_norm, n, E);
    observe("ffn_norm", blk, st.h.data(), n, E);
    PLM_RETURN_IF_ERROR(project(w.ffn_up, st.h.data(), n, st.up.data()));
    const int64_t F = hp.n_ff;
    if (b.gated_ffn) {
      PLM_RETURN_IF_ERROR(project(w.ffn_gate, st.h.data(), n, st.gate.data()));
      if (b.activation == FfnActivation::kSilu) {
        kt.ops.swiglu(st.gate.data(), st.gate.data(), st.up.data(), n * F);
      } else {
        kt.ops.geglu_tanh_fp16(st.gate.data(), st.gate.data(), st.up.data(), n * F);
      }
    } else if (b.activation == FfnActivation::kSilu) {
      kt.ops.silu(st.gate.data(), st.up.data(), n * F);
    } else {
      kt.ops.gelu_tanh_fp16(st.gate.data(), st.up.data(), n * F);
    }
    observe("ffn_act", blk, st.gate.data(), n, F);
    PLM_RETURN_IF_ERROR(project(w.ffn_down, st.gate.data(), n, st.proj.data()));
    if (w.post_ffn_norm) {
      observe("ffn_down", blk, st.proj.data(), n, E);
      norm_rows(st.proj.data(), st.proj.data(), w.post_ffn_norm, n, E);
    }
    observe("ffn_out", blk, st.proj.data(), n, E);
    kt.ops.add(st.x.data(), st.x.data(), st.proj.data(), n * E);
    observe("l_out", blk, st.x.data(), n, E);
    return Status();
  }

  // Final norm and output head for rows [first, first + n) of the chunk.
  Status head(int64_t first, int64_t n, float* logits) {
    const ModelWeights& w = model.weights();
    norm_rows(st.h.data(), st.x.data() + first * hp.n_embd, w.output_norm, n, hp.n_embd);
    observe("result_norm", -1, st.h.data(), n, hp.n_embd);
    PLM_RETURN_IF_ERROR(project(w.output, st.h.data(), n, logits));
    observe("result_output", -1, logits, n, hp.n_vocab);
    return Status();
  }
};

}  // namespace

Status forward(const Model& model, ForwardState& st, const KernelTable& kt, ThreadPool* pool,
               const int32_t* tokens, int64_t n, int64_t pos0, LogitsFor which, float* logits) {
  if (n < 1) return invalid_argument("forward() needs at least one token");
  if (pos0 < 0 || pos0 + n > st.options.n_ctx) {
    return Status(StatusCode::kOutOfRange,
                  strfmt("positions %lld..%lld do not fit the context of %lld tokens",
                         static_cast<long long>(pos0), static_cast<long long>(pos0 + n - 1),
                         static_cast<long long>(st.options.n_ctx)));
  }
  if (pool && pool->n_threads() > st.max_threads) {
    return invalid_argument("the thread pool is larger than the state was sized for");
  }
  if (which != LogitsFor::kNone && !logits) return invalid_argument("logits buffer is null");
  Pass p{model, model.hparams(), model.arch(), st, kt, pool};
  const Hparams& hp = p.hp;
  // A ring keeps only the last positions written: continuing at pos0 needs the window before it.
  for (int64_t q = std::max<int64_t>(0, pos0 - hp.n_swa + 1); hp.has_swa() && q < pos0; ++q) {
    if (!st.kv.ring_holds(q)) {
      return Status(StatusCode::kOutOfRange,
                    strfmt("position %lld needs position %lld in its attention window, which the "
                           "sliding-window cache no longer holds (it keeps the last %lld "
                           "positions written; use ForwardOptions::swa_full to rewind further)",
                           static_cast<long long>(pos0), static_cast<long long>(q),
                           static_cast<long long>(st.kv.ring_cells())));
    }
  }
  const int64_t n_vocab = hp.n_vocab;
  for (int64_t done = 0; done < n;) {
    const int64_t m = std::min(st.options.n_batch, n - done);
    PLM_RETURN_IF_ERROR(p.embed(tokens + done, m));
    // The last layer needs only the rows whose logits are wanted (see block()).
    const int64_t n_out = which == LogitsFor::kAll                       ? m
                          : which == LogitsFor::kLast && done + m == n ? 1
                                                                       : 0;
    st.kv.ring_begin_write(pos0 + done, m);
    int64_t kept = m;
    const int64_t n_layer = hp.n_layer_exec();
    for (int64_t il = 0; il < n_layer; ++il) {
      const int64_t rows_out = il == n_layer - 1 ? n_out : m;
      PLM_RETURN_IF_ERROR(p.block(il, m, pos0 + done, rows_out, kept));
    }
    st.kv.ring_commit_write(pos0 + done, m);
    if (which == LogitsFor::kAll) {
      PLM_RETURN_IF_ERROR(p.head(0, m, logits + done * n_vocab));
    } else if (which == LogitsFor::kLast && done + m == n) {
      PLM_RETURN_IF_ERROR(p.head(kept - 1, 1, logits));
    }
    done += m;
  }
  return Status();
}

}  // namespace pocketlm
