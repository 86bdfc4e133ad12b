// JsonWriter: streams JSON to a FILE*, for machine-readable CLI output.
//
// Usage:
//   JsonWriter j(stdout);
//   j.begin_object();
//   j.key("name"); j.string("token_embd.weight");
//   j.key("shape"); j.begin_array(); j.uint(576); j.uint(49152); j.end_array();
//   j.end_object();
//   j.finish();   // newline + flush
//
// Choices, documented because readers rely on them:
//  - Strings are UTF-8 passed through as they are; bytes that are not valid UTF-8 are replaced by
//    U+FFFD (JSON text must be Unicode, and GGUF strings are UTF-8 by specification). Control
//    characters, '"' and '\\' are escaped.
//  - JSON has no NaN or infinities: they are written as the strings "NaN", "Infinity" and
//    "-Infinity" (what Python's json module names them); finite numbers are plain numbers.
//  - Floats are written with enough digits to read back bit-exactly (9 significant digits for a
//    float32, 17 for a float64); integers are written exactly, 64-bit ones included.
//  - Object members go one per line, indented; array items that are scalars share a line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

namespace pocketlm::cli {

class JsonWriter {
 public:
  explicit JsonWriter(std::FILE* out) : out_(out) {}

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view k);

  void string(std::string_view s);
  void integer(int64_t v);
  void uint(uint64_t v);
  void f32(float v);
  void f64(double v);
  void boolean(bool v);
  void null();

  void finish();

  // The JSON text of one string (quotes included), for tests and small uses.
  static std::string quote(std::string_view s);

 private:
  struct Level {
    bool is_object;
    bool empty = true;
    bool multiline = false;  // an array that holds containers closes on its own line
  };
  void before_value(bool container);
  void newline_indent();
  void write(std::string_view s) { std::fwrite(s.data(), 1, s.size(), out_); }
  void write_double(double v, int digits);

  std::FILE* out_;
  std::vector<Level> stack_;
  bool after_key_ = false;
};

}  // namespace pocketlm::cli
