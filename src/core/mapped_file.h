// MappedFile: the read-only bytes of a whole file, memory-mapped where the OS allows it.
//
// Usage:
//   Result<MappedFile> f = MappedFile::open("model.gguf");
//   if (!f.ok()) return f.status();
//   const uint8_t* bytes = f->data();   // valid until the MappedFile is destroyed
//   size_t n = f->size();
//
// Model weights are read straight out of the mapping (zero-copy), so pages come and go under
// the OS's control instead of our heap's. Files that cannot be mapped (pipes, character devices,
// empty files, file systems without mmap) are read into a heap buffer instead, so callers never
// need a second code path. The data pointer stays put when a MappedFile is moved, which lets
// parsed structures keep pointers into it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace pocketlm {

class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Maps `path` read-only; falls back to reading it when mapping is impossible.
  static Result<MappedFile> open(const std::string& path);
  // Always reads the file into memory (no mapping), e.g. for files about to be rewritten.
  static Result<MappedFile> read(const std::string& path);
  // Takes ownership of bytes that are already in memory.
  static MappedFile from_bytes(std::vector<uint8_t> bytes);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // True when the bytes come from mmap rather than a heap copy.
  bool is_mapped() const { return mapping_ != nullptr; }
  const std::string& path() const { return path_; }

 private:
  void reset();

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;      // non-null when data_ points into an mmap region of size_ bytes
  std::vector<uint8_t> buffer_;  // owns the bytes when the file was read instead of mapped
  std::string path_;
};

}  // namespace pocketlm
