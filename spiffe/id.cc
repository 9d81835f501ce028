#include "spiffe/id.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace trellis::spiffe {
namespace {

constexpr absl::string_view kScheme = "spiffe://";

bool IsTrustDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

bool IsPathSegmentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

// Quoted for error messages; inputs are untrusted, so escape them.
std::string Quote(absl::string_view s) {
  return absl::StrCat("\"", absl::CHexEscape(s), "\"");
}

absl::Status CheckTrustDomainName(absl::string_view td) {
  if (td.empty()) return absl::InvalidArgumentError("trust domain is missing");
  if (absl::StrContains(td, '@')) {
    return absl::InvalidArgumentError("trust domain must not have userinfo");
  }
  if (absl::StrContains(td, ':')) {
    return absl::InvalidArgumentError("trust domain must not have a port");
  }
  if (td.size() > kMaxTrustDomainLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "trust domain is longer than ", kMaxTrustDomainLength, " bytes"));
  }
  for (char c : td) {
    if (!IsTrustDomainChar(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "trust domain ", Quote(td), " has character ",
          Quote(absl::string_view(&c, 1)),
          "; only lowercase letters, digits, '.', '-' and '_' are allowed"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPath(absl::string_view path) {
  if (path.empty()) return absl::OkStatus();
  if (path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("path ", Quote(path), " must start with '/'"));
  }
  const std::vector<absl::string_view> segments =
      absl::StrSplit(path.substr(1), '/');
  for (size_t i = 0; i < segments.size(); ++i) {
    const absl::string_view segment = segments[i];
    if (segment.empty()) {
      return absl::InvalidArgumentError(
          i + 1 == segments.size()
              ? absl::StrCat("path ", Quote(path), " has a trailing '/'")
              : absl::StrCat("path ", Quote(path), " has an empty segment"));
    }
    if (segment == "." || segment == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("path ", Quote(path), " has a '.' or '..' segment"));
    }
    for (char c : segment) {
      if (!IsPathSegmentChar(c)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "path ", Quote(path), " has character ",
            Quote(absl::string_view(&c, 1)),
            "; only letters, digits, '.', '-' and '_' are allowed"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Invalid(absl::string_view what, const absl::Status &cause) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid ", what, ": ", cause.message()));
}

absl::StatusOr<absl::string_view> StripScheme(absl::string_view uri) {
  if (absl::StartsWith(uri, kScheme)) return uri.substr(kScheme.size());
  return absl::InvalidArgumentError(
      absl::StrCat(Quote(uri.substr(0, 64)),
                   " does not start with \"spiffe://\" (the scheme is "
                   "case-sensitive)"));
}

}  // namespace

std::string SpiffeId::ToString() const {
  return absl::StrCat(kScheme, trust_domain, path);
}

absl::StatusOr<SpiffeId> ParseSpiffeId(absl::string_view uri) {
  constexpr absl::string_view kWhat = "SPIFFE ID";
  if (uri.empty()) return absl::InvalidArgumentError("SPIFFE ID is empty");
  if (uri.size() > kMaxSpiffeIdLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SPIFFE ID is longer than ", kMaxSpiffeIdLength, " bytes"));
  }
  // Checked first so that "spiffe://td?x" is not blamed on the trust domain.
  if (absl::StrContains(uri, '?')) {
    return Invalid(kWhat, absl::InvalidArgumentError(absl::StrCat(
                              Quote(uri), " must not have a query")));
  }
  if (absl::StrContains(uri, '#')) {
    return Invalid(kWhat, absl::InvalidArgumentError(absl::StrCat(
                              Quote(uri), " must not have a fragment")));
  }
  absl::StatusOr<absl::string_view> rest = StripScheme(uri);
  if (!rest.ok()) return Invalid(kWhat, rest.status());
  const size_t slash = rest->find('/');
  SpiffeId id;
  id.trust_domain = std::string(rest->substr(0, slash));
  if (slash != absl::string_view::npos)
    id.path = std::string(rest->substr(slash));
  if (absl::Status s = CheckTrustDomainName(id.trust_domain); !s.ok()) {
    return Invalid(kWhat, s);
  }
  if (absl::Status s = CheckPath(id.path); !s.ok()) return Invalid(kWhat, s);
  return id;
}

absl::StatusOr<std::string> ValidateTrustDomain(absl::string_view name_or_id) {
  constexpr absl::string_view kWhat = "trust domain";
  absl::string_view name = name_or_id;
  if (absl::StrContains(name, "://")) {
    absl::StatusOr<absl::string_view> rest = StripScheme(name);
    if (!rest.ok()) return Invalid(kWhat, rest.status());
    name = *rest;
  }
  if (absl::StrContains(name, '/')) {
    return Invalid(kWhat, absl::InvalidArgumentError(absl::StrCat(
                              Quote(name_or_id), " must not have a path")));
  }
  if (absl::Status s = CheckTrustDomainName(name); !s.ok()) {
    return Invalid(kWhat, s);
  }
  return std::string(name);
}

absl::Status ValidatePath(absl::string_view path) {
  if (absl::Status s = CheckPath(path); !s.ok()) {
    return Invalid("SPIFFE ID path", s);
  }
  return absl::OkStatus();
}

absl::StatusOr<SpiffeId> MakeSpiffeId(absl::string_view trust_domain,
                                      absl::string_view path) {
  absl::StatusOr<std::string> td = ValidateTrustDomain(trust_domain);
  if (!td.ok()) return td.status();
  if (absl::Status s = ValidatePath(path); !s.ok()) return s;
  SpiffeId id{*std::move(td), std::string(path)};
  if (kScheme.size() + id.trust_domain.size() + id.path.size() >
      kMaxSpiffeIdLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SPIFFE ID is longer than ", kMaxSpiffeIdLength, " bytes"));
  }
  return id;
}

}  // namespace trellis::spiffe
