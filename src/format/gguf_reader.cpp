#include "format/gguf_reader.h"

#include <cctype>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

namespace pocketlm {
namespace {

using ull = unsigned long long;

// Keys and tensor names come from the file: in messages they are cut short and escaped so one
// error stays one readable line whatever bytes the file holds.
std::string printable(std::string_view s) {
  constexpr size_t kMax = 80;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      out += strfmt("\\x%02x", c);
    }
  }
  if (s.size() > kMax) out += strfmt("...(%llu bytes)", static_cast<ull>(s.size()));
  return out;
}

}  // namespace

// Parses one GGUF image. Every read goes through need(), which checks the bytes that remain
// before touching them; every count is compared with the bytes that remain before anything is
// reserved for it. Errors carry the section (header / key #i / tensor #i), the field and the
// byte offset.
class GgufParser {
 public:
  GgufParser(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}

  Status parse(GgufFile& f) {
    PLM_RETURN_IF_ERROR(parse_header(f));
    PLM_RETURN_IF_ERROR(parse_metadata(f));
    PLM_RETURN_IF_ERROR(parse_alignment(f));
    PLM_RETURN_IF_ERROR(parse_tensor_infos(f));
    return place_tensors(f);
  }

 private:
  enum class Section { kHeader, kKv, kTensor };

  uint64_t remaining() const { return size_ - pos_; }

  std::string where() const {
    std::string s;
    switch (section_) {
      case Section::kHeader:
        return "gguf: header: ";
      case Section::kKv:
        s = strfmt("gguf: metadata key #%llu", static_cast<ull>(index_));
        if (name_ != nullptr) s += " '" + printable(*name_) + "'";
        for (int d = 0; d < depth_; ++d) s += strfmt("[%llu]", static_cast<ull>(path_[d]));
        return s + ": ";
      case Section::kTensor:
        if (name_ != nullptr) {
          return "gguf: tensor '" + printable(*name_) +
                 strfmt("' (#%llu): ", static_cast<ull>(index_));
        }
        return strfmt("gguf: tensor #%llu: ", static_cast<ull>(index_));
    }
    return "gguf: ";
  }

  Status fail(const std::string& what) const { return malformed(where() + what); }

  Status need(uint64_t n, const char* field) const {
    if (n <= remaining()) return Status::ok_status();
    return fail(strfmt("%s at byte %llu needs %llu bytes, but only %llu remain (file size %llu)",
                       field, static_cast<ull>(pos_), static_cast<ull>(n),
                       static_cast<ull>(remaining()), static_cast<ull>(size_)));
  }

