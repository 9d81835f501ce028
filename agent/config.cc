#include "agent/config.h"

#include <map>
#include <memory>
#include <set>
#include <variant>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "logging/log.h"

namespace trellis::agent {
namespace {

// A parsed HCL block: `name "label"... { attributes and blocks }`.
struct Block {
  std::string name;
  std::vector<std::string> labels;
  std::map<std::string, std::string> attributes;  // Values as text.
  std::map<std::string, int> attribute_lines;
  std::vector<Block> blocks;
  int line = 0;
};

// A small HCL reader: blocks, `key = value` with string, number, boolean or
// list-of-strings values, # and // comments.
class Reader {
 public:
  explicit Reader(absl::string_view text) : text_(text) {}

  absl::Status ReadBody(Block& block, bool top_level) {
    for (;;) {
      SkipSpace();
      if (pos_ >= text_.size()) {
        if (top_level) return absl::OkStatus();
        return Error("unterminated block");
      }
      if (text_[pos_] == '}') {
        if (top_level) return Error("unexpected }");
        ++pos_;
        return absl::OkStatus();
      }
      const int line = line_;
      absl::StatusOr<std::string> name = Identifier();
      if (!name.ok()) return name.status();
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == '=') {
        ++pos_;
        absl::StatusOr<std::string> value = Value();
        if (!value.ok()) return value.status();
        if (!block.attributes.emplace(*name, *value).second) {
          return Error(absl::StrCat("\"", *name, "\" set twice"));
        }
        block.attribute_lines[*name] = line;
        continue;
      }
      Block child;
      child.name = *name;
      child.line = line;
      while (pos_ < text_.size() && text_[pos_] == '"') {
        absl::StatusOr<std::string> label = String();
        if (!label.ok()) return label.status();
        child.labels.push_back(*label);
        SkipSpace();
      }
      if (pos_ >= text_.size() || text_[pos_] != '{') {
        return Error(absl::StrCat("expected = or { after \"", *name, "\""));
      }
      ++pos_;
      if (absl::Status s = ReadBody(child, false); !s.ok()) return s;
      block.blocks.push_back(std::move(child));
    }
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("config line ", line_, ": ", what));
  }

  void SkipSpace() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        ++pos_;
      } else if (absl::ascii_isspace(static_cast<unsigned char>(c)) ||
                 c == ',') {
        ++pos_;
      } else if (c == '#' || (c == '/' && pos_ + 1 < text_.size() &&
                              text_[pos_ + 1] == '/')) {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        return;
      }
    }
  }

  absl::StatusOr<std::string> Identifier() {
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           (absl::ascii_isalnum(static_cast<unsigned char>(text_[pos_])) ||
            text_[pos_] == '_' || text_[pos_] == '-')) {
      ++pos_;
    }
    if (pos_ == start) return Error("expected a name");
    return std::string(text_.substr(start, pos_ - start));
  }

  absl::StatusOr<std::string> String() {
    ++pos_;  // The opening quote.
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (c == '\n') return Error("newline in a string");
      if (c == '\\' && pos_ < text_.size()) {
        c = text_[pos_++];
        if (c == 'n') c = '\n';
      }
      out.push_back(c);
    }
    if (pos_ >= text_.size()) return Error("unterminated string");
    ++pos_;
    return out;
  }

  absl::StatusOr<std::string> Value() {
    SkipSpace();
    if (pos_ >= text_.size()) return Error("missing value");
    if (text_[pos_] == '"') return String();
    if (text_[pos_] == '[') {  // A list: its strings joined by commas.
      ++pos_;
      std::string joined;
      for (;;) {
        SkipSpace();
        if (pos_ >= text_.size()) return Error("unterminated list");
        if (text_[pos_] == ']') {
          ++pos_;
          return joined;
        }
        if (text_[pos_] != '"') return Error("lists hold strings");
        absl::StatusOr<std::string> item = String();
        if (!item.ok()) return item.status();
        if (!joined.empty()) joined.push_back(',');
        joined += *item;
      }
    }
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           (absl::ascii_isalnum(static_cast<unsigned char>(text_[pos_])) ||
            text_[pos_] == '.' || text_[pos_] == '-')) {
      ++pos_;
    }
    if (pos_ == start) return Error("expected a value");
    return std::string(text_.substr(start, pos_ - start));
  }

  absl::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
};

