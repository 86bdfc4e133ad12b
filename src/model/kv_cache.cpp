#include "model/kv_cache.h"

#include <new>

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
  c.k_row_ = row_size(type, kv_width);
  c.v_row_ = row_size(type, v_width);
  const size_t rows = static_cast<size_t>(n_layer) * static_cast<size_t>(n_ctx);
  try {
    c.k_.resize(rows * c.k_row_);
    c.v_.resize(rows * c.v_row_);
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfMemory,
                  strfmt("cannot allocate a %lld-token KV cache (%.1f MiB)",
                         static_cast<long long>(n_ctx),
                         static_cast<double>(rows * (c.k_row_ + c.v_row_)) / (1 << 20)));
  }
  return c;
}

}  // namespace pocketlm
