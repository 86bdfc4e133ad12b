// The key/value cache of one sequence: per layer, one row of keys and one of values per position.
//
// Usage:
//   // 18 layers; layers 0-4, 6-10, 12-16 see only the last 512 positions (sliding window)
//   std::vector<int64_t> cells = {544, 544, 544, 544, 544, 4096, ...};  // ring or n_ctx
//   Result<KvCache> kv = KvCache::create(TensorType::kF16, 4096, kv_width, v_width, cells);
//   uint8_t* k = kv->k_row(layer, pos);  // wherever position pos lives in that layer
//
// Keys are stored one row per position in the cache's element type (F16 by default; F32 and Q8_0
// as options), so a 4096-token context of a 30-layer model with 3 KV heads of 64 costs
// 2*30*4096*192*2 bytes = 94 MB in F16. Values of an F16 or F32 cache are stored transposed: one
// row per value element holding all positions, padded to a multiple of 32 positions, so the
// weighted sum of values is a dot product over positions, computed (and rounded) the way
// llama.cpp computes it. A Q8_0 cache keeps value rows per position (blocks need 32 elements).
//
// A layer with fewer cells than the context (a sliding-window layer) is a ring: position p lives
// in cell p % cells, so its memory does not grow with the context. The ring's cell count is a
// multiple of 32 and its transposed value rows hold every cell twice (cell c also at c + cells),
// so any run of up to `cells` consecutive positions is contiguous in memory, starting at the
// same offset modulo 32 as in a linear cache: the position-ordered dot products of attention then
// run over one pointer range exactly as they would without the ring.
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
  // n_ctx positions, kv_width elements per key row and v_width per value row. layer_cells holds,
  // per layer, n_ctx (a linear layer) or a smaller multiple of 32 (a ring).
  static Result<KvCache> create(TensorType type, int64_t n_ctx, int64_t kv_width, int64_t v_width,
                                const std::vector<int64_t>& layer_cells);

  TensorType type() const { return type_; }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_layer() const { return static_cast<int64_t>(layers_.size()); }
  size_t bytes() const { return k_.size() + v_.size(); }

  int64_t cells(int64_t layer) const { return layer_at(layer).cells; }
  bool is_ring(int64_t layer) const { return layer_at(layer).cells < n_ctx_; }
  int64_t cell_of(int64_t layer, int64_t pos) const {
    const int64_t c = layer_at(layer).cells;
    return c < n_ctx_ ? pos % c : pos;
  }

  // Values stored transposed (F16 and F32): v_col(layer, e) holds element e of every cell,
  // v_stride(layer) elements long; cells never written read as zero. In a ring the row is two
  // copies of the cells back to back; v_span(layer, first) is the offset (in elements) at which
  // the positions from `first` on are contiguous.
  bool v_transposed() const { return type_ != TensorType::kQ8_0; }
  int64_t v_stride(int64_t layer) const { return layer_at(layer).v_stride; }
  // The longest v_stride over all layers: what a scratch row over positions must hold.
  int64_t max_v_stride() const { return max_v_stride_; }
  uint8_t* v_col(int64_t layer, int64_t e) {
    const Layer& l = layer_at(layer);
    return v_.data() + l.v_offset +
           static_cast<size_t>(e) * static_cast<size_t>(l.v_stride) * elem_;
  }
  const uint8_t* v_col(int64_t layer, int64_t e) const {
    return const_cast<KvCache*>(this)->v_col(layer, e);
  }
  int64_t v_span(int64_t layer, int64_t first) const { return cell_of(layer, first); }
  // Writes the value vector of one position (v_width floats) in the cache's layout and type;
  // `quantize` converts a whole row when the values are stored per position (Q8_0).
  void store_v(int64_t layer, int64_t pos, const float* v, kernels::QuantizeRowFn quantize);

  uint8_t* k_row(int64_t layer, int64_t pos) { return k_.data() + k_offset(layer, pos); }
  uint8_t* v_row(int64_t layer, int64_t pos) { return v_.data() + v_offset(layer, pos); }
  const uint8_t* k_row(int64_t layer, int64_t pos) const {
    return k_.data() + k_offset(layer, pos);
  }
  const uint8_t* v_row(int64_t layer, int64_t pos) const {
    return v_.data() + v_offset(layer, pos);
  }
  size_t k_row_bytes() const { return k_row_; }
  size_t v_row_bytes() const { return v_row_; }

  // Which position each ring cell holds (rings have one shared geometry: every ring layer is
  // written with the same positions), so a caller can tell whether positions it wants to attend
  // to are still there. -1: none, or being overwritten.
  bool ring_holds(int64_t pos) const;
  int64_t ring_cells() const { return static_cast<int64_t>(ring_pos_.size()); }  // 0: no ring
  // Marks the cells of positions [pos0, pos0 + n) as being overwritten, then (commit) as holding
  // them: a forward pass that fails half way leaves them marked as holding nothing.
  void ring_begin_write(int64_t pos0, int64_t n);
  void ring_commit_write(int64_t pos0, int64_t n);

 private:
  struct Layer {
    int64_t cells = 0;
    int64_t v_stride = 0;  // elements per transposed value row
    size_t k_offset = 0;   // bytes into k_
    size_t v_offset = 0;   // bytes into v_
  };
  const Layer& layer_at(int64_t layer) const { return layers_[static_cast<size_t>(layer)]; }
  size_t k_offset(int64_t layer, int64_t pos) const {
    return layer_at(layer).k_offset + static_cast<size_t>(cell_of(layer, pos)) * k_row_;
  }
  size_t v_offset(int64_t layer, int64_t pos) const {
    return layer_at(layer).v_offset + static_cast<size_t>(cell_of(layer, pos)) * v_row_;
  }

  TensorType type_ = TensorType::kF16;
  int64_t n_ctx_ = 0;
  int64_t v_width_ = 0;
  int64_t max_v_stride_ = 0;
  size_t elem_ = 0;  // bytes per element of a transposed value row
  size_t k_row_ = 0;
  size_t v_row_ = 0;
  std::vector<Layer> layers_;
  std::vector<int64_t> ring_pos_;  // (ring cells): the position each ring cell holds, or -1
  std::vector<uint8_t> k_;         // per layer: (cells, kv_width) in type_
  std::vector<uint8_t> v_;         // per layer: (v_width, v_stride) transposed, or (cells, v_width)
};

}  // namespace pocketlm
