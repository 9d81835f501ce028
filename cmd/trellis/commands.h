// The CLI's commands in one table: what `trellis help` prints, what the
// shell completion scripts offer, and what "did you mean" suggests from.
#ifndef TRELLIS_CMD_TRELLIS_COMMANDS_H_
#define TRELLIS_CMD_TRELLIS_COMMANDS_H_

#include <optional>
#include <string>
#include <vector>

namespace trellis::cli {

struct CommandSpec {
  std::string name;
  std::vector<std::string> verbs;  // Second words; empty if none.
  std::string usage;               // After "trellis ".
  std::string summary;
};

const std::vector<CommandSpec>& Commands();
const CommandSpec* FindCommand(const std::string& name);

// Every command with its usage and summary, for `trellis help`.
std::string HelpText();

// The closest of `candidates` to a mistyped `word` (a few edits away), if
// any.
std::optional<std::string> Suggest(const std::string& word,
                                   const std::vector<std::string>& candidates);
// "unknown command "x"; did you mean "y"?" (or the list to choose from).
std::string UnknownWord(const std::string& what, const std::string& word,
                        const std::vector<std::string>& candidates);

// Completion scripts for `trellis completion bash|zsh`, offering commands,
// verbs, the program's flags and the values of the flags that take one of
// a few; `flags` are the flag names.
std::string BashCompletion(const std::vector<std::string>& flags);
std::string ZshCompletion(const std::vector<std::string>& flags);

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_COMMANDS_H_
