#include "format/gguf_value.h"

#include <bit>
#include <cstring>
#include <limits>
#include <utility>

namespace pocketlm {

// The packed arrays and scalar bits are the file's little-endian bytes used in place.
static_assert(std::endian::native == std::endian::little, "pocketlm supports little-endian hosts");

const char* gguf_value_type_name(GgufValueType t) {
  switch (t) {
    case GgufValueType::kUint8:
      return "uint8";
    case GgufValueType::kInt8:
      return "int8";
    case GgufValueType::kUint16:
      return "uint16";
    case GgufValueType::kInt16:
      return "int16";
    case GgufValueType::kUint32:
      return "uint32";
    case GgufValueType::kInt32:
      return "int32";
    case GgufValueType::kFloat32:
      return "float32";
    case GgufValueType::kBool:
      return "bool";
    case GgufValueType::kString:
      return "string";
    case GgufValueType::kArray:
      return "array";
    case GgufValueType::kUint64:
      return "uint64";
    case GgufValueType::kInt64:
      return "int64";
    case GgufValueType::kFloat64:
      return "float64";
  }
  return "?";
}

namespace {

template <typename T>
GgufValue pack(GgufValueType element_type, const std::vector<T>& v) {
  std::vector<uint8_t> bytes(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(bytes.data(), v.data(), bytes.size());
  return GgufValue::packed_array(element_type, std::move(bytes));
}

template <typename T>
std::optional<std::vector<T>> unpack(const GgufValue& v, GgufValueType want) {
  if (!v.is_array() || v.element_type() != want) return std::nullopt;
  std::vector<T> out(v.packed().size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), v.packed().data(), out.size() * sizeof(T));
  return out;
}

// Sign-extends the low `bytes` bytes of `bits`.
int64_t sign_extend(uint64_t bits, size_t bytes) {
  if (bytes >= 8) return static_cast<int64_t>(bits);
  unsigned shift = static_cast<unsigned>(64 - 8 * bytes);
  return static_cast<int64_t>(bits << shift) >> shift;
}

// resize + memcpy rather than insert(): GCC 12 misreports small inserts as overflows.
void put_bytes(std::vector<uint8_t>& out, const void* p, size_t n) {
  if (n == 0) return;
  size_t at = out.size();
  out.resize(at + n);
  std::memcpy(out.data() + at, p, n);
}

void put_u32(std::vector<uint8_t>& out, uint32_t v) { put_bytes(out, &v, 4); }
void put_u64(std::vector<uint8_t>& out, uint64_t v) { put_bytes(out, &v, 8); }

void put_string(std::vector<uint8_t>& out, const std::string& s) {
  put_u64(out, s.size());
  put_bytes(out, s.data(), s.size());
}

}  // namespace

GgufValue GgufValue::from_bits(GgufValueType type, uint64_t bits) {
  GgufValue v;
  v.type_ = type;
  size_t n = gguf_scalar_size(type);
  v.bits_ = n >= 8 ? bits : bits & ((uint64_t{1} << (8 * n)) - 1);
  if (type == GgufValueType::kBool) v.bits_ = v.bits_ != 0;
  return v;
}

GgufValue GgufValue::f32(float f) {
  return from_bits(GgufValueType::kFloat32, std::bit_cast<uint32_t>(f));
}

GgufValue GgufValue::f64(double f) {
  return from_bits(GgufValueType::kFloat64, std::bit_cast<uint64_t>(f));
}

GgufValue GgufValue::string(std::string s) {
  GgufValue v;
  v.type_ = GgufValueType::kString;
  v.str_ = std::move(s);
  return v;
}

GgufValue GgufValue::array(const std::vector<uint8_t>& v) { return pack(GgufValueType::kUint8, v); }
GgufValue GgufValue::array(const std::vector<int8_t>& v) { return pack(GgufValueType::kInt8, v); }
GgufValue GgufValue::array(const std::vector<uint16_t>& v) {
  return pack(GgufValueType::kUint16, v);
}
GgufValue GgufValue::array(const std::vector<int16_t>& v) { return pack(GgufValueType::kInt16, v); }
GgufValue GgufValue::array(const std::vector<uint32_t>& v) {
  return pack(GgufValueType::kUint32, v);
}
GgufValue GgufValue::array(const std::vector<int32_t>& v) { return pack(GgufValueType::kInt32, v); }
GgufValue GgufValue::array(const std::vector<uint64_t>& v) {
  return pack(GgufValueType::kUint64, v);
}
GgufValue GgufValue::array(const std::vector<int64_t>& v) { return pack(GgufValueType::kInt64, v); }
GgufValue GgufValue::array(const std::vector<float>& v) { return pack(GgufValueType::kFloat32, v); }
GgufValue GgufValue::array(const std::vector<double>& v) {
  return pack(GgufValueType::kFloat64, v);
}

GgufValue GgufValue::array(const std::vector<bool>& v) {
  std::vector<uint8_t> bytes(v.size());
  for (size_t i = 0; i < v.size(); ++i) bytes[i] = v[i] ? 1 : 0;
  return packed_array(GgufValueType::kBool, std::move(bytes));
}

GgufValue GgufValue::array(std::vector<std::string> v) {
  GgufValue a;
  a.type_ = GgufValueType::kArray;
  a.element_type_ = GgufValueType::kString;
  a.strings_ = std::move(v);
  return a;
}

GgufValue GgufValue::array(std::vector<GgufValue> v) {
  GgufValue a;
  a.type_ = GgufValueType::kArray;
  a.element_type_ = GgufValueType::kArray;
  a.arrays_ = std::move(v);
  return a;
}

GgufValue GgufValue::packed_array(GgufValueType element_type, std::vector<uint8_t> bytes) {
  GgufValue a;
  a.type_ = GgufValueType::kArray;
  a.element_type_ = element_type;
  a.packed_ = std::move(bytes);
  return a;
}

std::optional<uint64_t> GgufValue::as_uint() const {
  if (!gguf_is_integer(type_)) return std::nullopt;
  if (gguf_is_signed(type_)) {
    int64_t s = sign_extend(bits_, gguf_scalar_size(type_));
    if (s < 0) return std::nullopt;
    return static_cast<uint64_t>(s);
  }
  return bits_;
}

std::optional<int64_t> GgufValue::as_int() const {
  if (!gguf_is_integer(type_)) return std::nullopt;
  if (gguf_is_signed(type_)) return sign_extend(bits_, gguf_scalar_size(type_));
  if (bits_ > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(bits_);
}

std::optional<double> GgufValue::as_float() const {
  if (type_ == GgufValueType::kFloat32) {
    return static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(bits_)));
  }
  if (type_ == GgufValueType::kFloat64) return std::bit_cast<double>(bits_);
  return std::nullopt;
}

