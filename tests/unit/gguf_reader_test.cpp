#include "format/gguf_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "gguf_test_builder.h"

namespace pocketlm {
namespace {

using testing::SampleGguf;

Result<GgufFile> parse(const std::vector<uint8_t>& bytes) {
  return GgufFile::open_memory(bytes.data(), bytes.size());
}

TEST(GgufReader, ReadsHeaderMetadataAndTensors) {
  SampleGguf s;
  Result<GgufFile> r = parse(s.g.bytes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const GgufFile& f = *r;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.data_offset(), s.data_start);
  EXPECT_EQ(f.file_size(), s.g.size());

  ASSERT_EQ(f.metadata().size(), 5u);
  const char* keys[] = {"general.alignment", "name", "tokens", "scores", "nested"};
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(f.metadata()[i].key, keys[i]);
  EXPECT_EQ(f.metadata()[1].file_offset, s.kv1_key);

  EXPECT_EQ(*f.get_u32("general.alignment"), 32u);
  EXPECT_EQ(*f.get_string("name"), "tiny");
  const std::vector<std::string>* tokens = *f.get_string_array("tokens");
  EXPECT_EQ(*tokens, (std::vector<std::string>{"a", "bc", ""}));
  EXPECT_EQ(*f.get_f32_array("scores"), (std::vector<float>{0.5f, -1.0f, 2.0f}));
  const GgufValue* nested = *f.get_array("nested", GgufValueType::kArray);
  ASSERT_EQ(nested->size(), 2u);
  EXPECT_EQ(*nested->arrays()[0].to_i32_vector(), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(*nested->arrays()[1].to_i32_vector(), (std::vector<int32_t>{3, 4}));

  ASSERT_EQ(f.tensors().size(), 2u);
  const GgufTensorInfo* w = f.find_tensor("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->type, TensorType::kQ8_0);
  EXPECT_EQ(w->n_dims, 2u);
  EXPECT_EQ(w->ne, (std::array<int64_t, 4>{32, 2, 1, 1}));
  EXPECT_EQ(w->n_elements, 64);
  EXPECT_EQ(w->n_rows(), 2);
  EXPECT_EQ(w->n_bytes, 68u);
  EXPECT_EQ(w->offset, 0u);
  EXPECT_EQ(w->file_offset, s.data_start);
  EXPECT_EQ(f.tensor_data(*w), s.g.bytes.data() + s.data_start);
  const GgufTensorInfo* b = f.find_tensor("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b, &f.tensors()[1]);
  EXPECT_EQ(b->offset, 96u);
  const float* bd = static_cast<const float*>(f.tensor_data(*b));
  EXPECT_EQ(bd[0], 1.0f);
  EXPECT_EQ(bd[3], 4.0f);
  EXPECT_EQ(f.find_tensor("nope"), nullptr);
}

TEST(GgufReader, AcceptsVersion2) {
  SampleGguf s;
  s.g.set_u32(s.version, 2);
  Result<GgufFile> r = parse(s.g.bytes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->version(), 2u);
}

TEST(GgufReader, EmptyFileWithHeaderOnly) {
  testing::GgufBytes g;
  g.u32(0x46554747);
  g.u32(3);
  g.u64(0);
  g.u64(0);
  Result<GgufFile> r = parse(g.bytes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->metadata().empty());
  EXPECT_TRUE(r->tensors().empty());
  EXPECT_EQ(r->alignment(), 32u);
  EXPECT_EQ(r->data_offset(), 32u);  // aligned up past the 24-byte header
}

TEST(GgufReader, TypedGettersConvertOnlyWhatFits) {
  testing::GgufBytes g;
  g.u32(0x46554747);
  g.u32(3);
  g.u64(0);
  g.u64(6);
  g.str("big");
  g.u32(4);  // uint32
  g.u32(3000000000u);
  g.str("neg");
  g.u32(5);  // int32
  g.u32(static_cast<uint32_t>(-5));
  g.str("small");
  g.u32(0);  // uint8
  g.u8(7);
  g.str("f");
  g.u32(12);                     // float64
  g.u64(0x3ff8000000000000ull);  // 1.5
  g.str("flag");
  g.u32(7);  // bool
  g.u8(1);
  g.str("ints");
  g.u32(9);
  g.u32(5);
  g.u64(1);
  g.u32(9);
  Result<GgufFile> r = parse(g.bytes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const GgufFile& f = *r;

  EXPECT_EQ(*f.get_u32("big"), 3000000000u);
  EXPECT_EQ(*f.get_u64("big"), 3000000000u);
  EXPECT_EQ(*f.get_i64("big"), 3000000000);
  Result<int32_t> big_i32 = f.get_i32("big");
  ASSERT_FALSE(big_i32.ok());
  EXPECT_EQ(big_i32.status().message(),
            "gguf: metadata key 'big' has type uint32, expected an integer that fits int32");

  EXPECT_EQ(*f.get_i32("neg"), -5);
  EXPECT_FALSE(f.get_u32("neg").ok());
  EXPECT_EQ(*f.get_u32("small"), 7u);
  EXPECT_EQ(*f.get_f64("f"), 1.5);
  EXPECT_EQ(*f.get_f32("f"), 1.5f);
  EXPECT_FALSE(f.get_f32("small").ok());  // integers do not silently become floats
  EXPECT_TRUE(*f.get_bool("flag"));
  EXPECT_FALSE(f.get_u32("flag").ok());  // nor bools integers

  Result<std::string> s = f.get_string("big");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kMalformedFile);
  Result<uint32_t> missing = f.get_u32("missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "gguf: metadata key 'missing' not found");

  EXPECT_EQ(*f.get_i32_array("ints"), std::vector<int32_t>{9});
  Result<std::vector<float>> wrong = f.get_f32_array("ints");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(),
            "gguf: metadata key 'ints' has type array of int32, expected array of float32");
  EXPECT_FALSE(f.get_array("big").ok());
  EXPECT_TRUE(f.has("flag"));
  EXPECT_FALSE(f.has("nope"));
}

class GgufReaderFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "gguf_reader_test_" + std::to_string(::getpid()) + ".gguf";
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void write(const std::vector<uint8_t>& bytes) {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
    std::fclose(f);
  }
  std::string path_;
};

TEST_F(GgufReaderFile, OpensFromDiskZeroCopy) {
  SampleGguf s;
  write(s.g.bytes);
  Result<GgufFile> r = GgufFile::open(path_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->path(), path_);
  EXPECT_EQ(r->tensors().size(), 2u);
  const float* bd = static_cast<const float*>(r->tensor_data(r->tensors()[1]));
  EXPECT_EQ(bd[2], 3.0f);
  // Moving the file keeps tensor pointers valid (they point into the mapping).
  GgufFile moved = std::move(r).value();
  EXPECT_EQ(static_cast<const float*>(moved.tensor_data(moved.tensors()[1]))[3], 4.0f);
  EXPECT_EQ(*moved.get_string("name"), "tiny");
}

TEST_F(GgufReaderFile, ErrorsNameTheFile) {
  SampleGguf s;
  s.g.bytes.resize(s.g.size() - 1);
  write(s.g.bytes);
  Result<GgufFile> r = GgufFile::open(path_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "gguf: " + path_ + ": tensor 'b' (#1): data at offset " +
                                      std::to_string(s.data_start + 96) +
                                      " + 16 bytes runs past end of file (size " +
                                      std::to_string(s.g.size()) + ")");
  Result<GgufFile> missing = GgufFile::open(path_ + ".absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIoError);
  EXPECT_NE(missing.status().message().find(path_ + ".absent"), std::string::npos);
}

TEST(GgufReader, OpenBytesOwnsItsBuffer) {
  SampleGguf s;
  Result<GgufFile> r = GgufFile::open_bytes(s.g.bytes);
  s.g.bytes.assign(s.g.bytes.size(), 0);  // the reader holds its own copy
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(static_cast<const uint8_t*>(r->tensor_data(r->tensors()[0]))[5], 5);
}

}  // namespace
}  // namespace pocketlm
