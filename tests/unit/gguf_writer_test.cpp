#include "format/gguf_writer.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "format/gguf_reader.h"

namespace pocketlm {
namespace {

using V = GgufValue;

class GgufWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "gguf_writer_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/out.gguf";
  }
  void TearDown() override {
    for (const std::string& f : files()) std::remove((dir_ + "/" + f).c_str());
    ::rmdir(dir_.c_str());
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir_.c_str());
    if (d == nullptr) return out;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    return out;
  }
  std::string dir_;
  std::string path_;
};

std::vector<GgufKv> all_value_types() {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  return {
      {"u8", V::u8(255)},
      {"i8", V::i8(-128)},
      {"u16", V::u16(65535)},
      {"i16", V::i16(-32768)},
      {"u32", V::u32(4294967295u)},
      {"i32", V::i32(std::numeric_limits<int32_t>::min())},
      {"u64", V::u64(std::numeric_limits<uint64_t>::max())},
      {"i64", V::i64(std::numeric_limits<int64_t>::min())},
      {"f32", V::f32(-0.0f)},
      {"f64", V::f64(1e-310)},
      {"bool", V::boolean(true)},
      {"str", V::string(std::string("nul\0inside", 10))},
      {"empty_str", V::string("")},
      {"a_u8", V::array(std::vector<uint8_t>{1, 2})},
      {"a_i8", V::array(std::vector<int8_t>{-1})},
      {"a_u16", V::array(std::vector<uint16_t>{7})},
      {"a_i16", V::array(std::vector<int16_t>{-7})},
      {"a_u32", V::array(std::vector<uint32_t>{1, 2, 3})},
      {"a_i32", V::array(std::vector<int32_t>{})},
      {"a_u64", V::array(std::vector<uint64_t>{1ull << 63})},
      {"a_i64", V::array(std::vector<int64_t>{-(1ll << 62)})},
      {"a_f32", V::array(std::vector<float>{nan, -std::numeric_limits<float>::infinity()})},
      {"a_f64", V::array(std::vector<double>{0.1})},
      {"a_bool", V::array(std::vector<bool>{false, true})},
      {"a_str", V::array(std::vector<std::string>{"x", "", "\xe2\x9c\x93"})},
      {"nested", V::array(std::vector<GgufValue>{
                     V::array(std::vector<std::string>{"p", "q"}),
                     V::array(std::vector<GgufValue>{V::array(std::vector<int16_t>{1, 2}),
                                                     V::array(std::vector<GgufValue>{})}),
                 })},
  };
}

TEST_F(GgufWriterTest, RoundTripsEveryValueTypeAndTensor) {
  GgufWriter w;
  std::vector<GgufKv> kvs = all_value_types();
  for (const GgufKv& kv : kvs) ASSERT_TRUE(w.set(kv.key, kv.value).ok()) << kv.key;
  ASSERT_TRUE(w.set_alignment(64).ok());

  std::vector<float> f32(3 * 5);
  for (size_t i = 0; i < f32.size(); ++i) f32[i] = static_cast<float>(i) - 7.5f;
  std::vector<uint8_t> q8(2 * 34 * 3);
  for (size_t i = 0; i < q8.size(); ++i) q8[i] = static_cast<uint8_t>(i * 7);
  std::vector<uint8_t> q4k(144);
  for (size_t i = 0; i < q4k.size(); ++i) q4k[i] = static_cast<uint8_t>(255 - i);
  ASSERT_TRUE(w.add_tensor("a", TensorType::kF32, {5, 3}).ok());
  ASSERT_TRUE(w.add_tensor("b", TensorType::kQ8_0, {64, 1, 3}).ok());
  ASSERT_TRUE(w.add_tensor("empty", TensorType::kF16, {0}).ok());
  ASSERT_TRUE(w.add_tensor("c", TensorType::kQ4_K, {256, 1, 1, 1}).ok());
  ASSERT_EQ(w.tensors()[1].n_bytes, q8.size());
  ASSERT_TRUE(w.write_file(path_, {f32.data(), q8.data(), nullptr, q4k.data()}).ok());
  EXPECT_EQ(files(), std::vector<std::string>{"out.gguf"});  // no temporary left behind

  Result<GgufFile> r = GgufFile::open(path_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const GgufFile& f = *r;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 64u);
  ASSERT_EQ(f.metadata().size(), kvs.size() + 1);
  for (size_t i = 0; i < kvs.size(); ++i) {
    EXPECT_EQ(f.metadata()[i].key, kvs[i].key);
    EXPECT_TRUE(f.metadata()[i].value == kvs[i].value) << kvs[i].key;
  }
  EXPECT_EQ(f.metadata().back().key, "general.alignment");
  EXPECT_EQ(*f.get_string("str"), std::string("nul\0inside", 10));

  ASSERT_EQ(f.tensors().size(), 4u);
  EXPECT_EQ(f.tensors()[0].ne, (std::array<int64_t, 4>{5, 3, 1, 1}));
  EXPECT_EQ(f.tensors()[1].n_dims, 3u);
  EXPECT_EQ(f.tensors()[2].n_bytes, 0u);
  EXPECT_EQ(f.tensors()[3].n_dims, 4u);
  for (const GgufTensorInfo& t : f.tensors()) EXPECT_EQ(t.file_offset % 64, 0u) << t.name;
  EXPECT_EQ(std::memcmp(f.tensor_data(f.tensors()[0]), f32.data(), f32.size() * 4), 0);
  EXPECT_EQ(std::memcmp(f.tensor_data(f.tensors()[1]), q8.data(), q8.size()), 0);
  EXPECT_EQ(std::memcmp(f.tensor_data(f.tensors()[3]), q4k.data(), q4k.size()), 0);
  EXPECT_EQ(f.file_size() % 64, 0u);  // the last tensor is padded too
}

