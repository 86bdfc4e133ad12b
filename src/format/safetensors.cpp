#include "format/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "format/json.h"

namespace pocketlm {
namespace {

using ull = unsigned long long;

struct DtypeInfo {
  const char* name;
  SafetensorsDtype dtype;
  size_t size;
};

constexpr DtypeInfo kDtypes[] = {
    {"BOOL", SafetensorsDtype::kBool, 1},       {"U8", SafetensorsDtype::kU8, 1},
    {"I8", SafetensorsDtype::kI8, 1},           {"I16", SafetensorsDtype::kI16, 2},
    {"U16", SafetensorsDtype::kU16, 2},         {"I32", SafetensorsDtype::kI32, 4},
    {"U32", SafetensorsDtype::kU32, 4},         {"I64", SafetensorsDtype::kI64, 8},
    {"U64", SafetensorsDtype::kU64, 8},         {"F16", SafetensorsDtype::kF16, 2},
    {"BF16", SafetensorsDtype::kBF16, 2},       {"F32", SafetensorsDtype::kF32, 4},
    {"F64", SafetensorsDtype::kF64, 8},         {"F8_E4M3", SafetensorsDtype::kF8_E4M3, 1},
    {"F8_E5M2", SafetensorsDtype::kF8_E5M2, 1},
};

// Names come from the file: cut short and escaped so an error stays one readable line.
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
  if (s.size() > kMax) out += strfmt("...(%zu bytes)", s.size());
  return out;
}

// A non-negative integer JSON value that fits `limit`.
bool read_count(const Json& j, uint64_t limit, uint64_t& out) {
  std::optional<int64_t> v = j.as_int();
  if (!v || *v < 0 || static_cast<uint64_t>(*v) > limit) return false;
  out = static_cast<uint64_t>(*v);
  return true;
}

Status read_whole_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error(strfmt("cannot open '%s': %s", path.c_str(), std::strerror(errno)));
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) return io_error(strfmt("cannot read '%s'", path.c_str()));
  return Status();
}

}  // namespace

const char* safetensors_dtype_name(SafetensorsDtype d) {
  for (const DtypeInfo& i : kDtypes) {
    if (i.dtype == d) return i.name;
  }
  return "?";
}

size_t safetensors_dtype_size(SafetensorsDtype d) {
  for (const DtypeInfo& i : kDtypes) {
    if (i.dtype == d) return i.size;
  }
  return 0;
}

SafetensorsFile::~SafetensorsFile() { close(); }

