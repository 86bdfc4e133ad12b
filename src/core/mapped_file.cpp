#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace pocketlm {
namespace {

Status errno_status(const char* what, const std::string& path, int err) {
  return io_error(strfmt("%s '%s': %s", what, path.c_str(), std::strerror(err)));
}

// Closes the descriptor on every return path of open()/read().
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

Result<int> open_for_reading(const std::string& path, struct stat* st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status("cannot open", path, errno);
  if (::fstat(fd, st) != 0) {
    int err = errno;
    ::close(fd);
    return errno_status("cannot stat", path, err);
  }
  if (S_ISDIR(st->st_mode)) {
    ::close(fd);
    return io_error(strfmt("cannot read '%s': it is a directory", path.c_str()));
  }
  return fd;
}

// Reads until end of file. `size_hint` (from fstat) sizes the buffer up front for regular files;
// pipes and devices report 0 and grow the buffer as they go.
Result<std::vector<uint8_t>> read_all(int fd, const std::string& path, size_t size_hint) {
  std::vector<uint8_t> bytes(size_hint);
  size_t used = 0;
  uint8_t chunk[1 << 16];
  for (;;) {
    // Fill the pre-sized buffer first, then read in chunks so that a regular file (whose size we
    // know) is never copied through a doubled buffer, while a pipe still reads to its end.
    bool direct = used < bytes.size();
    uint8_t* dst = direct ? bytes.data() + used : chunk;
    size_t room = direct ? bytes.size() - used : sizeof(chunk);
    ssize_t n = ::read(fd, dst, room);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status("cannot read", path, errno);
    }
    if (n == 0) break;
    if (!direct) bytes.insert(bytes.end(), chunk, chunk + n);
    used += static_cast<size_t>(n);
  }
  bytes.resize(used);
  return bytes;
}

}  // namespace

MappedFile::~MappedFile() { reset(); }

MappedFile::MappedFile(MappedFile&& other) noexcept { *this = std::move(other); }

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this == &other) return *this;
  reset();
  data_ = std::exchange(other.data_, nullptr);
  size_ = std::exchange(other.size_, 0);
  mapping_ = std::exchange(other.mapping_, nullptr);
  buffer_ = std::move(other.buffer_);  // a moved vector keeps its heap block, so data_ stays valid
  other.buffer_.clear();
  path_ = std::move(other.path_);
  return *this;
}

void MappedFile::reset() {
  if (mapping_ != nullptr) ::munmap(mapping_, size_);
  mapping_ = nullptr;
  data_ = nullptr;
  size_ = 0;
  buffer_.clear();
  buffer_.shrink_to_fit();
}

Result<MappedFile> MappedFile::open(const std::string& path) {
  struct stat st {};
  Result<int> fd = open_for_reading(path, &st);
  if (!fd.ok()) return fd.status();
  FdCloser closer(*fd);

  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    size_t size = static_cast<size_t>(st.st_size);
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, *fd, 0);
    if (p != MAP_FAILED) {
      MappedFile f;
      f.mapping_ = p;
      f.data_ = static_cast<const uint8_t*>(p);
      f.size_ = size;
      f.path_ = path;
      return f;
    }
    // Some file systems refuse mmap; the read path below still gives the caller the bytes.
  }
  Result<std::vector<uint8_t>> bytes =
      read_all(*fd, path, S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : 0);
  if (!bytes.ok()) return bytes.status();
  MappedFile f = from_bytes(std::move(bytes).value());
  f.path_ = path;
  return f;
}

Result<MappedFile> MappedFile::read(const std::string& path) {
  struct stat st {};
  Result<int> fd = open_for_reading(path, &st);
  if (!fd.ok()) return fd.status();
  FdCloser closer(*fd);
  Result<std::vector<uint8_t>> bytes =
      read_all(*fd, path, S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : 0);
  if (!bytes.ok()) return bytes.status();
  MappedFile f = from_bytes(std::move(bytes).value());
  f.path_ = path;
  return f;
}

MappedFile MappedFile::from_bytes(std::vector<uint8_t> bytes) {
  MappedFile f;
  f.buffer_ = std::move(bytes);
  f.data_ = f.buffer_.data();
  f.size_ = f.buffer_.size();
  return f;
}

}  // namespace pocketlm