TEST_F(GgufWriterTest, StreamsTensorDataInPieces) {
  GgufWriter w;
  ASSERT_TRUE(w.set("general.architecture", V::string("test")).ok());
  ASSERT_TRUE(w.add_tensor("x", TensorType::kF32, {10}).ok());
  ASSERT_TRUE(w.add_tensor("y", TensorType::kF32, {3}).ok());
  std::vector<uint8_t> header = w.encode_header();
  ASSERT_TRUE(w.begin(path_).ok());
  EXPECT_EQ(files().size(), 1u);
  EXPECT_NE(files()[0].find("out.gguf.tmp-"), std::string::npos);  // only the temp exists yet
  float x[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  float y[3] = {-1, -2, -3};
  ASSERT_TRUE(w.write_tensor_data(x, 12).ok());
  ASSERT_TRUE(w.write_tensor_data(reinterpret_cast<uint8_t*>(x) + 12, 0).ok());
  ASSERT_TRUE(w.write_tensor_data(reinterpret_cast<uint8_t*>(x) + 12, 28).ok());
  ASSERT_TRUE(w.write_tensor_data(y, sizeof(y)).ok());
  ASSERT_TRUE(w.finish().ok());

  Result<MappedFile> m = MappedFile::open(path_);
  ASSERT_TRUE(m.ok());
  ASSERT_GE(m->size(), header.size());
  EXPECT_EQ(std::memcmp(m->data(), header.data(), header.size()), 0);
  Result<GgufFile> r = GgufFile::open(path_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->data_offset(), header.size());
  EXPECT_EQ(r->tensors()[1].offset, 64u);  // 40 bytes padded to 32-byte alignment
  EXPECT_EQ(static_cast<const float*>(r->tensor_data(r->tensors()[0]))[9], 9.0f);
  EXPECT_EQ(static_cast<const float*>(r->tensor_data(r->tensors()[1]))[2], -3.0f);
}

TEST_F(GgufWriterTest, FailuresLeaveNoFileBehind) {
  float data[4] = {};
  {
    GgufWriter w;
    ASSERT_TRUE(w.add_tensor("x", TensorType::kF32, {2}).ok());
    ASSERT_TRUE(w.begin(path_).ok());
    Status s = w.write_tensor_data(data, 12);  // 4 bytes too many
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.message(),
              "gguf writer: tensor 'x' is 8 bytes; 0 were written and 12 more arrived");
    EXPECT_TRUE(files().empty());
    EXPECT_FALSE(w.write_tensor_data(data, 8).ok());  // the writer is spent
  }
  {
    GgufWriter w;
    ASSERT_TRUE(w.add_tensor("x", TensorType::kF32, {2}).ok());
    ASSERT_TRUE(w.begin(path_).ok());
    ASSERT_TRUE(w.write_tensor_data(data, 4).ok());
    Status s = w.finish();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.message(), "gguf writer: finished with tensor 'x' (#0) at 4 of 8 bytes");
    EXPECT_TRUE(files().empty());
  }
  {
    GgufWriter w;
    ASSERT_TRUE(w.add_tensor("x", TensorType::kF32, {2}).ok());
    ASSERT_TRUE(w.begin(path_).ok());
    ASSERT_TRUE(w.write_tensor_data(data, 8).ok());
    // Destroyed without finish(): abandoned.
  }
  EXPECT_TRUE(files().empty());

  // An existing file under the final name survives a failed rewrite untouched.
  {
    GgufWriter w;
    ASSERT_TRUE(w.add_tensor("x", TensorType::kF32, {2}).ok());
    ASSERT_TRUE(w.write_file(path_, {data}).ok());
  }
  Result<MappedFile> before = MappedFile::read(path_);
  ASSERT_TRUE(before.ok());
  {
    GgufWriter w;
    ASSERT_TRUE(w.add_tensor("other", TensorType::kF32, {4}).ok());
    ASSERT_TRUE(w.begin(path_).ok());
    ASSERT_TRUE(w.write_tensor_data(data, 4).ok());
    w.abandon();
  }
  Result<MappedFile> after = MappedFile::read(path_);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), before->size());
  EXPECT_EQ(std::memcmp(after->data(), before->data(), before->size()), 0);
  EXPECT_EQ(files(), std::vector<std::string>{"out.gguf"});
}

