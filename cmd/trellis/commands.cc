#include "cmd/trellis/commands.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace trellis::cli {
namespace {

// Flags whose values are one of a few words.
const std::vector<std::pair<std::string, std::string>>& FlagValues() {
  static const auto* const kValues =
      new std::vector<std::pair<std::string, std::string>>{
          {"output", "auto json table"},
          {"progress", "auto always never"},
          {"type", "LOG PREORDERED_LOG MAP"},
          {"state", "ACTIVE DRAINING FROZEN"},
          {"key_type", "ecdsa-p256 ecdsa-p384 ecdsa-p521 rsa ed25519"},
          {"hash_strategy", "RFC6962_SHA256 TEST_MAP_HASHER"},
      };
  return *kValues;
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// `text` as one single-quoted shell word.
std::string ShellQuoted(const std::string& text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

std::vector<std::string> Names() {
  std::vector<std::string> names;
  for (const CommandSpec& command : Commands()) names.push_back(command.name);
  return names;
}

}  // namespace

const std::vector<CommandSpec>& Commands() {
  static const auto* const kCommands = new std::vector<CommandSpec>{
      {"tree",
       {"create", "list", "get", "update", "delete", "undelete"},
       "tree create|list|get|update|delete|undelete [TREE_ID]",
       "create, list and change logs and maps (operators)"},
      {"log",
       {"init", "append", "root", "leaves", "prove", "consistency"},
       "log init|append|root|leaves|prove|consistency TREE_ID",
       "write leaves; read signed roots, leaves and proofs, verified"},
      {"map",
       {"init", "set", "get", "root", "range"},
       "map init|set|get|root|range MAP_ID",
       "set and read map leaves with verified proofs"},
      {"verify-proof",
       {},
       "verify-proof FILE.json | FILE.tlog-proof --policy POLICY [--leaf F]",
       "check a saved proof offline"},
      {"verify-map-proof",
       {},
       "verify-map-proof FILE.json",
       "check a saved map proof offline"},
      {"verify-checkpoint",
       {},
       "verify-checkpoint CHECKPOINT POLICY",
       "check a C2SP checkpoint and its cosignatures offline"},
      {"audit",
       {"show", "replay"},
       "audit show|replay AUDIT_ID",
       "a logged verdict or issuance with its proof; re-run a verdict"},
      {"policy",
       {"put", "get"},
       "policy put ID FILE | policy get ID",
       "attestation policies (operators)"},
      {"host",
       {"remove"},
       "host remove HOST_ID",
       "forget a host's registered TPM (operators)"},
      {"gta",
       {"register", "policy", "refvalue", "cert", "token"},
       "gta register | policy|refvalue|cert add|update|list|get|delete | "
       "token verify TOKEN",
       "the GTA-compatible service's resources"},
      {"spire",
       {"token", "entry", "agent", "bundle", "localauthority"},
       "spire token generate | entry create|update|delete|show | agent "
       "list|show|ban|evict | bundle show",
       "the SPIRE server: join tokens, entries, agents, bundle"},
      {"svid",
       {"dump", "verify", "latest", "fetch", "generate-sovereign"},
       "svid dump CERT | verify CERT --bundle F | latest SPIFFE_ID | fetch",
       "SVIDs: read, verify, find in the log, fetch from an agent"},
      {"admin",
       {"backup", "restore", "verify"},
       "admin backup DIR | admin restore BACKUP DIR | admin verify DATA_DIR",
       "backups and offline checks of a data directory"},
      {"completion",
       {"bash", "zsh"},
       "completion bash|zsh",
       "print a shell completion script"},
      {"help", {}, "help", "this list"},
  };
  return *kCommands;
}

const CommandSpec* FindCommand(const std::string& name) {
  for (const CommandSpec& command : Commands()) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

std::string HelpText() {
  std::string out =
      "trellis: the Trellis CLI. Usage: trellis [flags] COMMAND ...\n\n";
  for (const CommandSpec& command : Commands()) {
    absl::StrAppend(&out, "  trellis ", command.usage, "\n      ",
                    command.summary, "\n");
  }
  absl::StrAppend(
      &out,
      "\nCommon flags: --addr=HOST:PORT|unix:PATH (default: the operator "
      "socket in --data_dir if there, else 127.0.0.1:8090), "
      "--output=auto|json|table, --progress=auto|always|never, --timeout. "
      "All flags: trellis --helpfull. README.md has examples.\n");
  return out;
}

std::optional<std::string> Suggest(const std::string& word,
                                   const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& candidate : candidates) {
    const size_t distance = EditDistance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string UnknownWord(const std::string& what, const std::string& word,
                        const std::vector<std::string>& candidates) {
  std::optional<std::string> suggestion = Suggest(word, candidates);
  if (suggestion.has_value()) {
    return absl::StrCat("unknown ", what, " \"", word, "\"; did you mean \"",
                        *suggestion, "\"?");
  }
  return absl::StrCat("unknown ", what, " \"", word, "\"; choose from ",
                      absl::StrJoin(candidates, ", "));
}

std::string BashCompletion(const std::vector<std::string>& flags) {
  std::string values;
  for (const auto& [flag, words] : FlagValues()) {
    absl::StrAppend(&values, "      --", flag, ") words=\"", words, "\" ;;\n");
  }
  std::string verbs;
  for (const CommandSpec& command : Commands()) {
    if (command.verbs.empty()) continue;
    absl::StrAppend(&verbs, "        ", command.name, ") words=\"",
                    absl::StrJoin(command.verbs, " "), "\" ;;\n");
  }
  return absl::StrCat(
      R"sh(# bash completion for trellis: eval "$(trellis completion bash)"
_trellis() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local flag="" words="" i w
  local -a positional=()
  # bash splits --flag=value at the "=".
  if [[ $cur == "=" ]]; then
    flag=$prev cur=""
  elif [[ $prev == "=" && $COMP_CWORD -ge 2 ]]; then
    flag=${COMP_WORDS[COMP_CWORD-2]}
  fi
  if [[ -n $flag ]]; then
    case $flag in
)sh",
      values, R"sh(      *) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W ")sh",
      absl::StrJoin(flags, " ",
                    [](std::string* out, const std::string& f) {
                      absl::StrAppend(out, "--", f);
                    }),
      R"sh(" -- "$cur"))
    return
  fi
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    [[ $w == -* || $w == "=" || ${COMP_WORDS[i-1]} == "=" ]] && continue
    positional+=("$w")
  done
  case ${#positional[@]} in
    0) words=")sh",
      absl::StrJoin(Names(), " "), R"sh(" ;;
    1)
      case ${positional[0]} in
)sh",
      verbs, R"sh(        *) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      esac ;;
    *) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _trellis trellis
)sh");
}

