#include "http/router.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "re2/re2.h"

namespace trellis::http {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Decode(absl::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%' && i + 2 < in.size() && HexDigit(in[i + 1]) >= 0 &&
               HexDigit(in[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(HexDigit(in[i + 1]) * 16 + HexDigit(in[i + 2])));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out.push_back(kHex[(c >> 4) & 0xf]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

// Full match of `path`; captures that did not take part are "".
bool FullMatch(const re2::RE2& pattern, absl::string_view path,
               std::vector<std::string>& captures) {
  const int groups = pattern.NumberOfCapturingGroups();
  std::vector<re2::StringPiece> pieces(groups + 1);
  if (!pattern.Match(re2::StringPiece(path.data(), path.size()), 0, path.size(),
                     re2::RE2::ANCHOR_BOTH, pieces.data(), groups + 1)) {
    return false;
  }
  captures.clear();
  for (int i = 1; i <= groups; ++i) {
    // A group that did not take part has a null data().
    captures.push_back(pieces[i].data() == nullptr
                           ? std::string()
                           : std::string(pieces[i].data(), pieces[i].size()));
  }
  return true;
}

}  // namespace

std::string Request::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

bool Request::HasHeader(absl::string_view name) const {
  for (const auto& header : headers) {
    if (absl::EqualsIgnoreCase(header.first, name)) return true;
  }
  return false;
}

std::string Request::QueryParam(absl::string_view name) const {
  auto it = query.find(std::string(name));
  return it == query.end() ? "" : it->second;
}

bool Request::HasQueryParam(absl::string_view name) const {
  return query.count(std::string(name)) > 0;
}

absl::string_view ReasonPhrase(int status) {
  static constexpr std::pair<int, const char*> kReasons[] = {
      {100, "Continue"},
      {200, "OK"},
      {201, "Created"},
      {202, "Accepted"},
      {204, "No Content"},
      {301, "Moved Permanently"},
      {302, "Found"},
      {303, "See Other"},
      {304, "Not Modified"},
      {307, "Temporary Redirect"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {408, "Request Timeout"},
      {409, "Conflict"},
      {410, "Gone"},
      {411, "Length Required"},
      {412, "Precondition Failed"},
      {413, "Payload Too Large"},
      {414, "URI Too Long"},
      {415, "Unsupported Media Type"},
      {417, "Expectation Failed"},
      {422, "Unprocessable Entity"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
      {505, "HTTP Version Not Supported"}};
  for (const auto& [code, reason] : kReasons) {
    if (code == status) return reason;
  }
  return "Unknown";
}

std::string DefaultErrorBody(int status, absl::string_view message) {
  return absl::StrCat("{\"code\":", status,
                      ",\"status\":", JsonString(ReasonPhrase(status)),
                      ",\"error\":", JsonString(message), "}");
}

std::multimap<std::string, std::string> ParseQuery(absl::string_view query) {
  std::multimap<std::string, std::string> params;
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    params.emplace(Decode(kv.first), Decode(kv.second));
  }
  return params;
}

void Router::Add(std::string method, std::string pattern, Handler handler) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const re2::RE2>(pattern, options);
  if (!re->ok()) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(
          absl::StrCat("bad route pattern \"", pattern, "\": ", re->error()));
    }
    return;
  }
  routes_.push_back({std::move(method), std::move(re), std::move(handler)});
}

void Router::SetErrorBody(ErrorBody error_body) {
  error_body_ = std::move(error_body);
}

Response Router::Error(int status, absl::string_view message) const {
  Response response;
  response.status = status;
  response.body = error_body_ ? error_body_(status, message)
                              : DefaultErrorBody(status, message);
  return response;
}

void Router::Dispatch(Request& request, Response& response) const {
  const Route* head_fallback = nullptr;
  std::vector<std::string> head_captures;
  std::vector<std::string> allow;
  std::vector<std::string> captures;
  const Route* chosen = nullptr;
  for (const Route& route : routes_) {
    if (!FullMatch(*route.pattern, request.path, captures)) continue;
    if (route.method == request.method) {
      chosen = &route;
      break;
    }
    if (request.method == "HEAD" && route.method == "GET" &&
        head_fallback == nullptr) {
      head_fallback = &route;
      head_captures = captures;
    }
    if (std::find(allow.begin(), allow.end(), route.method) == allow.end()) {
      allow.push_back(route.method);
    }
  }
  if (chosen == nullptr && head_fallback != nullptr) {
    chosen = head_fallback;
    captures = std::move(head_captures);
  }
  if (chosen == nullptr) {
    if (allow.empty()) {
      response = Error(404, "no such resource");
    } else {
      response = Error(405, "method not allowed");
      response.headers.emplace_back("Allow", absl::StrJoin(allow, ", "));
    }
    return;
  }
  request.path_params = std::move(captures);
  request.route = chosen->pattern->pattern();
  // Handlers are not supposed to throw, but one that does must not take the
  // worker thread (and the process) with it.
  try {
    chosen->handler(request, response);
  } catch (const std::exception& e) {
    response = Error(500, "internal error");
  } catch (...) {
    response = Error(500, "internal error");
  }
}

}  // namespace trellis::http
