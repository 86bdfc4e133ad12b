#include "toolkit/imatrix/imatrix_file.h"

#include <cmath>
#include <cstring>

#include "format/gguf_reader.h"
#include "format/gguf_writer.h"

namespace pocketlm::toolkit {
namespace {

constexpr const char* kSumsSuffix = ".in_sum2";
constexpr const char* kCountsSuffix = ".counts";
constexpr const char* kDatasetsKey = "imatrix.datasets";
constexpr const char* kChunkCountKey = "imatrix.chunk_count";
constexpr const char* kChunkSizeKey = "imatrix.chunk_size";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<float> read_f32(const GgufTensorInfo& t) {
  std::vector<float> v(static_cast<size_t>(t.n_elements));
  std::memcpy(v.data(), t.data, v.size() * sizeof(float));
  return v;
}

}  // namespace

std::optional<std::vector<float>> Imatrix::importance(const std::string& name) const {
  auto it = entries.find(name);
  if (it == entries.end() || it->second.counts.size() != 1) return std::nullopt;
  const float count = it->second.counts[0];
  if (!(count > 0.0f)) return std::nullopt;
  std::vector<float> w(it->second.sums.size());
  for (size_t j = 0; j < w.size(); ++j) w[j] = it->second.sums[j] / count;
  return w;
}

Result<Imatrix> read_imatrix(const std::string& path) {
  Result<GgufFile> fr = GgufFile::open(path);
  if (!fr.ok()) return fr.status();
  const GgufFile& f = *fr;
  Imatrix im;
  if (const GgufValue* t = f.find("general.type");
      t && t->as_string() && *t->as_string() != "imatrix") {
    return invalid_argument(path + " is a GGUF file of type '" + *t->as_string() +
                            "', not an importance matrix");
  }
  if (const GgufValue* d = f.find(kDatasetsKey);
      d && d->is_array() && d->element_type() == GgufValueType::kString) {
    im.datasets = d->strings();
  }
  if (Result<uint32_t> c = f.get_u32(kChunkCountKey); c.ok()) im.chunk_count = *c;
  if (Result<uint32_t> c = f.get_u32(kChunkSizeKey); c.ok()) im.chunk_size = *c;

  for (const GgufTensorInfo& t : f.tensors()) {
    if (!ends_with(t.name, kSumsSuffix)) continue;
    const std::string name = t.name.substr(0, t.name.size() - std::strlen(kSumsSuffix));
    const GgufTensorInfo* c = f.find_tensor(name + kCountsSuffix);
    if (!c) return malformed(path + ": " + t.name + " has no matching " + name + kCountsSuffix);
    if (t.type != TensorType::kF32 || c->type != TensorType::kF32) {
      return malformed(path + ": " + t.name + " and its counts must be F32");
    }
    const int64_t n_mat = t.n_elements / (t.ne[0] == 0 ? 1 : t.ne[0]);
    if (c->n_elements != n_mat) {
      return malformed(strfmt("%s: %s holds %lld matrices but its counts %lld", path.c_str(),
                              t.name.c_str(), static_cast<long long>(n_mat),
                              static_cast<long long>(c->n_elements)));
    }
    ImatrixEntry e;
    e.sums = read_f32(t);
    e.counts = read_f32(*c);
    for (float v : e.sums) {
      if (!std::isfinite(v) || v < 0.0f) {
        return malformed(path + ": " + t.name + " holds a negative or non-finite value");
      }
    }
    im.entries.emplace(name, std::move(e));
  }
  if (im.entries.empty()) {
    return invalid_argument(path + " holds no importance data (no *.in_sum2 tensors)");
  }
  return im;
}

Status write_imatrix(const Imatrix& im, const std::string& path) {
  GgufWriter w;
  PLM_RETURN_IF_ERROR(w.set("general.type", GgufValue::string("imatrix")));
  PLM_RETURN_IF_ERROR(w.set(kDatasetsKey, GgufValue::array(im.datasets)));
  PLM_RETURN_IF_ERROR(w.set(kChunkCountKey, GgufValue::u32(im.chunk_count)));
  PLM_RETURN_IF_ERROR(w.set(kChunkSizeKey, GgufValue::u32(im.chunk_size)));
  std::vector<const void*> data;
  for (const auto& [name, e] : im.entries) {
    const int64_t n_mat = static_cast<int64_t>(e.counts.size());
    if (n_mat < 1 || e.sums.size() % e.counts.size() != 0) {
      return internal_error("importance entry " + name + " has inconsistent sizes");
    }
    const int64_t cols = static_cast<int64_t>(e.sums.size()) / n_mat;
    PLM_RETURN_IF_ERROR(w.add_tensor(name + kSumsSuffix, TensorType::kF32, {cols, n_mat}));
    PLM_RETURN_IF_ERROR(w.add_tensor(name + kCountsSuffix, TensorType::kF32, {1, n_mat}));
    data.push_back(e.sums.data());
    data.push_back(e.counts.data());
  }
  return w.write_file(path, data);
}

}  // namespace pocketlm::toolkit
