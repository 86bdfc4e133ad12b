// GgufValue: one GGUF metadata value (scalar, string, or array, arrays possibly nested).
//
// Usage:
//   GgufValue n = GgufValue::u32(32);
//   GgufValue tags = GgufValue::array(std::vector<std::string>{"a", "b"});
//   GgufValue scores = GgufValue::array(std::vector<float>{0.5f, -1.0f});
//   GgufValue nested = GgufValue::array(std::vector<GgufValue>{scores, tags});
//   if (std::optional<uint64_t> v = n.as_uint()) use(*v);
//   for (size_t i = 0; i < scores.size(); ++i) use(scores.scalar_at(i).as_float());
//
// Values own their data, so metadata read from one file can be handed to the writer of another
// (convert and quantize do exactly that). Scalar arrays are kept as their packed little-endian
// bytes, the same as on disk: a 262144-entry score table is one copy, not 262144 objects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "format/gguf_types.h"

namespace pocketlm {

class GgufValue {
 public:
  GgufValue() = default;  // uint8 0

  static GgufValue u8(uint8_t v) { return from_bits(GgufValueType::kUint8, v); }
  static GgufValue i8(int8_t v) { return from_bits(GgufValueType::kInt8, static_cast<uint8_t>(v)); }
  static GgufValue u16(uint16_t v) { return from_bits(GgufValueType::kUint16, v); }
  static GgufValue i16(int16_t v) {
    return from_bits(GgufValueType::kInt16, static_cast<uint16_t>(v));
  }
  static GgufValue u32(uint32_t v) { return from_bits(GgufValueType::kUint32, v); }
  static GgufValue i32(int32_t v) {
    return from_bits(GgufValueType::kInt32, static_cast<uint32_t>(v));
  }
  static GgufValue u64(uint64_t v) { return from_bits(GgufValueType::kUint64, v); }
  static GgufValue i64(int64_t v) {
    return from_bits(GgufValueType::kInt64, static_cast<uint64_t>(v));
  }
  static GgufValue f32(float v);
  static GgufValue f64(double v);
  static GgufValue boolean(bool v) { return from_bits(GgufValueType::kBool, v ? 1 : 0); }
  static GgufValue string(std::string v);

  // Arrays. The element type follows from the C++ type.
  static GgufValue array(const std::vector<uint8_t>& v);
  static GgufValue array(const std::vector<int8_t>& v);
  static GgufValue array(const std::vector<uint16_t>& v);
  static GgufValue array(const std::vector<int16_t>& v);
  static GgufValue array(const std::vector<uint32_t>& v);
  static GgufValue array(const std::vector<int32_t>& v);
  static GgufValue array(const std::vector<uint64_t>& v);
  static GgufValue array(const std::vector<int64_t>& v);
  static GgufValue array(const std::vector<float>& v);
  static GgufValue array(const std::vector<double>& v);
  static GgufValue array(const std::vector<bool>& v);
  static GgufValue array(std::vector<std::string> v);
  // An array of arrays; every element must itself be an array (the writer checks).
  static GgufValue array(std::vector<GgufValue> v);
  // A scalar array from its packed little-endian bytes (size must be a multiple of the element
  // size; the reader uses this to copy a file's array in one go).
  static GgufValue packed_array(GgufValueType element_type, std::vector<uint8_t> bytes);
  // A scalar from the raw bits of its little-endian encoding, zero-extended to 64 bits.
  static GgufValue from_bits(GgufValueType type, uint64_t bits);

  GgufValueType type() const { return type_; }
  bool is_array() const { return type_ == GgufValueType::kArray; }
  bool is_string() const { return type_ == GgufValueType::kString; }

  // Scalars. Integer accessors accept any integer type whose value fits the result, so a count
  // stored as int32 by one converter and uint32 by another reads the same; floats and bools are
  // never converted to or from integers.
  std::optional<uint64_t> as_uint() const;
  std::optional<int64_t> as_int() const;
  std::optional<double> as_float() const;  // float32 (widened exactly) or float64
  std::optional<bool> as_bool() const;
  const std::string* as_string() const { return is_string() ? &str_ : nullptr; }
  // Raw bits of a scalar (zero-extended little-endian encoding); 0 for strings and arrays.
  uint64_t bits() const { return bits_; }

  // Arrays; element_type() and size() are meaningless on non-arrays (kUint8 and 0).
  GgufValueType element_type() const { return element_type_; }
  size_t size() const;
  // Element i of a scalar array as a scalar value; i < size() and a scalar element type.
  GgufValue scalar_at(size_t i) const;
  const std::vector<uint8_t>& packed() const { return packed_; }        // scalar arrays
  const std::vector<std::string>& strings() const { return strings_; }  // string arrays
  const std::vector<GgufValue>& arrays() const { return arrays_; }      // arrays of arrays

  // Typed copies of a whole scalar array; nullopt unless the element type is exactly T's.
  std::optional<std::vector<float>> to_f32_vector() const;
  std::optional<std::vector<int32_t>> to_i32_vector() const;
  std::optional<std::vector<uint32_t>> to_u32_vector() const;

  // Appends the on-disk encoding of the value (without its leading type id) to `out`.
  void encode(std::vector<uint8_t>& out) const;
  // Bytes encode() would append.
  uint64_t encoded_size() const;

  // Bitwise equality (so NaN payloads and -0.0 compare exactly, as a round trip must keep them).
  friend bool operator==(const GgufValue& a, const GgufValue& b);

 private:
  GgufValueType type_ = GgufValueType::kUint8;
  uint64_t bits_ = 0;                                   // scalars
  std::string str_;                                     // strings
  GgufValueType element_type_ = GgufValueType::kUint8;  // arrays
  std::vector<uint8_t> packed_;                         // arrays of scalars
  std::vector<std::string> strings_;                    // arrays of strings
  std::vector<GgufValue> arrays_;                       // arrays of arrays
};

// One metadata entry as the reader found it or the writer will write it.
struct GgufKv {
  std::string key;
  GgufValue value;
  uint64_t file_offset = 0;  // reader: byte where the key's length field starts
};

}  // namespace pocketlm
