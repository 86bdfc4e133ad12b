// The JSON parser that reads config.json, tokenizer.json and safetensors headers.
#include "format/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace pocketlm {
namespace {

Json parse_ok(std::string_view text) {
  Result<Json> r = Json::parse(text);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(*r) : Json();
}

std::string parse_error(std::string_view text) {
  Result<Json> r = Json::parse(text, "t.json");
  EXPECT_FALSE(r.ok()) << "accepted: " << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kMalformedFile);
  return r.status().message();
}

TEST(Json, ScalarsAndContainers) {
  Json j = parse_ok(R"( {"a": 1, "b": [true, false, null], "c": {"d": "e"}, "f": -2.5e3} )");
  ASSERT_TRUE(j.is_object());
  ASSERT_EQ(j.size(), 4u);
  EXPECT_EQ(j.keys()[0], "a");
  EXPECT_EQ(j.keys()[3], "f");
  EXPECT_EQ(*j.find("a")->as_int(), 1);
  EXPECT_EQ(*j.find("a")->as_number(), 1.0);
  const Json* b = j.find("b");
  ASSERT_TRUE(b->is_array());
  ASSERT_EQ(b->size(), 3u);
  EXPECT_EQ(*b->items()[0].as_bool(), true);
  EXPECT_EQ(*b->items()[1].as_bool(), false);
  EXPECT_TRUE(b->items()[2].is_null());
  EXPECT_EQ(*j.find("c")->find("d")->as_string(), "e");
  EXPECT_EQ(*j.find("f")->as_number(), -2500.0);
  EXPECT_FALSE(j.find("f")->as_int());  // written with an exponent
  EXPECT_EQ(j.find("missing"), nullptr);
  EXPECT_EQ(j.find("a")->find("x"), nullptr);  // not an object
}

TEST(Json, MembersInFileOrderAndLastDuplicateWins) {
  Json j = parse_ok(R"({"z": 1, "a": 2, "z": 3})");
  std::string order;
  for (const auto& [k, v] : j.members()) order += k + "=" + std::to_string(*v.as_int()) + ";";
  EXPECT_EQ(order, "z=1;a=2;z=3;");
  EXPECT_EQ(*j.find("z")->as_int(), 3);
}

TEST(Json, Numbers) {
  Json j = parse_ok(R"([0, -0, 9223372036854775807, 9223372036854775808, 1.5, 1e-7, 1E+2,
                        1e400, -1e400, 1e-400, NaN, Infinity, -Infinity])");
  const auto& v = j.items();
  EXPECT_EQ(*v[0].as_int(), 0);
  EXPECT_EQ(*v[2].as_int(), INT64_MAX);
  EXPECT_FALSE(v[3].as_int());  // beyond int64: a double only
  EXPECT_EQ(*v[3].as_number(), 9223372036854775808.0);
  EXPECT_EQ(*v[4].as_number(), 1.5);
  EXPECT_DOUBLE_EQ(*v[5].as_number(), 1e-7);
  EXPECT_EQ(*v[6].as_number(), 100.0);
  EXPECT_TRUE(std::isinf(*v[7].as_number()) && *v[7].as_number() > 0);
  EXPECT_TRUE(std::isinf(*v[8].as_number()) && *v[8].as_number() < 0);
  EXPECT_EQ(*v[9].as_number(), 0.0);
  EXPECT_TRUE(std::isnan(*v[10].as_number()));
  EXPECT_TRUE(std::isinf(*v[11].as_number()));
  EXPECT_TRUE(std::isinf(*v[12].as_number()) && *v[12].as_number() < 0);
}

TEST(Json, StringEscapesAndUtf8) {
  Json j =
      parse_ok(R"(["a\"b\\c\/d\b\f\n\r\t", "\u0041\u00e9\u20ac", "\ud83d\ude80", "Ġé🙂"])");
  EXPECT_EQ(*j.items()[0].as_string(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(*j.items()[1].as_string(), "A\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(*j.items()[2].as_string(), "\xf0\x9f\x9a\x80");
  EXPECT_EQ(*j.items()[3].as_string(), "\xc4\xa0\xc3\xa9\xf0\x9f\x99\x82");
}

TEST(Json, ErrorsNameLineAndColumn) {
  EXPECT_EQ(parse_error("{\n  \"a\" 1\n}"),
            "t.json: line 2, column 7: expected ':' after an object key");
  EXPECT_NE(parse_error("[1, 2").find("unexpected end of input"), std::string::npos);
  EXPECT_NE(parse_error("{\"a\": 1,}").find("expected a string key"), std::string::npos);
  EXPECT_NE(parse_error("[1] x").find("unexpected text after"), std::string::npos);
  EXPECT_NE(parse_error("").find("expected a value"), std::string::npos);
}

TEST(Json, RejectsMalformedInput) {
  for (const char* bad : {
           "01",
           "1.",
           ".5",
           "-",
           "1e",
           "+1",
           "tru",
           "nul",
           "[1 2]",
           "{1: 2}",
           "\"abc",
           "\"\\x\"",
           "\"\\u12g4\"",
           "\"\\ud800\"",
           "\"\\udc00\"",
           "\"\\ud800\\u0041\"",
           "\"a\nb\"",
           "\"\xff\"",
           "\"\xc0\x80\"",
           "\"\xed\xa0\x80\"",
           "\"\xf4\x90\x80\x80\"",
           "\"\xe2\x82\"",
           "[,]",
           "nan",
           "inf",
       }) {
    parse_error(bad);
  }
}

TEST(Json, DepthIsCapped) {
  std::string ok(Json::kMaxDepth, '[');
  ok += std::string(Json::kMaxDepth, ']');
  parse_ok(ok);
  std::string deep(Json::kMaxDepth + 1, '[');
  deep += std::string(Json::kMaxDepth + 1, ']');
  EXPECT_NE(parse_error(deep).find("nesting deeper"), std::string::npos);
  // A hostile depth far beyond the cap is an error, not a stack overflow.
  parse_error(std::string(1 << 20, '['));
}

TEST(Json, EmptyContainersAndWhitespace) {
  Json j = parse_ok(" \t\r\n{ \"a\" : [ ] , \"b\" : { } } \n");
  EXPECT_EQ(j.find("a")->size(), 0u);
  EXPECT_TRUE(j.find("a")->is_array());
  EXPECT_TRUE(j.find("b")->is_object());
  EXPECT_EQ(j.find("b")->members().begin() != j.find("b")->members().end(), false);
}

}  // namespace
}  // namespace pocketlm
