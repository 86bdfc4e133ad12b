// libFuzzer target for the GGUF reader: parse arbitrary bytes, then touch everything the parse
// produced — every metadata value (re-encoded, which must reproduce its own size), every tensor's
// first and last data byte. Crashes, sanitizer reports, leaks and out-of-memory are findings.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "format/gguf_reader.h"

namespace {

using pocketlm::GgufFile;
using pocketlm::GgufKv;
using pocketlm::GgufTensorInfo;
using pocketlm::GgufValue;
using pocketlm::GgufValueType;

volatile uint64_t g_sink;

void walk(const GgufValue& v) {
  uint64_t h = static_cast<uint64_t>(v.type()) + v.bits();
  if (auto u = v.as_uint()) h += *u;
  if (auto i = v.as_int()) h += static_cast<uint64_t>(*i);
  if (auto f = v.as_float()) h += *f != *f;  // NaN-safe use of the value
  if (auto b = v.as_bool()) h += *b;
  if (const std::string* s = v.as_string()) h += s->size() + (s->empty() ? 0 : s->back());
  if (v.is_array()) {
    h += v.size();
    switch (v.element_type()) {
      case GgufValueType::kString:
        for (const std::string& s : v.strings()) h += s.size();
        break;
      case GgufValueType::kArray:
        for (const GgufValue& a : v.arrays()) walk(a);
        break;
      default:
        for (size_t i = 0; i < v.size(); ++i) h += v.scalar_at(i).bits();
    }
    if (auto f = v.to_f32_vector()) h += f->size();
    if (auto i = v.to_i32_vector()) h += i->size();
  }
  g_sink = g_sink + h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pocketlm::Result<GgufFile> r = GgufFile::open_memory(data, size);
  if (!r.ok()) return 0;
  const GgufFile& f = *r;
  for (const GgufKv& kv : f.metadata()) {
    walk(kv.value);
    std::vector<uint8_t> encoded;
    kv.value.encode(encoded);
    if (encoded.size() != kv.value.encoded_size()) __builtin_trap();
    if (f.find(kv.key) == nullptr) __builtin_trap();
    (void)f.get_u32(kv.key);
    (void)f.get_f32(kv.key);
    (void)f.get_string(kv.key);
    (void)f.get_string_array(kv.key);
  }
  for (const GgufTensorInfo& t : f.tensors()) {
    if (t.file_offset > size || t.n_bytes > size - t.file_offset) __builtin_trap();
    if (f.find_tensor(t.name) != &t) __builtin_trap();
    if (t.n_bytes == 0) continue;
    const uint8_t* p = static_cast<const uint8_t*>(f.tensor_data(t));
    g_sink = g_sink + p[0] + p[t.n_bytes - 1];
  }
  return 0;
}
