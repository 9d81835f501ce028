#include "cmd/trellis/gta_command.h"

#include <sys/stat.h>

#include <iostream>
#include <optional>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cmd/trellis/client.h"
#include "gta/client/service_client.h"

ABSL_FLAG(std::string, gta, "https://127.0.0.1:8550",
          "gta: the GTA service API, https://HOST:PORT (trellisd's "
          "--gta_addr).");
ABSL_FLAG(std::string, gta_ca, "",
          "gta: PEM CA of the service's certificate (default: trellisd's "
          "self-signed <data_dir>/gta-tls/cert.pem when present).");
ABSL_FLAG(std::string, user, "", "gta: the User-Id to act as.");
ABSL_FLAG(std::string, api_key_file, "",
          "gta: a file holding the user's API-Key.");
ABSL_FLAG(std::vector<std::string>, attester_type, {},
          "gta policy: attester types (tpm_boot, tpm_ima); gta refvalue: "
          "tpm_ima.");
ABSL_FLAG(std::string, default, "",
          "gta policy|refvalue: true makes it the user's default for its "
          "attester types (add: false unless given; update: unchanged "
          "unless given).");
ABSL_FLAG(std::string, content_type, "text",
          "gta policy add: text (FILE is Rego) or jwt (FILE is a JWS whose "
          "payload's policy is base64 Rego).");
ABSL_FLAG(std::vector<std::string>, cert_type, {},
          "gta cert: refvalue, policy, tpm_boot, tpm_ima.");
ABSL_FLAG(bool, all, false, "gta ... delete: every item of the user.");

ABSL_DECLARE_FLAG(std::string, name);
ABSL_DECLARE_FLAG(std::string, description);

namespace trellis::cli {
namespace {

using nlohmann::ordered_json;

constexpr char kUsageText[] =
    "usage: trellis gta register | policy|refvalue add|update|list|get|delete "
    "| cert add|add-crl|update|list|get|delete | token verify TOKEN";

// --default as a boolean, nullopt when not given.
std::optional<bool> DefaultFlag() {
  const std::string value = absl::GetFlag(FLAGS_default);
  if (value.empty()) return std::nullopt;
  if (value != "true" && value != "false") {
    Fail(kUsage, "--default is true or false");
  }
  return value == "true";
}

// A query value, percent-encoded but for RFC 3986's unreserved characters.
std::string QueryValue(absl::string_view value) {
  std::string out;
  for (unsigned char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::BytesToHexString(std::string(1, c)));
    }
  }
  return out;
}

// The resource APIs differ in names only.
struct Resource {
  const char* path;                // "/policy"
  const char* type_field;          // What names a type in bodies.
  const char* type_query;          // ... and in queries.
  const char* delete_type;         // delete_type for "all of a type".
  std::vector<std::string> types;  // From the flags.
};

Resource PolicyResource() {
  return {"/policy", "attester_type", "attester_type", "attester_type",
          absl::GetFlag(FLAGS_attester_type)};
}
Resource RefValueResource() {
  return {"/ref_value", "attester_type", "attester_type", "type",
          absl::GetFlag(FLAGS_attester_type)};
}
Resource CertResource() {
  return {"/cert", "type", "cert_type", "type", absl::GetFlag(FLAGS_cert_type)};
}

class Session {
 public:
  Session(const std::string& data_dir, bool as_user) {
    std::string ca = absl::GetFlag(FLAGS_gta_ca);
    struct stat st;
    if (ca.empty() &&
        stat((data_dir + "/gta-tls/cert.pem").c_str(), &st) == 0) {
      ca = data_dir + "/gta-tls/cert.pem";
    }
    gta::client::ServiceAccount account;
    if (as_user) {
      account.user_id = absl::GetFlag(FLAGS_user);
      if (account.user_id.empty()) Fail(kUsage, "gta: --user is required");
      if (const std::string file = absl::GetFlag(FLAGS_api_key_file);
          !file.empty()) {
        account.api_key =
            std::string(absl::StripAsciiWhitespace(ReadFileOrDie(file)));
      }
    }
    absl::StatusOr<std::unique_ptr<gta::client::ServiceClient>> client =
        gta::client::ServiceClient::Create({absl::GetFlag(FLAGS_gta), ca},
                                           std::move(account));
    if (!client.ok()) Fail(kUsage, "--gta: " + client.status().ToString());
    client_ = std::move(*client);
  }

