// Search-based quantizers: what the offline `quantize` tool writes weights with.
//
// Usage:
//   std::vector<uint8_t> out(row_size(TensorType::kQ4_K, n_per_row) * n_rows);
//   quantize_rows_search(TensorType::kQ4_K, x, out.data(), n_rows, n_per_row,
//                        importance);  // n_per_row floats (an imatrix row), or nullptr
//
// The reference quantizers in quants.h round each block from its min/max in one pass (bit-exact
// with the gguf package; the kernels' tests build on them) and have no K-quant weight quantizers.
// These instead search for the scales (and minimums) that minimise the importance-weighted squared
// error of the dequantized values (scale_search.h), including the second level of the K-quants:
// the integer sub-block scales under a half-precision super-block scale are chosen by the error
// they leave, not by rounding. For the 32-element types the reference rounding is also scored and
// kept when it is better, so a search result is never worse than quants.h on that measure; in
// particular values that already lie on a block's grid (a file dequantized from the same type)
// come back exactly. With importance weights every type also scores its unweighted fit under the
// weights, so an exact on-grid fit, which the weighted search alone can miss, is kept there too.
//
// Importance: with an importance matrix each element's squared error is weighted by its column's
// mean squared activation, so what gets minimised is (to first order) the error of the matrix
// product, not of the weights. Without one every element counts the same. llama.cpp's quantizers
// weight large weights more (by x^2 or |x|); measured on SmolLM2 that loses: the columns that
// carry the large activations hold mostly small weights (see docs/quantization.md), and the
// KL divergence of plainly weighted Q4_0 and Q4_K_M was 4% and 5% lower than with x^2 + sigma^2.
#pragma once

#include <cstdint>

#include "quant/types.h"

namespace pocketlm {

// True for the types quantize_rows_search can produce: F32, F16, BF16 (converted), Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
bool has_search_quantizer(TensorType type);

// Quantizes n_rows rows of n_per_row floats (a multiple of the type's block size) into `dst`
// (n_rows * row_size(type, n_per_row) bytes). `importance` holds n_per_row non-negative weights,
// one per column, shared by all rows; nullptr weights columns equally. Deterministic: the same
// input gives the same bytes on every platform (no SIMD, no transcendental functions).
void quantize_rows_search(TensorType type, const float* src, void* dst, int64_t n_rows,
                          int64_t n_per_row, const float* importance);

// One row each; `importance` as above (n floats or nullptr).
void quantize_row_q4_0_search(const float* x, void* y, int64_t n, const float* importance);
void quantize_row_q4_1_search(const float* x, void* y, int64_t n, const float* importance);
void quantize_row_q5_0_search(const float* x, void* y, int64_t n, const float* importance);
void quantize_row_q5_1_search(const float* x, void* y, int64_t n, const float* importance);
void quantize_row_q8_0_search(const float* x, void* y, int64_t n, const float* importance);
void quantize_row_q2_K_search(const float* x, void* y, int64_t n, const float* importance);
void quantize_row_q3_K_search(const float* x, void* y, int64_t n, const float* importance);
void quantize_row_q4_K_search(const float* x, void* y, int64_t n, const float* importance);
void quantize_row_q5_K_search(const float* x, void* y, int64_t n, const float* importance);
void quantize_row_q6_K_search(const float* x, void* y, int64_t n, const float* importance);

// The weights the searches minimise with, for a group of n values: the group's slice of the
// importance row, or all ones when there is none (or when it is all zero).
void search_weights(const float* importance, int n, float* w);

}  // namespace pocketlm
