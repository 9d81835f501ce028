// How the CLI shows answers: JSON (for programs; the default when stdout is
// not a terminal) or tables (for people; the default on a terminal), chosen
// by --output=auto|json|table.
#ifndef TRELLIS_CMD_TRELLIS_OUTPUT_H_
#define TRELLIS_CMD_TRELLIS_OUTPUT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace trellis::cli {

enum class OutputFormat { kJson, kTable };

// "auto" (a table if stdout is a terminal), "json" or "table".
absl::Status SetOutputFormat(const std::string& name);
OutputFormat CurrentOutputFormat();

// Prints `value` in the chosen format. `columns`, if given, are the columns
// (keys) of the rows of any list shown as a table; others are left out.
void Print(const nlohmann::json& value,
           const std::vector<std::string>& columns = {});

// The table form: a list of objects is one row each under upper-case
// headers; an object is "key  value" lines, with its lists of objects as
// tables after them; long values are cut with "...".
std::string RenderTable(const nlohmann::json& value,
                        const std::vector<std::string>& columns = {});

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_OUTPUT_H_
