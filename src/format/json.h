// Json: a parsed JSON document (RFC 8259) — what config.json, tokenizer.json,
// tokenizer_config.json and a safetensors header hold.
//
// Usage:
//   Result<Json> doc = Json::parse(text, "config.json");
//   if (!doc.ok()) return doc.status();      // "config.json: line 3, column 7: expected ':'"
//   const Json* n = doc->find("num_hidden_layers");
//   if (n != nullptr && n->as_int()) use(*n->as_int());
//   for (const auto& [key, value] : doc->find("vocab")->members()) ...;   // file order
//   for (const Json& item : doc->find("merges")->items()) ...;
//
// The parser reads user files, so everything is checked: nesting depth is capped (the parser is
// recursive), strings must be valid UTF-8, \u escapes must pair their surrogates, numbers follow
// the JSON grammar. Python's json module writes NaN, Infinity and -Infinity for non-finite
// floats, and Hugging Face files are written by it, so those three words are accepted as numbers.
// Objects keep their members in file order; a key that appears twice resolves to its last value,
// as Python reads it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pocketlm {

class Json {
 public:
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

  // Deeper nesting than this is rejected: real files nest a handful of levels.
  static constexpr int kMaxDepth = 256;

  // `source` names the input in error messages (a file name, or "" for none).
  static Result<Json> parse(std::string_view text, std::string_view source = "");

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  std::optional<bool> as_bool() const;
  std::optional<double> as_number() const;
  // Only for numbers written as integers (no fraction or exponent) that fit an int64.
  std::optional<int64_t> as_int() const;
  const std::string* as_string() const { return is_string() ? &str_ : nullptr; }

  // Arrays: the elements; objects: the member values (keys() holds the keys, same order).
  const std::vector<Json>& items() const { return items_; }
  const std::vector<std::string>& keys() const { return keys_; }
  size_t size() const { return items_.size(); }

  // Object member by key (the last one when repeated); nullptr when absent or not an object.
  const Json* find(std::string_view key) const;

  // Key/value pairs of an object in file order, for range-for.
  class MemberRange;
  MemberRange members() const;

  // "null", "bool", "number", "string", "array", "object" (for messages).
  static const char* kind_name(Kind k);

 private:
  friend class JsonParser;

  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  bool is_integer_ = false;  // written without fraction or exponent and within int64
  int64_t int_ = 0;
  double num_ = 0;
  std::string str_;
  std::vector<Json> items_;
  std::vector<std::string> keys_;  // objects only, parallel to items_
};

class Json::MemberRange {
 public:
  struct Member {
    const std::string& key;
    const Json& value;
  };
  class Iterator {
   public:
    Iterator(const Json* j, size_t i) : j_(j), i_(i) {}
    Member operator*() const { return {j_->keys_[i_], j_->items_[i_]}; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return i_ != o.i_; }

   private:
    const Json* j_;
    size_t i_;
  };
  explicit MemberRange(const Json* j) : j_(j) {}
  Iterator begin() const { return Iterator(j_, 0); }
  Iterator end() const { return Iterator(j_, j_->is_object() ? j_->items_.size() : 0); }

 private:
  const Json* j_;
};

inline Json::MemberRange Json::members() const { return MemberRange(this); }

}  // namespace pocketlm
