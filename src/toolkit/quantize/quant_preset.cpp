#include "toolkit/quantize/quant_preset.h"

#include <cctype>

namespace pocketlm::toolkit {
namespace {

using P = QuantPreset;
using T = TensorType;

constexpr PresetInfo kPresets[] = {
    {P::kF32, "F32", T::kF32, 0, "32-bit float: every tensor dequantized (the reference)"},
    {P::kF16, "F16", T::kF16, 1, "16-bit float"},
    {P::kBF16, "BF16", T::kBF16, 32, "bfloat16"},
    {P::kQ4_0, "Q4_0", T::kQ4_0, 2, "4-bit, scale per 32 (4.5 bpw)"},
    {P::kQ4_1, "Q4_1", T::kQ4_1, 3, "4-bit, scale and min per 32 (5.0 bpw)"},
    {P::kQ5_0, "Q5_0", T::kQ5_0, 8, "5-bit, scale per 32 (5.5 bpw)"},
    {P::kQ5_1, "Q5_1", T::kQ5_1, 9, "5-bit, scale and min per 32 (6.0 bpw)"},
    {P::kQ8_0, "Q8_0", T::kQ8_0, 7, "8-bit, scale per 32 (8.5 bpw)"},
    {P::kQ2_K, "Q2_K", T::kQ2_K, 10, "2-bit K-quant, attn_v/attn_output/ffn_down at 3 bits"},
    {P::kQ3_K_M, "Q3_K_M", T::kQ3_K, 12, "3-bit K-quant mix, critical tensors at 4-5 bits"},
    {P::kQ4_K_S, "Q4_K_S", T::kQ4_K, 14, "4-bit K-quant, first layers' attn_v/ffn_down at 5 bits"},
    {P::kQ4_K_M, "Q4_K_M", T::kQ4_K, 15, "4-bit K-quant mix, half of attn_v/ffn_down at 6 bits"},
    {P::kQ5_K_M, "Q5_K_M", T::kQ5_K, 17, "5-bit K-quant mix, half of attn_v/ffn_down at 6 bits"},
    {P::kQ6_K, "Q6_K", T::kQ6_K, 18, "6-bit K-quant (6.56 bpw)"},
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::span<const PresetInfo> all_presets() { return kPresets; }

const PresetInfo& preset_info(QuantPreset p) { return kPresets[static_cast<int>(p)]; }

std::optional<QuantPreset> preset_from_name(std::string_view name) {
  for (const PresetInfo& p : kPresets) {
    if (iequals(p.name, name)) return p.preset;
  }
  return std::nullopt;
}

bool is_float_preset(QuantPreset p) { return p == P::kF32 || p == P::kF16 || p == P::kBF16; }

}  // namespace pocketlm::toolkit
