#include "json_writer.h"

#include <cmath>
#include <cstring>
#include <string>

namespace pocketlm::cli {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one (overlong forms,
// surrogates and code points past U+10FFFF are invalid).
size_t utf8_sequence(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

}  // namespace

std::string JsonWriter::quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8_sequence(s, i);
      if (n == 0) {
        out += "\xef\xbf\xbd";  // U+FFFD for a byte that starts no valid sequence
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

void JsonWriter::newline_indent() {
  write("\n");
  for (size_t i = 0; i < stack_.size(); ++i) write("  ");
}

void JsonWriter::before_value(bool container) {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (stack_.empty()) return;
  Level& l = stack_.back();
  if (!l.empty) write(",");
  // Scalars in an array share a line; containers start their own.
  if (container) {
    l.multiline = true;
    newline_indent();
  } else if (!l.empty) {
    write(" ");
  }
  l.empty = false;
}

void JsonWriter::begin_object() {
  before_value(true);
  write("{");
  stack_.push_back({true});
}

void JsonWriter::end_object() {
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline_indent();
  write("}");
}

void JsonWriter::begin_array() {
  before_value(true);
  write("[");
  stack_.push_back({false});
}

void JsonWriter::end_array() {
  bool multiline = stack_.back().multiline;
  stack_.pop_back();
  if (multiline) newline_indent();
  write("]");
}

void JsonWriter::key(std::string_view k) {
  Level& l = stack_.back();
  if (!l.empty) write(",");
  l.empty = false;
  newline_indent();
  write(quote(k));
  write(": ");
  after_key_ = true;
}

void JsonWriter::string(std::string_view s) {
  before_value(false);
  write(quote(s));
}

void JsonWriter::integer(int64_t v) {
  before_value(false);
  write(std::to_string(v));
}

void JsonWriter::uint(uint64_t v) {
  before_value(false);
  write(std::to_string(v));
}

void JsonWriter::write_double(double v, int digits) {
  before_value(false);
  if (std::isnan(v)) {
    write("\"NaN\"");
  } else if (std::isinf(v)) {
    write(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buf[48];
    int n = std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
    // "-0" or "3" would read back as integers (and -0 as 0): keep floats recognisably floats.
    if (std::strpbrk(buf, ".e") == nullptr && n > 0 && n + 2 < static_cast<int>(sizeof(buf))) {
      std::strcat(buf, ".0");
    }
    write(buf);
  }
}

void JsonWriter::f32(float v) { write_double(static_cast<double>(v), 9); }
void JsonWriter::f64(double v) { write_double(v, 17); }

void JsonWriter::boolean(bool v) {
  before_value(false);
  write(v ? "true" : "false");
}

void JsonWriter::null() {
  before_value(false);
  write("null");
}

void JsonWriter::finish() {
  write("\n");
  std::fflush(out_);
}

}  // namespace pocketlm::cli