std::string ZshCompletion(const std::vector<std::string>& flags) {
  std::string commands;
  for (const CommandSpec& command : Commands()) {
    absl::StrAppend(&commands, "    ",
                    ShellQuoted(command.name + ":" + command.summary), "\n");
  }
  std::string values;
  for (const auto& [flag, words] : FlagValues()) {
    absl::StrAppend(&values, "      --", flag, ") compadd -- ", words,
                    "; return ;;\n");
  }
  std::string verbs;
  for (const CommandSpec& command : Commands()) {
    if (command.verbs.empty()) continue;
    absl::StrAppend(&verbs, "      ", command.name, ") compadd -- ",
                    absl::StrJoin(command.verbs, " "), " ;;\n");
  }
  return absl::StrCat(
      R"sh(#compdef trellis
# zsh completion for trellis: trellis completion zsh > "${fpath[1]}/_trellis"
# (or, after compinit: source <(trellis completion zsh))
_trellis() {
  local -a commands positional
  local i
  commands=(
)sh",
      commands, R"sh(  )
  for ((i = 2; i < CURRENT; i++)); do
    [[ $words[i] == -* ]] || positional+=($words[i])
  done
  if [[ $PREFIX == --*=* ]]; then
    local flag=${PREFIX%%=*}
    compset -P '*='
    case $flag in
)sh",
      values, R"sh(    esac
    _files
    return
  fi
  if [[ $PREFIX == -* ]]; then
    compadd -- )sh",
      absl::StrJoin(flags, " ",
                    [](std::string* out, const std::string& f) {
                      absl::StrAppend(out, "--", f);
                    }),
      R"sh(
    return
  fi
  case $#positional in
    0) _describe 'command' commands ;;
    1)
      case $positional[1] in
)sh",
      verbs, R"sh(      *) _files ;;
      esac ;;
    *) _files ;;
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _trellis "$@"
else
  compdef _trellis trellis
fi
)sh");
}

}  // namespace trellis::cli