std::optional<bool> GgufValue::as_bool() const {
  if (type_ != GgufValueType::kBool) return std::nullopt;
  return bits_ != 0;
}

size_t GgufValue::size() const {
  if (!is_array()) return 0;
  if (element_type_ == GgufValueType::kString) return strings_.size();
  if (element_type_ == GgufValueType::kArray) return arrays_.size();
  return packed_.size() / gguf_scalar_size(element_type_);
}

GgufValue GgufValue::scalar_at(size_t i) const {
  size_t n = gguf_scalar_size(element_type_);
  uint64_t bits = 0;
  std::memcpy(&bits, packed_.data() + i * n, n);
  return from_bits(element_type_, bits);
}

std::optional<std::vector<float>> GgufValue::to_f32_vector() const {
  return unpack<float>(*this, GgufValueType::kFloat32);
}
std::optional<std::vector<int32_t>> GgufValue::to_i32_vector() const {
  return unpack<int32_t>(*this, GgufValueType::kInt32);
}
std::optional<std::vector<uint32_t>> GgufValue::to_u32_vector() const {
  return unpack<uint32_t>(*this, GgufValueType::kUint32);
}

void GgufValue::encode(std::vector<uint8_t>& out) const {
  switch (type_) {
    case GgufValueType::kString:
      put_string(out, str_);
      return;
    case GgufValueType::kArray:
      put_u32(out, static_cast<uint32_t>(element_type_));
      put_u64(out, size());
      if (element_type_ == GgufValueType::kString) {
        for (const std::string& s : strings_) put_string(out, s);
      } else if (element_type_ == GgufValueType::kArray) {
        for (const GgufValue& a : arrays_) a.encode(out);
      } else {
        put_bytes(out, packed_.data(), packed_.size());
      }
      return;
    default: {
      put_bytes(out, &bits_, gguf_scalar_size(type_));
      return;
    }
  }
}

uint64_t GgufValue::encoded_size() const {
  switch (type_) {
    case GgufValueType::kString:
      return 8 + str_.size();
    case GgufValueType::kArray: {
      uint64_t n = 12;
      if (element_type_ == GgufValueType::kString) {
        for (const std::string& s : strings_) n += 8 + s.size();
      } else if (element_type_ == GgufValueType::kArray) {
        for (const GgufValue& a : arrays_) n += a.encoded_size();
      } else {
        n += packed_.size();
      }
      return n;
    }
    default:
      return gguf_scalar_size(type_);
  }
}

bool operator==(const GgufValue& a, const GgufValue& b) {
  if (a.type_ != b.type_) return false;
  if (a.type_ == GgufValueType::kString) return a.str_ == b.str_;
  if (a.type_ != GgufValueType::kArray) return a.bits_ == b.bits_;
  return a.element_type_ == b.element_type_ && a.packed_ == b.packed_ && a.strings_ == b.strings_ &&
         a.arrays_ == b.arrays_;
}

}  // namespace pocketlm
