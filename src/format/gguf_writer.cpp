#include "format/gguf_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

namespace pocketlm {
namespace {

using ull = unsigned long long;

// Values the reader could not read back, or that would encode into a different value, are
// refused when set rather than discovered in the written file.
Status check_value(const GgufValue& v, int depth, const std::string& key) {
  if (!v.is_array()) return Status::ok_status();
  if (depth >= kGgufMaxArrayDepth) {
    return invalid_argument(strfmt("gguf writer: key '%s': arrays nested deeper than %d levels",
                                   key.c_str(), kGgufMaxArrayDepth));
  }
  GgufValueType elem = v.element_type();
  if (elem == GgufValueType::kArray) {
    for (const GgufValue& a : v.arrays()) {
      if (!a.is_array()) {
        return invalid_argument(strfmt("gguf writer: key '%s': an array of arrays holds a %s",
                                       key.c_str(), gguf_value_type_name(a.type())));
      }
      PLM_RETURN_IF_ERROR(check_value(a, depth + 1, key));
    }
  } else if (elem != GgufValueType::kString && v.packed().size() % gguf_scalar_size(elem) != 0) {
    return invalid_argument(strfmt("gguf writer: key '%s': packed %s array of %llu bytes",
                                   key.c_str(), gguf_value_type_name(elem),
                                   static_cast<ull>(v.packed().size())));
  }
  return Status::ok_status();
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

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

GgufWriter::~GgufWriter() { abandon(); }

Status GgufWriter::set(std::string key, GgufValue value) {
  if (out_ != nullptr) return invalid_argument("gguf writer: metadata is fixed once begin() ran");
  if (key.empty()) return invalid_argument("gguf writer: empty metadata key");
  PLM_RETURN_IF_ERROR(check_value(value, 0, key));
  if (key == kGgufAlignmentKey) {
    uint64_t a = value.bits();
    if (value.type() != GgufValueType::kUint32 || a == 0 || (a & (a - 1)) != 0) {
      return invalid_argument(
          strfmt("gguf writer: %s must be a uint32 non-zero power of two", kGgufAlignmentKey));
    }
  }
  for (GgufKv& kv : kvs_) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return Status::ok_status();
    }
  }
  kvs_.push_back(GgufKv{std::move(key), std::move(value), 0});
  return Status::ok_status();
}

bool GgufWriter::remove(std::string_view key) {
  for (auto it = kvs_.begin(); it != kvs_.end(); ++it) {
    if (it->key == key) {
      kvs_.erase(it);
      return true;
    }
  }
  return false;
}

Status GgufWriter::set_alignment(uint32_t alignment) {
  return set(kGgufAlignmentKey, GgufValue::u32(alignment));
}

uint32_t GgufWriter::alignment() const {
  for (const GgufKv& kv : kvs_) {
    if (kv.key == kGgufAlignmentKey) return static_cast<uint32_t>(kv.value.bits());
  }
  return kGgufDefaultAlignment;
}

Status GgufWriter::add_tensor(std::string name, TensorType type, std::span<const int64_t> ne) {
  if (out_ != nullptr) return invalid_argument("gguf writer: tensors are fixed once begin() ran");
  if (name.empty() || name.size() > kMaxTensorName) {
    return invalid_argument(strfmt("gguf writer: tensor name '%s' must have 1 to %llu bytes",
                                   name.c_str(), static_cast<ull>(kMaxTensorName)));
  }
  for (const GgufTensorDecl& t : tensors_) {
    if (t.name == name) {
      return invalid_argument(strfmt("gguf writer: duplicate tensor '%s'", name.c_str()));
    }
  }
  if (ne.empty() || ne.size() > kGgufMaxDims) {
    return invalid_argument(strfmt("gguf writer: tensor '%s' has %llu dimensions (1 to %u)",
                                   name.c_str(), static_cast<ull>(ne.size()), kGgufMaxDims));
  }
  const TypeTraits* tr = find_type_traits(static_cast<uint32_t>(type));
  if (tr == nullptr) {
    return invalid_argument(strfmt("gguf writer: tensor '%s' has unknown type id %u", name.c_str(),
                                   static_cast<uint32_t>(type)));
  }
  GgufTensorDecl t;
  t.type = type;
  t.n_dims = static_cast<uint32_t>(ne.size());
  int64_t n = 1;
  for (size_t d = 0; d < ne.size(); ++d) {
    if (ne[d] < 0 || __builtin_mul_overflow(n, ne[d], &n)) {
      return invalid_argument(strfmt("gguf writer: tensor '%s' has a bad shape (ne[%llu] = %lld)",
                                     name.c_str(), static_cast<ull>(d),
                                     static_cast<long long>(ne[d])));
    }
    t.ne[d] = ne[d];
  }
  if (t.ne[0] % tr->block_size != 0) {
    return invalid_argument(
        strfmt("gguf writer: tensor '%s': ne[0] = %lld is not a multiple of "
               "the %s block size %lld",
               name.c_str(), static_cast<long long>(t.ne[0]), tr->name,
               static_cast<long long>(tr->block_size)));
  }
  t.n_bytes = static_cast<uint64_t>(n / tr->block_size) * tr->type_size;
  t.name = std::move(name);
  tensors_.push_back(std::move(t));
  return Status::ok_status();
}

std::vector<uint8_t> GgufWriter::encode_header() {
  std::vector<uint8_t> out;
  put_u32(out, kGgufMagic);
  put_u32(out, kGgufVersion);
  put_u64(out, tensors_.size());
  put_u64(out, kvs_.size());
  for (const GgufKv& kv : kvs_) {
    put_u64(out, kv.key.size());
    put_bytes(out, kv.key.data(), kv.key.size());
    put_u32(out, static_cast<uint32_t>(kv.value.type()));
    kv.value.encode(out);
  }
  uint64_t a = alignment();
  uint64_t offset = 0;
  for (GgufTensorDecl& t : tensors_) {
    t.offset = offset;
    offset = align_up(offset + t.n_bytes, a);
    put_u64(out, t.name.size());
    put_bytes(out, t.name.data(), t.name.size());
    put_u32(out, t.n_dims);
    for (uint32_t d = 0; d < t.n_dims; ++d) put_u64(out, static_cast<uint64_t>(t.ne[d]));
    put_u32(out, static_cast<uint32_t>(t.type));
    put_u64(out, t.offset);
  }
  out.resize(align_up(out.size(), a), 0);
  return out;
}

Status GgufWriter::begin(const std::string& path) {
  if (out_ != nullptr) return invalid_argument("gguf writer: begin() called twice");
  // O_EXCL with a per-process counter: two writers (threads or processes) aiming at the same
  // target never share a temporary file.
  static std::atomic<unsigned> counter{0};
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp_path_ = strfmt("%s.tmp-%d-%u", path.c_str(), static_cast<int>(::getpid()), counter++);
    fd = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    return io_error(
        strfmt("gguf writer: cannot create '%s': %s", tmp_path_.c_str(), std::strerror(errno)));
  }
  out_ = ::fdopen(fd, "wb");
  if (out_ == nullptr) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp_path_.c_str());
    return io_error(
        strfmt("gguf writer: cannot open '%s': %s", tmp_path_.c_str(), std::strerror(err)));
  }
  std::setvbuf(out_, nullptr, _IOFBF, 1 << 20);
  path_ = path;
  written_ = 0;
  current_ = 0;
  current_done_ = 0;
  std::vector<uint8_t> header = encode_header();
  PLM_RETURN_IF_ERROR(write_bytes(header.data(), header.size()));
  skip_empty_tensors();
  return Status::ok_status();
}