SafetensorsFile::SafetensorsFile(SafetensorsFile&& o) noexcept { *this = std::move(o); }

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& o) noexcept {
  if (this != &o) {
    close();
    path_ = std::move(o.path_);
    fd_ = o.fd_;
    memory_ = o.memory_;
    size_ = o.size_;
    tensors_ = std::move(o.tensors_);
    index_ = std::move(o.index_);
    metadata_ = std::move(o.metadata_);
    o.fd_ = -1;
    o.memory_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

void SafetensorsFile::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  SafetensorsFile f;
  f.path_ = path;
  f.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd_ < 0) {
    return io_error(
        strfmt("safetensors: cannot open '%s': %s", path.c_str(), std::strerror(errno)));
  }
  struct stat st;
  if (fstat(f.fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    return io_error(strfmt("safetensors: '%s' is not a regular file", path.c_str()));
  }
  f.size_ = static_cast<uint64_t>(st.st_size);
  if (f.size_ < 8) {
    return malformed(
        strfmt("safetensors: '%s': file of %llu bytes is too short for the 8-byte "
               "header length",
               path.c_str(), static_cast<ull>(f.size_)));
  }
  uint8_t len_bytes[8];
  SafetensorsTensor whole;  // a pseudo tensor spanning the file, for read()
  whole.n_bytes = f.size_;
  PLM_RETURN_IF_ERROR(f.read(whole, 0, 8, len_bytes));
  uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = (n << 8) | len_bytes[k];
  if (n > kMaxHeaderBytes || n > f.size_ - 8) {
    return malformed(
        strfmt("safetensors: '%s': header length %llu exceeds the %llu bytes after it"
               " (or the %llu-byte limit)",
               path.c_str(), static_cast<ull>(n), static_cast<ull>(f.size_ - 8),
               static_cast<ull>(kMaxHeaderBytes)));
  }
  std::string header(static_cast<size_t>(n), '\0');
  PLM_RETURN_IF_ERROR(f.read(whole, 8, n, header.data()));
  PLM_RETURN_IF_ERROR(f.parse_header(header, 8 + n));
  return f;
}

Result<SafetensorsFile> SafetensorsFile::open_memory(const uint8_t* data, size_t size,
                                                     std::string name) {
  SafetensorsFile f;
  f.path_ = std::move(name);
  f.memory_ = data;
  f.size_ = size;
  if (size < 8) {
    return malformed(
        strfmt("safetensors: '%s': %zu bytes is too short for the 8-byte header "
               "length",
               f.path_.c_str(), size));
  }
  uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = (n << 8) | data[k];
  if (n > kMaxHeaderBytes || n > size - 8) {
    return malformed(
        strfmt("safetensors: '%s': header length %llu exceeds the %llu bytes after it"
               " (or the %llu-byte limit)",
               f.path_.c_str(), static_cast<ull>(n), static_cast<ull>(size - 8),
               static_cast<ull>(kMaxHeaderBytes)));
  }
  std::string_view header(reinterpret_cast<const char*>(data + 8), static_cast<size_t>(n));
  PLM_RETURN_IF_ERROR(f.parse_header(header, 8 + n));
  return f;
}

Status SafetensorsFile::parse_header(std::string_view header, uint64_t data_start) {
  const std::string where = "safetensors: '" + path_ + "'";
  if (header.empty() || header[0] != '{') {
    return malformed(where + ": the header does not start with '{'");
  }
  Result<Json> doc = Json::parse(header, where + " header");
  if (!doc.ok()) return doc.status();
  if (!doc->is_object()) return malformed(where + ": the header is not a JSON object");

  const uint64_t data_size = size_ - data_start;
  for (const auto& [key, value] : doc->members()) {
    if (key == "__metadata__") {
      if (!value.is_object()) return malformed(where + ": __metadata__ is not an object");
      for (const auto& [mk, mv] : value.members()) {
        if (!mv.is_string()) {
          return malformed(where + ": __metadata__ entry '" + printable(mk) + "' is not a string");
        }
        metadata_.emplace_back(mk, *mv.as_string());
      }
      continue;
    }
    const std::string tw = where + ": tensor '" + printable(key) + "'";
    if (!value.is_object()) return malformed(tw + " is not an object");
    if (index_.count(key) != 0) return malformed(tw + " is listed twice");
    SafetensorsTensor t;
    t.name = key;

    const Json* dtype = value.find("dtype");
    if (dtype == nullptr || !dtype->is_string()) return malformed(tw + ": missing dtype");
    const DtypeInfo* info = nullptr;
    for (const DtypeInfo& i : kDtypes) {
      if (*dtype->as_string() == i.name) info = &i;
    }
    if (info == nullptr) {
      return malformed(tw + ": unknown dtype '" + printable(*dtype->as_string()) + "'");
    }
    t.dtype = info->dtype;

    const Json* shape = value.find("shape");
    if (shape == nullptr || !shape->is_array()) return malformed(tw + ": missing shape");
    // The product is bounded as it grows, so no shape can overflow it.
    uint64_t n_elements = 1;
    for (const Json& d : shape->items()) {
      uint64_t dim;
      if (!read_count(d, uint64_t{1} << 62, dim)) {
        return malformed(tw + ": shape entries must be non-negative integers");
      }
      if (dim != 0 && n_elements > (uint64_t{1} << 62) / dim) {
        return malformed(tw + ": shape has too many elements");
      }
      n_elements *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    t.n_elements = static_cast<int64_t>(n_elements);

    const Json* offsets = value.find("data_offsets");
    uint64_t begin, end;
    if (offsets == nullptr || !offsets->is_array() || offsets->size() != 2 ||
        !read_count(offsets->items()[0], data_size, begin) ||
        !read_count(offsets->items()[1], data_size, end) || end < begin) {
      return malformed(
          strfmt("%s: data_offsets must be [begin, end] with begin <= end <= %llu "
                 "(the data section's size)",
                 tw.c_str(), static_cast<ull>(data_size)));
    }
    t.n_bytes = end - begin;
    if (n_elements > t.n_bytes || t.n_bytes != n_elements * info->size) {
      return malformed(strfmt("%s: %llu bytes of data for %llu elements of %s", tw.c_str(),
                              static_cast<ull>(t.n_bytes), static_cast<ull>(n_elements),
                              info->name));
    }
    t.offset = data_start + begin;
    index_.emplace(key, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  // Tensors must tile the data section exactly, in offset order.
  std::sort(tensors_.begin(), tensors_.end(),
            [](const SafetensorsTensor& a, const SafetensorsTensor& b) {
              return a.offset != b.offset ? a.offset < b.offset : a.n_bytes < b.n_bytes;
            });
  uint64_t expected = data_start;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const SafetensorsTensor& t = tensors_[i];
    if (t.offset != expected) {
      return malformed(
          strfmt("%s: tensor '%s' starts at data offset %llu where %llu was expected "
                 "(tensors overlap or leave a gap)",
                 where.c_str(), printable(t.name).c_str(), static_cast<ull>(t.offset - data_start),
                 static_cast<ull>(expected - data_start)));
    }
    expected = t.offset + t.n_bytes;
    index_[t.name] = i;
  }
  if (expected != size_) {
    return malformed(strfmt("%s: tensors cover %llu of the %llu data bytes", where.c_str(),
                            static_cast<ull>(expected - data_start), static_cast<ull>(data_size)));
  }
  return Status();
}

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Status SafetensorsFile::read(const SafetensorsTensor& t, uint64_t offset, uint64_t n,
                             void* dst) const {
  if (offset > t.n_bytes || n > t.n_bytes - offset) {
    return internal_error(
        strfmt("safetensors: read of %llu bytes at %llu is outside tensor '%s' "
               "(%llu bytes)",
               static_cast<ull>(n), static_cast<ull>(offset), printable(t.name).c_str(),
               static_cast<ull>(t.n_bytes)));
  }
  const uint64_t pos = t.offset + offset;
  if (pos > size_ || n > size_ - pos) {
    return internal_error("safetensors: read past the end of '" + path_ + "'");
  }
  if (n == 0) return Status();
  if (memory_ != nullptr) {
    std::memcpy(dst, memory_ + pos, static_cast<size_t>(n));
    return Status();
  }
  auto* out = static_cast<uint8_t*>(dst);
  uint64_t done = 0;
  while (done < n) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(n - done, 1u << 30));
    ssize_t got = ::pread(fd_, out + done, want, static_cast<off_t>(pos + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      return io_error(strfmt("safetensors: reading '%s': %s", path_.c_str(), std::strerror(errno)));
    }
    if (got == 0) {
      return io_error("safetensors: '" + path_ + "' is shorter than when it was opened");
    }
    done += static_cast<uint64_t>(got);
  }
  return Status();
}

Result<SafetensorsCheckpoint> SafetensorsCheckpoint::open_files(
    const std::vector<std::string>& paths) {
  SafetensorsCheckpoint ck;
  for (const std::string& p : paths) {
    Result<SafetensorsFile> f = SafetensorsFile::open(p);
    if (!f.ok()) return f.status();
    ck.files_.push_back(std::move(*f));
  }
  PLM_RETURN_IF_ERROR(ck.index_tensors());
  return ck;
}

Status SafetensorsCheckpoint::index_tensors() {
  all_.clear();
  by_name_.clear();
  for (size_t i = 0; i < files_.size(); ++i) {
    // file_index is set here, once the files sit at their final place in files_.
    for (SafetensorsTensor& t : files_[i].tensors_) {
      t.file_index = i;
      if (!by_name_.emplace(t.name, &t).second) {
        return malformed("safetensors: tensor '" + printable(t.name) + "' is in both '" +
                         files_[by_name_[t.name]->file_index].path() + "' and '" +
                         files_[i].path() + "'");
      }
      all_.push_back(&t);
    }
  }
  return Status();
}

Result<SafetensorsCheckpoint> SafetensorsCheckpoint::open_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root(dir);
  if (!fs::is_directory(root, ec)) {
    return not_found("safetensors: '" + dir + "' is not a directory");
  }
  const fs::path index_path = root / "model.safetensors.index.json";
  if (fs::is_regular_file(index_path, ec)) {
    const std::string ip = index_path.string();
    std::string text;
    PLM_RETURN_IF_ERROR(read_whole_file(ip, text));
    Result<Json> doc = Json::parse(text, ip);
    if (!doc.ok()) return doc.status();
    const Json* map = doc->find("weight_map");
    if (map == nullptr || !map->is_object()) {
      return malformed(ip + ": no \"weight_map\" object");
    }
    // Shards in first-mention order; each named tensor must live in its shard.
    std::vector<std::string> shards;
    for (const auto& [name, file] : map->members()) {
      const std::string* f = file.as_string();
      if (f == nullptr) {
        return malformed(ip + ": weight_map entry '" + printable(name) + "' is not a string");
      }
      // Shards are plain names beside the index; anything else could reach outside the model.
      if (f->empty() || f->find('/') != std::string::npos || *f == "." || *f == "..") {
        return malformed(ip + ": shard name '" + printable(*f) + "' is not a plain file name");
      }
      if (std::find(shards.begin(), shards.end(), *f) == shards.end()) shards.push_back(*f);
    }
    if (shards.empty()) return malformed(ip + ": weight_map is empty");
    std::vector<std::string> paths;
    for (const std::string& s : shards) paths.push_back((root / s).string());
    Result<SafetensorsCheckpoint> ck = open_files(paths);
    if (!ck.ok()) return ck.status();
    for (const auto& [name, file] : map->members()) {
      const SafetensorsTensor* t = ck->find(name);
      if (t == nullptr) {
        return malformed(ip + ": tensor '" + printable(name) + "' is missing from shard '" +
                         *file.as_string() + "'");
      }
      if (fs::path(ck->files_[t->file_index].path()).filename() != *file.as_string()) {
        return malformed(ip + ": tensor '" + printable(name) + "' is listed in '" +
                         *file.as_string() + "' but found in '" + ck->files_[t->file_index].path() +
                         "'");
      }
    }
    if (ck->tensors().size() != map->size()) {
      return malformed(strfmt("%s: the shards hold %zu tensors but weight_map lists %zu",
                              ip.c_str(), ck->tensors().size(), map->size()));
    }
    return ck;
  }
  const fs::path single = root / "model.safetensors";
  if (fs::is_regular_file(single, ec)) return open_files({single.string()});
  std::vector<std::string> found;
  for (const fs::directory_entry& e : fs::directory_iterator(root, ec)) {
    if (e.is_regular_file(ec) && e.path().extension() == ".safetensors") {
      found.push_back(e.path().string());
    }
  }
  if (found.size() == 1) return open_files(found);
  if (found.empty()) {
    return not_found("safetensors: no model.safetensors or model.safetensors.index.json in '" +
                     dir + "'");
  }
  return invalid_argument("safetensors: several .safetensors files in '" + dir +
                          "' but no model.safetensors.index.json to say which belong to the model");
}

const SafetensorsTensor* SafetensorsCheckpoint::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second;
}

uint64_t SafetensorsCheckpoint::total_bytes() const {
  uint64_t n = 0;
  for (const SafetensorsTensor* t : all_) n += t->n_bytes;
  return n;
}

}  // namespace pocketlm
