#include "format/json.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include "core/utf8.h"

namespace pocketlm {

// Recursive descent over the text. Every read checks the position against the end first; errors
// carry the line and column of the offending byte.
class JsonParser {
 public:
  JsonParser(std::string_view text, std::string_view source) : s_(text), source_(source) {}

  Status parse(Json& out) {
    skip_ws();
    PLM_RETURN_IF_ERROR(value(out, 0));
    skip_ws();
    if (i_ != s_.size()) return error("unexpected text after the JSON value");
    return Status();
  }

 private:
  Status error(const std::string& what) const { return error_at(i_, what); }

  Status error_at(size_t pos, const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t k = 0; k < pos && k < s_.size(); ++k) {
      if (s_[k] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string prefix = source_.empty() ? std::string("json") : std::string(source_);
    return malformed(
        strfmt("%s: line %zu, column %zu: %s", prefix.c_str(), line, col, what.c_str()));
  }

  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return s_[i_]; }

  void skip_ws() {
    while (!at_end()) {
      char c = peek();
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++i_;
    }
  }

  bool consume_word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }

  Status value(Json& out, int depth) {
    if (at_end()) return error("unexpected end of input, expected a value");
    char c = peek();
    switch (c) {
      case '{':
        return object(out, depth);
      case '[':
        return array(out, depth);
      case '"':
        out.kind_ = Json::Kind::kString;
        return string(out.str_);
      case 't':
        if (!consume_word("true")) return error("invalid literal");
        out.kind_ = Json::Kind::kBool;
        out.bool_ = true;
        return Status();
      case 'f':
        if (!consume_word("false")) return error("invalid literal");
        out.kind_ = Json::Kind::kBool;
        out.bool_ = false;
        return Status();
      case 'n':
        if (!consume_word("null")) return error("invalid literal");
        out.kind_ = Json::Kind::kNull;
        return Status();
      case 'N':
        if (!consume_word("NaN")) return error("invalid literal");
        out.kind_ = Json::Kind::kNumber;
        out.num_ = std::numeric_limits<double>::quiet_NaN();
        return Status();
      case 'I':
        if (!consume_word("Infinity")) return error("invalid literal");
        out.kind_ = Json::Kind::kNumber;
        out.num_ = std::numeric_limits<double>::infinity();
        return Status();
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return number(out);
        return error(strfmt("unexpected character '%s'", printable(c).c_str()));
    }
  }