  ordered_json Call(const std::string& method, const std::string& path,
                    const ordered_json& body = nullptr) {
    absl::StatusOr<ordered_json> reply =
        client_->Call(method, path, body.is_null() ? "" : body.dump());
    if (!reply.ok())
      Fail(ExitCodeFor(reply.status()), reply.status().ToString());
    return *std::move(reply);
  }

 private:
  std::unique_ptr<gta::client::ServiceClient> client_;
};

int Print(const ordered_json& reply) {
  std::cout << reply.dump(2) << "\n";
  return kOk;
}

// args[first..] as ids.
std::vector<std::string> Ids(const std::vector<char*>& args, size_t first) {
  return std::vector<std::string>(args.begin() + first, args.end());
}

// --name and --description, when given.
void NameAndDescription(ordered_json& body) {
  if (!absl::GetFlag(FLAGS_name).empty()) {
    body["name"] = absl::GetFlag(FLAGS_name);
  }
  if (!absl::GetFlag(FLAGS_description).empty()) {
    body["description"] = absl::GetFlag(FLAGS_description);
  }
}

// The fields add and update share: name, description, types, is_default.
void CommonFields(const Resource& resource, bool update, ordered_json& body) {
  NameAndDescription(body);
  if (!resource.types.empty()) {
    // Reference values name one attester type; the others take a list.
    if (std::string(resource.path) == "/ref_value") {
      body[resource.type_field] = resource.types.front();
    } else {
      body[resource.type_field] = resource.types;
    }
  }
  const std::optional<bool> is_default = DefaultFlag();
  if (is_default || !update) body["is_default"] = is_default.value_or(false);
}

int List(Session& session, const Resource& resource,
         const std::vector<std::string>& ids) {
  std::string path = resource.path;
  if (!ids.empty()) {
    std::vector<std::string> encoded;
    for (const std::string& id : ids) encoded.push_back(QueryValue(id));
    absl::StrAppend(&path, "?ids=", absl::StrJoin(encoded, ","));
  } else if (!resource.types.empty()) {
    absl::StrAppend(&path, "?", resource.type_query, "=",
                    QueryValue(resource.types.front()));
  }
  return Print(session.Call("GET", path));
}

int Delete(Session& session, const Resource& resource,
           const std::vector<std::string>& ids) {
  ordered_json body;
  if (absl::GetFlag(FLAGS_all)) {
    body = {{"delete_type", "all"}};
  } else if (!ids.empty()) {
    body = {{"delete_type", "id"}, {"ids", ids}};
  } else if (!resource.types.empty()) {
    body = {{"delete_type", resource.delete_type},
            {resource.type_field, resource.types.front()}};
  } else {
    Fail(kUsage, "delete: name ids, a type or --all");
  }
  session.Call("DELETE", resource.path, body);
  return Print({{"deleted", true}});
}

// list | get ID... | delete ...: the same for every resource.
int ListGetOrDelete(Session& session, const Resource& resource,
                    const std::vector<char*>& args) {
  const std::string verb = args.size() > 3 ? args[3] : "";
  if (verb == "list" && args.size() == 4) return List(session, resource, {});
  if (verb == "get" && args.size() > 4) {
    return List(session, resource, Ids(args, 4));
  }
  if (verb == "delete") return Delete(session, resource, Ids(args, 4));
  Fail(kUsage, kUsageText);
}

