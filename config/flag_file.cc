#include "config/flag_file.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "util/file.h"

#define TOML_EXCEPTIONS 0
#include "toml++/toml.h"

ABSL_FLAG(std::string, config, "",
          "TOML file of flag settings (keys are flag names); flags given on "
          "the command line override it.");
ABSL_FLAG(bool, print_config, false,
          "Print the effective configuration (the file's format) and exit.");

namespace trellis::config {
namespace {

// Larger files are surely not configuration.
constexpr size_t kMaxConfigBytes = 1 << 20;

// The TOML type a flag's value takes in the file.
enum class Kind { kBool, kInteger, kFloat, kString, kStringList };

Kind KindOf(const absl::CommandLineFlag& flag) {
  if (flag.IsOfType<bool>()) return Kind::kBool;
  if (flag.IsOfType<int>() || flag.IsOfType<int64_t>() ||
      flag.IsOfType<uint64_t>() || flag.IsOfType<uint32_t>() ||
      flag.IsOfType<int16_t>() || flag.IsOfType<uint16_t>()) {
    return Kind::kInteger;
  }
  if (flag.IsOfType<double>() || flag.IsOfType<float>()) return Kind::kFloat;
  if (flag.IsOfType<std::vector<std::string>>()) return Kind::kStringList;
  return Kind::kString;  // std::string, absl::Duration and other text forms.
}

// The program's own flags: neither Abseil's (--flagfile, --help...) nor the
// two that name and print the file.
bool Configurable(const absl::CommandLineFlag& flag) {
  return !absl::StrContains(flag.Filename(), "absl/") &&
         flag.Name() != "config" && flag.Name() != "print_config";
}

absl::CommandLineFlag* FindConfigurable(absl::string_view name) {
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  return flag != nullptr && Configurable(*flag) ? flag : nullptr;
}

std::string QuoteToml(absl::string_view text) {
  std::string quoted = "\"";
  for (const unsigned char c : text) {
    switch (c) {
      case '"':
        quoted += "\\\"";
        break;
      case '\\':
        quoted += "\\\\";
        break;
      case '\n':
        quoted += "\\n";
        break;
      case '\t':
        quoted += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(&quoted, "\\u%04x", c);
        } else {
          quoted += static_cast<char>(c);
        }
    }
  }
  return quoted + "\"";
}

// The flag's text form of a TOML value, or an error if the value is not of
// the flag's kind.
absl::StatusOr<std::string> FlagText(const toml::node& value, Kind kind) {
  switch (kind) {
    case Kind::kBool:
      if (auto b = value.value_exact<bool>()) return *b ? "true" : "false";
      return absl::InvalidArgumentError("expected true or false");
    case Kind::kInteger:
      if (auto i = value.value_exact<int64_t>()) return absl::StrCat(*i);
      return absl::InvalidArgumentError("expected an integer");
    case Kind::kFloat:
      if (auto d = value.value_exact<double>()) {
        return absl::StrFormat("%.17g", *d);
      }
      if (auto i = value.value_exact<int64_t>()) return absl::StrCat(*i);
      return absl::InvalidArgumentError("expected a number");
    case Kind::kString:
      if (auto s = value.value_exact<std::string>()) return *s;
      return absl::InvalidArgumentError("expected a string");
    case Kind::kStringList: {
      const toml::array* array = value.as_array();
      if (array == nullptr) {
        return absl::InvalidArgumentError("expected an array of strings");
      }
      std::vector<std::string> items;
      for (const toml::node& item : *array) {
        auto s = item.value_exact<std::string>();
        if (!s) return absl::InvalidArgumentError("expected only strings");
        if (absl::StrContains(*s, ',')) {
          return absl::InvalidArgumentError(
              absl::StrCat("\"", *s, "\": items cannot contain commas"));
        }
        items.push_back(*std::move(s));
      }
      return absl::StrJoin(items, ",");
    }
  }
  return absl::InternalError("unknown flag kind");
}

std::string TomlValue(const absl::CommandLineFlag& flag) {
  const std::string current = flag.CurrentValue();
  switch (KindOf(flag)) {
    case Kind::kBool:
    case Kind::kInteger:
    case Kind::kFloat:
      return current;
    case Kind::kStringList: {
      std::vector<std::string> quoted;
      for (absl::string_view item :
           absl::StrSplit(current, ',', absl::SkipEmpty())) {
        quoted.push_back(QuoteToml(item));
      }
      return absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
    }
    case Kind::kString:
      break;
  }
  return QuoteToml(current);
}

// Help text as comment lines of at most about 78 columns.
std::string Comment(absl::string_view help) {
  std::string out;
  std::string line = "#";
  for (absl::string_view word : absl::StrSplit(help, ' ', absl::SkipEmpty())) {
    if (line.size() > 1 && line.size() + 1 + word.size() > 78) {
      absl::StrAppend(&out, line, "\n");
      line = "#";
    }
    absl::StrAppend(&line, " ", word);
  }
  return absl::StrCat(out, line, "\n");
}

}  // namespace