  template <typename T>
  Status read(T* out, const char* field) {
    PLM_RETURN_IF_ERROR(need(sizeof(T), field));
    std::memcpy(out, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::ok_status();
  }

  Status read_string(std::string* out, const char* field) {
    uint64_t at = pos_;
    uint64_t len = 0;
    PLM_RETURN_IF_ERROR(read(&len, field));
    if (len > remaining()) {
      return fail(strfmt("%s length %llu at byte %llu exceeds remaining %llu bytes", field,
                         static_cast<ull>(len), static_cast<ull>(at),
                         static_cast<ull>(remaining())));
    }
    out->assign(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(len));
    pos_ += len;
    return Status::ok_status();
  }

  // A claimed element count must fit the bytes that remain at the smallest possible element
  // size, which bounds every allocation by the file size.
  Status check_count(uint64_t count, uint64_t min_size, uint64_t at, const char* what) const {
    if (min_size == 0 || count <= remaining() / min_size) return Status::ok_status();
    return fail(
        strfmt("%s %llu at byte %llu needs at least %llu bytes per item, but only %llu "
               "bytes remain",
               what, static_cast<ull>(count), static_cast<ull>(at), static_cast<ull>(min_size),
               static_cast<ull>(remaining())));
  }

  Status read_value_type(GgufValueType* out, const char* field) {
    uint64_t at = pos_;
    uint32_t id = 0;
    PLM_RETURN_IF_ERROR(read(&id, field));
    std::optional<GgufValueType> t = gguf_value_type_from_id(id);
    if (!t) {
      return fail(strfmt("%s %u at byte %llu is not a GGUF value type (0..%u)", field, id,
                         static_cast<ull>(at), kGgufValueTypeCount - 1));
    }
    *out = *t;
    return Status::ok_status();
  }

  Status parse_header(GgufFile& f) {
    section_ = Section::kHeader;
    uint32_t magic = 0;
    PLM_RETURN_IF_ERROR(read(&magic, "magic"));
    if (magic != kGgufMagic) {
      std::string shown = printable(std::string_view(reinterpret_cast<const char*>(data_), 4));
      return fail(
          strfmt("not a GGUF file: magic at byte 0 is '%s', expected 'GGUF'", shown.c_str()));
    }
    uint32_t version = 0;
    PLM_RETURN_IF_ERROR(read(&version, "version"));
    if ((version & 0xffffu) == 0 && version != 0) {
      // A small version number written in the other byte order: a big-endian file.
      return Status(StatusCode::kUnsupported,
                    where() + strfmt("big-endian GGUF files are not supported (version field at "
                                     "byte 4 reads 0x%08x, byte-swapped %u)",
                                     version, __builtin_bswap32(version)));
    }
    if (version == 1) {
      return Status(StatusCode::kUnsupported,
                    where() +
                        "GGUF version 1 (at byte 4) is not supported; re-convert the model "
                        "to GGUF v3");
    }
    if (version < kGgufMinReadVersion || version > kGgufVersion) {
      return Status(
          StatusCode::kUnsupported,
          where() + strfmt("GGUF version %u (at byte 4) is not supported (2 and 3 are)", version));
    }
    f.version_ = version;
    PLM_RETURN_IF_ERROR(read(&n_tensors_, "tensor count"));
    uint64_t kv_at = pos_;
    PLM_RETURN_IF_ERROR(read(&n_kv_, "metadata key count"));
    // The smallest key/value is an empty key (8 bytes), a type id (4) and a uint8 value (1).
    return check_count(n_kv_, 13, kv_at, "metadata key count");
  }

  Status parse_value(GgufValueType type, GgufValue* out) {
    switch (type) {
      case GgufValueType::kString: {
        std::string s;
        PLM_RETURN_IF_ERROR(read_string(&s, "string"));
        *out = GgufValue::string(std::move(s));
        return Status::ok_status();
      }
      case GgufValueType::kArray:
        return parse_array(out);
      default: {
        size_t n = gguf_scalar_size(type);
        PLM_RETURN_IF_ERROR(need(n, gguf_value_type_name(type)));
        uint64_t bits = 0;
        std::memcpy(&bits, data_ + pos_, n);
        pos_ += n;
        *out = GgufValue::from_bits(type, bits);
        return Status::ok_status();
      }
    }
  }

  Status parse_array(GgufValue* out) {
    if (depth_ >= kGgufMaxArrayDepth) {
      return fail(strfmt("arrays nested deeper than %d levels at byte %llu", kGgufMaxArrayDepth,
                         static_cast<ull>(pos_)));
    }
    GgufValueType elem{};
    PLM_RETURN_IF_ERROR(read_value_type(&elem, "array element type"));
    uint64_t count_at = pos_;
    uint64_t count = 0;
    PLM_RETURN_IF_ERROR(read(&count, "array count"));
    PLM_RETURN_IF_ERROR(check_count(count, gguf_min_encoded_size(elem), count_at, "array count"));

    if (elem == GgufValueType::kString) {
      std::vector<std::string> items(static_cast<size_t>(count));
      ++depth_;
      for (uint64_t i = 0; i < count; ++i) {
        path_[depth_ - 1] = i;
        PLM_RETURN_IF_ERROR(read_string(&items[i], "string"));
      }
      --depth_;
      *out = GgufValue::array(std::move(items));
      return Status::ok_status();
    }
    if (elem == GgufValueType::kArray) {
      std::vector<GgufValue> items(static_cast<size_t>(count));
      ++depth_;
      for (uint64_t i = 0; i < count; ++i) {
        path_[depth_ - 1] = i;
        PLM_RETURN_IF_ERROR(parse_array(&items[i]));
      }
      --depth_;
      *out = GgufValue::array(std::move(items));
      return Status::ok_status();
    }
    // check_count() already proved count * size <= remaining.
    uint64_t n = count * gguf_scalar_size(elem);
    std::vector<uint8_t> bytes(data_ + pos_, data_ + pos_ + n);
    pos_ += n;
    *out = GgufValue::packed_array(elem, std::move(bytes));
    return Status::ok_status();
  }

  Status parse_metadata(GgufFile& f) {
    section_ = Section::kKv;
    f.kvs_.reserve(static_cast<size_t>(n_kv_));
    f.kv_index_.reserve(static_cast<size_t>(n_kv_));
    for (uint64_t i = 0; i < n_kv_; ++i) {
      index_ = i;
      name_ = nullptr;
      GgufKv kv;
      kv.file_offset = pos_;
      PLM_RETURN_IF_ERROR(read_string(&kv.key, "key"));
      name_ = &kv.key;
      GgufValueType type{};
      PLM_RETURN_IF_ERROR(read_value_type(&type, "value type"));
      PLM_RETURN_IF_ERROR(parse_value(type, &kv.value));
      auto [it, inserted] = f.kv_index_.try_emplace(kv.key, f.kvs_.size());
      if (!inserted) {
        return fail(strfmt("key at byte %llu duplicates key #%llu",
                           static_cast<ull>(kv.file_offset), static_cast<ull>(it->second)));
      }
      f.kvs_.push_back(std::move(kv));
    }
    name_ = nullptr;
    return Status::ok_status();
  }

  Status parse_alignment(GgufFile& f) {
    const GgufValue* v = f.find(kGgufAlignmentKey);
    if (v == nullptr) return Status::ok_status();
    section_ = Section::kKv;
    index_ = f.kv_index_.find(std::string_view(kGgufAlignmentKey))->second;
    name_ = &f.kvs_[index_].key;
    if (v->type() != GgufValueType::kUint32) {
      return fail(strfmt("has type %s at byte %llu, expected uint32",
                         gguf_value_type_name(v->type()),
                         static_cast<ull>(f.kvs_[index_].file_offset)));
    }
    uint64_t a = v->bits();
    if (a == 0 || (a & (a - 1)) != 0) {
      return fail(strfmt("alignment %llu (key at byte %llu) is not a non-zero power of two",
                         static_cast<ull>(a), static_cast<ull>(f.kvs_[index_].file_offset)));
    }
    f.alignment_ = static_cast<uint32_t>(a);
    name_ = nullptr;
    return Status::ok_status();
  }

  Status parse_tensor_info(GgufTensorInfo* t) {
    PLM_RETURN_IF_ERROR(read_string(&t->name, "name"));
    name_ = &t->name;
    uint64_t dims_at = pos_;
    PLM_RETURN_IF_ERROR(read(&t->n_dims, "n_dims"));
    if (t->n_dims > kGgufMaxDims) {
      return fail(strfmt("n_dims %u at byte %llu exceeds the maximum of %u", t->n_dims,
                         static_cast<ull>(dims_at), kGgufMaxDims));
    }
    int64_t n_elements = 1;
    for (uint32_t d = 0; d < t->n_dims; ++d) {
      uint64_t at = pos_;
      uint64_t ne = 0;
      PLM_RETURN_IF_ERROR(read(&ne, "dimension"));
      if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return fail(strfmt("ne[%u] = %llu at byte %llu is negative as int64", d,
                           static_cast<ull>(ne), static_cast<ull>(at)));
      }
      t->ne[d] = static_cast<int64_t>(ne);
      if (__builtin_mul_overflow(n_elements, t->ne[d], &n_elements)) {
        return fail(strfmt("element count overflows int64 at ne[%u] = %llu (byte %llu)", d,
                           static_cast<ull>(ne), static_cast<ull>(at)));
      }
    }
    t->n_elements = n_elements;
    uint64_t type_at = pos_;
    uint32_t type_id = 0;
    PLM_RETURN_IF_ERROR(read(&type_id, "type"));
    const TypeTraits* tr = find_type_traits(type_id);
    if (tr == nullptr) {
      return fail(strfmt("type id %u at byte %llu is not a known ggml type", type_id,
                         static_cast<ull>(type_at)));
    }
    t->type = tr->type;
    if (t->ne[0] % tr->block_size != 0) {
      return fail(strfmt("ne[0] = %lld is not a multiple of the %s block size %lld",
                         static_cast<long long>(t->ne[0]), tr->name,
                         static_cast<long long>(tr->block_size)));
    }
    // ne[0] divides by the block size, so the element count does too.
    uint64_t blocks = static_cast<uint64_t>(n_elements / tr->block_size);
    if (__builtin_mul_overflow(blocks, static_cast<uint64_t>(tr->type_size), &t->n_bytes)) {
      return fail(strfmt("byte size of %lld %s elements overflows",
                         static_cast<long long>(n_elements), tr->name));
    }
    offset_at_.push_back(pos_);
    return read(&t->offset, "data offset");
  }

