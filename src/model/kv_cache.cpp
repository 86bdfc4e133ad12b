#include "model/kv_cache.h"

#include <algorithm>
#include <new>

#include "quant/fp16.h"

namespace pocketlm {

Result<KvCache> KvCache::create(TensorType type, int64_t n_ctx, int64_t kv_width, int64_t v_width,
                                const std::vector<int64_t>& layer_cells) {
  if (type != TensorType::kF16 && type != TensorType::kF32 && type != TensorType::kQ8_0) {
    return invalid_argument(
        strfmt("KV cache type %s is not supported (f16, f32 or q8_0)", type_traits(type).name));
  }
  const int64_t block = type_traits(type).block_size;
  if (kv_width % block != 0 || v_width % block != 0) {
    return invalid_argument(strfmt("a %s KV cache needs rows that are multiples of %lld elements",
                                   type_traits(type).name, static_cast<long long>(block)));
  }
  if (layer_cells.empty() || n_ctx <= 0) {
    return invalid_argument("the KV cache needs a positive size");
  }
  int64_t ring = 0;
  for (int64_t c : layer_cells) {
    if (c == n_ctx) continue;
    if (c <= 0 || c > n_ctx || c % 32 != 0 || (ring != 0 && c != ring)) {
      return invalid_argument(
          strfmt("a KV cache layer of %lld cells is neither the context (%lld)"
                 " nor a ring of a multiple of 32 shared by all ring layers",
                 static_cast<long long>(c), static_cast<long long>(n_ctx)));
    }
    ring = c;
  }

  KvCache kv;
  kv.type_ = type;
  kv.n_ctx_ = n_ctx;
  kv.v_width_ = v_width;
  kv.k_row_ = row_size(type, kv_width);
  kv.v_row_ = row_size(type, v_width);
  kv.elem_ = kv.v_transposed() ? type_traits(type).type_size : 0;
  size_t k_bytes = 0, v_bytes = 0;
  kv.layers_.resize(layer_cells.size());
  for (size_t i = 0; i < layer_cells.size(); ++i) {
    Layer& l = kv.layers_[i];
    l.cells = layer_cells[i];
    l.k_offset = k_bytes;
    l.v_offset = v_bytes;
    k_bytes += static_cast<size_t>(l.cells) * kv.k_row_;
    if (kv.v_transposed()) {
      // A linear layer pads its rows to 32 positions (the one-row kernel's step); a ring stores
      // its cells twice.
      l.v_stride = l.cells < n_ctx ? 2 * l.cells : (n_ctx + 31) / 32 * 32;
      kv.max_v_stride_ = std::max(kv.max_v_stride_, l.v_stride);
      v_bytes += static_cast<size_t>(v_width) * static_cast<size_t>(l.v_stride) * kv.elem_;
    } else {
      v_bytes += static_cast<size_t>(l.cells) * kv.v_row_;
    }
  }
  if (!kv.v_transposed()) kv.max_v_stride_ = (n_ctx + 31) / 32 * 32;
  try {
    kv.k_.resize(k_bytes);
    kv.v_.resize(v_bytes);  // zero-filled: unwritten positions must read as finite zeros
    kv.ring_pos_.assign(static_cast<size_t>(ring), -1);
  } catch (const std::bad_alloc&) {
    return Status(
        StatusCode::kOutOfMemory,
        strfmt("cannot allocate a %lld-token KV cache (%.1f MiB)", static_cast<long long>(n_ctx),
               static_cast<double>(k_bytes + v_bytes) / (1 << 20)));
  }
  return kv;
}

void KvCache::store_v(int64_t layer, int64_t pos, const float* v, kernels::QuantizeRowFn quantize) {
  if (!v_transposed()) {
    quantize(v, v_row(layer, pos), v_width_);
    return;
  }
  const int64_t cell = cell_of(layer, pos);
  const int64_t copies = is_ring(layer) ? 2 : 1;
  const int64_t step = cells(layer);
  for (int64_t e = 0; e < v_width_; ++e) {
    uint8_t* col = v_col(layer, e);
    for (int64_t c = 0; c < copies; ++c) {
      const int64_t at = cell + c * step;
      if (type_ == TensorType::kF16) {
        reinterpret_cast<fp16_t*>(col)[at] = fp32_to_fp16(v[e]);
      } else {
        reinterpret_cast<float*>(col)[at] = v[e];
      }
    }
  }
}

bool KvCache::ring_holds(int64_t pos) const {
  if (ring_pos_.empty()) return true;
  const int64_t cells = static_cast<int64_t>(ring_pos_.size());
  return ring_pos_[static_cast<size_t>(pos % cells)] == pos;
}

void KvCache::ring_begin_write(int64_t pos0, int64_t n) {
  const int64_t cells = static_cast<int64_t>(ring_pos_.size());
  for (int64_t p = pos0; p < pos0 + n && cells > 0; ++p) {
    ring_pos_[static_cast<size_t>(p % cells)] = -1;
  }
}

void KvCache::ring_commit_write(int64_t pos0, int64_t n) {
  const int64_t cells = static_cast<int64_t>(ring_pos_.size());
  for (int64_t p = pos0; p < pos0 + n && cells > 0; ++p) {
    ring_pos_[static_cast<size_t>(p % cells)] = p;
  }
}

}  // namespace pocketlm
