// The key/value cache of one sequence: per layer, one row of keys and one of values per position.
//
// Keys are stored one row per position in the cache's element type (F16 by default; F32 and Q8_0
// as options), so a 4096-token context of a 30-layer model with 3 KV heads of 64 costs
// 2*30*4096*192*2 bytes = 94 MB in F16. Values of an F16 or F32 cache are stored transposed: one
// row per value element holding all positions, padded to a multiple of 32 positions, so the
// weighted sum of values is a dot product over positions, computed (and rounded) the way
// llama.cpp computes it. A Q8_0 cache keeps value rows per position (blocks need 32 elements).
//
// It lives in the model layer because the generic transformer writes and reads it; sessions in
// the runtime layer own one each.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "kernels/kernels.h"
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

  // Values stored transposed (F16 and F32): v_col(layer, e) holds element e of every position,
  // v_stride() elements long; positions never written read as zero.
  bool v_transposed() const { return type_ != TensorType::kQ8_0; }
  int64_t v_stride() const { return n_ctx_pad_; }
  uint8_t* v_col(int64_t layer, int64_t e) {
    return v_.data() + (static_cast<size_t>(layer) * static_cast<size_t>(v_width_) +
                        static_cast<size_t>(e)) * static_cast<size_t>(n_ctx_pad_) * elem_;
  }
  const uint8_t* v_col(int64_t layer, int64_t e) const {
    return const_cast<KvCache*>(this)->v_col(layer, e);
  }
  // Writes the value vector of one position (v_width floats) in the cache's layout and type;
  // `quantize` converts a whole row when the values are stored per position (Q8_0).
  void store_v(int64_t layer, int64_t pos, const float* v, kernels::QuantizeRowFn quantize);

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
  int64_t n_ctx_pad_ = 0;  // n_ctx rounded up to 32: the transposed value rows' length
  int64_t v_width_ = 0;
  size_t elem_ = 0;        // bytes per element of a transposed value row
  size_t k_row_ = 0;
  size_t v_row_ = 0;
  std::vector<uint8_t> k_;  // (n_layer, n_ctx, kv_width) in type_
  std::vector<uint8_t> v_;  // (n_layer, v_width, n_ctx_pad) transposed, or (n_layer, n_ctx, v_width)
};

}  // namespace pocketlm
