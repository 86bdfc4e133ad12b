// TensorPlan: which GGUF tensors a checkpoint becomes — names, shapes, output types, where each
// one's data comes from — decided and checked before a byte is written.
//
// Usage:
//   Result<TensorPlan> plan = plan_tensors(*fam, config, checkpoint, TensorType::kF16);
//   if (!plan.ok()) return plan.status();   // names the missing, unexpected or misshapen tensor
//   for (const PlannedTensor& t : plan->tensors) writer.add_tensor(t.name, t.type, t.ne);
//
// Every tensor the family expects is looked up with the shape the config implies, so a
// checkpoint that does not match its config.json is refused with the tensor's name; a tensor
// the family does not know is refused too, rather than silently dropped. Output types follow
// llama.cpp's converter: vectors and norm weights stay F32; matrices take the requested type,
// except Q8_0 for rows that are not a multiple of its 32-element block, which fall back to F16.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "format/safetensors.h"
#include "quant/types.h"
#include "toolkit/convert/families.h"

namespace pocketlm::convert {

struct PlannedTensor {
  std::string name;         // GGUF name
  std::vector<int64_t> ne;  // GGUF dimensions, contiguous one first
  TensorType type = TensorType::kF32;
  const SafetensorsTensor* source = nullptr;  // nullptr: generated (values below)
  // > 0: the rows form this many heads whose rows are reordered so that RoPE's pairs (i, i + d/2)
  // of each head become adjacent (2i, 2i + 1), for GGUF architectures that rotate adjacent pairs.
  int64_t permute_heads = 0;
  std::vector<float> values;  // data of a generated tensor

  int64_t row_length() const { return ne.empty() ? 1 : ne[0]; }
  int64_t n_rows() const;
};

struct TensorPlan {
  std::vector<PlannedTensor> tensors;
  std::vector<std::string> warnings;
};

Result<TensorPlan> plan_tensors(const ConvertFamily& fam, const HfConfig& config,
                                const SafetensorsCheckpoint& checkpoint, TensorType out_type);

// The type a tensor is written in, given the requested one (see the header comment).
TensorType output_type_for(const std::string& name, const std::vector<int64_t>& ne,
                           TensorType requested);

// llama3 RoPE: the divisor of each rotary frequency (head_dim / 2 of them), as the rope_freqs
// tensor carries it — 1 for short wavelengths, `factor` for long ones, a smooth blend between.
std::vector<float> llama3_rope_factors(const HfConfig& config, int64_t head_dim);

}  // namespace pocketlm::convert
