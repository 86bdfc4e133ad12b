#include "model/model.h"

#include <fstream>
#include <vector>

namespace pocketlm {
namespace {

Result<GgufFile> read_whole_file(const std::string& path,
                                 const std::function<bool(float)>& progress) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return io_error(strfmt("cannot open '%s'", path.c_str()));
  const std::streamoff size = in.tellg();
  if (size < 0) return io_error(strfmt("cannot read the size of '%s'", path.c_str()));
  std::vector<uint8_t> bytes;
  try {
    bytes.resize(static_cast<size_t>(size));
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfMemory,
                  strfmt("cannot allocate %lld bytes to read '%s' (try mmap)",
                         static_cast<long long>(size), path.c_str()));
  }
  in.seekg(0);
  const size_t chunk = size_t{16} << 20;
  for (size_t done = 0; done < bytes.size();) {
    const size_t n = std::min(chunk, bytes.size() - done);
    if (!in.read(reinterpret_cast<char*>(bytes.data() + done), static_cast<std::streamsize>(n))) {
      return io_error(strfmt("reading '%s' failed at byte %zu", path.c_str(), done));
    }
    done += n;
    if (progress && !progress(0.9f * static_cast<float>(done) / static_cast<float>(bytes.size()))) {
      return Status(StatusCode::kCancelled, "loading cancelled");
    }
  }
  return GgufFile::open_bytes(std::move(bytes));
}

}  // namespace

Result<std::unique_ptr<Model>> Model::load(const std::string& path, const LoadOptions& options) {
  std::unique_ptr<Model> m(new Model());
  Result<GgufFile> f = options.use_mmap ? GgufFile::open(path)
                                        : read_whole_file(path, options.progress);
  if (!f.ok()) return f.status();
  m->file_ = std::move(f).value();

  Result<std::string> arch_name = m->file_.get_string("general.architecture");
  if (!arch_name.ok()) {
    return malformed(strfmt("'%s' has no general.architecture: %s", path.c_str(),
                            arch_name.status().message().c_str()));
  }
  m->arch_ = find_arch(*arch_name);
  if (!m->arch_) {
    return unsupported(strfmt("architecture '%s' is not supported", arch_name->c_str()));
  }
  Result<Hparams> hp = Hparams::from_gguf(m->file_, *m->arch_);
  if (!hp.ok()) return hp.status();
  m->hp_ = *hp;
  Result<ModelWeights> w = ModelWeights::load(m->file_, *m->arch_, m->hp_);
  if (!w.ok()) return w.status();
  m->weights_ = std::move(w).value();
  for (const GgufTensorInfo& t : m->file_.tensors()) m->weight_bytes_ += t.n_bytes;

  if (options.prefetch) {
    // One read per page pulls the mapping in now rather than during the first token.
    const std::vector<GgufTensorInfo>& ts = m->file_.tensors();
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < ts.size(); ++i) {
      const uint8_t* p = ts[i].data;
      for (uint64_t off = 0; off < ts[i].n_bytes; off += 4096) sink = sink + p[off];
      if (options.progress &&
          !options.progress(0.9f + 0.1f * static_cast<float>(i + 1) / static_cast<float>(ts.size()))) {
        return Status(StatusCode::kCancelled, "loading cancelled");
      }
    }
  }
  if (options.progress) options.progress(1.0f);
  return m;
}

}  // namespace pocketlm
