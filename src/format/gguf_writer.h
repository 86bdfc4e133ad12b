// GgufWriter: builds a GGUF v3 file — metadata, tensor table, then tensor data streamed in.
//
// Usage:
//   GgufWriter w;
//   PLM_RETURN_IF_ERROR(w.set("general.architecture", GgufValue::string("llama")));
//   PLM_RETURN_IF_ERROR(w.set_alignment(64));                 // optional; default 32
//   PLM_RETURN_IF_ERROR(w.add_tensor("output.weight", TensorType::kQ8_0, {4096, 32000}));
//   PLM_RETURN_IF_ERROR(w.begin("out.gguf"));                 // header goes to a temp file
//   for (each tensor, in order) PLM_RETURN_IF_ERROR(w.write_tensor_data(bytes, n));
//   PLM_RETURN_IF_ERROR(w.finish());                          // renames onto out.gguf
//
// Tensors are declared first (name, type, shape), so the header with every offset can be
// written before any data; the data then streams in one tensor (or one piece of a tensor) at a
// time, so converting a model of many GB never needs it all in memory. The file is written under
// a temporary name beside the target and renamed only once complete: a failure or an abandoned
// writer never leaves a half-written file under the final name.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "format/gguf_value.h"
#include "quant/types.h"

namespace pocketlm {

struct GgufTensorDecl {
  std::string name;
  TensorType type = TensorType::kF32;
  uint32_t n_dims = 0;
  std::array<int64_t, 4> ne = {1, 1, 1, 1};
  uint64_t n_bytes = 0;
  uint64_t offset = 0;  // relative to the data section; set when the layout is computed
};

class GgufWriter {
 public:
  // ggml keeps tensor names in a 64-byte buffer, so longer names would not load there.
  static constexpr size_t kMaxTensorName = 63;

  GgufWriter() = default;
  ~GgufWriter();  // an unfinished file is removed
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // Sets a metadata value. A key set again keeps its first position and takes the new value.
  // general.alignment must be a uint32 non-zero power of two; nested arrays must hold arrays.
  Status set(std::string key, GgufValue value);
  bool remove(std::string_view key);
  Status set_alignment(uint32_t alignment);
  const std::vector<GgufKv>& metadata() const { return kvs_; }
  uint32_t alignment() const;

  // Declares a tensor; `ne` lists the dimensions, contiguous one first (ggml order), 1 to 4.
  Status add_tensor(std::string name, TensorType type, std::span<const int64_t> ne);
  Status add_tensor(std::string name, TensorType type, std::initializer_list<int64_t> ne) {
    return add_tensor(std::move(name), type, std::span<const int64_t>(ne.begin(), ne.size()));
  }
  const std::vector<GgufTensorDecl>& tensors() const { return tensors_; }

  // Everything before the tensor data (header, metadata, tensor infos, padding); also fills in
  // the tensors' offsets.
  std::vector<uint8_t> encode_header();

  // Streaming: begin() writes the header to `<path>.tmp-<pid>-<n>`; write_tensor_data() appends
  // the bytes of the tensors in declaration order (a call may hold part of a tensor, never more
  // than the rest of the current one); finish() checks all data arrived, syncs and renames.
  // After an error the writer is spent and the temporary file is gone.
  Status begin(const std::string& path);
  Status write_tensor_data(const void* data, size_t n);
  Status finish();
  void abandon();  // drops a begun file without writing it under its final name

  // For tensors already in memory: data[i] holds tensors()[i].n_bytes bytes.
  Status write_file(const std::string& path, const std::vector<const void*>& data);

 private:
  Status fail(Status s);
  Status write_bytes(const void* data, size_t n);
  Status pad_to(uint64_t alignment);
  void skip_empty_tensors();

  std::vector<GgufKv> kvs_;
  std::vector<GgufTensorDecl> tensors_;

  // Streaming state.
  std::FILE* out_ = nullptr;
  std::string path_;
  std::string tmp_path_;
  uint64_t written_ = 0;       // bytes in the file so far
  size_t current_ = 0;         // tensor receiving data
  uint64_t current_done_ = 0;  // its bytes written so far
};

}  // namespace pocketlm