TEST_F(GgufWriterTest, RejectsBadDeclarations) {
  GgufWriter w;
  EXPECT_FALSE(w.set("", V::u8(1)).ok());
  EXPECT_FALSE(w.set_alignment(0).ok());
  EXPECT_FALSE(w.set_alignment(48).ok());
  EXPECT_FALSE(w.set("general.alignment", V::i32(32)).ok());
  EXPECT_TRUE(w.set_alignment(16).ok());
  EXPECT_EQ(w.alignment(), 16u);
  Status nested = w.set("bad", V::array(std::vector<GgufValue>{V::u32(1)}));
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.message(), "gguf writer: key 'bad': an array of arrays holds a uint32");
  EXPECT_FALSE(w.set("odd", V::packed_array(GgufValueType::kUint32, {1, 2, 3})).ok());

  Status block = w.add_tensor("q", TensorType::kQ4_0, {48, 2});
  ASSERT_FALSE(block.ok());
  EXPECT_EQ(block.message(),
            "gguf writer: tensor 'q': ne[0] = 48 is not a multiple of the q4_0 block size 32");
  EXPECT_FALSE(w.add_tensor("d0", TensorType::kF32, std::span<const int64_t>()).ok());
  EXPECT_FALSE(w.add_tensor("d5", TensorType::kF32, {1, 1, 1, 1, 1}).ok());
  EXPECT_FALSE(w.add_tensor("neg", TensorType::kF32, {-1}).ok());
  EXPECT_FALSE(w.add_tensor("big", TensorType::kF32, {1ll << 40, 1ll << 40}).ok());
  EXPECT_FALSE(w.add_tensor(std::string(64, 'n'), TensorType::kF32, {1}).ok());
  EXPECT_FALSE(w.add_tensor("t", static_cast<TensorType>(4), {1}).ok());
  ASSERT_TRUE(w.add_tensor("t", TensorType::kF32, {1}).ok());
  EXPECT_FALSE(w.add_tensor("t", TensorType::kF32, {1}).ok());  // duplicate

  float v = 1;
  EXPECT_FALSE(w.write_tensor_data(&v, 4).ok());  // before begin()
  Status dir = w.begin(dir_ + "/no/such/dir/x.gguf");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.code(), StatusCode::kIoError);
  EXPECT_NE(dir.message().find("/no/such/dir/x.gguf.tmp-"), std::string::npos) << dir.message();

  ASSERT_TRUE(w.begin(path_).ok());
  EXPECT_FALSE(w.set("late", V::u8(1)).ok());  // metadata is fixed once the header is out
  EXPECT_FALSE(w.add_tensor("late", TensorType::kF32, {1}).ok());
  ASSERT_TRUE(w.write_tensor_data(&v, 4).ok());
  EXPECT_FALSE(w.write_tensor_data(&v, 4).ok());  // past the last tensor
}

TEST_F(GgufWriterTest, SetReplacesInPlaceAndRemoveDrops) {
  GgufWriter w;
  ASSERT_TRUE(w.set("a", V::u8(1)).ok());
  ASSERT_TRUE(w.set("b", V::u8(2)).ok());
  ASSERT_TRUE(w.set("a", V::string("one")).ok());
  ASSERT_EQ(w.metadata().size(), 2u);
  EXPECT_EQ(w.metadata()[0].key, "a");
  EXPECT_EQ(*w.metadata()[0].value.as_string(), "one");
  EXPECT_TRUE(w.remove("b"));
  EXPECT_FALSE(w.remove("b"));
  EXPECT_EQ(w.metadata().size(), 1u);
}

// What convert/quantize do: read a file, carry its metadata over, write a new one.
TEST_F(GgufWriterTest, CopiesMetadataFromAReadFile) {
  GgufWriter first;
  for (const GgufKv& kv : all_value_types()) ASSERT_TRUE(first.set(kv.key, kv.value).ok());
  ASSERT_TRUE(first.write_file(path_, {}).ok());
  Result<GgufFile> a = GgufFile::open(path_);
  ASSERT_TRUE(a.ok()) << a.status().message();

  GgufWriter second;
  for (const GgufKv& kv : a->metadata()) ASSERT_TRUE(second.set(kv.key, kv.value).ok());
  std::string copy = dir_ + "/copy.gguf";
  ASSERT_TRUE(second.write_file(copy, {}).ok());
  Result<MappedFile> x = MappedFile::read(path_);
  Result<MappedFile> y = MappedFile::read(copy);
  ASSERT_TRUE(x.ok() && y.ok());
  ASSERT_EQ(x->size(), y->size());
  EXPECT_EQ(std::memcmp(x->data(), y->data(), x->size()), 0);  // byte-identical
}

}  // namespace
}  // namespace pocketlm