  Status parse_tensor_infos(GgufFile& f) {
    section_ = Section::kTensor;
    index_ = 0;
    name_ = nullptr;
    // The smallest tensor info: empty name (8), n_dims (4), type (4), offset (8).
    if (n_tensors_ > remaining() / 24) {
      section_ = Section::kHeader;
      return fail(strfmt(
          "tensor count %llu (at byte 8) needs at least 24 bytes per tensor info, "
          "but only %llu bytes remain after the metadata (byte %llu)",
          static_cast<ull>(n_tensors_), static_cast<ull>(remaining()), static_cast<ull>(pos_)));
    }
    f.tensors_.resize(static_cast<size_t>(n_tensors_));
    f.tensor_index_.reserve(static_cast<size_t>(n_tensors_));
    offset_at_.reserve(static_cast<size_t>(n_tensors_));
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      index_ = i;
      name_ = nullptr;
      uint64_t at = pos_;
      GgufTensorInfo& t = f.tensors_[i];
      PLM_RETURN_IF_ERROR(parse_tensor_info(&t));
      auto [it, inserted] = f.tensor_index_.try_emplace(t.name, i);
      if (!inserted) {
        return fail(strfmt("name at byte %llu duplicates tensor #%llu", static_cast<ull>(at),
                           static_cast<ull>(it->second)));
      }
    }
    return Status::ok_status();
  }

  Status place_tensors(GgufFile& f) {
    // pos_ <= size_, and the alignment is at most 2^31, so this cannot overflow.
    uint64_t a = f.alignment_;
    f.data_offset_ = (pos_ + a - 1) / a * a;
    for (size_t i = 0; i < f.tensors_.size(); ++i) {
      GgufTensorInfo& t = f.tensors_[i];
      section_ = Section::kTensor;
      index_ = i;
      name_ = &t.name;
      if (t.offset % a != 0) {
        return fail(strfmt(
            "data offset %llu (at byte %llu) is not a multiple of the alignment %llu",
            static_cast<ull>(t.offset), static_cast<ull>(offset_at_[i]), static_cast<ull>(a)));
      }
      if (t.offset > std::numeric_limits<uint64_t>::max() - f.data_offset_) {
        return fail(
            strfmt("data offset %llu (at byte %llu) overflows past the data section at "
                   "byte %llu",
                   static_cast<ull>(t.offset), static_cast<ull>(offset_at_[i]),
                   static_cast<ull>(f.data_offset_)));
      }
      t.file_offset = f.data_offset_ + t.offset;
      if (t.file_offset > size_ || t.n_bytes > size_ - t.file_offset) {
        return fail(strfmt("data at offset %llu + %llu bytes runs past end of file (size %llu)",
                           static_cast<ull>(t.file_offset), static_cast<ull>(t.n_bytes),
                           static_cast<ull>(size_)));
      }
      t.data = data_ + t.file_offset;
    }
    return Status::ok_status();
  }

  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
  std::vector<uint64_t> offset_at_;  // byte of each tensor's offset field, for messages

  // Error context.
  Section section_ = Section::kHeader;
  uint64_t index_ = 0;
  const std::string* name_ = nullptr;
  int depth_ = 0;
  uint64_t path_[kGgufMaxArrayDepth] = {};
};