Status GgufWriter::fail(Status s) {
  abandon();
  return s;
}

Status GgufWriter::write_bytes(const void* data, size_t n) {
  if (n != 0 && std::fwrite(data, 1, n, out_) != n) {
    return fail(io_error(
        strfmt("gguf writer: write to '%s' failed: %s", tmp_path_.c_str(), std::strerror(errno))));
  }
  written_ += n;
  return Status::ok_status();
}

Status GgufWriter::pad_to(uint64_t alignment) {
  static const uint8_t kZeros[256] = {};
  uint64_t pad = align_up(written_, alignment) - written_;
  while (pad > 0) {
    size_t n = pad < sizeof(kZeros) ? static_cast<size_t>(pad) : sizeof(kZeros);
    PLM_RETURN_IF_ERROR(write_bytes(kZeros, n));
    pad -= n;
  }
  return Status::ok_status();
}

void GgufWriter::skip_empty_tensors() {
  while (current_ < tensors_.size() && tensors_[current_].n_bytes == 0) ++current_;
}

Status GgufWriter::write_tensor_data(const void* data, size_t n) {
  if (out_ == nullptr) return invalid_argument("gguf writer: write_tensor_data() before begin()");
  if (n == 0) return Status::ok_status();
  if (current_ >= tensors_.size()) {
    return fail(invalid_argument(strfmt(
        "gguf writer: %llu bytes of tensor data after the last tensor", static_cast<ull>(n))));
  }
  const GgufTensorDecl& t = tensors_[current_];
  if (n > t.n_bytes - current_done_) {
    return fail(invalid_argument(
        strfmt("gguf writer: tensor '%s' is %llu bytes; %llu were written and %llu more arrived",
               t.name.c_str(), static_cast<ull>(t.n_bytes), static_cast<ull>(current_done_),
               static_cast<ull>(n))));
  }
  PLM_RETURN_IF_ERROR(write_bytes(data, n));
  current_done_ += n;
  if (current_done_ == t.n_bytes) {
    PLM_RETURN_IF_ERROR(pad_to(alignment()));
    ++current_;
    current_done_ = 0;
    skip_empty_tensors();
  }
  return Status::ok_status();
}

