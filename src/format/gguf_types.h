// GGUF on-disk constants: magic, versions, alignment, metadata value type ids, limits.
//
// Usage:
//   if (auto t = gguf_value_type_from_id(raw)) { size_t n = gguf_scalar_size(*t); ... }
//   const char* name = gguf_value_type_name(GgufValueType::kUint32);   // "uint32"
//
// File layout (all little-endian; v2 and v3 share it, v3 only added big-endian variants, which
// we reject; v1 used 32-bit counts and is rejected):
//   magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//   n_kv x { string key | u32 value_type | value }
//   n_tensors x { string name | u32 n_dims | u64 ne[n_dims] | u32 tensor_type | u64 offset }
//   padding to `alignment` | tensor data (each tensor at data_start + offset, offset aligned)
// where string = u64 length + bytes (no terminator) and an array value =
// u32 element_type | u64 count | count x element (an element of type array is itself an array
// value: type, count, elements).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace pocketlm {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian u32
inline constexpr uint32_t kGgufVersion = 3;         // the version we write
inline constexpr uint32_t kGgufMinReadVersion = 2;
inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr const char* kGgufAlignmentKey = "general.alignment";
// ggml tensors have at most 4 dimensions; more in a file means corruption, not a feature.
inline constexpr uint32_t kGgufMaxDims = 4;
// Nested arrays are legal but nobody nests deeply; the cap keeps the recursive parser's stack
// bounded on hostile input.
inline constexpr int kGgufMaxArrayDepth = 16;

enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

inline constexpr uint32_t kGgufValueTypeCount = 13;

inline std::optional<GgufValueType> gguf_value_type_from_id(uint32_t id) {
  if (id >= kGgufValueTypeCount) return std::nullopt;
  return static_cast<GgufValueType>(id);
}

// "uint8", "int8", ..., "string", "array", "float64" (the names the JSON output uses).
const char* gguf_value_type_name(GgufValueType t);

// Bytes of one scalar value on disk; 0 for string and array (variable size).
inline constexpr size_t gguf_scalar_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32:
      return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
      return 8;
    case GgufValueType::kString:
    case GgufValueType::kArray:
      return 0;
  }
  return 0;
}

// The fewest bytes one element of this type can occupy on disk: what a claimed element count is
// checked against before anything is allocated for it.
inline constexpr size_t gguf_min_encoded_size(GgufValueType t) {
  if (t == GgufValueType::kString) return 8;  // u64 length, empty string
  if (t == GgufValueType::kArray) return 12;  // u32 element type + u64 count, empty array
  return gguf_scalar_size(t);
}

inline constexpr bool gguf_is_integer(GgufValueType t) {
  switch (t) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
      return true;
    default:
      return false;
  }
}

inline constexpr bool gguf_is_signed(GgufValueType t) {
  return t == GgufValueType::kInt8 || t == GgufValueType::kInt16 || t == GgufValueType::kInt32 ||
         t == GgufValueType::kInt64;
}

inline constexpr bool gguf_is_float(GgufValueType t) {
  return t == GgufValueType::kFloat32 || t == GgufValueType::kFloat64;
}

}  // namespace pocketlm
