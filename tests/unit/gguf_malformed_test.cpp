// Hostile and truncated GGUF input: every case must give an error Status whose message names
// the field and where it is — never a crash, a hang or a huge allocation. (Under ASan in CI, an
// out-of-bounds read or a leak here fails the test too.)
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "format/gguf_reader.h"
#include "gguf_test_builder.h"

namespace pocketlm {
namespace {

using testing::GgufBytes;
using testing::SampleGguf;

Status parse_status(const std::vector<uint8_t>& bytes) {
  Result<GgufFile> r = GgufFile::open_memory(bytes.data(), bytes.size());
  return r.ok() ? Status::ok_status() : r.status();
}

// Expects a malformed-file error whose message contains each of `parts`.
void expect_error(const std::vector<uint8_t>& bytes, std::initializer_list<std::string> parts,
                  StatusCode code = StatusCode::kMalformedFile) {
  Status s = parse_status(bytes);
  ASSERT_FALSE(s.ok()) << "parsed without error";
  EXPECT_EQ(s.code(), code) << s.message();
  EXPECT_EQ(s.message().rfind("gguf: ", 0), 0u) << s.message();
  for (const std::string& p : parts) {
    EXPECT_NE(s.message().find(p), std::string::npos)
        << "message: " << s.message() << "\nlacks: " << p;
  }
}

std::string at(size_t offset) { return "at byte " + std::to_string(offset); }

TEST(GgufMalformed, SampleIsValid) {
  SampleGguf s;
  EXPECT_TRUE(parse_status(s.g.bytes).ok()) << parse_status(s.g.bytes).message();
}

TEST(GgufMalformed, TruncatedAtEveryByte) {
  SampleGguf s;
  for (size_t n = 0; n < s.g.size(); ++n) {
    std::vector<uint8_t> cut(s.g.bytes.begin(), s.g.bytes.begin() + static_cast<ptrdiff_t>(n));
    Status st = parse_status(cut);
    ASSERT_FALSE(st.ok()) << "truncated to " << n << " bytes parsed";
    ASSERT_EQ(st.code(), StatusCode::kMalformedFile) << n << ": " << st.message();
    // Every message says where: a byte offset, or the data range that runs past the end.
    const std::string& m = st.message();
    bool located = m.find("at byte ") != std::string::npos ||
                   m.find("runs past end of file") != std::string::npos;
    ASSERT_TRUE(located) << n << ": " << m;
  }
}

TEST(GgufMalformed, TruncationMessagesNameTheField) {
  SampleGguf s;
  auto cut = [&](size_t n) {
    return std::vector<uint8_t>(s.g.bytes.begin(), s.g.bytes.begin() + static_cast<ptrdiff_t>(n));
  };
  expect_error(cut(0), {"header: magic at byte 0 needs 4 bytes, but only 0 remain"});
  expect_error(cut(6), {"header: version at byte 4 needs 4 bytes, but only 2 remain"});
  // The count checks catch a cut short before the items are reached.
  expect_error(cut(s.kv1_value + 3), {"header: metadata key count 5 at byte 16 needs at least "
                                      "13 bytes per item, but only 52 bytes remain"});
  expect_error(cut(s.kv2_item0 + 2), {"metadata key #2 'tokens': array count 3 " + at(s.kv2_count) +
                                      " needs at least 8 bytes per item, "
                                      "but only 2 bytes remain"});
  expect_error(cut(s.kv4_inner0_count + 9),
               {"metadata key #4 'nested': array count 2 " + at(s.kv4_count) +
                " needs at least 12 bytes per item, but only 13 bytes remain"});
  expect_error(cut(s.t0_ne1 + 1), {"header: tensor count 2 (at byte 8) needs at least 24 bytes "
                                   "per tensor info, but only 22 bytes remain after the metadata "
                                   "(byte 254)"});
  expect_error(cut(s.t1_ne0 + 1), {"tensor 'b' (#1): dimension " + at(s.t1_ne0) +
                                   " needs 8 bytes, but only 1 remain"});
  expect_error(cut(s.t1_offset), {"tensor 'b' (#1): data offset " + at(s.t1_offset)});
  expect_error(
      cut(s.data_start + 60),
      {"tensor 'w' (#0): data at offset " + std::to_string(s.data_start) +
       " + 68 bytes runs past end of file (size " + std::to_string(s.data_start + 60) + ")"});
}

TEST(GgufMalformed, StringCutInsideAnArray) {
  GgufBytes g;
  g.u32(0x46554747);
  g.u32(3);
  g.u64(0);
  g.u64(1);
  g.str("s");
  g.u32(9);
  g.u32(8);
  g.u64(2);
  g.str("ab");
  size_t second = g.u64(5);
  g.put("xyz", 3);
  expect_error(g.bytes, {"metadata key #0 's'[1]: string length 5 " + at(second) +
                         " exceeds remaining 3 bytes"});
}

TEST(GgufMalformed, HeaderFields) {
  {
    SampleGguf s;
    s.g.bytes[0] = 'X';
    expect_error(s.g.bytes, {"not a GGUF file: magic at byte 0 is 'XGUF'"});
  }
  {
    SampleGguf s;
    s.g.set_u32(s.version, 1);
    expect_error(s.g.bytes, {"GGUF version 1 (at byte 4) is not supported"},
                 StatusCode::kUnsupported);
  }
  {
    SampleGguf s;
    s.g.set_u32(s.version, 4);
    expect_error(s.g.bytes, {"GGUF version 4 (at byte 4) is not supported"},
                 StatusCode::kUnsupported);
  }
  {
    SampleGguf s;
    s.g.set_u32(s.version, 0x03000000);  // a v3 file written big-endian
    expect_error(s.g.bytes, {"big-endian GGUF files are not supported", "byte 4"},
                 StatusCode::kUnsupported);
  }
  {
    SampleGguf s;
    s.g.set_u64(s.n_kv, uint64_t{1} << 60);
    expect_error(s.g.bytes, {"metadata key count 1152921504606846976 at byte 16 needs at least "
                             "13 bytes per item"});
  }
  {
    SampleGguf s;
    s.g.set_u64(s.n_tensors, uint64_t{1} << 60);
    expect_error(s.g.bytes, {"tensor count 1152921504606846976 (at byte 8)"});
  }
  {
    SampleGguf s;
    // Two more tensor infos than the file holds: #2 reads the zero padding as an empty-named
    // scalar (legal), #3 reads tensor data as a name length.
    s.g.set_u64(s.n_tensors, 4);
    expect_error(s.g.bytes, {"tensor #3: name length 506097522914230528 " + at(s.data_start) +
                             " exceeds remaining"});
  }
}

TEST(GgufMalformed, MetadataFields) {
  {
    SampleGguf s;
    s.g.set_u64(s.kv0_key, 4294967295u);
    expect_error(s.g.bytes, {"metadata key #0: key length 4294967295 " + at(s.kv0_key) +
                             " exceeds remaining"});
  }
  {
    SampleGguf s;
    s.g.set_u64(s.kv1_value, ~uint64_t{0});
    expect_error(s.g.bytes, {"metadata key #1 'name': string length 18446744073709551615 " +
                             at(s.kv1_value) + " exceeds remaining"});
  }
  {
    SampleGguf s;
    s.g.set_u32(s.kv1_type, 13);
    expect_error(s.g.bytes, {"metadata key #1 'name': value type 13 " + at(s.kv1_type) +
                             " is not a GGUF value type"});
  }
  {
    SampleGguf s;
    s.g.set_u32(s.kv2_elem_type, 0xffffffffu);
    expect_error(s.g.bytes, {"'tokens': array element type 4294967295 " + at(s.kv2_elem_type)});
  }
  {
    SampleGguf s;
    s.g.set_u64(s.kv2_count, uint64_t{1} << 60);
    expect_error(s.g.bytes, {"'tokens': array count 1152921504606846976 " + at(s.kv2_count) +
                             " needs at least 8 bytes per item"});
  }
  {
    SampleGguf s;
    s.g.set_u64(s.kv3_count, ~uint64_t{0} / 2);
    expect_error(s.g.bytes, {"'scores': array count", at(s.kv3_count), "4 bytes per item"});
  }
  {
    SampleGguf s;
    s.g.set_u64(s.kv4_count, uint64_t{1} << 62);
    expect_error(s.g.bytes, {"'nested': array count", at(s.kv4_count), "12 bytes per item"});
  }
  {
    SampleGguf s;
    s.g.set_u64(s.kv4_inner0_count, 1000);
    expect_error(s.g.bytes, {"'nested'[0]: array count 1000", at(s.kv4_inner0_count)});
  }
  {
    SampleGguf s;
    s.g.set_u64(s.kv1_key, 6);  // the key swallows half its type field; the rest is misread
    expect_error(s.g.bytes,
                 {"metadata key #1 'name\\x08\\x00': value type 262144 " + at(s.kv1_type + 2)});
  }
}

TEST(GgufMalformed, DuplicateKeysAndTensors) {
  {
    GgufBytes g;
    g.u32(0x46554747);
    g.u32(3);
    g.u64(0);
    g.u64(2);
    g.str("k");
    g.u32(0);
    g.u8(1);
    size_t dup = g.str("k");
    g.u32(0);
    g.u8(2);
    expect_error(g.bytes, {"metadata key #1 'k': key " + at(dup) + " duplicates key #0"});
  }
  {
    SampleGguf s;
    s.g.bytes[s.t1_name + 8] = 'w';
    expect_error(s.g.bytes, {"tensor 'w' (#1): name " + at(s.t1_name) + " duplicates tensor #0"});
  }
}

TEST(GgufMalformed, Alignment) {
  {
    SampleGguf s;
    s.g.set_u32(s.kv0_value, 0);
    expect_error(s.g.bytes, {"'general.alignment': alignment 0", "not a non-zero power of two"});
  }
  {
    SampleGguf s;
    s.g.set_u32(s.kv0_value, 48);
    expect_error(s.g.bytes, {"alignment 48", "not a non-zero power of two"});
  }
  {
    SampleGguf s;
    s.g.set_u32(s.kv0_type, 5);  // int32 32: right value, wrong type
    expect_error(s.g.bytes, {"'general.alignment': has type int32", "expected uint32"});
  }
  {
    SampleGguf s;
    s.g.set_u32(s.kv0_value, 0x80000000u);  // legal, but puts the data section past the end
    expect_error(s.g.bytes, {"tensor 'w' (#0): data at offset 2147483648 + 68 bytes runs past end "
                             "of file"});
  }
}

TEST(GgufMalformed, TensorFields) {
  {
    SampleGguf s;
    s.g.set_u32(s.t0_n_dims, 5);
    expect_error(s.g.bytes,
                 {"tensor 'w' (#0): n_dims 5 " + at(s.t0_n_dims) + " exceeds the maximum of 4"});
  }
  {
    SampleGguf s;
    s.g.set_u64(s.t0_ne1, uint64_t{1} << 63);
    expect_error(s.g.bytes, {"ne[1] = 9223372036854775808 " + at(s.t0_ne1) + " is negative"});
  }
  {
    SampleGguf s;
    s.g.set_u64(s.t0_ne0, uint64_t{1} << 32);
    s.g.set_u64(s.t0_ne1, uint64_t{1} << 32);
    expect_error(s.g.bytes, {"element count overflows int64 at ne[1] = 4294967296 (byte " +
                             std::to_string(s.t0_ne1) + ")"});
  }
  {
    SampleGguf s;
    s.g.set_u64(s.t0_ne0, uint64_t{1} << 62);
    s.g.set_u64(s.t0_ne1, 1);
    s.g.set_u32(s.t0_type, 28);  // f64: 2^62 elements of 8 bytes overflow 64 bits
    expect_error(s.g.bytes, {"tensor 'w' (#0): byte size of 4611686018427387904 f64 elements "
                             "overflows"});
  }
  {
    SampleGguf s;
    s.g.set_u32(s.t0_type, 77);
    expect_error(s.g.bytes,
                 {"tensor 'w' (#0): type id 77 " + at(s.t0_type) + " is not a known ggml type"});
  }
  {
    SampleGguf s;
    s.g.set_u32(s.t0_type, 4);  // a retired ggml type id
    expect_error(s.g.bytes, {"type id 4 " + at(s.t0_type)});
  }
  {
    SampleGguf s;
    s.g.set_u64(s.t0_ne0, 33);
    expect_error(s.g.bytes, {"tensor 'w' (#0): ne[0] = 33 is not a multiple of the q8_0 block "
                             "size 32"});
  }
  {
    SampleGguf s;
    s.g.set_u64(s.t1_offset, 97);
    expect_error(s.g.bytes, {"tensor 'b' (#1): data offset 97 " + std::string("(") +
                             at(s.t1_offset) + ") is not a multiple of the alignment 32"});
  }
  {
    SampleGguf s;
    s.g.set_u64(s.t1_offset, uint64_t{1} << 40);
    expect_error(
        s.g.bytes,
        {"tensor 'b' (#1): data at offset " + std::to_string(s.data_start + (uint64_t{1} << 40)) +
         " + 16 bytes runs past end of file (size " + std::to_string(s.g.size()) + ")"});
  }
  {
    SampleGguf s;
    s.g.set_u64(s.t1_offset, ~uint64_t{31});
    expect_error(s.g.bytes, {"tensor 'b' (#1): data offset 18446744073709551584", "overflows"});
  }
  {
    SampleGguf s;
    s.g.set_u64(s.t1_name, uint64_t{1} << 40);
    expect_error(s.g.bytes, {"tensor #1: name length 1099511627776 " + at(s.t1_name)});
  }
}

TEST(GgufMalformed, DeeplyNestedArrays) {
  GgufBytes g;
  g.u32(0x46554747);
  g.u32(3);
  g.u64(0);
  g.u64(1);
  g.str("deep");
  g.u32(9);
  for (int i = 0; i < 40; ++i) {
    g.u32(9);  // element type: array
    g.u64(1);
  }
  g.u32(0);
  g.u64(0);
  expect_error(g.bytes, {"metadata key #0 'deep'", "arrays nested deeper than 16 levels"});
}

TEST(GgufMalformed, HostileNamesStayOnOneLine) {
  SampleGguf s;
  s.g.bytes[s.kv1_key + 8] = '\n';  // key "\name"
  s.g.set_u32(s.kv1_type, 99);
  Status st = parse_status(s.g.bytes);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().find('\n'), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("'\\x0aame'"), std::string::npos) << st.message();
}

// Random corruption of a valid file: whatever the bytes, parsing returns (and ASan stays quiet).
TEST(GgufMalformed, RandomCorruptionNeverCrashes) {
  SampleGguf s;
  std::mt19937 rng(12345);
  int errors = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> b = s.g.bytes;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      size_t pos = rng() % b.size();
      switch (rng() % 3) {
        case 0:
          b[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
          break;
        case 1:
          b[pos] = 0xff;
          break;
        default:
          b[pos] = static_cast<uint8_t>(rng());
      }
    }
    Result<GgufFile> r = GgufFile::open_memory(b.data(), b.size());
    if (!r.ok()) {
      ++errors;
      EXPECT_EQ(r.status().message().rfind("gguf: ", 0), 0u);
      continue;
    }
    // What did parse must be self-consistent.
    for (const GgufTensorInfo& t : r->tensors()) {
      ASSERT_LE(t.file_offset + t.n_bytes, b.size());
      ASSERT_EQ(t.data, b.data() + t.file_offset);
    }
  }
  EXPECT_GT(errors, 100);  // most corruptions are caught
}

}  // namespace
}  // namespace pocketlm
