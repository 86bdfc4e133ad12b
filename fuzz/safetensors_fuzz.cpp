// libFuzzer target for the safetensors reader and the JSON parser under it: parse arbitrary
// bytes as a safetensors image and read every tensor's first and last row; bytes that are not
// one are parsed as JSON and as a config.json. Crashes, sanitizer reports, leaks and
// out-of-memory are findings.
//
// Seeds (tests/data/fuzz/safetensors/): two small valid images (F32/F16 tensors; a BF16 scalar, an
// empty tensor and __metadata__) and a config.json.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "format/json.h"
#include "format/safetensors.h"
#include "toolkit/convert/hf_config.h"

namespace {

volatile uint64_t g_sink;

void walk(const pocketlm::Json& j, int depth) {
  uint64_t h = static_cast<uint64_t>(j.kind()) + j.size();
  if (auto b = j.as_bool()) h += *b;
  if (auto i = j.as_int()) h += static_cast<uint64_t>(*i);
  if (auto d = j.as_number()) h += *d != *d;
  if (const std::string* s = j.as_string()) h += s->size();
  for (const auto& [k, v] : j.members()) {
    h += k.size();
    if (j.find(k) == nullptr) __builtin_trap();
    (void)v;
  }
  if (depth < 64) {
    for (const pocketlm::Json& item : j.items()) walk(item, depth + 1);
  }
  g_sink = g_sink + h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pocketlm::Result<pocketlm::SafetensorsFile> f =
      pocketlm::SafetensorsFile::open_memory(data, size, "fuzz");
  if (f.ok()) {
    std::vector<uint8_t> buf;
    for (const pocketlm::SafetensorsTensor& t : f->tensors()) {
      if (f->find(t.name) != &t) __builtin_trap();
      if (t.offset > size || t.n_bytes > size - t.offset) __builtin_trap();
      const uint64_t row = t.n_elements == 0 ? 0 : t.row_bytes();
      if (row > t.n_bytes) __builtin_trap();
      buf.resize(static_cast<size_t>(row));
      if (!f->read(t, 0, row, buf.data()).ok()) __builtin_trap();
      if (!f->read(t, t.n_bytes - row, row, buf.data()).ok()) __builtin_trap();
      if (f->read(t, t.n_bytes, 1, buf.data()).ok()) __builtin_trap();  // past the end
      for (uint8_t b : buf) g_sink = g_sink + b;
    }
    for (const auto& [k, v] : f->metadata()) g_sink = g_sink + k.size() + v.size();
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  pocketlm::Result<pocketlm::Json> j = pocketlm::Json::parse(text);
  if (j.ok()) walk(*j, 0);
  pocketlm::Result<pocketlm::convert::HfConfig> c =
      pocketlm::convert::HfConfig::parse(text, "config.json");
  if (c.ok()) g_sink = g_sink + static_cast<uint64_t>(c->head_dim()) + c->rope.long_factor.size();
  return 0;
}