int PolicyOrRefValue(Session& session, const Resource& resource,
                     const std::vector<char*>& args) {
  const std::string verb = args.size() > 3 ? args[3] : "";
  const bool policy = std::string(resource.path) == "/policy";
  if (verb == "add" && args.size() == 5) {
    const std::string content = ReadFileOrDie(args[4]);
    ordered_json body;
    CommonFields(resource, false, body);
    if (policy) {
      const std::string type = absl::GetFlag(FLAGS_content_type);
      body["content_type"] = type;
      body["content"] = type == "text"
                            ? absl::Base64Escape(content)
                            : std::string(absl::StripAsciiWhitespace(content));
    } else {
      if (resource.types.empty()) body["attester_type"] = "tpm_ima";
      body["content"] = std::string(absl::StripAsciiWhitespace(content));
    }
    return Print(session.Call("POST", resource.path, body));
  }
  if (verb == "update" && (args.size() == 5 || args.size() == 6)) {
    ordered_json body = {{"id", args[4]}};
    CommonFields(resource, true, body);
    if (args.size() == 6) {
      const std::string content = ReadFileOrDie(args[5]);
      if (policy && absl::GetFlag(FLAGS_content_type) == "text") {
        body["content_type"] = "text";
        body["content"] = absl::Base64Escape(content);
      } else {
        if (policy) body["content_type"] = absl::GetFlag(FLAGS_content_type);
        body["content"] = std::string(absl::StripAsciiWhitespace(content));
      }
    }
    return Print(session.Call("PUT", resource.path, body));
  }
  return ListGetOrDelete(session, resource, args);
}

int Cert(Session& session, const std::vector<char*>& args) {
  const Resource resource = CertResource();
  const std::string verb = args.size() > 3 ? args[3] : "";
  if ((verb == "add" || verb == "add-crl") && args.size() == 5) {
    const std::string pem = ReadFileOrDie(args[4]);
    ordered_json body;
    NameAndDescription(body);
    if (verb == "add-crl") {
      body["type"] = {"crl"};
      body["crl_content"] = pem;
    } else {
      if (resource.types.empty()) Fail(kUsage, "cert add: --cert_type");
      body["type"] = resource.types;
      body["content"] = pem;
    }
    return Print(session.Call("POST", resource.path, body));
  }
  if (verb == "update" && args.size() == 5) {
    ordered_json body = {{"id", args[4]}};
    NameAndDescription(body);
    if (!resource.types.empty()) body["type"] = resource.types;
    return Print(session.Call("PUT", resource.path, body));
  }
  return ListGetOrDelete(session, resource, args);
}

int TokenVerify(Session& session, const std::vector<char*>& args) {
  if (args.size() != 5 || std::string(args[3]) != "verify") {
    Fail(kUsage, kUsageText);
  }
  std::string token = args[4];
  if (token == "-") {
    token.assign(std::istreambuf_iterator<char>(std::cin), {});
  }
  const ordered_json reply =
      session.Call("POST", "/token/verify",
                   {{"token", std::string(absl::StripAsciiWhitespace(token))}});
  Print(reply);
  auto pass = reply.find("verification_pass");
  return pass != reply.end() && pass->is_boolean() && pass->get<bool>()
             ? kOk
             : kInvalid;
}

}  // namespace

int GtaCommand(const std::vector<char*>& args, const std::string& data_dir) {
  const std::string what = args.size() > 2 ? args[2] : "";
  if (what == "register" && args.size() == 3) {
    // A new user: no User-Id. With --user and its key: a new key.
    Session session(data_dir, !absl::GetFlag(FLAGS_user).empty());
    return Print(session.Call("GET", "/register"));
  }
  if (what == "policy" || what == "refvalue" || what == "cert" ||
      what == "token") {
    Session session(data_dir, true);
    if (what == "policy") {
      return PolicyOrRefValue(session, PolicyResource(), args);
    }
    if (what == "refvalue") {
      return PolicyOrRefValue(session, RefValueResource(), args);
    }
    if (what == "cert") return Cert(session, args);
    return TokenVerify(session, args);
  }
  Fail(kUsage, kUsageText);
}

}  // namespace trellis::cli
