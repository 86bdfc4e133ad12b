// Hand-assembles GGUF bytes for the reader tests, independently of GgufWriter, and remembers
// where each field went so tests can overwrite single fields with hostile values.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace pocketlm::testing {

class GgufBytes {
 public:
  std::vector<uint8_t> bytes;

  size_t size() const { return bytes.size(); }

  size_t u8(uint8_t v) { return put(&v, 1); }
  size_t u32(uint32_t v) { return put(&v, 4); }
  size_t u64(uint64_t v) { return put(&v, 8); }
  size_t f32(float v) { return put(&v, 4); }
  // Returns the offset of the length field.
  size_t str(std::string_view s) {
    size_t at = u64(s.size());
    put(s.data(), s.size());
    return at;
  }
  size_t put(const void* p, size_t n) {
    size_t at = bytes.size();
    bytes.resize(at + n);
    if (n != 0) std::memcpy(bytes.data() + at, p, n);
    return at;
  }
  void pad_to(size_t alignment) {
    while (bytes.size() % alignment != 0) bytes.push_back(0);
  }

  void set_u32(size_t at, uint32_t v) { std::memcpy(bytes.data() + at, &v, 4); }
  void set_u64(size_t at, uint64_t v) { std::memcpy(bytes.data() + at, &v, 8); }
};

// A small valid GGUF v3 file and the offsets of its fields:
//   kv0 general.alignment = u32 32
//   kv1 name = "tiny"
//   kv2 tokens = [string] {"a", "bc", ""}
//   kv3 scores = [float32] {0.5, -1, 2}
//   kv4 nested = [array] {[int32]{1, 2}, [int32]{3, 4}}
//   tensor0 w: q8_0, ne {32, 2} -> 68 bytes at data offset 0
//   tensor1 b: f32,  ne {4}     -> 16 bytes at data offset 96 (ends the file)
struct SampleGguf {
  GgufBytes g;
  size_t version, n_tensors, n_kv;
  size_t kv0_key, kv0_type, kv0_value;
  size_t kv1_key, kv1_type, kv1_value;  // kv1_value: the string's length field
  size_t kv2_key, kv2_elem_type, kv2_count, kv2_item0;
  size_t kv3_elem_type, kv3_count;
  size_t kv4_elem_type, kv4_count, kv4_inner0_type, kv4_inner0_count;
  size_t t0_name, t0_n_dims, t0_ne0, t0_ne1, t0_type, t0_offset;
  size_t t1_name, t1_n_dims, t1_ne0, t1_type, t1_offset;
  size_t data_start;

  SampleGguf() {
    g.u32(0x46554747);
    version = g.u32(3);
    n_tensors = g.u64(2);
    n_kv = g.u64(5);

    kv0_key = g.str("general.alignment");
    kv0_type = g.u32(4);  // uint32
    kv0_value = g.u32(32);

    kv1_key = g.str("name");
    kv1_type = g.u32(8);  // string
    kv1_value = g.str("tiny");

    kv2_key = g.str("tokens");
    g.u32(9);  // array
    kv2_elem_type = g.u32(8);
    kv2_count = g.u64(3);
    kv2_item0 = g.str("a");
    g.str("bc");
    g.str("");

    g.str("scores");
    g.u32(9);
    kv3_elem_type = g.u32(6);  // float32
    kv3_count = g.u64(3);
    g.f32(0.5f);
    g.f32(-1.0f);
    g.f32(2.0f);

    g.str("nested");
    g.u32(9);
    kv4_elem_type = g.u32(9);  // array of arrays
    kv4_count = g.u64(2);
    kv4_inner0_type = g.u32(5);  // int32
    kv4_inner0_count = g.u64(2);
    g.u32(1);
    g.u32(2);
    g.u32(5);
    g.u64(2);
    g.u32(3);
    g.u32(4);

    t0_name = g.str("w");
    t0_n_dims = g.u32(2);
    t0_ne0 = g.u64(32);
    t0_ne1 = g.u64(2);
    t0_type = g.u32(8);  // q8_0
    t0_offset = g.u64(0);

    t1_name = g.str("b");
    t1_n_dims = g.u32(1);
    t1_ne0 = g.u64(4);
    t1_type = g.u32(0);  // f32
    t1_offset = g.u64(96);

    g.pad_to(32);
    data_start = g.size();
    for (int i = 0; i < 68; ++i) g.u8(static_cast<uint8_t>(i));
    g.pad_to(32);
    const float b[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    g.put(b, sizeof(b));
  }
};

}  // namespace pocketlm::testing
