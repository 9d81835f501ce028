// Configuration files for Trellis's programs: a TOML file whose keys are the
// program's flag names (`grpc_addr = "127.0.0.1:8090"`), read with
// --config=FILE. Flags on the command line override the file; unknown keys,
// tables and values of the wrong type are errors naming the line, so a typo
// never silently falls back to a default. --print_config prints the
// effective configuration in the same format (a valid file to start from).
#ifndef TRELLIS_CONFIG_FLAG_FILE_H_
#define TRELLIS_CONFIG_FLAG_FILE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace trellis::config {

// Sets the flags named by the keys of `toml_text` (`source` names it in
// errors). INVALID_ARGUMENT for syntax errors, keys that name no
// configurable flag, tables, and values the flag does not accept; no flag is
// changed then.
absl::Status ApplyFlagFile(absl::string_view toml_text,
                           absl::string_view source);

// Every configurable flag with its current value, sorted by name, each after
// its help text as a comment: TOML that ApplyFlagFile reads back.
std::string EffectiveConfig();

// absl::ParseCommandLine with --config and --print_config: the file named by
// --config (as `--config=F` or `--config F` in argv) is applied first, then
// the command line. With --print_config the effective configuration goes to
// stdout and the program exits 0. A bad file exits 2 with the error on
// stderr. Returns the positional arguments, as absl::ParseCommandLine does.
std::vector<char*> ParseCommandLineWithConfig(int argc, char** argv,
                                              absl::string_view program);

}  // namespace trellis::config

#endif  // TRELLIS_CONFIG_FLAG_FILE_H_
