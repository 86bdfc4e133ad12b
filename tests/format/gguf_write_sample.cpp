// Writes a GGUF file with pocketlm's GgufWriter holding every metadata value type, nested and
// string arrays, and tensors of several types, for gguf_roundtrip.py to read back with the
// `gguf` Python package. The content is a fixed recipe that the script rebuilds on its side
// (keep the two in step).
//
//   gguf_write_sample OUT.gguf [--alignment N]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "format/gguf_writer.h"
#include "quant/fp16.h"

using namespace pocketlm;

namespace {

Status add_metadata(GgufWriter& w, uint32_t alignment) {
  using V = GgufValue;
  PLM_RETURN_IF_ERROR(w.set("general.architecture", V::string("pocketlm-test")));
  if (alignment != 0) PLM_RETURN_IF_ERROR(w.set_alignment(alignment));
  PLM_RETURN_IF_ERROR(w.set("test.u8", V::u8(200)));
  PLM_RETURN_IF_ERROR(w.set("test.i8", V::i8(-100)));
  PLM_RETURN_IF_ERROR(w.set("test.u16", V::u16(60000)));
  PLM_RETURN_IF_ERROR(w.set("test.i16", V::i16(-30000)));
  PLM_RETURN_IF_ERROR(w.set("test.u32", V::u32(4000000000u)));
  PLM_RETURN_IF_ERROR(w.set("test.i32", V::i32(-2000000000)));
  PLM_RETURN_IF_ERROR(w.set("test.u64", V::u64(std::numeric_limits<uint64_t>::max())));
  PLM_RETURN_IF_ERROR(w.set("test.i64", V::i64(std::numeric_limits<int64_t>::min())));
  PLM_RETURN_IF_ERROR(w.set("test.f32", V::f32(3.14159265f)));
  PLM_RETURN_IF_ERROR(w.set("test.f64", V::f64(2.718281828459045)));
  PLM_RETURN_IF_ERROR(w.set("test.bool_true", V::boolean(true)));
  PLM_RETURN_IF_ERROR(w.set("test.bool_false", V::boolean(false)));
  PLM_RETURN_IF_ERROR(
      w.set("test.string", V::string("h\xc3\xa9llo \"quoted\"\n\ttab \xe2\x9c\x93")));
  PLM_RETURN_IF_ERROR(w.set("test.empty_string", V::string("")));
  const float inf = std::numeric_limits<float>::infinity();
  PLM_RETURN_IF_ERROR(w.set(
      "test.f32_special",
      V::array(std::vector<float>{0.0f, -0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(),
                                  1e-45f, 3.4028235e38f, 0.1f})));
  PLM_RETURN_IF_ERROR(w.set("test.arr_u8", V::array(std::vector<uint8_t>{0, 1, 255})));
  PLM_RETURN_IF_ERROR(w.set("test.arr_i8", V::array(std::vector<int8_t>{-128, 0, 127})));
  PLM_RETURN_IF_ERROR(w.set("test.arr_u16", V::array(std::vector<uint16_t>{0, 65535})));
  PLM_RETURN_IF_ERROR(w.set("test.arr_i16", V::array(std::vector<int16_t>{-32768, 32767})));
  PLM_RETURN_IF_ERROR(w.set("test.arr_u32", V::array(std::vector<uint32_t>{0, 4294967295u})));
  PLM_RETURN_IF_ERROR(
      w.set("test.arr_i32", V::array(std::vector<int32_t>{std::numeric_limits<int32_t>::min(), -1,
                                                          std::numeric_limits<int32_t>::max()})));
  PLM_RETURN_IF_ERROR(w.set(
      "test.arr_u64", V::array(std::vector<uint64_t>{0, std::numeric_limits<uint64_t>::max()})));
  PLM_RETURN_IF_ERROR(
      w.set("test.arr_i64", V::array(std::vector<int64_t>{std::numeric_limits<int64_t>::min(), 7,
                                                          std::numeric_limits<int64_t>::max()})));
  PLM_RETURN_IF_ERROR(w.set("test.arr_f64", V::array(std::vector<double>{-1.5, 1e300, 5e-324})));
  PLM_RETURN_IF_ERROR(w.set("test.arr_bool", V::array(std::vector<bool>{true, false, true})));
  PLM_RETURN_IF_ERROR(
      w.set("test.arr_string", V::array(std::vector<std::string>{"a", "",
                                                                 "\xc3\xbc"
                                                                 "n"
                                                                 "\xc3\xaf"
                                                                 "c"
                                                                 "\xc3\xb6"
                                                                 "d"
                                                                 "\xc3\xa9",
                                                                 "with\nnewline"})));
  PLM_RETURN_IF_ERROR(w.set("test.arr_empty_i32", V::array(std::vector<int32_t>{})));
  PLM_RETURN_IF_ERROR(
      w.set("test.nested", V::array(std::vector<GgufValue>{
                               V::array(std::vector<int32_t>{1, 2, 3}),
                               V::array(std::vector<std::string>{"x", "y"}),
                               V::array(std::vector<GgufValue>{V::array(std::vector<float>{1.5f}),
                                                               V::array(std::vector<uint8_t>{})}),
                           })));
  std::vector<uint32_t> long_array(1000);
  for (uint32_t i = 0; i < 1000; ++i) long_array[i] = i * 3;
  PLM_RETURN_IF_ERROR(w.set("test.long_array", V::array(long_array)));
  return Status::ok_status();
}

struct SampleTensor {
  const char* name;
  TensorType type;
  std::vector<int64_t> ne;
  std::vector<uint8_t> bytes;
};

template <typename T>
std::vector<uint8_t> as_bytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::vector<uint8_t> pattern(size_t n, unsigned mul, unsigned add) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>((i * mul + add) & 0xff);
  return b;
}

