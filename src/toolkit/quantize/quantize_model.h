// quantize_model: writes a GGUF model with its weights converted to the types a plan chose.
//
// Usage:
//   QuantizeOptions o;
//   o.plan.preset = QuantPreset::kQ4_K_M;
//   o.imatrix = &imatrix;                      // optional (imatrix_file.h)
//   o.n_threads = 4;
//   o.progress = [](const QuantizeProgress& p) { show(p); return true; };   // false cancels
//   Result<QuantizeReport> r = quantize_model("in.gguf", "out.gguf", o);
//
// Metadata is copied (general.file_type and general.quantization_version set, and the
// importance matrix's provenance under quantize.imatrix.*, as llama.cpp records it); tensors keep
// their order and shapes. Data streams through in row chunks (input rows dequantized to float,
// then searched into the target type on the thread pool), so memory stays near one chunk however
// large the model. The output appears under its name only once complete.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "toolkit/imatrix/imatrix_file.h"
#include "toolkit/quantize/quant_plan.h"

namespace pocketlm::toolkit {

struct QuantizeProgress {
  size_t tensor = 0;  // index into the plan of the tensor being written
  size_t n_tensors = 0;
  const TensorPlan* plan = nullptr;
  uint64_t bytes_done = 0;  // input tensor bytes processed so far, all tensors
  uint64_t bytes_total = 0;
  bool tensor_done = false;  // the last report of this tensor
};

struct QuantizeOptions {
  PlanOptions plan;
  const Imatrix* imatrix = nullptr;
  std::string imatrix_path;  // recorded in the output's metadata
  int n_threads = 1;
  bool dry_run = false;  // plan and size only; nothing is written
  std::function<bool(const QuantizeProgress&)> progress;
};

struct QuantizeReport {
  std::vector<TensorPlan> plan;
  uint64_t n_elements = 0;  // all tensors
  uint64_t bytes_in = 0;    // tensor data of the input
  uint64_t bytes_out = 0;   // tensor data of the output
  uint64_t file_bytes = 0;  // the output file (0 for a dry run)
  size_t n_converted = 0;
  size_t n_with_importance = 0;  // converted to a quantized type with importance data
  std::vector<std::string> without_importance;  // quantized tensors the imatrix did not cover

  double bits_per_weight() const {
    return n_elements ? 8.0 * static_cast<double>(bytes_out) / static_cast<double>(n_elements) : 0;
  }
};

Result<QuantizeReport> quantize_model(const std::string& input, const std::string& output,
                                      const QuantizeOptions& options);

}  // namespace pocketlm::toolkit