// `status` about `key` of `block`, prefixed with the key's line.
absl::Status AtLine(const Block& block, const std::string& key,
                    const absl::Status& status) {
  if (status.ok()) return status;
  auto line = block.attribute_lines.find(key);
  return absl::InvalidArgumentError(absl::StrCat(
      "config line ",
      line == block.attribute_lines.end() ? block.line : line->second, ": ",
      status.message()));
}

absl::Status Unknown(const Block& block, const std::string& key) {
  return absl::InvalidArgumentError(
      absl::StrCat("config line ", block.attribute_lines.at(key),
                   ": unknown key \"", key, "\" in ", block.name));
}

absl::Status ParseBool(const std::string& text, bool& out) {
  if (text == "true") {
    out = true;
  } else if (text == "false") {
    out = false;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("expected true or false, not \"", text, "\""));
  }
  return absl::OkStatus();
}

absl::Status ApplyAgentKey(const Block& block, const std::string& key,
                           const std::string& value, AgentConfig& config) {
  std::string* text = nullptr;
  if (key == "server_address") {
    text = &config.server_address;
  } else if (key == "trust_domain") {
    text = &config.trust_domain;
  } else if (key == "trust_bundle_path") {
    text = &config.trust_bundle_path;
  } else if (key == "trust_bundle_url") {
    text = &config.trust_bundle_url;
  } else if (key == "trust_bundle_format") {
    if (value != "pem" && value != "spiffe") {
      return absl::InvalidArgumentError(
          "trust_bundle_format must be pem or spiffe");
    }
    text = &config.trust_bundle_format;
  } else if (key == "data_dir") {
    text = &config.data_dir;
  } else if (key == "socket_path") {
    text = &config.socket_path;
  } else if (key == "join_token") {
    text = &config.join_token;
  } else if (key == "server_port") {
    if (!absl::SimpleAtoi(value, &config.server_port) ||
        config.server_port <= 0 || config.server_port > 65535) {
      return absl::InvalidArgumentError("server_port must be a port");
    }
  } else if (key == "insecure_bootstrap") {
    if (absl::Status s = ParseBool(value, config.insecure_bootstrap); !s.ok()) {
      return s;
    }
  } else if (key == "log_level") {
    if (!logging::ParseLevel(value).ok()) {
      return absl::InvalidArgumentError(
          "log_level must be DEBUG, INFO, WARN or ERROR");
    }
    text = &config.log_level;
  } else if (key == "log_format") {
    if (!logging::ParseFormat(value).ok()) {
      return absl::InvalidArgumentError("log_format must be text or json");
    }
    text = &config.log_format;
  } else if (key == "log_file") {
    text = &config.log_file;
  } else {
    return Unknown(block, key);
  }
  if (text != nullptr) *text = value;
  return absl::OkStatus();
}

