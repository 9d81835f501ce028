#include "gta/api/service_http.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gta/policy_evaluation.h"
#include "nlohmann/json.hpp"
#include "util/json_fields.h"
#include "util/rate_limiter.h"

namespace trellis::gta {
namespace {

using nlohmann::json;

// Marks the RESOURCE_EXHAUSTED of a rate limit (429), unlike the per-user
// count limits' (400, as GTA).
constexpr char kRateLimitedPayload[] = "type.trellis.dev/gta.rate-limited";

absl::Status RateLimited() {
  absl::Status s = absl::ResourceExhaustedError(
      "too many requests from this client: retry later");
  s.SetPayload(kRateLimitedPayload, absl::Cord("1"));
  return s;
}

int HttpCode(const absl::Status& s) {
  if (s.GetPayload(kRateLimitedPayload).has_value()) return 429;
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kResourceExhausted:  // Per-user count limits.
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kNotFound:
      return 404;
    default:
      return 500;
  }
}

void Fail(http::Response& res, const absl::Status& status,
          bool with_version = false) {
  res.status = HttpCode(status);
  if (res.status == 429) res.headers.emplace_back("Retry-After", "1");
  // Internal errors say nothing of the inside.
  json body = {{"message", res.status == 500 ? std::string("internal error")
                                             : std::string(status.message())}};
  if (with_version) body["service_version"] = kServiceVersion;
  res.body = body.dump();
}

void Ok(http::Response& res, const json& body) {
  res.status = 200;
  res.body = body.dump();
}

// Who calls: the User-Id header, and its API-Key when keys are required.
using Caller =
    std::function<absl::StatusOr<std::string>(const http::Request& req)>;

absl::StatusOr<std::string> UserId(const http::Request& req) {
  if (!req.HasHeader("User-Id")) {
    return absl::InvalidArgumentError("User-Id header is required");
  }
  std::string user = req.Header("User-Id");
  if (absl::Status s = ValidateUserId(user); !s.ok()) return s;
  return user;
}

// An optional member holding a list of strings.
absl::StatusOr<std::optional<std::vector<std::string>>> StringList(
    const json& object, const char* name) {
  const json* found = json_fields::Find(object, name);
  if (found == nullptr) return std::nullopt;
  if (!found->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(name, " must be a list"));
  }
  std::vector<std::string> out;
  for (const json& item : *found) {
    if (!item.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " must hold strings"));
    }
    out.push_back(item.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

absl::StatusOr<json> Body(const http::Request& req) {
  absl::StatusOr<json> body = json_fields::ParseObject(req.body);
  if (!body.ok()) return absl::InvalidArgumentError("the body must be JSON");
  return body;
}

// A handler for a caller known by `caller`, with a JSON object body.
using BodyHandler = std::function<void(const std::string& user,
                                       const json& body, http::Response& res)>;
http::Handler WithBody(Caller caller, BodyHandler handler) {
  return [caller = std::move(caller), handler = std::move(handler)](
             const http::Request& req, http::Response& res) {
    absl::StatusOr<std::string> user = caller(req);
    if (!user.ok()) return Fail(res, user.status());
    absl::StatusOr<json> body = Body(req);
    if (!body.ok()) return Fail(res, body.status());
    handler(*user, *body, res);
  };
}

// The same without a body (GET).
using UserHandler = std::function<void(
    const std::string& user, const http::Request& req, http::Response& res)>;
http::Handler WithUser(Caller caller, UserHandler handler) {
  return [caller = std::move(caller), handler = std::move(handler)](
             const http::Request& req, http::Response& res) {
    absl::StatusOr<std::string> user = caller(req);
    if (!user.ok()) return Fail(res, user.status());
    handler(*user, req, res);
  };
}

json PolicySummary(const trellis::GtaPolicy& policy) {
  return {{"id", policy.id()},
          {"name", policy.name()},
          {"version", policy.version()}};
}

json PolicyDetails(const trellis::GtaPolicy& policy) {
  return {{"id", policy.id()},
          {"name", policy.name()},
          {"description", policy.description()},
          {"content", policy.rego()},
          {"attester_type",
           std::vector<std::string>(policy.attester_types().begin(),
                                    policy.attester_types().end())},
          {"is_default", policy.is_default()},
          {"version", policy.version()},
          {"update_time", policy.update_time()},
          {"valid_code", policy.valid_code()}};
}

void Challenge(const Caller& caller, NonceService& nonces,
               const http::Request& req, http::Response& res) {
  if (absl::StatusOr<std::string> user = caller(req); !user.ok()) {
    return Fail(res, user.status(), true);
  }
  absl::StatusOr<json> body = Body(req);
  if (!body.ok()) return Fail(res, body.status(), true);
  if (const json* version = json_fields::Find(*body, "agent_version")) {
    if (!version->is_string() || version->get<std::string>().empty() ||
        version->get<std::string>().size() > 50) {
      return Fail(res,
                  absl::InvalidArgumentError(
                      "agent_version must be 1 to 50 characters"),
                  true);
    }
  }
  absl::StatusOr<std::optional<std::vector<std::string>>> types =
      StringList(*body, "attester_type");
  if (!types.ok()) return Fail(res, types.status(), true);
  if (!types->has_value() || (*types)->empty()) {
    return Fail(res,
                absl::InvalidArgumentError("attester_type must name one type"),
                true);
  }
  for (const std::string& type : **types) {
    if (!SampleInput(type).ok()) {
      return Fail(res, absl::InvalidArgumentError("Required plugins not found"),
                  true);
    }
  }
  absl::StatusOr<json> nonce = nonces.Issue();
  if (!nonce.ok()) return Fail(res, nonce.status(), true);
  Ok(res, {{"service_version", kServiceVersion}, {"nonce", *nonce}});
}

// A body's policy members, each optional (`id` empty if absent).
absl::StatusOr<PolicyChange> ReadPolicyFields(const json& body) {
  absl::StatusOr<std::optional<std::string>> id =
      json_fields::OptionalString(body, "id");
  absl::StatusOr<std::optional<std::string>> name =
      json_fields::OptionalString(body, "name");
  absl::StatusOr<std::optional<std::string>> description =
      json_fields::OptionalString(body, "description");
  absl::StatusOr<std::optional<std::string>> content_type =
      json_fields::OptionalString(body, "content_type");
  absl::StatusOr<std::optional<std::string>> content =
      json_fields::OptionalString(body, "content");
  absl::StatusOr<std::optional<bool>> is_default =
      json_fields::OptionalBool(body, "is_default");
  absl::StatusOr<std::optional<std::vector<std::string>>> types =
      StringList(body, "attester_type");
  for (const absl::Status& s :
       {id.status(), name.status(), description.status(), content_type.status(),
        content.status(), is_default.status(), types.status()}) {
    if (!s.ok()) return s;
  }
  if (id->has_value() && (*id)->empty()) {
    return absl::InvalidArgumentError("id must be 1 to 36 characters long");
  }
  PolicyChange fields;
  fields.id = id->value_or("");
  fields.name = *name;
  fields.description = *description;
  fields.content_type = *content_type;
  fields.content = *content;
  fields.is_default = *is_default;
  fields.attester_types = *types;
  return fields;
}

absl::StatusOr<NewPolicy> ParseNewPolicy(const json& body) {
  absl::StatusOr<PolicyChange> fields = ReadPolicyFields(body);
  if (!fields.ok()) return fields.status();
  if (!fields->name || !fields->content_type || !fields->content ||
      !fields->attester_types) {
    return absl::InvalidArgumentError(
        "name, attester_type, content_type and content are required");
  }
  NewPolicy policy;
  policy.id = fields->id;
  policy.name = *fields->name;
  policy.description = fields->description.value_or("");
  policy.content_type = *fields->content_type;
  policy.content = *fields->content;
  policy.is_default = fields->is_default.value_or(false);
  policy.attester_types = *fields->attester_types;
  return policy;
}

absl::StatusOr<PolicyChange> ParsePolicyChange(const json& body) {
  absl::StatusOr<PolicyChange> change = ReadPolicyFields(body);
  if (change.ok() && change->id.empty()) {
    return absl::InvalidArgumentError("id is required");
  }
  return change;
}

// ids from the query: repeated (?ids=a&ids=b) or comma-separated.
std::vector<std::string> QueryIds(const http::Request& req) {
  std::vector<std::string> ids;
  auto [begin, end] = req.query.equal_range("ids");
  for (auto it = begin; it != end; ++it) {
    for (absl::string_view id :
         absl::StrSplit(it->second, ',', absl::SkipEmpty())) {
      ids.emplace_back(id);
    }
  }
  return ids;
}

void PolicyRoutes(http::Router& router, const Caller& caller,
                  PolicyManager& policies) {
  const std::string path = absl::StrCat(kServicePrefix, "/policy");
  router.Post(path, WithBody(caller, [&policies](const std::string& user,
                                                 const json& body,
                                                 http::Response& res) {
                absl::StatusOr<NewPolicy> request = ParseNewPolicy(body);
                if (!request.ok()) return Fail(res, request.status());
                absl::StatusOr<trellis::GtaPolicy> added =
                    policies.Add(user, *std::move(request));
                if (!added.ok()) return Fail(res, added.status());
                Ok(res, {{"policy", PolicySummary(*added)}});
              }));
  router.Put(path, WithBody(caller, [&policies](const std::string& user,
                                                const json& body,
                                                http::Response& res) {
               absl::StatusOr<PolicyChange> change = ParsePolicyChange(body);
               if (!change.ok()) return Fail(res, change.status());
               absl::StatusOr<trellis::GtaPolicy> updated =
                   policies.Update(user, *std::move(change));
               if (!updated.ok()) return Fail(res, updated.status());
               Ok(res, {{"policy", PolicySummary(*updated)}});
             }));
  router.Delete(path, WithBody(caller, [&policies](const std::string& user,
                                                   const json& body,
                                                   http::Response& res) {
                  PolicyDeletion deletion;
                  absl::StatusOr<std::string> type =
                      json_fields::String(body, "delete_type");
                  absl::StatusOr<std::optional<std::vector<std::string>>> ids =
                      StringList(body, "ids");
                  absl::StatusOr<std::optional<std::string>> attester_type =
                      json_fields::OptionalString(body, "attester_type");
                  for (const absl::Status& s :
                       {type.status(), ids.status(), attester_type.status()}) {
                    if (!s.ok()) return Fail(res, s);
                  }
                  deletion.delete_type = *type;
                  deletion.ids = ids->value_or(std::vector<std::string>());
                  deletion.attester_type = attester_type->value_or("");
                  absl::StatusOr<std::vector<trellis::GtaPolicy>> deleted =
                      policies.Delete(user, deletion);
                  if (!deleted.ok()) return Fail(res, deleted.status());
                  res.status = 200;
                  res.body = "";
                }));
  router.Get(path, WithUser(caller, [&policies](const std::string& user,
                                                const http::Request& req,
                                                http::Response& res) {
               const std::vector<std::string> ids = QueryIds(req);
               absl::StatusOr<std::vector<trellis::GtaPolicy>> found =
                   policies.Query(user, ids, req.QueryParam("attester_type"));
               if (!found.ok()) return Fail(res, found.status());
               json list = json::array();
               for (const trellis::GtaPolicy& policy : *found) {
                 if (!ids.empty()) {
                   list.push_back(PolicyDetails(policy));
                 } else {
                   json summary = PolicySummary(policy);
                   summary["update_time"] = policy.update_time();
                   summary["is_default"] = policy.is_default();
                   list.push_back(std::move(summary));
                 }
               }
               Ok(res, {{"policies", std::move(list)}});
             }));
}

json CertSummary(const trellis::GtaCert& cert) {
  if (cert.is_crl()) {
    return {{"crl_id", cert.id()}, {"crl_name", cert.name()}};
  }
  return {{"cert_id", cert.id()},
          {"cert_name", cert.name()},
          {"version", cert.version()}};
}

// The PEM text of a stored certificate or CRL.
std::string Pem(const trellis::GtaCert& cert) {
  const char* label = cert.is_crl() ? "X509 CRL" : "CERTIFICATE";
  std::string body = absl::Base64Escape(cert.der());
  std::string pem = absl::StrCat("-----BEGIN ", label, "-----\n");
  for (size_t i = 0; i < body.size(); i += 64) {
    absl::StrAppend(&pem, body.substr(i, 64), "\n");
  }
  absl::StrAppend(&pem, "-----END ", label, "-----\n");
  return pem;
}

json CertDetails(const trellis::GtaCert& cert) {
  if (cert.is_crl()) {
    json out = CertSummary(cert);
    out["crl_content"] = Pem(cert);
    return out;
  }
  json out = {{"cert_id", cert.id()},
              {"cert_name", cert.name()},
              {"description", cert.description()},
              {"content", Pem(cert)},
              {"cert_type", std::vector<std::string>(cert.types().begin(),
                                                     cert.types().end())},
              {"is_default", cert.is_default()},
              {"version", cert.version()},
              {"update_time", cert.update_time()},
              {"valid_code", cert.valid_code()}};
  if (cert.valid_code() == 2) {
    out["cert_revoked_date"] = cert.revoked_time();
    out["cert_revoked_reason"] = cert.revoked_reason();
  }
  return out;
}

void CertRoutes(http::Router& router, const Caller& caller,
                CertManager& certs) {
  const std::string path = absl::StrCat(kServicePrefix, "/cert");
  router.Post(
      path, WithBody(caller, [&certs](const std::string& user, const json& body,
                                      http::Response& res) {
        absl::StatusOr<std::string> name = json_fields::String(body, "name");
        absl::StatusOr<std::optional<std::string>> description =
            json_fields::OptionalString(body, "description");
        absl::StatusOr<std::optional<std::string>> content =
            json_fields::OptionalString(body, "content");
        absl::StatusOr<std::optional<std::string>> crl_content =
            json_fields::OptionalString(body, "crl_content");
        absl::StatusOr<std::optional<bool>> is_default =
            json_fields::OptionalBool(body, "is_default");
        absl::StatusOr<std::optional<std::vector<std::string>>> types =
            StringList(body, "type");
        for (const absl::Status& s :
             {name.status(), description.status(), content.status(),
              crl_content.status(), is_default.status(), types.status()}) {
          if (!s.ok()) return Fail(res, s);
        }
        if (!types->has_value()) {
          return Fail(res, absl::InvalidArgumentError("type is required"));
        }
        NewCert request;
        request.name = *name;
        request.description = description->value_or("");
        request.types = **types;
        request.content =
            crl_content->has_value() ? **crl_content : content->value_or("");
        request.is_default = is_default->value_or(false);
        absl::StatusOr<trellis::GtaCert> added =
            certs.Add(user, std::move(request));
        if (!added.ok()) return Fail(res, added.status());
        Ok(res, {{added->is_crl() ? "crl" : "cert", CertSummary(*added)}});
      }));
  router.Put(
      path, WithBody(caller, [&certs](const std::string& user, const json& body,
                                      http::Response& res) {
        if (json_fields::Find(body, "content") != nullptr ||
            json_fields::Find(body, "crl_content") != nullptr) {
          return Fail(res, absl::InvalidArgumentError(
                               "a certificate's content cannot be changed"));
        }
        CertChange change;
        absl::StatusOr<std::string> id = json_fields::String(body, "id");
        absl::StatusOr<std::optional<std::string>> name =
            json_fields::OptionalString(body, "name");
        absl::StatusOr<std::optional<std::string>> description =
            json_fields::OptionalString(body, "description");
        absl::StatusOr<std::optional<bool>> is_default =
            json_fields::OptionalBool(body, "is_default");
        absl::StatusOr<std::optional<std::vector<std::string>>> types =
            StringList(body, "type");
        for (const absl::Status& s :
             {id.status(), name.status(), description.status(),
              is_default.status(), types.status()}) {
          if (!s.ok()) return Fail(res, s);
        }
        change.id = *id;
        change.name = *name;
        change.description = *description;
        change.is_default = *is_default;
        change.types = *types;
        absl::StatusOr<trellis::GtaCert> updated =
            certs.Update(user, std::move(change));
        if (!updated.ok()) return Fail(res, updated.status());
        Ok(res, {{updated->is_crl() ? "crl" : "cert", CertSummary(*updated)}});
      }));
  router.Delete(
      path, WithBody(caller, [&certs](const std::string& user, const json& body,
                                      http::Response& res) {
        absl::StatusOr<std::string> type =
            json_fields::String(body, "delete_type");
        absl::StatusOr<std::optional<std::vector<std::string>>> ids =
            StringList(body, "ids");
        absl::StatusOr<std::optional<std::string>> of_type =
            json_fields::OptionalString(body, "type");
        for (const absl::Status& s :
             {type.status(), ids.status(), of_type.status()}) {
          if (!s.ok()) return Fail(res, s);
        }
        CertDeletion deletion{*type, ids->value_or(std::vector<std::string>()),
                              of_type->value_or("")};
        absl::StatusOr<std::vector<trellis::GtaCert>> deleted =
            certs.Delete(user, deletion);
        if (!deleted.ok()) return Fail(res, deleted.status());
        res.status = 200;
        res.body = "";
      }));
  router.Get(path, WithUser(caller, [&certs](const std::string& user,
                                             const http::Request& req,
                                             http::Response& res) {
               const std::vector<std::string> ids = QueryIds(req);
               const std::string type = req.QueryParam("cert_type");
               absl::StatusOr<std::vector<trellis::GtaCert>> found =
                   certs.Query(user, ids, type);
               if (!found.ok()) return Fail(res, found.status());
               json list = json::array(), crls = json::array();
               for (const trellis::GtaCert& cert : *found) {
                 json entry = ids.empty() && !cert.is_crl() ? CertSummary(cert)
                                                            : CertDetails(cert);
                 (cert.is_crl() ? crls : list).push_back(std::move(entry));
               }
               Ok(res, type == "crl" ? json{{"crls", crls}}
                                     : json{{"certs", list}, {"crls", crls}});
             }));
}

json RefValueJson(const trellis::GtaRefValue& value, bool full) {
  json out = {
      {"id", value.id()}, {"name", value.name()}, {"version", value.version()}};
  if (full) {
    out["description"] = value.description();
    out["content"] = value.content();
    out["attester_type"] = value.attester_type();
    out["is_default"] = value.is_default();
    out["update_time"] = value.update_time();
    out["valid_code"] = value.valid_code();
  }
  return out;
}

// attester_type as a string or, as for policies, a one-element list.
absl::StatusOr<std::optional<std::string>> OneType(const json& body) {
  const json* type = json_fields::Find(body, "attester_type");
  if (type == nullptr) return std::nullopt;
  if (type->is_array() && type->size() == 1 && (*type)[0].is_string()) {
    return std::optional<std::string>((*type)[0].get<std::string>());
  }
  if (type->is_string()) {
    return std::optional<std::string>(type->get<std::string>());
  }
  return absl::InvalidArgumentError("attester_type must be tpm_ima");
}

void RefValueRoutes(http::Router& router, const Caller& caller,
                    RefValueManager& values) {
  const std::string path = absl::StrCat(kServicePrefix, "/ref_value");
  router.Post(
      path, WithBody(caller, [&values](const std::string& user,
                                       const json& body, http::Response& res) {
        absl::StatusOr<std::string> name = json_fields::String(body, "name");
        absl::StatusOr<std::string> content =
            json_fields::String(body, "content");
        absl::StatusOr<std::optional<std::string>> description =
            json_fields::OptionalString(body, "description");
        absl::StatusOr<std::optional<bool>> is_default =
            json_fields::OptionalBool(body, "is_default");
        absl::StatusOr<std::optional<std::string>> type = OneType(body);
        for (const absl::Status& s :
             {name.status(), content.status(), description.status(),
              is_default.status(), type.status()}) {
          if (!s.ok()) return Fail(res, s);
        }
        absl::StatusOr<trellis::GtaRefValue> added = values.Add(
            user, {*name, description->value_or(""), type->value_or(""),
                   *content, is_default->value_or(false)});
        if (!added.ok()) return Fail(res, added.status());
        Ok(res, {{"ref_value", RefValueJson(*added, false)}});
      }));
  router.Put(path,
             WithBody(caller, [&values](const std::string& user,
                                        const json& body, http::Response& res) {
               absl::StatusOr<std::string> id = json_fields::String(body, "id");
               absl::StatusOr<std::optional<std::string>> name =
                   json_fields::OptionalString(body, "name");
               absl::StatusOr<std::optional<std::string>> description =
                   json_fields::OptionalString(body, "description");
               absl::StatusOr<std::optional<std::string>> content =
                   json_fields::OptionalString(body, "content");
               absl::StatusOr<std::optional<bool>> is_default =
                   json_fields::OptionalBool(body, "is_default");
               for (const absl::Status& s :
                    {id.status(), name.status(), description.status(),
                     content.status(), is_default.status()}) {
                 if (!s.ok()) return Fail(res, s);
               }
               absl::StatusOr<trellis::GtaRefValue> updated = values.Update(
                   user, {*id, *name, *description, *content, *is_default});
               if (!updated.ok()) return Fail(res, updated.status());
               Ok(res, {{"ref_value", RefValueJson(*updated, false)}});
             }));
  router.Delete(
      path, WithBody(caller, [&values](const std::string& user,
                                       const json& body, http::Response& res) {
        absl::StatusOr<std::string> type =
            json_fields::String(body, "delete_type");
        absl::StatusOr<std::optional<std::vector<std::string>>> ids =
            StringList(body, "ids");
        absl::StatusOr<std::optional<std::string>> attester_type =
            OneType(body);
        for (const absl::Status& s :
             {type.status(), ids.status(), attester_type.status()}) {
          if (!s.ok()) return Fail(res, s);
        }
        absl::StatusOr<std::vector<trellis::GtaRefValue>> deleted =
            values.Delete(user, *type,
                          ids->value_or(std::vector<std::string>()),
                          attester_type->value_or(""));
        if (!deleted.ok()) return Fail(res, deleted.status());
        res.status = 200;
        res.body = "";
      }));
  router.Get(path, WithUser(caller, [&values](const std::string& user,
                                              const http::Request& req,
                                              http::Response& res) {
               const std::vector<std::string> ids = QueryIds(req);
               absl::StatusOr<std::vector<trellis::GtaRefValue>> found =
                   values.Query(user, ids, req.QueryParam("attester_type"));
               if (!found.ok()) return Fail(res, found.status());
               json list = json::array();
               for (const trellis::GtaRefValue& value : *found) {
                 list.push_back(RefValueJson(value, !ids.empty()));
               }
               Ok(res, {{"ref_values", std::move(list)}});
             }));
}

void AttestRoute(http::Router& router, const Caller& caller,
                 AttestationService& attestation) {
  router.Post(
      absl::StrCat(kServicePrefix, "/attest"),
      [caller, &attestation](const http::Request& req, http::Response& res) {
        absl::StatusOr<std::string> user = caller(req);
        if (!user.ok()) return Fail(res, user.status(), true);
        absl::StatusOr<std::vector<IssuedToken>> tokens =
            attestation.Attest(*user, req.body);
        if (!tokens.ok()) return Fail(res, tokens.status(), true);
        json list = json::array();
        for (const IssuedToken& token : *tokens) {
          list.push_back({{"node_id", token.node_id}, {"token", token.token}});
        }
        Ok(res,
           {{"service_version", kServiceVersion}, {"tokens", std::move(list)}});
      });
}

void TokenRoutes(http::Router& router, TokenIssuer& tokens,
                 std::shared_ptr<RateLimiter> limiter) {
  router.Post(
      absl::StrCat(kServicePrefix, "/token/verify"),
      [&tokens, limiter](const http::Request& req, http::Response& res) {
        if (limiter && !limiter->Allow(req.peer_address)) {
          return Fail(res, RateLimited());
        }
        absl::StatusOr<json> body = Body(req);
        if (!body.ok()) return Fail(res, body.status());
        absl::StatusOr<std::string> token = json_fields::String(*body, "token");
        if (!token.ok()) {
          return Fail(res, absl::InvalidArgumentError("token is required"));
        }
        absl::StatusOr<VerifiedToken> verified = tokens.Verify(*token);
        if (!verified.ok()) {
          return Ok(res, {{"verification_pass", false},
                          {"message", verified.status().message()}});
        }
        Ok(res, {{"verification_pass", true},
                 {"token_header", verified->header},
                 {"token_body", verified->body}});
      });
  router.Get(absl::StrCat(kServicePrefix, "/jwks"),
             [&tokens](const http::Request&, http::Response& res) {
               Ok(res, tokens.Jwks());
             });
}

// GET register: a new User-Id and API-Key, or, with both headers, a new
// key for that user.
void RegisterRoute(http::Router& router, ApiKeyManager& keys) {
  // Each registration is a durable record and a PBKDF2 run: a few per
  // second per client address, then 429.
  auto limiter = std::make_shared<RateLimiter>(/*rate=*/2, /*burst=*/10);
  router.Get(absl::StrCat(kServicePrefix, "/register"),
             [&keys, limiter](const http::Request& req, http::Response& res) {
               if (!limiter->Allow(req.peer_address)) {
                 res.status = 429;
                 res.headers.emplace_back("Retry-After", "1");
                 res.body = json{{"message", "too many registrations"}}.dump();
                 return;
               }
               const bool rotate =
                   req.HasHeader("User-Id") || req.HasHeader("API-Key");
               absl::StatusOr<ApiCredentials> credentials =
                   rotate ? keys.Rotate(req.Header("User-Id"),
                                        req.Header("API-Key"))
                          : keys.Register();
               if (!credentials.ok()) return Fail(res, credentials.status());
               Ok(res, {{"User-Id", credentials->user_id},
                        {"API-Key", credentials->api_key}});
             });
}

}  // namespace

