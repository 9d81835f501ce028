#include "attest/ima/runtime_policy.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace trellis::attest::ima {

absl::StatusOr<RuntimePolicy> RuntimePolicy::Parse(
    const std::string& json_text) {
  const nlohmann::json j =
      nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return absl::InvalidArgumentError("runtime policy is not a JSON object");
  }
  RuntimePolicy policy;
  if (auto digests = j.find("digests"); digests != j.end()) {
    if (!digests->is_object()) {
      return absl::InvalidArgumentError("\"digests\" must be an object");
    }
    for (const auto& [path, list] : digests->items()) {
      if (!list.is_array()) {
        return absl::InvalidArgumentError(
            absl::StrCat("digests of ", path, " must be a list"));
      }
      auto& allowed = policy.digests_[path];
      for (const auto& hex : list) {
        if (!hex.is_string()) {
          return absl::InvalidArgumentError("a digest must be a string");
        }
        const std::string h = absl::AsciiStrToLower(hex.get<std::string>());
        if (h.size() < 40 || h.size() > 128 || h.size() % 2 != 0 ||
            h.find_first_not_of("0123456789abcdef") != std::string::npos) {
          return absl::InvalidArgumentError(absl::StrCat(
              "digest \"", h, "\" of ", path, " is not 40-128 hex digits"));
        }
        allowed.insert(h);
      }
    }
  }
  if (auto excludes = j.find("excludes"); excludes != j.end()) {
    if (!excludes->is_array()) {
      return absl::InvalidArgumentError("\"excludes\" must be a list");
    }
    std::vector<std::string> parts;
    for (const auto& e : *excludes) {
      if (!e.is_string()) {
        return absl::InvalidArgumentError("an exclude must be a string");
      }
      parts.push_back(absl::StrCat("(", e.get<std::string>(), ")"));
    }
    if (!parts.empty()) {
      // RE2 matches in linear time without recursion: a long measured path
      // cannot blow the stack or stall the verifier as backtracking could.
      RE2::Options options;
      options.set_log_errors(false);
      auto regex =
          std::make_shared<const RE2>(absl::StrJoin(parts, "|"), options);
      if (!regex->ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "excludes are not regular expressions: ", regex->error()));
      }
      policy.excludes_ = std::move(regex);
    }
  }
  return policy;
}

const char* RuntimePolicy::Check(absl::string_view path,
                                 absl::string_view digest_hex,
                                 bool violation) const {
  // A violation: a file measured while open for writing.
  if (violation) return "measurement violation";
  // Allowed digests first: the same verdicts as testing excludes first,
  // without a regular expression for every measured file.
  auto it = digests_.find(path);
  if (it != digests_.end() && it->second.contains(digest_hex)) return nullptr;
  if (excludes_ != nullptr &&
      excludes_->Match(re2::StringPiece(path.data(), path.size()), 0,
                       path.size(), RE2::ANCHOR_START, nullptr, 0)) {
    return nullptr;
  }
  return it == digests_.end() ? "not in allowlist" : "digest not allowed";
}

std::vector<RuntimePolicy::Failure> RuntimePolicy::Evaluate(
    const std::vector<Entry>& entries) const {
  std::vector<Failure> failures;
  for (const Entry& e : entries) {
    if (const char* why =
            Check(e.path, absl::BytesToHexString(e.file_digest), e.violation)) {
      failures.push_back({e.path, why});
    }
  }
  return failures;
}

}  // namespace trellis::attest::ima
