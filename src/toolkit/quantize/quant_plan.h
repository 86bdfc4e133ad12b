// The quantization plan: which type each tensor of a model gets.
//
// Usage:
//   PlanOptions o;
//   o.preset = QuantPreset::kQ4_K_M;
//   o.overrides.push_back(*parse_type_override("attn_v=q8_0"));
//   Result<std::vector<TensorPlan>> plan = plan_quantization(file, o);
//   for (const TensorPlan& t : *plan) print(t.name, type_traits(t.to).name, t.why);
//
// The mixed presets follow llama.cpp's rules, so a file of a given preset has the same tensor
// types (and size) whichever tool made it:
//   - the output head (or the token embedding when they are tied) gets Q6_K, or Q8_0 when its
//     rows do not divide into 256-blocks;
//   - attn_v: Q2_K -> Q3_K (Q4_K with 4+ query heads per KV head); Q3_K_M -> Q5_K for the first
//     two layers, Q4_K after; Q4_K_M/Q5_K_M -> Q6_K on "more bits" layers (the first and last
//     eighth and every third in between); Q4_K_S -> Q5_K for the first four;
//   - ffn_down: Q2_K -> Q3_K; Q3_K_M -> Q5_K in the first 1/16 of layers, Q4_K after;
//     Q4_K_M/Q5_K_M -> Q6_K on "more bits" layers; Q4_K_S -> Q5_K in the first eighth;
//   - attn_output: Q2_K -> Q3_K; Q3_K_M -> Q4_K;
//   - a K-quant chosen for a tensor whose rows are not a multiple of 256 falls back to the 32-block
//     type of about the same size (Q2_K/Q3_K -> Q4_0, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0),
//     and a tensor whose rows are not even a multiple of 32 stays F16.
// Only 2-D (or larger) tensors named *weight are quantized, never norms; everything else is copied.
// A tensor already of its planned type is copied byte for byte.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "format/gguf_reader.h"
#include "quant/types.h"
#include "toolkit/quantize/name_pattern.h"
#include "toolkit/quantize/quant_preset.h"

namespace pocketlm::toolkit {

// `--tensor-type REGEX=TYPE`: tensors whose name the regex matches (anywhere, ECMAScript) get TYPE.
struct TypeOverride {
  std::string pattern;
  NamePattern regex;
  TensorType type = TensorType::kF32;
};

// Parses "REGEX=TYPE" (the last '=' splits); errors name what is wrong.
Result<TypeOverride> parse_type_override(const std::string& spec);
// A weight type the quantizer writes ("q4_K", "Q8_0", "f16", ...), or an error naming the choices.
Result<TensorType> parse_weight_type(const std::string& name);

struct PlanOptions {
  QuantPreset preset = QuantPreset::kQ8_0;
  std::vector<TypeOverride> overrides;    // first match wins; rows that do not fit fall back
  std::optional<TensorType> output_type;  // output.weight (and a tied token embedding)
  std::optional<TensorType> embd_type;    // token_embd.weight
  bool allow_requantize = false;          // quantized input tensors may be re-quantized
};

struct TensorPlan {
  size_t index = 0;  // in the input file's tensor table
  std::string name;
  TensorType from = TensorType::kF32;
  TensorType to = TensorType::kF32;
  bool convert = false;  // false: the bytes are copied unchanged
  std::string why;       // how `to` was chosen, for --dry-run listings ("preset", "fallback ...")
};

Result<std::vector<TensorPlan>> plan_quantization(const GgufFile& file, const PlanOptions& o);

}  // namespace pocketlm::toolkit
