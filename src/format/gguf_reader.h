// GgufFile: a parsed GGUF v2/v3 file — metadata, tensor table, zero-copy tensor data.
//
// Usage:
//   Result<GgufFile> r = GgufFile::open("model.gguf");
//   if (!r.ok()) return r.status();           // message names the field and byte offset
//   const GgufFile& f = *r;
//   Result<uint32_t> n_layer = f.get_u32("llama.block_count");
//   for (const GgufKv& kv : f.metadata()) print(kv.key, kv.value);   // file order
//   const GgufTensorInfo* t = f.find_tensor("token_embd.weight");
//   const void* w = f.tensor_data(*t);        // points into the mapping, t->n_bytes long
//
// Everything read from the file is checked against the bytes that remain and sane limits
// before it is used, so a malformed or truncated file gives an error, never a crash, hang or
// huge allocation. Tensor data stays in the mapping; only metadata is copied into GgufValues.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"
#include "format/gguf_value.h"
#include "quant/types.h"

namespace pocketlm {

struct GgufTensorInfo {
  std::string name;
  TensorType type = TensorType::kF32;
  uint32_t n_dims = 0;
  std::array<int64_t, 4> ne = {1, 1, 1, 1};  // ne[0] is the contiguous (row) dimension
  int64_t n_elements = 0;
  uint64_t n_bytes = 0;
  uint64_t offset = 0;       // relative to the start of the data section, as stored in the file
  uint64_t file_offset = 0;  // absolute byte position of the data in the file
  const uint8_t* data = nullptr;  // into the file's bytes; n_bytes long

  int64_t n_rows() const { return n_elements / (ne[0] == 0 ? 1 : ne[0]); }
};

class GgufFile {
 public:
  GgufFile() = default;
  GgufFile(GgufFile&&) = default;
  GgufFile& operator=(GgufFile&&) = default;
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  // Maps and parses a file.
  static Result<GgufFile> open(const std::string& path);
  // Parses bytes owned by the caller, which must outlive the GgufFile (tensor data points into
  // them). Used by the fuzzer and by tests.
  static Result<GgufFile> open_memory(const uint8_t* data, size_t size);
  // Parses bytes the GgufFile takes ownership of.
  static Result<GgufFile> open_bytes(std::vector<uint8_t> bytes);

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of the tensor data section
  uint64_t file_size() const { return size_; }
  const std::string& path() const { return file_.path(); }

  // Metadata in file order.
  const std::vector<GgufKv>& metadata() const { return kvs_; }
  const GgufValue* find(std::string_view key) const;  // nullptr when absent
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed getters: kNotFound when the key is absent, kMalformedFile (naming key and types) when
  // the stored type does not convert (see GgufValue::as_uint for what converts).
  Result<uint32_t> get_u32(std::string_view key) const;
  Result<int32_t> get_i32(std::string_view key) const;
  Result<uint64_t> get_u64(std::string_view key) const;
  Result<int64_t> get_i64(std::string_view key) const;
  Result<float> get_f32(std::string_view key) const;
  Result<double> get_f64(std::string_view key) const;
  Result<bool> get_bool(std::string_view key) const;
  Result<std::string> get_string(std::string_view key) const;
  // Any array; with `element_type` set, also checks the elements' type.
  Result<const GgufValue*> get_array(std::string_view key,
                                     std::optional<GgufValueType> element_type = {}) const;
  Result<const std::vector<std::string>*> get_string_array(std::string_view key) const;
  Result<std::vector<float>> get_f32_array(std::string_view key) const;
  Result<std::vector<int32_t>> get_i32_array(std::string_view key) const;

  // Tensors in file order.
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;  // nullptr when absent
  const void* tensor_data(const GgufTensorInfo& t) const { return t.data; }

 private:
  friend class GgufParser;
  static Result<GgufFile> parse(MappedFile file, const uint8_t* data, size_t size);

  MappedFile file_;  // empty for open_memory()
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<GgufKv> kvs_;
  std::vector<GgufTensorInfo> tensors_;
  // Name -> index, looked up by string_view without building a std::string.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using NameIndex = std::unordered_map<std::string, size_t, NameHash, std::equal_to<>>;
  NameIndex kv_index_;
  NameIndex tensor_index_;
};

}  // namespace pocketlm
