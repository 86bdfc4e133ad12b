#include "quant/quantize_search.h"

namespace pocketlm {
namespace {

using RowFn = void (*)(const float* x, void* y, int64_t n, const float* importance);

RowFn search_fn(TensorType type) {
  switch (type) {
    case TensorType::kQ4_0:
      return quantize_row_q4_0_search;
    case TensorType::kQ4_1:
      return quantize_row_q4_1_search;
    case TensorType::kQ5_0:
      return quantize_row_q5_0_search;
    case TensorType::kQ5_1:
      return quantize_row_q5_1_search;
    case TensorType::kQ8_0:
      return quantize_row_q8_0_search;
    case TensorType::kQ2_K:
      return quantize_row_q2_K_search;
    case TensorType::kQ3_K:
      return quantize_row_q3_K_search;
    case TensorType::kQ4_K:
      return quantize_row_q4_K_search;
    case TensorType::kQ5_K:
      return quantize_row_q5_K_search;
    case TensorType::kQ6_K:
      return quantize_row_q6_K_search;
    default:
      return nullptr;
  }
}

bool is_float_type(TensorType t) {
  return t == TensorType::kF32 || t == TensorType::kF16 || t == TensorType::kBF16;
}

}  // namespace

bool has_search_quantizer(TensorType type) {
  return is_float_type(type) || search_fn(type) != nullptr;
}

void quantize_rows_search(TensorType type, const float* src, void* dst, int64_t n_rows,
                          int64_t n_per_row, const float* importance) {
  const size_t row_bytes = row_size(type, n_per_row);
  auto* out = static_cast<uint8_t*>(dst);
  if (is_float_type(type)) {
    type_traits(type).from_float(src, out, n_rows * n_per_row);
    return;
  }
  const RowFn fn = search_fn(type);
  for (int64_t r = 0; r < n_rows; ++r) {
    fn(src + r * n_per_row, out + static_cast<size_t>(r) * row_bytes, n_per_row, importance);
  }
}

void search_weights(const float* importance, int n, float* w) {
  if (importance) {
    // A group whose columns were never activated in calibration (all importance 0) must still be
    // stored well enough: it keeps the plain weights.
    double sum = 0.0;
    for (int i = 0; i < n; ++i) sum += importance[i];
    if (sum > 0.0) {
      for (int i = 0; i < n; ++i) w[i] = importance[i];
      return;
    }
  }
  for (int i = 0; i < n; ++i) w[i] = 1.0f;
}

}  // namespace pocketlm