absl::Status ApplyAgent(const Block& block, AgentConfig& config) {
  for (const auto& [key, value] : block.attributes) {
    if (absl::Status s =
            AtLine(block, key, ApplyAgentKey(block, key, value, config));
        !s.ok()) {
      return s;
    }
  }
  for (const Block& child : block.blocks) {
    if (child.name != "experimental") {
      return absl::InvalidArgumentError(absl::StrCat(
          "config line ", child.line, ": unknown block \"", child.name, "\""));
    }
    for (const auto& [key, value] : child.attributes) {
      if (key == "sync_interval") {
        if (!absl::ParseDuration(value, &config.sync_interval) ||
            config.sync_interval <= absl::ZeroDuration()) {
          return AtLine(
              child, key,
              absl::InvalidArgumentError("sync_interval must be > 0"));
        }
      } else if (key == "feature_flags") {
        config.unified_identity = absl::StrContains(
            absl::StrCat(",", value, ","), ",Unified-Identity,");
      } else {
        return Unknown(child, key);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyPlugins(const Block& block, AgentConfig& config) {
  if (!block.attributes.empty()) {
    return Unknown(block, block.attributes.begin()->first);
  }
  for (const Block& plugin : block.blocks) {
    if (plugin.labels.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config line ", plugin.line, ": a plugin needs one name"));
    }
    const std::string& name = plugin.labels[0];
    const Block* data = nullptr;
    for (const Block& child : plugin.blocks) {
      if (child.name == "plugin_data") data = &child;
    }
    if (plugin.name == "NodeAttestor") {
      if (name != "join_token" && name != "tpm" && name != "unified_identity") {
        return absl::InvalidArgumentError(
            absl::StrCat("config line ", plugin.line,
                         ": unsupported NodeAttestor \"", name, "\""));
      }
      config.node_attestor = name;
      if (data == nullptr) continue;
      for (const auto& [key, value] : data->attributes) {
        if (key == "tcti") {
          config.tpm_tcti = value;
        } else if (key == "work_dir" && name == "unified_identity") {
          config.tpm_work_dir = value;
        } else if (key == "host_id" && name == "unified_identity") {
          config.host_id = value;
        } else if (key == "pcrs" && name == "unified_identity") {
          config.pcrs = value;
        } else {
          return Unknown(*data, key);
        }
      }
    } else if (plugin.name == "WorkloadAttestor") {
      if (name != "unix") {
        return absl::InvalidArgumentError(
            absl::StrCat("unsupported WorkloadAttestor \"", name, "\""));
      }
    } else if (plugin.name == "KeyManager") {
      // Keys are kept as upstream's "disk" key manager keeps them.
      if (name != "disk" && name != "memory") {
        return absl::InvalidArgumentError(
            absl::StrCat("unsupported KeyManager \"", name, "\""));
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("config line ", plugin.line, ": unknown plugin kind \"",
                       plugin.name, "\""));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyHealth(const Block& block, AgentConfig& config) {
  bool enabled = false;
  std::string address = "localhost";
  std::string port = "8080";
  for (const auto& [key, value] : block.attributes) {
    if (key == "listener_enabled") {
      if (absl::Status s = ParseBool(value, enabled); !s.ok()) return s;
    } else if (key == "bind_address") {
      address = value;
    } else if (key == "bind_port") {
      port = value;
    } else if (key == "live_path" || key == "ready_path") {
      if (value != "/live" && value != "/ready") {
        return absl::InvalidArgumentError("health paths are /live and /ready");
      }
    } else {
      return Unknown(block, key);
    }
  }
  if (enabled) config.health_address = absl::StrCat(address, ":", port);
  return absl::OkStatus();
}

// telemetry { Prometheus { host = "127.0.0.1" port = 9988 } }: the sink we
// serve. spire-agent's other sinks and options are accepted (its files keep
// working) and not served; anything else is an error.
absl::Status ApplyTelemetry(const Block& block, AgentConfig& config) {
  static const auto* const kSpireOptions = new std::set<std::string>{
      "AllowedLabels",      "BlockedLabels", "AllowedPrefixes",
      "BlockedPrefixes",    "MetricPrefix",  "EnableTrustDomainLabel",
      "EnableHostnameLabel"};
  static const auto* const kSpireSinks =
      new std::set<std::string>{"Statsd", "DogStatsd", "M3", "InMem"};
  for (const auto& [key, value] : block.attributes) {
    if (!kSpireOptions->count(key)) return Unknown(block, key);
  }
  for (const Block& sink : block.blocks) {
    if (kSpireSinks->count(sink.name)) continue;
    if (sink.name != "Prometheus") {
      return absl::InvalidArgumentError(
          absl::StrCat("config line ", sink.line, ": unknown telemetry sink \"",
                       sink.name, "\""));
    }
    std::string host = "localhost";
    std::string port;
    for (const auto& [key, value] : sink.attributes) {
      if (key == "host") {
        host = value;
      } else if (key == "port") {
        int number = 0;
        if (!absl::SimpleAtoi(value, &number) || number < 0 || number > 65535) {
          return absl::InvalidArgumentError("telemetry port must be a port");
        }
        port = value;
      } else {
        return Unknown(sink, key);
      }
    }
    if (port.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config line ", sink.line, ": the Prometheus sink needs a port"));
    }
    config.metrics_address = absl::StrCat(host, ":", port);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AgentConfig> ParseConfig(absl::string_view text) {
  Block root;
  if (absl::Status s = Reader(text).ReadBody(root, true); !s.ok()) return s;
  if (!root.attributes.empty()) {
    return Unknown(root, root.attributes.begin()->first);
  }
  AgentConfig config;
  for (const Block& block : root.blocks) {
    absl::Status s;
    if (block.name == "agent") {
      s = ApplyAgent(block, config);
    } else if (block.name == "plugins") {
      s = ApplyPlugins(block, config);
    } else if (block.name == "health_checks") {
      s = ApplyHealth(block, config);
    } else if (block.name == "telemetry") {
      s = ApplyTelemetry(block, config);
    } else {
      s = absl::InvalidArgumentError(absl::StrCat(
          "config line ", block.line, ": unknown block \"", block.name, "\""));
    }
    if (!s.ok()) return s;
  }
  return config;
}

absl::Status ValidateConfig(const AgentConfig& config) {
  if (config.trust_domain.empty()) {
    return absl::InvalidArgumentError("trust_domain is required");
  }
  const int bootstraps = !config.trust_bundle_path.empty() +
                         !config.trust_bundle_url.empty() +
                         config.insecure_bootstrap;
  if (bootstraps != 1) {
    return absl::InvalidArgumentError(
        "give exactly one of trust_bundle_path, trust_bundle_url and "
        "insecure_bootstrap");
  }
  if (config.node_attestor != "join_token" && config.tpm_tcti.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the ", config.node_attestor, " node attestor needs plugin_data tcti"));
  }
  if (config.node_attestor == "unified_identity" &&
      (config.tpm_work_dir.empty() || config.host_id.empty())) {
    return absl::InvalidArgumentError(
        "the unified_identity node attestor needs work_dir and host_id");
  }
  if (config.data_dir.empty() || config.socket_path.empty()) {
    return absl::InvalidArgumentError("data_dir and socket_path are required");
  }
  return absl::OkStatus();
}

namespace {

std::string Quoted(absl::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

}  // namespace

std::string FormatConfig(const AgentConfig& config) {
  std::string out = "agent {\n";
  auto line = [&out](absl::string_view indent, absl::string_view key,
                     absl::string_view value) {
    absl::StrAppend(&out, indent, key, " = ", value, "\n");
  };
  line("    ", "trust_domain", Quoted(config.trust_domain));
  line("    ", "server_address", Quoted(config.server_address));
  line("    ", "server_port", absl::StrCat(config.server_port));
  if (!config.trust_bundle_path.empty()) {
    line("    ", "trust_bundle_path", Quoted(config.trust_bundle_path));
  }
  if (!config.trust_bundle_url.empty()) {
    line("    ", "trust_bundle_url", Quoted(config.trust_bundle_url));
  }
  line("    ", "trust_bundle_format", Quoted(config.trust_bundle_format));
  line("    ", "insecure_bootstrap",
       config.insecure_bootstrap ? "true" : "false");
  line("    ", "data_dir", Quoted(config.data_dir));
  line("    ", "socket_path", Quoted(config.socket_path));
  line("    ", "log_level", Quoted(config.log_level));
  line("    ", "log_format", Quoted(config.log_format));
  if (!config.log_file.empty()) {
    line("    ", "log_file", Quoted(config.log_file));
  }
  if (!config.join_token.empty()) {
    // A secret: shown as set, never printed.
    absl::StrAppend(&out, "    # join_token is set (not shown)\n");
  }
  absl::StrAppend(&out, "    experimental {\n");
  line("        ", "sync_interval",
       Quoted(absl::FormatDuration(config.sync_interval)));
  if (config.unified_identity) {
    line("        ", "feature_flags", "[\"Unified-Identity\"]");
  }
  absl::StrAppend(&out, "    }\n}\n\nplugins {\n    NodeAttestor ",
                  Quoted(config.node_attestor), " {\n        plugin_data {\n");
  if (!config.tpm_tcti.empty()) {
    line("            ", "tcti", Quoted(config.tpm_tcti));
  }
  if (config.node_attestor == "unified_identity") {
    line("            ", "work_dir", Quoted(config.tpm_work_dir));
    line("            ", "host_id", Quoted(config.host_id));
    line("            ", "pcrs", Quoted(config.pcrs));
  }
  absl::StrAppend(&out, "        }\n    }\n}\n");
  if (!config.metrics_address.empty()) {
    const size_t colon = config.metrics_address.rfind(':');
    absl::StrAppend(&out, "\ntelemetry {\n    Prometheus {\n");
    line("        ", "host", Quoted(config.metrics_address.substr(0, colon)));
    line("        ", "port", config.metrics_address.substr(colon + 1));
    absl::StrAppend(&out, "    }\n}\n");
  }
  if (!config.health_address.empty()) {
    const size_t colon = config.health_address.rfind(':');
    absl::StrAppend(&out, "\nhealth_checks {\n");
    line("    ", "listener_enabled", "true");
    line("    ", "bind_address",
         Quoted(config.health_address.substr(0, colon)));
    line("    ", "bind_port", Quoted(config.health_address.substr(colon + 1)));
    absl::StrAppend(&out, "}\n");
  }
  return out;
}

}  // namespace trellis::agent
