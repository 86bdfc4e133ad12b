// Quantization presets: the `--type` names of `pocketlm quantize` and what each one means.
//
// Usage:
//   std::optional<QuantPreset> p = preset_from_name("Q4_K_M");       // case-insensitive
//   const PresetInfo& info = preset_info(*p);                        // base type, file type id
//
// A preset names a base tensor type; the mixed ones (_S, _M) give some tensors more bits (see
// quant_plan.h). `file_type` is the value written to general.file_type, llama.cpp's ftype ids,
// so other readers label the file the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "quant/types.h"

namespace pocketlm::toolkit {

enum class QuantPreset : int {
  kF32,
  kF16,
  kBF16,
  kQ4_0,
  kQ4_1,
  kQ5_0,
  kQ5_1,
  kQ8_0,
  kQ2_K,
  kQ3_K_M,
  kQ4_K_S,
  kQ4_K_M,
  kQ5_K_M,
  kQ6_K,
};

struct PresetInfo {
  QuantPreset preset;
  const char* name;    // "Q4_K_M"
  TensorType base;     // the type most weights get
  uint32_t file_type;  // general.file_type
  const char* summary;
};

std::span<const PresetInfo> all_presets();
const PresetInfo& preset_info(QuantPreset p);
std::optional<QuantPreset> preset_from_name(std::string_view name);
// True for F32, F16, BF16: every weight is converted, nothing is quantized.
bool is_float_preset(QuantPreset p);

}  // namespace pocketlm::toolkit