Result<GgufFile> GgufFile::parse(MappedFile file, const uint8_t* data, size_t size) {
  GgufFile f;
  f.file_ = std::move(file);
  f.data_ = data;
  f.size_ = size;
  GgufParser parser(data, size);
  PLM_RETURN_IF_ERROR(parser.parse(f));
  return f;
}

Result<GgufFile> GgufFile::open(const std::string& path) {
  Result<MappedFile> m = MappedFile::open(path);
  if (!m.ok()) return m.status();
  const uint8_t* data = m->data();
  size_t size = m->size();
  Result<GgufFile> f = parse(std::move(m).value(), data, size);
  if (!f.ok()) {
    // "gguf: <path>: <what>", so a message about a file says which file.
    const std::string& msg = f.status().message();
    constexpr std::string_view kPrefix = "gguf: ";
    std::string rest =
        msg.compare(0, kPrefix.size(), kPrefix) == 0 ? msg.substr(kPrefix.size()) : msg;
    return Status(f.status().code(), "gguf: " + path + ": " + rest);
  }
  return f;
}

Result<GgufFile> GgufFile::open_memory(const uint8_t* data, size_t size) {
  return parse(MappedFile(), data, size);
}

Result<GgufFile> GgufFile::open_bytes(std::vector<uint8_t> bytes) {
  MappedFile m = MappedFile::from_bytes(std::move(bytes));
  const uint8_t* data = m.data();
  size_t size = m.size();
  return parse(std::move(m), data, size);
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

Result<const GgufValue*> lookup(const GgufFile& f, std::string_view key) {
  const GgufValue* v = f.find(key);
  if (v == nullptr) return not_found("gguf: metadata key '" + printable(key) + "' not found");
  return v;
}

Status wrong_type(std::string_view key, const GgufValue& v, const char* expected) {
  std::string type = gguf_value_type_name(v.type());
  if (v.is_array()) type += strfmt(" of %s", gguf_value_type_name(v.element_type()));
  return malformed(strfmt("gguf: metadata key '%s' has type %s, expected %s",
                          printable(key).c_str(), type.c_str(), expected));
}

// Integer getters convert between integer widths when the value fits the requested type.
template <typename T>
Result<T> get_integer(const GgufFile& f, std::string_view key, const char* type_name) {
  Result<const GgufValue*> v = lookup(f, key);
  if (!v.ok()) return v.status();
  const GgufValue& value = **v;
  if constexpr (std::is_signed_v<T>) {
    std::optional<int64_t> i = value.as_int();
    if (i && *i >= std::numeric_limits<T>::min() && *i <= std::numeric_limits<T>::max()) {
      return static_cast<T>(*i);
    }
  } else {
    std::optional<uint64_t> u = value.as_uint();
    if (u && *u <= std::numeric_limits<T>::max()) return static_cast<T>(*u);
  }
  return wrong_type(key, value, (std::string("an integer that fits ") + type_name).c_str());
}

}  // namespace

