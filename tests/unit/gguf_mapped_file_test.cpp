// MappedFile, the byte source under GgufFile.
#include "core/mapped_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

namespace pocketlm {
namespace {

class MappedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "gguf_mapped_file_" + std::to_string(::getpid());
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void write(const std::string& s) {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(s.data(), 1, s.size(), f);
    std::fclose(f);
  }
  std::string path_;
};

TEST_F(MappedFileTest, MapsARegularFile) {
  write("hello gguf");
  Result<MappedFile> m = MappedFile::open(path_);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_TRUE(m->is_mapped());
  EXPECT_EQ(m->path(), path_);
  ASSERT_EQ(m->size(), 10u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m->data()), m->size()), "hello gguf");
  // Moving keeps the bytes where they are.
  const uint8_t* p = m->data();
  MappedFile moved = std::move(m).value();
  EXPECT_EQ(moved.data(), p);
  MappedFile assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.data(), p);
  EXPECT_EQ(moved.size(), 0u);
}

TEST_F(MappedFileTest, ReadsWhatCannotBeMapped) {
  write("");  // mmap refuses zero-length files
  Result<MappedFile> empty = MappedFile::open(path_);
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(empty->is_mapped());

  write("read me");
  Result<MappedFile> r = MappedFile::read(path_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->is_mapped());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r->data()), r->size()), "read me");

  // A pipe has no size and cannot be mapped: it is read to its end.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::string big(200000, 'x');
  big[123456] = 'y';
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    size_t off = 0;
    while (off < big.size()) {
      ssize_t n = ::write(fds[1], big.data() + off, big.size() - off);
      if (n <= 0) ::_exit(1);
      off += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  Result<MappedFile> piped = MappedFile::open("/dev/fd/" + std::to_string(fds[0]));
  ::close(fds[0]);
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(piped.ok()) << piped.status().message();
  EXPECT_FALSE(piped->is_mapped());
  ASSERT_EQ(piped->size(), big.size());
  EXPECT_EQ(piped->data()[123456], 'y');
}

TEST_F(MappedFileTest, ErrorsNameThePath) {
  Result<MappedFile> m = MappedFile::open(path_ + ".missing");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kIoError);
  EXPECT_EQ(m.status().message(), "cannot open '" + path_ + ".missing': No such file or directory");
  Result<MappedFile> d = MappedFile::open(::testing::TempDir());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("is a directory"), std::string::npos);
}

TEST(MappedFile, FromBytesOwnsThem) {
  std::vector<uint8_t> v = {1, 2, 3};
  const uint8_t* p = v.data();
  MappedFile m = MappedFile::from_bytes(std::move(v));
  EXPECT_EQ(m.data(), p);  // taken over, not copied
  EXPECT_EQ(m.size(), 3u);
  EXPECT_FALSE(m.is_mapped());
}

}  // namespace
}  // namespace pocketlm