  static std::string printable(char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) return std::string(1, c);
    return strfmt("\\x%02x", u);
  }

  Status object(Json& out, int depth) {
    if (depth >= Json::kMaxDepth) return error("nesting deeper than 256 levels");
    out.kind_ = Json::Kind::kObject;
    ++i_;  // '{'
    skip_ws();
    if (!at_end() && peek() == '}') {
      ++i_;
      return Status();
    }
    for (;;) {
      skip_ws();
      if (at_end() || peek() != '"') return error("expected a string key");
      std::string key;
      PLM_RETURN_IF_ERROR(string(key));
      skip_ws();
      if (at_end() || peek() != ':') return error("expected ':' after an object key");
      ++i_;
      skip_ws();
      Json v;
      PLM_RETURN_IF_ERROR(value(v, depth + 1));
      out.keys_.push_back(std::move(key));
      out.items_.push_back(std::move(v));
      skip_ws();
      if (at_end()) return error("unexpected end of input inside an object");
      if (peek() == ',') {
        ++i_;
        continue;
      }
      if (peek() == '}') {
        ++i_;
        return Status();
      }
      return error("expected ',' or '}' in an object");
    }
  }

  Status array(Json& out, int depth) {
    if (depth >= Json::kMaxDepth) return error("nesting deeper than 256 levels");
    out.kind_ = Json::Kind::kArray;
    ++i_;  // '['
    skip_ws();
    if (!at_end() && peek() == ']') {
      ++i_;
      return Status();
    }
    for (;;) {
      skip_ws();
      Json v;
      PLM_RETURN_IF_ERROR(value(v, depth + 1));
      out.items_.push_back(std::move(v));
      skip_ws();
      if (at_end()) return error("unexpected end of input inside an array");
      if (peek() == ',') {
        ++i_;
        continue;
      }
      if (peek() == ']') {
        ++i_;
        return Status();
      }
      return error("expected ',' or ']' in an array");
    }
  }

  Status hex4(uint32_t& v) {
    if (s_.size() - i_ < 4) return error("truncated \\u escape");
    v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_ + k];
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return error("invalid hex digit in a \\u escape");
      }
      v = v * 16 + d;
    }
    i_ += 4;
    return Status();
  }

  // Length of the valid UTF-8 sequence starting at i_ (1..4), or 0 when it is not valid
  // (overlong forms, surrogates and code points above U+10FFFF are invalid).
  size_t utf8_sequence_length() const {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s_[i_ + k]); };
    unsigned char c = b(0);
    size_t n;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4;
      cp = c & 0x07;
    } else {
      return 0;
    }
    if (s_.size() - i_ < n) return 0;
    for (size_t k = 1; k < n; ++k) {
      if ((b(k) & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (b(k) & 0x3F);
    }
    if (n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
    if (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
    return n;
  }

  Status string(std::string& out) {
    const size_t start = i_;
    ++i_;  // opening quote
    for (;;) {
      if (at_end()) return error_at(start, "unterminated string");
      char c = peek();
      if (c == '"') {
        ++i_;
        return Status();
      }
      if (static_cast<unsigned char>(c) < 0x20) return error("control character inside a string");
      if (c != '\\') {
        size_t n = utf8_sequence_length();
        if (n == 0) return error("invalid UTF-8 inside a string");
        out.append(s_.data() + i_, n);
        i_ += n;
        continue;
      }
      ++i_;  // backslash
      if (at_end()) return error_at(start, "unterminated string");
      char e = peek();
      ++i_;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          PLM_RETURN_IF_ERROR(hex4(cp));
          if (cp >= 0xDC00 && cp <= 0xDFFF) return error("unpaired low surrogate in a \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (!consume_word("\\u")) return error("unpaired high surrogate in a \\u escape");
            uint32_t lo = 0;
            PLM_RETURN_IF_ERROR(hex4(lo));
            if (lo < 0xDC00 || lo > 0xDFFF) return error("unpaired high surrogate in a \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          utf8_append(out, cp);
          break;
        }
        default:
          return error(strfmt("invalid escape '\\%s'", printable(e).c_str()));
      }
    }
  }

  Status number(Json& out) {
    const size_t start = i_;
    if (peek() == '-') {
      ++i_;
      if (consume_word("Infinity")) {
        out.kind_ = Json::Kind::kNumber;
        out.num_ = -std::numeric_limits<double>::infinity();
        return Status();
      }
    }
    const auto digit = [&]() { return !at_end() && peek() >= '0' && peek() <= '9'; };
    if (!digit()) return error("invalid number");
    if (peek() == '0') {
      ++i_;
      if (digit()) return error("leading zero in a number");
    } else {
      while (digit()) ++i_;
    }
    bool integer = true;
    if (!at_end() && peek() == '.') {
      integer = false;
      ++i_;
      if (!digit()) return error("expected a digit after '.'");
      while (digit()) ++i_;
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      integer = false;
      ++i_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++i_;
      if (!digit()) return error("expected a digit in the exponent");
      while (digit()) ++i_;
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + i_;
    out.kind_ = Json::Kind::kNumber;
    // from_chars is locale-independent, unlike strtod.
    double d = 0;
    auto r = std::from_chars(first, last, d);
    if (r.ec == std::errc::result_out_of_range) {
      // Magnitudes beyond double become infinities and tiny ones zero, as Python reads them.
      bool neg = *first == '-';
      bool tiny = false;
      for (const char* p = first; p < last; ++p) {
        if (*p == 'e' || *p == 'E') {
          tiny = p + 1 < last && p[1] == '-';
          break;
        }
      }
      d = tiny ? (neg ? -0.0 : 0.0)
               : (neg ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity());
    } else if (r.ec != std::errc() || r.ptr != last) {
      return error_at(start, "invalid number");
    }
    out.num_ = d;
    if (integer) {
      int64_t v = 0;
      auto ri = std::from_chars(first, last, v);
      if (ri.ec == std::errc() && ri.ptr == last) {
        out.is_integer_ = true;
        out.int_ = v;
      }
    }
    return Status();
  }

  std::string_view s_;
  std::string_view source_;
  size_t i_ = 0;
};

Result<Json> Json::parse(std::string_view text, std::string_view source) {
  Json out;
  JsonParser p(text, source);
  Status s = p.parse(out);
  if (!s.ok()) return s;
  return out;
}

std::optional<bool> Json::as_bool() const {
  if (!is_bool()) return std::nullopt;
  return bool_;
}

std::optional<double> Json::as_number() const {
  if (!is_number()) return std::nullopt;
  return num_;
}

std::optional<int64_t> Json::as_int() const {
  if (!is_number() || !is_integer_) return std::nullopt;
  return int_;
}

const Json* Json::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (size_t k = keys_.size(); k > 0; --k) {
    if (keys_[k - 1] == key) return &items_[k - 1];
  }
  return nullptr;
}

const char* Json::kind_name(Kind k) {
  switch (k) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "bool";
    case Kind::kNumber:
      return "number";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return "array";
    case Kind::kObject:
      return "object";
  }
  return "?";
}

}  // namespace pocketlm
