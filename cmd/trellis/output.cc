#include "cmd/trellis/output.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace trellis::cli {
namespace {

using nlohmann::json;

// Wide enough for a hex SHA-256 root hash; longer values (keys,
// signatures) are cut: --output=json has them whole.
constexpr size_t kMaxCell = 64;

OutputFormat& Chosen() {
  static OutputFormat format =
      isatty(STDOUT_FILENO) ? OutputFormat::kTable : OutputFormat::kJson;
  return format;
}

std::string Cell(const json& value) {
  std::string text;
  if (value.is_string()) {
    text = value.get<std::string>();
  } else if (value.is_null()) {
    text = "";
  } else {
    text = value.dump();
  }
  // No control characters reach the terminal (escapes could rewrite it).
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (text.size() > kMaxCell) text = text.substr(0, kMaxCell - 3) + "...";
  return text;
}

bool IsRowList(const json& value) {
  return value.is_array() && !value.empty() &&
         std::all_of(value.begin(), value.end(),
                     [](const json& row) { return row.is_object(); });
}

std::string Rows(const json& rows, const std::vector<std::string>& wanted) {
  std::vector<std::string> columns = wanted;
  if (columns.empty()) {
    for (const json& row : rows) {
      for (const auto& [key, _] : row.items()) {
        if (std::find(columns.begin(), columns.end(), key) == columns.end()) {
          columns.push_back(key);
        }
      }
    }
  }
  std::vector<std::vector<std::string>> table;
  std::vector<std::string> header;
  for (const std::string& column : columns) {
    header.push_back(absl::AsciiStrToUpper(column));
  }
  table.push_back(std::move(header));
  for (const json& row : rows) {
    std::vector<std::string> cells;
    for (const std::string& column : columns) {
      auto it = row.find(column);
      cells.push_back(it == row.end() ? "" : Cell(*it));
    }
    table.push_back(std::move(cells));
  }
  std::vector<size_t> widths(columns.size(), 0);
  for (const auto& line : table) {
    for (size_t i = 0; i < line.size(); ++i) {
      widths[i] = std::max(widths[i], line[i].size());
    }
  }
  std::string out;
  for (const auto& line : table) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      absl::StrAppend(&text, line[i]);
      if (i + 1 < line.size()) {
        text.append(widths[i] - line[i].size() + 2, ' ');
      }
    }
    absl::StrAppend(&out, text, "\n");
  }
  return out;
}

}  // namespace

absl::Status SetOutputFormat(const std::string& name) {
  if (name == "auto") {
    Chosen() =
        isatty(STDOUT_FILENO) ? OutputFormat::kTable : OutputFormat::kJson;
  } else if (name == "json") {
    Chosen() = OutputFormat::kJson;
  } else if (name == "table") {
    Chosen() = OutputFormat::kTable;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--output=", name, ": use auto, json or table"));
  }
  return absl::OkStatus();
}

OutputFormat CurrentOutputFormat() { return Chosen(); }

std::string RenderTable(const json& value,
                        const std::vector<std::string>& columns) {
  if (IsRowList(value)) return Rows(value, columns);
  if (!value.is_object()) return Cell(value) + "\n";
  size_t width = 0;
  for (const auto& [key, field] : value.items()) {
    if (!IsRowList(field)) width = std::max(width, key.size());
  }
  std::string out;
  std::string lists;
  for (const auto& [key, field] : value.items()) {
    if (IsRowList(field)) {
      absl::StrAppend(&lists, "\n", key, ":\n", Rows(field, columns));
    } else {
      absl::StrAppend(&out, key, std::string(width - key.size() + 2, ' '),
                      Cell(field), "\n");
    }
  }
  return out + lists;
}

void Print(const json& value, const std::vector<std::string>& columns) {
  if (Chosen() == OutputFormat::kTable) {
    std::cout << RenderTable(value, columns);
  } else {
    std::cout << value.dump() << "\n";
  }
  std::cout.flush();
}

}  // namespace trellis::cli
