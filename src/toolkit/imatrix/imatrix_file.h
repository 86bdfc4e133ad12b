// Importance matrices: per-column activation statistics of a model's weight matrices, and the
// GGUF file that holds them.
//
// Usage:
//   Result<Imatrix> im = read_imatrix("smollm2.imatrix.gguf");
//   std::optional<std::vector<float>> w = im->importance("blk.0.ffn_down.weight");  // n_cols
//   PLM_RETURN_IF_ERROR(write_imatrix(*im, "copy.imatrix.gguf"));
//
// For a weight matrix W (rows x cols) that multiplies activations a, the error a quantized row
// adds to the product is sum_j (w_j - q_j) * a_j; over the calibration tokens its expected square
// is, to first order, sum_j (w_j - q_j)^2 * E[a_j^2]. So the mean squared activation of each input
// column is the weight each column's rounding error deserves, and that is what is stored: the sum
// of a_j^2 over the tokens seen and the number of tokens.
//
// The file layout is llama.cpp's GGUF imatrix format (general.type "imatrix"; per matrix
// "<name>.in_sum2", F32 (cols, n_mat), and "<name>.counts", F32 (1, n_mat); imatrix.datasets,
// imatrix.chunk_count, imatrix.chunk_size), so files made by either tool work with both.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace pocketlm::toolkit {

struct ImatrixEntry {
  std::vector<float> sums;    // (n_mat, cols): sum of squared activations per column
  std::vector<float> counts;  // (n_mat): activations (tokens) summed
};

struct Imatrix {
  std::map<std::string, ImatrixEntry> entries;  // by weight tensor name
  std::vector<std::string> datasets;            // where the calibration text came from
  uint32_t chunk_count = 0;
  uint32_t chunk_size = 0;

  // Mean squared activation of each column of `name` (sums / counts) for 2-D weights, or nullopt
  // when the matrix was never seen.
  std::optional<std::vector<float>> importance(const std::string& name) const;
};

Result<Imatrix> read_imatrix(const std::string& path);
Status write_imatrix(const Imatrix& im, const std::string& path);

}  // namespace pocketlm::toolkit