absl::Status ApplyFlagFile(absl::string_view toml_text,
                           absl::string_view source) {
  toml::parse_result parsed =
      toml::parse(std::string_view(toml_text.data(), toml_text.size()),
                  std::string_view(source.data(), source.size()));
  if (!parsed) {
    const toml::parse_error& error = parsed.error();
    return absl::InvalidArgumentError(
        absl::StrCat(source, ":", error.source().begin.line, ": ",
                     std::string(error.description())));
  }
  // Check every key first, then set: a bad file changes nothing.
  std::vector<std::pair<absl::CommandLineFlag*, std::string>> settings;
  for (const auto& [key, value] : parsed.table()) {
    const std::string where =
        absl::StrCat(source, ":", value.source().begin.line, ": ");
    const std::string name(key.str());
    if (value.is_table()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "[", name, "]: tables are not used; keys are flag names"));
    }
    absl::CommandLineFlag* flag = FindConfigurable(name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "unknown key \"", name,
                       "\" (keys are flag names; --print_config lists them)"));
    }
    absl::StatusOr<std::string> text = FlagText(value, KindOf(*flag));
    if (!text.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, name, ": ", text.status().message()));
    }
    settings.emplace_back(flag, *std::move(text));
  }
  std::vector<std::pair<absl::CommandLineFlag*, std::string>> previous;
  for (auto& [flag, text] : settings) {
    std::string error;
    const std::string old_value = flag->CurrentValue();
    if (!flag->ParseFrom(text, &error)) {
      for (auto& [set_flag, old_text] : previous) {
        std::string ignored;
        set_flag->ParseFrom(old_text, &ignored);
      }
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": ", flag->Name(), ": ", error));
    }
    previous.emplace_back(flag, old_value);
  }
  return absl::OkStatus();
}

std::string EffectiveConfig() {
  std::vector<const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (Configurable(*flag)) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(),
            [](const absl::CommandLineFlag* a, const absl::CommandLineFlag* b) {
              return a->Name() < b->Name();
            });
  std::string out;
  for (const absl::CommandLineFlag* flag : flags) {
    absl::StrAppend(&out, Comment(flag->Help()), flag->Name(), " = ",
                    TomlValue(*flag), "\n\n");
  }
  return out;
}

std::vector<char*> ParseCommandLineWithConfig(int argc, char** argv,
                                              absl::string_view program) {
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    for (absl::string_view prefix : {"--config", "-config"}) {
      if (arg == prefix && i + 1 < argc) {
        config_path = argv[i + 1];
      } else if (absl::StartsWith(arg, absl::StrCat(prefix, "="))) {
        config_path = std::string(arg.substr(prefix.size() + 1));
      }
    }
  }
  if (!config_path.empty()) {
    absl::Status applied;
    absl::StatusOr<std::string> text = ReadFile(config_path);
    if (!text.ok()) {
      applied = text.status();
    } else if (text->size() > kMaxConfigBytes) {
      applied = absl::InvalidArgumentError(absl::StrCat(
          config_path, ": larger than ", kMaxConfigBytes, " bytes"));
    } else {
      applied = ApplyFlagFile(*text, config_path);
    }
    if (!applied.ok()) {
      std::fprintf(stderr, "%.*s: --config: %.*s\n",
                   static_cast<int>(program.size()), program.data(),
                   static_cast<int>(applied.message().size()),
                   applied.message().data());
      std::exit(2);
    }
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_print_config)) {
    std::fputs(EffectiveConfig().c_str(), stdout);
    std::exit(0);
  }
  return positional;
}

}  // namespace trellis::config
