#include "model/kv_cache.h"

#include <new>

#include "quant/fp16.h"

namespace pocketlm {

Result<KvCache> KvCache::create(TensorType type, int64_t n_layer, int64_t n_ctx, int64_t kv_width,
                                int64_t v_width) {
  if (type != TensorType::kF16 && type != TensorType::kF32 && type != TensorType::kQ8_0) {
    return invalid_argument(strfmt("KV cache type %s is not supported (f16, f32 or q8_0)",
                                   type_traits(type).name));
  }
  const int64_t block = type_traits(type).block_size;
  if (kv_width % block != 0 || v_width % block != 0) {
    return invalid_argument(strfmt("a %s KV cache needs rows that are multiples of %lld elements",
                                   type_traits(type).name, static_cast<long long>(block)));
  }
  if (n_layer <= 0 || n_ctx <= 0) return invalid_argument("the KV cache needs a positive size");
  KvCache c;
  c.type_ = type;
  c.n_ctx_ = n_ctx;
  c.n_ctx_pad_ = (n_ctx + 31) / 32 * 32;
  c.v_width_ = v_width;
  c.k_row_ = row_size(type, kv_width);
  c.v_row_ = row_size(type, v_width);
  const size_t rows = static_cast<size_t>(n_layer) * static_cast<size_t>(n_ctx);
  size_t v_bytes = rows * c.v_row_;
  if (c.v_transposed()) {
    c.elem_ = type_traits(type).type_size;
    v_bytes = static_cast<size_t>(n_layer) * static_cast<size_t>(v_width) *
              static_cast<size_t>(c.n_ctx_pad_) * c.elem_;
  }
  try {
    c.k_.resize(rows * c.k_row_);
    c.v_.resize(v_bytes);  // zero-filled: unwritten positions must read as finite zeros
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfMemory,
                  strfmt("cannot allocate a %lld-token KV cache (%.1f MiB)",
                         static_cast<long long>(n_ctx),
                         static_cast<double>(rows * c.k_row_ + v_bytes) / (1 << 20)));
  }
  return c;
}

void KvCache::store_v(int64_t layer, int64_t pos, const float* v,
                      kernels::QuantizeRowFn quantize) {
  if (!v_transposed()) {
    quantize(v, v_row(layer, pos), v_width_);
    return;
  }
  if (type_ == TensorType::kF16) {
    for (int64_t e = 0; e < v_width_; ++e) {
      reinterpret_cast<fp16_t*>(v_col(layer, e))[pos] = fp32_to_fp16(v[e]);
    }
  } else {
    for (int64_t e = 0; e < v_width_; ++e) reinterpret_cast<float*>(v_col(layer, e))[pos] = v[e];
  }
}

}  // namespace pocketlm