std::vector<SampleTensor> make_tensors() {
  std::vector<SampleTensor> ts;
  std::vector<float> f32(24);
  for (size_t i = 0; i < f32.size(); ++i) f32[i] = static_cast<float>(i) * 0.25f - 3.0f;
  ts.push_back({"t.f32", TensorType::kF32, {8, 3}, as_bytes(f32)});
  std::vector<uint16_t> f16(64);
  for (size_t i = 0; i < f16.size(); ++i) {
    f16[i] = fp32_to_fp16((static_cast<float>(i) - 32.0f) / 8.0f);
  }
  ts.push_back({"t.f16", TensorType::kF16, {16, 2, 2}, as_bytes(f16)});
  ts.push_back({"t.q8_0", TensorType::kQ8_0, {64, 2}, pattern(4 * 34, 31, 7)});
  ts.push_back({"t.empty", TensorType::kF32, {0, 4}, {}});
  ts.push_back({"t.q4_k", TensorType::kQ4_K, {256, 1}, pattern(144, 13, 5)});
  ts.push_back({"t.bf16",
                TensorType::kBF16,
                {4},
                as_bytes(std::vector<uint16_t>{0x3f80, 0xc000, 0x0000, 0x7f80})});
  ts.push_back({"t.i32", TensorType::kI32, {5}, as_bytes(std::vector<int32_t>{-2, -1, 0, 1, 2})});
  std::vector<float> f4(48);
  for (size_t i = 0; i < f4.size(); ++i) f4[i] = static_cast<float>(i);
  ts.push_back({"t.f32_4d", TensorType::kF32, {2, 3, 4, 2}, as_bytes(f4)});
  return ts;
}

Status write_sample(const std::string& path, uint32_t alignment) {
  GgufWriter w;
  PLM_RETURN_IF_ERROR(add_metadata(w, alignment));
  std::vector<SampleTensor> ts = make_tensors();
  for (const SampleTensor& t : ts) {
    PLM_RETURN_IF_ERROR(w.add_tensor(t.name, t.type, t.ne));
  }
  PLM_RETURN_IF_ERROR(w.begin(path));
  for (const SampleTensor& t : ts) {
    // Two pieces per tensor, to exercise partial writes.
    size_t half = t.bytes.size() / 2;
    PLM_RETURN_IF_ERROR(w.write_tensor_data(t.bytes.data(), half));
    PLM_RETURN_IF_ERROR(w.write_tensor_data(t.bytes.data() + half, t.bytes.size() - half));
  }
  return w.finish();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 4 && std::strcmp(argv[2], "--alignment") == 0)) {
    std::fprintf(stderr, "usage: gguf_write_sample OUT.gguf [--alignment N]\n");
    return 2;
  }
  uint32_t alignment = argc == 4 ? static_cast<uint32_t>(std::strtoul(argv[3], nullptr, 10)) : 0;
  Status s = write_sample(argv[1], alignment);
  if (!s.ok()) {
    std::fprintf(stderr, "gguf_write_sample: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