void RegisterServiceRoutes(http::Router& router, const ServiceApi& api) {
  router.SetErrorBody([](int, absl::string_view message) {
    return json{{"message", std::string(message)}}.dump();
  });
  ApiKeyManager* keys = api.api_keys;
  const bool require_key = api.require_api_key;
  std::shared_ptr<RateLimiter> limiter;
  if (api.requests_per_second > 0) {
    limiter = std::make_shared<RateLimiter>(api.requests_per_second,
                                            2 * api.requests_per_second);
  }
  const Caller caller =
      [keys, require_key,
       limiter](const http::Request& req) -> absl::StatusOr<std::string> {
    if (limiter && !limiter->Allow(req.peer_address)) return RateLimited();
    absl::StatusOr<std::string> user = UserId(req);
    if (!user.ok() || !require_key) return user;
    if (absl::Status s = keys->Authenticate(*user, req.Header("API-Key"));
        !s.ok()) {
      return s;
    }
    return user;
  };
  NonceService* nonces = api.nonces;
  router.Post(absl::StrCat(kServicePrefix, "/challenge"),
              [caller, nonces](const http::Request& req, http::Response& res) {
                Challenge(caller, *nonces, req, res);
              });
  PolicyRoutes(router, caller, *api.policies);
  CertRoutes(router, caller, *api.certs);
  RefValueRoutes(router, caller, *api.ref_values);
  AttestRoute(router, caller, *api.attestation);
  TokenRoutes(router, *api.tokens, limiter);
  RegisterRoute(router, *keys);
}

}  // namespace trellis::gta
