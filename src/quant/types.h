// Tensor element types and the one traits table that describes them.
//
// Usage:
//   const TypeTraits& t = type_traits(TensorType::kQ4_K);
//   size_t bytes = row_size(TensorType::kQ4_K, n_cols);      // bytes of one row
//   t.to_float(row_ptr, out_f32, n_cols);                    // dequantize
//
// Ids are the GGUF/ggml type ids, so a tensor's type field maps straight onto TensorType. The
// table also knows the sizes of ggml types we cannot compute with (IQ*, integer types), so files
// that contain them still open and list; such types have no to_float.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace pocketlm {

enum class TensorType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
};

inline constexpr uint32_t kTensorTypeIdLimit = 64;  // ids at or above this are rejected outright

using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);

struct TypeTraits {
  TensorType type;
  const char* name;     // as ggml names it: "q4_K", "f16", ...
  int64_t block_size;   // elements per block (1 for plain types)
  size_t type_size;     // bytes per block
  bool is_quantized;
  ToFloatFn to_float;      // null where we cannot dequantize this type
  FromFloatFn from_float;  // null where we have no quantizer (yet) for it
  // The activation type that dot products of this weight type pair with, as llama.cpp pairs them
  // (Q4_1/Q5_1 -> Q8_1, K-quants -> Q8_K, Q4_0/Q5_0/Q8_0 -> Q8_0, F16 -> F16, ...).
  TensorType vec_dot_type;
};

// nullptr for ids that are not ggml types at all.
const TypeTraits* find_type_traits(uint32_t type_id);
// For a known-valid TensorType.
const TypeTraits& type_traits(TensorType t);
std::optional<TensorType> tensor_type_from_name(std::string_view name);  // case-insensitive

// Bytes of `n` elements; n must be a multiple of the block size.
inline size_t row_size(TensorType t, int64_t n) {
  const TypeTraits& tr = type_traits(t);
  return static_cast<size_t>(n / tr.block_size) * tr.type_size;
}

}  // namespace pocketlm
