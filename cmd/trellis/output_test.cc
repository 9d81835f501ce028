#include "cmd/trellis/output.h"

#include "gtest/gtest.h"

namespace trellis::cli {
namespace {

using nlohmann::json;

TEST(RenderTableTest, ListsAreRowsUnderHeaders) {
  const json trees = json::array({
      {{"treeId", "123"}, {"treeType", "LOG"}, {"displayName", "demo"}},
      {{"treeId", "4567890"}, {"treeType", "MAP"}},
  });
  // Without chosen columns: every key, in the object's (sorted) order.
  EXPECT_EQ(RenderTable(trees),
            "DISPLAYNAME  TREEID   TREETYPE\n"
            "demo         123      LOG\n"
            "             4567890  MAP\n");
  EXPECT_EQ(RenderTable(trees, {"treeType", "treeId"}),
            "TREETYPE  TREEID\n"
            "LOG       123\n"
            "MAP       4567890\n");
}

TEST(RenderTableTest, ObjectsAreKeyValueLinesThenTheirLists) {
  const json backup = {
      {"directory", "/var/backups/x"},
      {"bytes", 4096},
      {"trees", json::array({{{"treeId", "1"}, {"size", 500}}})}};
  EXPECT_EQ(RenderTable(backup),
            "bytes      4096\n"
            "directory  /var/backups/x\n"
            "\n"
            "trees:\n"
            "SIZE  TREEID\n"
            "500   1\n");
}

TEST(RenderTableTest, LongAndMultilineValuesStayOnOneShortLine) {
  const json row = {{"key", std::string(100, 'a')},
                    {"note", "one\ntwo"},
                    {"sneaky", "a\x1b[2Jb\x07"}};
  const std::string table = RenderTable(row);
  EXPECT_NE(table.find(std::string(61, 'a') + "...\n"), std::string::npos);
  EXPECT_NE(table.find("one two\n"), std::string::npos);
  EXPECT_NE(table.find("a [2Jb \n"), std::string::npos) << "no escapes";
  EXPECT_EQ(RenderTable(json("plain")), "plain\n");
}

TEST(OutputFormatTest, NamedFormatsAndMistakes) {
  EXPECT_TRUE(SetOutputFormat("table").ok());
  EXPECT_EQ(CurrentOutputFormat(), OutputFormat::kTable);
  EXPECT_TRUE(SetOutputFormat("json").ok());
  EXPECT_EQ(CurrentOutputFormat(), OutputFormat::kJson);
  // Tests run with stdout not a terminal: auto means JSON.
  EXPECT_TRUE(SetOutputFormat("auto").ok());
  EXPECT_EQ(CurrentOutputFormat(), OutputFormat::kJson);
  absl::Status bad = SetOutputFormat("yaml");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(), "--output=yaml: use auto, json or table");
}

}  // namespace
}  // namespace trellis::cli
