#include "quant/types.h"

#include <array>
#include <cctype>

#include "quant/quants.h"

namespace pocketlm {
namespace {

using T = TensorType;

// Sizes follow ggml's type table. One deliberate difference from the `gguf` Python package: it
// still lists Q8_1 as 40 bytes (from when d and s were floats); ggml's block is 36 bytes.
constexpr TypeTraits kTraits[] = {
    {T::kF32, "f32", 1, 4, false, dequantize_row_f32, quantize_row_f32, T::kF32},
    {T::kF16, "f16", 1, 2, false, dequantize_row_f16, quantize_row_f16, T::kF16},
    {T::kQ4_0, "q4_0", 32, 18, true, dequantize_row_q4_0, quantize_row_q4_0, T::kQ8_0},
    {T::kQ4_1, "q4_1", 32, 20, true, dequantize_row_q4_1, quantize_row_q4_1, T::kQ8_1},
    {T::kQ5_0, "q5_0", 32, 22, true, dequantize_row_q5_0, quantize_row_q5_0, T::kQ8_0},
    {T::kQ5_1, "q5_1", 32, 24, true, dequantize_row_q5_1, quantize_row_q5_1, T::kQ8_1},
    {T::kQ8_0, "q8_0", 32, 34, true, dequantize_row_q8_0, quantize_row_q8_0, T::kQ8_0},
    {T::kQ8_1, "q8_1", 32, 36, true, dequantize_row_q8_1, quantize_row_q8_1, T::kQ8_1},
    {T::kQ2_K, "q2_K", 256, 84, true, dequantize_row_q2_K, nullptr, T::kQ8_K},
    {T::kQ3_K, "q3_K", 256, 110, true, dequantize_row_q3_K, nullptr, T::kQ8_K},
    {T::kQ4_K, "q4_K", 256, 144, true, dequantize_row_q4_K, nullptr, T::kQ8_K},
    {T::kQ5_K, "q5_K", 256, 176, true, dequantize_row_q5_K, nullptr, T::kQ8_K},
    {T::kQ6_K, "q6_K", 256, 210, true, dequantize_row_q6_K, nullptr, T::kQ8_K},
    {T::kQ8_K, "q8_K", 256, 292, true, dequantize_row_q8_K, quantize_row_q8_K, T::kQ8_K},
    {T::kIQ2_XXS, "iq2_xxs", 256, 66, true, nullptr, nullptr, T::kIQ2_XXS},
    {T::kIQ2_XS, "iq2_xs", 256, 74, true, nullptr, nullptr, T::kIQ2_XS},
    {T::kIQ3_XXS, "iq3_xxs", 256, 98, true, nullptr, nullptr, T::kIQ3_XXS},
    {T::kIQ1_S, "iq1_s", 256, 50, true, nullptr, nullptr, T::kIQ1_S},
    {T::kIQ4_NL, "iq4_nl", 32, 18, true, nullptr, nullptr, T::kIQ4_NL},
    {T::kIQ3_S, "iq3_s", 256, 110, true, nullptr, nullptr, T::kIQ3_S},
    {T::kIQ2_S, "iq2_s", 256, 82, true, nullptr, nullptr, T::kIQ2_S},
    {T::kIQ4_XS, "iq4_xs", 256, 136, true, nullptr, nullptr, T::kIQ4_XS},
    {T::kI8, "i8", 1, 1, false, nullptr, nullptr, T::kI8},
    {T::kI16, "i16", 1, 2, false, nullptr, nullptr, T::kI16},
    {T::kI32, "i32", 1, 4, false, nullptr, nullptr, T::kI32},
    {T::kI64, "i64", 1, 8, false, nullptr, nullptr, T::kI64},
    {T::kF64, "f64", 1, 8, false, nullptr, nullptr, T::kF64},
    {T::kIQ1_M, "iq1_m", 256, 56, true, nullptr, nullptr, T::kIQ1_M},
    {T::kBF16, "bf16", 1, 2, false, dequantize_row_bf16, quantize_row_bf16, T::kBF16},
    {T::kTQ1_0, "tq1_0", 256, 54, true, nullptr, nullptr, T::kTQ1_0},
    {T::kTQ2_0, "tq2_0", 256, 66, true, nullptr, nullptr, T::kTQ2_0},
    {T::kMXFP4, "mxfp4", 32, 17, true, nullptr, nullptr, T::kMXFP4},
};

constexpr std::array<int8_t, kTensorTypeIdLimit> make_index() {
  std::array<int8_t, kTensorTypeIdLimit> idx{};
  for (auto& v : idx) v = -1;
  for (size_t i = 0; i < std::size(kTraits); ++i) {
    idx[static_cast<uint32_t>(kTraits[i].type)] = static_cast<int8_t>(i);
  }
  return idx;
}
constexpr auto kIndex = make_index();

}  // namespace

const TypeTraits* find_type_traits(uint32_t type_id) {
  if (type_id >= kTensorTypeIdLimit || kIndex[type_id] < 0) return nullptr;
  return &kTraits[kIndex[type_id]];
}

const TypeTraits& type_traits(TensorType t) { return *find_type_traits(static_cast<uint32_t>(t)); }

std::optional<TensorType> tensor_type_from_name(std::string_view name) {
  for (const TypeTraits& tr : kTraits) {
    std::string_view n(tr.name);
    if (n.size() != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < n.size() && eq; ++i) {
      eq = std::tolower(static_cast<unsigned char>(n[i])) ==
           std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (eq) return tr.type;
  }
  return std::nullopt;
}

}  // namespace pocketlm
