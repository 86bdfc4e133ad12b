// The key/value cache of one sequence: per layer, one row of keys and one of values per position.
//
// Rows are stored in the cache's element type (F16 by default; F32 and Q8_0 as options), so a
// 4096-token context of a 30-layer model with 3 KV heads of 64 costs 2*30*4096*192*2 bytes = 94 MB
// in F16. Attention reads the rows in place with the dot kernels of that type.
//
// It lives in the model layer because the generic transformer writes and reads it; sessions in
// the runtime layer own one each.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "quant/types.h"

namespace pocketlm {

class KvCache {
 public:
  // n_ctx positions, kv_width elements per key row and v_width per value row, for n_layer layers.
  static Result<KvCache> create(TensorType type, int64_t n_layer, int64_t n_ctx, int64_t kv_width,
                                int64_t v_width);

  TensorType type() const { return type_; }
  int64_t n_ctx() const { return n_ctx_; }
  size_t bytes() const { return k_.size() + v_.size(); }

  uint8_t* k_row(int64_t layer, int64_t pos) { return k_.data() + offset(layer, pos, k_row_); }
  uint8_t* v_row(int64_t layer, int64_t pos) { return v_.data() + offset(layer, pos, v_row_); }
  const uint8_t* k_row(int64_t layer, int64_t pos) const {
    return k_.data() + offset(layer, pos, k_row_);
  }
  const uint8_t* v_row(int64_t layer, int64_t pos) const {
    return v_.data() + offset(layer, pos, v_row_);
  }
  size_t k_row_bytes() const { return k_row_; }
  size_t v_row_bytes() const { return v_row_; }

 private:
  size_t offset(int64_t layer, int64_t pos, size_t row) const {
    return (static_cast<size_t>(layer) * static_cast<size_t>(n_ctx_) + static_cast<size_t>(pos)) *
           row;
  }

  TensorType type_ = TensorType::kF16;
  int64_t n_ctx_ = 0;
  size_t k_row_ = 0;
  size_t v_row_ = 0;
  std::vector<uint8_t> k_;  // (n_layer, n_ctx, kv_width) in type_
  std::vector<uint8_t> v_;  // (n_layer, n_ctx, v_width) in type_
};

}  // namespace pocketlm
