// `pocketlm dump FILE TENSOR -o OUT` / `pocketlm dump FILE --all -o DIR`: tensors dequantized to
// little-endian float32, for comparing against other implementations.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "args.h"
#include "cli.h"
#include "format/gguf_reader.h"
#include "quant/types.h"

namespace pocketlm::cli {
namespace {

// Rows are dequantized a slab at a time, so dumping a large tensor needs a few MB, not its size.
constexpr int64_t kSlabElements = 1 << 20;

Status check_dumpable(const GgufTensorInfo& t) {
  const TypeTraits& tr = type_traits(t.type);
  if (tr.to_float == nullptr) {
    return unsupported(strfmt("tensor '%s' has type %s, which pocketlm cannot dequantize",
                              t.name.c_str(), tr.name));
  }
  return Status::ok_status();
}

// Writes t as float32 to `out`; io errors name `out_name`.
Status dump_tensor(const GgufTensorInfo& t, std::FILE* out, const std::string& out_name) {
  const TypeTraits& tr = type_traits(t.type);
  const int64_t row = t.ne[0];
  if (t.n_elements == 0) return Status::ok_status();
  const size_t row_bytes = row_size(t.type, row);
  const int64_t rows_per_slab = std::max<int64_t>(1, kSlabElements / row);
  std::vector<float> buf(static_cast<size_t>(std::min(rows_per_slab, t.n_rows()) * row));
  const uint8_t* src = t.data;
  for (int64_t r = 0; r < t.n_rows(); r += rows_per_slab) {
    int64_t n_rows = std::min(rows_per_slab, t.n_rows() - r);
    int64_t n = n_rows * row;
    tr.to_float(src + static_cast<size_t>(r) * row_bytes, buf.data(), n);
    if (std::fwrite(buf.data(), sizeof(float), static_cast<size_t>(n), out) !=
        static_cast<size_t>(n)) {
      return io_error(strfmt("writing '%s' failed: %s", out_name.c_str(), std::strerror(errno)));
    }
  }
  return Status::ok_status();
}

Status dump_to_path(const GgufTensorInfo& t, const std::string& path) {
  if (path == "-") {
    PLM_RETURN_IF_ERROR(dump_tensor(t, stdout, "stdout"));
    if (std::fflush(stdout) != 0) return io_error("writing stdout failed");
    return Status::ok_status();
  }
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) {
    return io_error(strfmt("cannot create '%s': %s", path.c_str(), std::strerror(errno)));
  }
  Status s = dump_tensor(t, out, path);
  if (std::fclose(out) != 0 && s.ok()) {
    s = io_error(strfmt("writing '%s' failed: %s", path.c_str(), std::strerror(errno)));
  }
  if (!s.ok()) std::remove(path.c_str());
  return s;
}

// File name for a tensor in --all mode: the tensor name where it is a safe file name; otherwise
// unsafe bytes become '_' and "~<index>" keeps names that collapse together apart.
std::string dump_file_name(const GgufTensorInfo& t, size_t index) {
  std::string s = t.name;
  bool changed = false;
  for (char& c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      c = '_';
      changed = true;
    }
  }
  if (s.empty() || s[0] == '.') changed = true;
  if (changed) s += strfmt("~%zu", index);
  s += ".f32";
  return s;
}

int run_dump(const std::vector<std::string>& args) {
  ArgParser p("dump", "pocketlm dump FILE TENSOR -o OUT | pocketlm dump FILE --all -o DIR");
  p.option("-o", "--output", "PATH", "output file ('-' for stdout), or directory with --all");
  p.flag("--all", "dump every tensor into DIR/<tensor name>.f32");
  p.epilog(
      "Writes the tensor's elements as little-endian float32, in storage order (ne[0] fastest).\n"
      "Types pocketlm cannot dequantize (integer and IQ types) are an error. With --all, names\n"
      "that are not safe file names get unsafe bytes replaced by '_' and a '~<index>' suffix.");
  ParsedArgs a;
  if (int rc = p.parse(args, 1, 2, &a); rc >= 0) return rc;
  if (!a.has("--output")) return report_error("dump", "missing -o OUT", kExitUsage);
  const bool all = a.has("--all");
  if (all != (a.positional.size() == 1)) {
    return report_error(
        "dump", all ? "--all takes no TENSOR argument" : "missing the TENSOR argument (or --all)",
        kExitUsage);
  }
  const std::string out = a.get("--output");
  Result<GgufFile> f = GgufFile::open(a.positional[0]);
  if (!f.ok()) return report_error("dump", f.status().message(), kExitUsage);

  if (!all) {
    const GgufTensorInfo* t = f->find_tensor(a.positional[1]);
    if (t == nullptr) {
      return report_error(
          "dump",
          strfmt("no tensor '%s' in '%s'", a.positional[1].c_str(), a.positional[0].c_str()),
          kExitUsage);
    }
    Status s = check_dumpable(*t);
    if (s.ok()) s = dump_to_path(*t, out);
    return s.ok() ? kExitOk : report_status("dump", s);
  }

  // --all: refuse before writing anything if some tensor cannot be dumped.
  for (const GgufTensorInfo& t : f->tensors()) {
    if (Status s = check_dumpable(t); !s.ok()) return report_status("dump", s);
  }
  if (::mkdir(out.c_str(), 0777) != 0 && errno != EEXIST) {
    return report_error(
        "dump", strfmt("cannot create directory '%s': %s", out.c_str(), std::strerror(errno)),
        kExitFailure);
  }
  for (size_t i = 0; i < f->tensors().size(); ++i) {
    const GgufTensorInfo& t = f->tensors()[i];
    if (Status s = dump_to_path(t, out + "/" + dump_file_name(t, i)); !s.ok()) {
      return report_status("dump", s);
    }
  }
  return kExitOk;
}

const VerbRegistrar kDump({"dump", "Write tensors dequantized to float32", run_dump});

}  // namespace
}  // namespace pocketlm::cli
