// Safetensors checkpoints: one file, or several shards listed by model.safetensors.index.json.
//
// Usage:
//   Result<SafetensorsCheckpoint> ck = SafetensorsCheckpoint::open_dir("hf/llama");
//   if (!ck.ok()) return ck.status();
//   const SafetensorsTensor* t = ck->find("model.embed_tokens.weight");
//   std::vector<uint8_t> row(t->row_bytes());
//   PLM_RETURN_IF_ERROR(ck->read(*t, 5 * t->row_bytes(), row.size(), row.data()));  // row 5
//
// File layout: u64 little-endian header length N | N bytes of JSON | tensor data. The JSON maps
// each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
// data section) and may hold a "__metadata__" object of string values. Every field is checked:
// the dtype is known, shape entries are non-negative, the byte span matches shape x dtype size,
// spans lie inside the file and neither overlap nor leave holes (as the format's reference
// implementation requires), so a malformed or truncated file is an error, never a crash.
//
// Tensor data is read on request (pread from the file, or memcpy for in-memory images) rather
// than mapped: converting a model streams it piece by piece, and what the process holds is only
// the piece in hand, whatever the size of the checkpoint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.h"

namespace pocketlm {

enum class SafetensorsDtype : uint8_t {
  kBool,
  kU8,
  kI8,
  kI16,
  kU16,
  kI32,
  kU32,
  kI64,
  kU64,
  kF16,
  kBF16,
  kF32,
  kF64,
  kF8_E4M3,
  kF8_E5M2,
};

// "F32", "BF16", ... as the format spells them.
const char* safetensors_dtype_name(SafetensorsDtype d);
size_t safetensors_dtype_size(SafetensorsDtype d);

struct SafetensorsTensor {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::kF32;
  std::vector<int64_t> shape;  // outermost first, as PyTorch lists it
  int64_t n_elements = 1;
  uint64_t n_bytes = 0;
  uint64_t offset = 0;    // of the first byte, from the start of the file
  size_t file_index = 0;  // which shard (SafetensorsCheckpoint); 0 for a single file

  // Elements of the innermost dimension, and its bytes (1 element for a scalar).
  int64_t row_elements() const { return shape.empty() ? 1 : shape.back(); }
  uint64_t row_bytes() const {
    return static_cast<uint64_t>(row_elements()) * safetensors_dtype_size(dtype);
  }
};

class SafetensorsFile {
 public:
  // Header JSON larger than this is refused before it is read (the reference implementation
  // uses the same bound).
  static constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

  SafetensorsFile() = default;
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile&& other) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&& other) noexcept;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  // Opens a file and parses its header; the data stays on disk until read().
  static Result<SafetensorsFile> open(const std::string& path);
  // Parses an image the caller owns; it must outlive the SafetensorsFile (fuzzer, tests).
  static Result<SafetensorsFile> open_memory(const uint8_t* data, size_t size,
                                             std::string name = "<memory>");

  // Tensors in data order (ascending offset).
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(std::string_view name) const;
  // The "__metadata__" entries, in file order.
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }
  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }

  // Copies `n` bytes starting `offset` bytes into the tensor's data.
  Status read(const SafetensorsTensor& t, uint64_t offset, uint64_t n, void* dst) const;

 private:
  friend class SafetensorsCheckpoint;  // sets file_index on the tensors of its shards

  Status parse_header(std::string_view header, uint64_t data_start);
  void close();

  std::string path_;
  int fd_ = -1;                      // file mode
  const uint8_t* memory_ = nullptr;  // memory mode
  uint64_t size_ = 0;
  std::vector<SafetensorsTensor> tensors_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<std::pair<std::string, std::string>> metadata_;
};

// A model's weights: model.safetensors, or the shards that model.safetensors.index.json lists.
class SafetensorsCheckpoint {
 public:
  // Looks in `dir` for model.safetensors.index.json first, then model.safetensors, then a single
  // *.safetensors file. Every tensor name must be unique across shards, and with an index, each
  // tensor must be in the shard the index names and every indexed tensor must exist.
  static Result<SafetensorsCheckpoint> open_dir(const std::string& dir);
  // The given files, as one checkpoint (no index).
  static Result<SafetensorsCheckpoint> open_files(const std::vector<std::string>& paths);

  const std::vector<SafetensorsFile>& files() const { return files_; }
  // Every tensor of every shard: shard order, then data order.
  const std::vector<const SafetensorsTensor*>& tensors() const { return all_; }
  const SafetensorsTensor* find(std::string_view name) const;
  Status read(const SafetensorsTensor& t, uint64_t offset, uint64_t n, void* dst) const {
    return files_[t.file_index].read(t, offset, n, dst);
  }
  uint64_t total_bytes() const;

 private:
  Status index_tensors();

  std::vector<SafetensorsFile> files_;
  std::vector<const SafetensorsTensor*> all_;
  std::unordered_map<std::string, const SafetensorsTensor*> by_name_;
};

}  // namespace pocketlm