Result<uint32_t> GgufFile::get_u32(std::string_view key) const {
  return get_integer<uint32_t>(*this, key, "uint32");
}
Result<int32_t> GgufFile::get_i32(std::string_view key) const {
  return get_integer<int32_t>(*this, key, "int32");
}
Result<uint64_t> GgufFile::get_u64(std::string_view key) const {
  return get_integer<uint64_t>(*this, key, "uint64");
}
Result<int64_t> GgufFile::get_i64(std::string_view key) const {
  return get_integer<int64_t>(*this, key, "int64");
}

Result<double> GgufFile::get_f64(std::string_view key) const {
  Result<const GgufValue*> v = lookup(*this, key);
  if (!v.ok()) return v.status();
  std::optional<double> d = (*v)->as_float();
  if (!d) return wrong_type(key, **v, "float32 or float64");
  return *d;
}

Result<float> GgufFile::get_f32(std::string_view key) const {
  Result<double> d = get_f64(key);
  if (!d.ok()) return d.status();
  return static_cast<float>(*d);
}

Result<bool> GgufFile::get_bool(std::string_view key) const {
  Result<const GgufValue*> v = lookup(*this, key);
  if (!v.ok()) return v.status();
  std::optional<bool> b = (*v)->as_bool();
  if (!b) return wrong_type(key, **v, "bool");
  return *b;
}

Result<std::string> GgufFile::get_string(std::string_view key) const {
  Result<const GgufValue*> v = lookup(*this, key);
  if (!v.ok()) return v.status();
  const std::string* s = (*v)->as_string();
  if (s == nullptr) return wrong_type(key, **v, "string");
  return *s;
}

Result<const GgufValue*> GgufFile::get_array(std::string_view key,
                                             std::optional<GgufValueType> element_type) const {
  Result<const GgufValue*> v = lookup(*this, key);
  if (!v.ok()) return v.status();
  const GgufValue& value = **v;
  if (!value.is_array() || (element_type && value.element_type() != *element_type)) {
    std::string expected = "array";
    if (element_type) expected += strfmt(" of %s", gguf_value_type_name(*element_type));
    return wrong_type(key, value, expected.c_str());
  }
  return &value;
}

Result<const std::vector<std::string>*> GgufFile::get_string_array(std::string_view key) const {
  Result<const GgufValue*> v = get_array(key, GgufValueType::kString);
  if (!v.ok()) return v.status();
  return &(*v)->strings();
}

Result<std::vector<float>> GgufFile::get_f32_array(std::string_view key) const {
  Result<const GgufValue*> v = get_array(key, GgufValueType::kFloat32);
  if (!v.ok()) return v.status();
  return *(*v)->to_f32_vector();
}

Result<std::vector<int32_t>> GgufFile::get_i32_array(std::string_view key) const {
  Result<const GgufValue*> v = get_array(key, GgufValueType::kInt32);
  if (!v.ok()) return v.status();
  return *(*v)->to_i32_vector();
}

}  // namespace pocketlm
