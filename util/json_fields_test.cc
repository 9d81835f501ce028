#include "util/json_fields.h"

#include "gtest/gtest.h"

namespace trellis::json_fields {
namespace {

using nlohmann::json;

TEST(JsonFieldsTest, RequiredFieldsNameWhatIsWrong) {
  const json doc = json::parse(
      R"({"s":"x","empty":"","n":1.5,"i":-3,"u":7,"b64":"AAE=","bad":"@@",
          "null":null,"obj":{}})");
  EXPECT_EQ(*String(doc, "s"), "x");
  EXPECT_EQ(*Number(doc, "n"), 1.5);
  EXPECT_EQ(*Integer(doc, "i"), -3);
  EXPECT_EQ(*Unsigned(doc, "u"), 7u);
  EXPECT_EQ(*Base64(doc, "b64"), std::string("\0\1", 2));
  for (const char* name : {"absent", "null"}) {
    EXPECT_EQ(String(doc, name).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_NE(String(doc, name).status().message().find(name),
              absl::string_view::npos);
  }
  EXPECT_FALSE(String(doc, "empty").ok());
  EXPECT_FALSE(String(doc, "n").ok());
  EXPECT_FALSE(Number(doc, "s").ok());
  EXPECT_FALSE(Integer(doc, "n").ok());
  EXPECT_FALSE(Unsigned(doc, "i").ok());
  EXPECT_FALSE(Base64(doc, "bad").ok());
  EXPECT_FALSE(String(doc, "obj").ok());
}

TEST(JsonFieldsTest, NonObjectsHaveNoFields) {
  for (const json& doc :
       {json::array({1, 2}), json("text"), json(nullptr), json(3)}) {
    EXPECT_EQ(Find(doc, "a"), nullptr);
    EXPECT_FALSE(String(doc, "a").ok());
    EXPECT_FALSE(OptionalString(doc, "a")->has_value());
  }
}

TEST(JsonFieldsTest, OptionalFields) {
  const json doc = json::parse(R"({"s":"x","b":true,"n":1,"b64":"AAE="})");
  EXPECT_EQ(**OptionalString(doc, "s"), "x");
  EXPECT_FALSE(OptionalString(doc, "absent")->has_value());
  EXPECT_FALSE(OptionalString(doc, "n").ok());
  EXPECT_TRUE(**OptionalBool(doc, "b"));
  EXPECT_FALSE(OptionalBool(doc, "s").ok());
  EXPECT_EQ(**OptionalBase64(doc, "b64"), std::string("\0\1", 2));
  EXPECT_FALSE(OptionalBase64(doc, "s").ok());  // "x" is not base64
}

TEST(JsonFieldsTest, IntegerOutOfRange) {
  const json doc = json::parse(R"({"big":18446744073709551615})");
  EXPECT_FALSE(Integer(doc, "big").ok());
  EXPECT_EQ(*Unsigned(doc, "big"), UINT64_MAX);
}

TEST(JsonFieldsTest, ParseObject) {
  EXPECT_TRUE(ParseObject(R"({"a":1})").ok());
  for (const char* text : {"", "[1]", "{", "\"x\"", "nul"}) {
    EXPECT_EQ(ParseObject(text).status().code(),
              absl::StatusCode::kInvalidArgument)
        << text;
  }
}

}  // namespace
}  // namespace trellis::json_fields