Status GgufWriter::finish() {
  if (out_ == nullptr) return invalid_argument("gguf writer: finish() before begin()");
  if (current_ < tensors_.size()) {
    const GgufTensorDecl& t = tensors_[current_];
    return fail(invalid_argument(strfmt(
        "gguf writer: finished with tensor '%s' (#%llu) at %llu of %llu bytes", t.name.c_str(),
        static_cast<ull>(current_), static_cast<ull>(current_done_), static_cast<ull>(t.n_bytes))));
  }
  // Sync before the rename, so the final name never points at data still in flight.
  if (std::fflush(out_) != 0 || ::fsync(::fileno(out_)) != 0) {
    return fail(io_error(
        strfmt("gguf writer: flushing '%s' failed: %s", tmp_path_.c_str(), std::strerror(errno))));
  }
  std::FILE* f = std::exchange(out_, nullptr);
  if (std::fclose(f) != 0) {
    int err = errno;
    ::unlink(tmp_path_.c_str());
    return io_error(
        strfmt("gguf writer: closing '%s' failed: %s", tmp_path_.c_str(), std::strerror(err)));
  }
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_path_.c_str());
    return io_error(strfmt("gguf writer: cannot rename '%s' to '%s': %s", tmp_path_.c_str(),
                           path_.c_str(), std::strerror(err)));
  }
  return Status::ok_status();
}

void GgufWriter::abandon() {
  if (out_ == nullptr) return;
  std::fclose(std::exchange(out_, nullptr));
  ::unlink(tmp_path_.c_str());
}

Status GgufWriter::write_file(const std::string& path, const std::vector<const void*>& data) {
  if (data.size() != tensors_.size()) {
    return invalid_argument(
        strfmt("gguf writer: %llu tensors declared but %llu data pointers given",
               static_cast<ull>(tensors_.size()), static_cast<ull>(data.size())));
  }
  PLM_RETURN_IF_ERROR(begin(path));
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (tensors_[i].n_bytes == 0) continue;
    PLM_RETURN_IF_ERROR(write_tensor_data(data[i], static_cast<size_t>(tensors_[i].n_bytes)));
  }
  return finish();
}

}  // namespace pocketlm
