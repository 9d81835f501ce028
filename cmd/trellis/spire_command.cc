#include "cmd/trellis/spire_command.h"

#include <iostream>
#include <iterator>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "ca/x509.h"
#include "google/protobuf/util/json_util.h"
#include "identity/bundle_format.h"
#include "nlohmann/json.hpp"
#include "spiffe/id.h"
#include "spire/api/server/agent/v1/agent.grpc.pb.h"
#include "spire/api/server/bundle/v1/bundle.grpc.pb.h"
#include "spire/api/server/entry/v1/entry.grpc.pb.h"
#include "spire/api/server/localauthority/v1/localauthority.grpc.pb.h"

ABSL_FLAG(std::string, spiffe_id, "",
          "SPIFFE ID (entry create/update/show, agent show/ban/evict, token "
          "generate: an alias for the agent).");
ABSL_FLAG(std::string, parent_id, "", "Entry parent SPIFFE ID.");
ABSL_FLAG(bool, node, false,
          "entry create: a node alias (parent is the server).");
ABSL_FLAG(std::string, selector, "",
          "Entry selectors, type:value, comma-separated.");
ABSL_FLAG(int32_t, x509_svid_ttl, 0, "Entry X509-SVID TTL in seconds.");
ABSL_FLAG(int32_t, jwt_svid_ttl, 0, "Entry JWT-SVID TTL in seconds.");
ABSL_FLAG(std::string, dns, "", "Entry DNS names, comma-separated.");
ABSL_FLAG(std::string, federates_with, "",
          "Entry federated trust domains, comma-separated.");
ABSL_FLAG(bool, admin, false, "Entry grants admin.");
ABSL_FLAG(bool, downstream, false, "Entry is a downstream SPIRE server.");
ABSL_FLAG(bool, store_svid, false, "Entry's SVID is stored by the agent.");
ABSL_FLAG(std::string, hint, "", "Entry hint.");
ABSL_FLAG(int64_t, entry_expiry, 0, "Entry expiry (Unix seconds, 0: none).");
ABSL_DECLARE_FLAG(std::string, format);
ABSL_FLAG(std::string, entry_id, "", "Entry id.");
ABSL_FLAG(int32_t, ttl, 600, "token generate: token lifetime in seconds.");
ABSL_FLAG(std::string, id, "",
          "bundle set|list|delete: the federated trust domain "
          "(spiffe://domain.test or domain.test).");
ABSL_FLAG(std::string, path, "",
          "bundle set: the bundle file (default stdin).");
ABSL_FLAG(std::string, authority_id, "",
          "localauthority activate|taint|revoke: the authority (X.509: the "
          "CA's subject key id in hex; JWT: the key id).");
ABSL_FLAG(std::string, mode, "restrict",
          "bundle delete: restrict, delete or dissociate (what happens to the "
          "entries federating with it).");

namespace trellis::cli {
namespace {

namespace agent_v1 = spire::api::server::agent::v1;
namespace bundle_v1 = spire::api::server::bundle::v1;
namespace entry_v1 = spire::api::server::entry::v1;
namespace authority_v1 = spire::api::server::localauthority::v1;

std::string Json(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

spire::api::types::SPIFFEID ParseIdOrDie(const std::string& text,
                                         const char* flag) {
  absl::StatusOr<spiffe::SpiffeId> id = spiffe::ParseSpiffeId(text);
  if (!id.ok()) {
    Fail(kUsage, absl::StrCat("--", flag, ": ", id.status().message()));
  }
  spire::api::types::SPIFFEID out;
  out.set_trust_domain(id->trust_domain);
  out.set_path(id->path);
  return out;
}

std::vector<std::string> List(const std::string& csv) {
  return absl::StrSplit(csv, ',', absl::SkipEmpty());
}

// The entry the flags describe.
spire::api::types::Entry EntryFromFlags() {
  spire::api::types::Entry entry;
  entry.set_id(absl::GetFlag(FLAGS_entry_id));
  *entry.mutable_spiffe_id() =
      ParseIdOrDie(absl::GetFlag(FLAGS_spiffe_id), "spiffe_id");
  if (absl::GetFlag(FLAGS_node)) {
    *entry.mutable_parent_id() = entry.spiffe_id();
    entry.mutable_parent_id()->set_path("/spire/server");
  } else {
    *entry.mutable_parent_id() =
        ParseIdOrDie(absl::GetFlag(FLAGS_parent_id), "parent_id");
  }
  for (const std::string& selector : List(absl::GetFlag(FLAGS_selector))) {
    std::pair<std::string, std::string> parts =
        absl::StrSplit(selector, absl::MaxSplits(':', 1));
    spire::api::types::Selector* s = entry.add_selectors();
    s->set_type(parts.first);
    s->set_value(parts.second);
  }
  entry.set_x509_svid_ttl(absl::GetFlag(FLAGS_x509_svid_ttl));
  entry.set_jwt_svid_ttl(absl::GetFlag(FLAGS_jwt_svid_ttl));
  for (const std::string& dns : List(absl::GetFlag(FLAGS_dns))) {
    entry.add_dns_names(dns);
  }
  for (const std::string& td : List(absl::GetFlag(FLAGS_federates_with))) {
    entry.add_federates_with(td);
  }
  entry.set_admin(absl::GetFlag(FLAGS_admin));
  entry.set_downstream(absl::GetFlag(FLAGS_downstream));
  entry.set_store_svid(absl::GetFlag(FLAGS_store_svid));
  entry.set_hint(absl::GetFlag(FLAGS_hint));
  entry.set_expires_at(absl::GetFlag(FLAGS_entry_expiry));
  return entry;
}

// Prints each result's entry, or its error; kInvalid if any failed.
template <typename Results>
int PrintResults(const Results& results) {
  int code = kOk;
  for (const auto& result : results) {
    if (result.status().code() != 0) {
      std::cerr << "trellis: " << result.status().message() << "\n";
      code = kInvalid;
    } else {
      std::cout << Json(result.entry()) << "\n";
    }
  }
  return code;
}

int TokenCommand(Client& client, const std::string& verb) {
  if (verb != "generate") Fail(kUsage, "spire token generate");
  agent_v1::CreateJoinTokenRequest request;
  request.set_ttl(absl::GetFlag(FLAGS_ttl));
  if (!absl::GetFlag(FLAGS_spiffe_id).empty()) {
    *request.mutable_agent_id() =
        ParseIdOrDie(absl::GetFlag(FLAGS_spiffe_id), "spiffe_id");
  }
  spire::api::types::JoinToken token;
  Check(agent_v1::Agent::NewStub(client.channel())
            ->CreateJoinToken(client.Context().get(), request, &token),
        "CreateJoinToken");
  std::cout << "Token: " << token.value() << "\n";
  return kOk;
}

int EntryCommand(Client& client, const std::string& verb) {
  auto stub = entry_v1::Entry::NewStub(client.channel());
  if (verb == "create") {
    entry_v1::BatchCreateEntryRequest request;
    *request.add_entries() = EntryFromFlags();
    entry_v1::BatchCreateEntryResponse response;
    Check(stub->BatchCreateEntry(client.Context().get(), request, &response),
          "BatchCreateEntry");
    return PrintResults(response.results());
  }
  if (verb == "update") {
    if (absl::GetFlag(FLAGS_entry_id).empty()) Fail(kUsage, "--entry_id");
    entry_v1::BatchUpdateEntryRequest request;
    *request.add_entries() = EntryFromFlags();
    entry_v1::BatchUpdateEntryResponse response;
    Check(stub->BatchUpdateEntry(client.Context().get(), request, &response),
          "BatchUpdateEntry");
    return PrintResults(response.results());
  }
  if (verb == "delete") {
    entry_v1::BatchDeleteEntryRequest request;
    request.add_ids(absl::GetFlag(FLAGS_entry_id));
    entry_v1::BatchDeleteEntryResponse response;
    Check(stub->BatchDeleteEntry(client.Context().get(), request, &response),
          "BatchDeleteEntry");
    for (const auto& result : response.results()) {
      if (result.status().code() != 0) {
        Fail(kInvalid, result.status().message());
      }
    }
    std::cout << "Deleted entry " << absl::GetFlag(FLAGS_entry_id) << "\n";
    return kOk;
  }
  if (verb == "show") {
    if (!absl::GetFlag(FLAGS_entry_id).empty()) {
      entry_v1::GetEntryRequest request;
      request.set_id(absl::GetFlag(FLAGS_entry_id));
      spire::api::types::Entry entry;
      Check(stub->GetEntry(client.Context().get(), request, &entry),
            "GetEntry");
      std::cout << Json(entry) << "\n";
      return kOk;
    }
    entry_v1::ListEntriesRequest request;
    if (!absl::GetFlag(FLAGS_spiffe_id).empty()) {
      *request.mutable_filter()->mutable_by_spiffe_id() =
          ParseIdOrDie(absl::GetFlag(FLAGS_spiffe_id), "spiffe_id");
    }
    if (!absl::GetFlag(FLAGS_parent_id).empty()) {
      *request.mutable_filter()->mutable_by_parent_id() =
          ParseIdOrDie(absl::GetFlag(FLAGS_parent_id), "parent_id");
    }
    do {
      entry_v1::ListEntriesResponse response;
      request.set_page_size(500);
      Check(stub->ListEntries(client.Context().get(), request, &response),
            "ListEntries");
      for (const auto& entry : response.entries()) {
        std::cout << Json(entry) << "\n";
      }
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    return kOk;
  }
  Fail(kUsage, "spire entry create|update|delete|show");
}

int AgentCommand(Client& client, const std::string& verb) {
  auto stub = agent_v1::Agent::NewStub(client.channel());
  if (verb == "list") {
    agent_v1::ListAgentsResponse response;
    Check(stub->ListAgents(client.Context().get(), {}, &response),
          "ListAgents");
    for (const auto& agent : response.agents()) {
      std::cout << Json(agent) << "\n";
    }
    return kOk;
  }
  const spire::api::types::SPIFFEID id =
      ParseIdOrDie(absl::GetFlag(FLAGS_spiffe_id), "spiffe_id");
  google::protobuf::Empty empty;
  if (verb == "show") {
    agent_v1::GetAgentRequest request;
    *request.mutable_id() = id;
    spire::api::types::Agent agent;
    Check(stub->GetAgent(client.Context().get(), request, &agent), "GetAgent");
    std::cout << Json(agent) << "\n";
    return kOk;
  }
  if (verb == "ban") {
    agent_v1::BanAgentRequest request;
    *request.mutable_id() = id;
    Check(stub->BanAgent(client.Context().get(), request, &empty), "BanAgent");
    std::cout << "Agent banned\n";
    return kOk;
  }
  if (verb == "evict") {
    agent_v1::DeleteAgentRequest request;
    *request.mutable_id() = id;
    Check(stub->DeleteAgent(client.Context().get(), request, &empty),
          "DeleteAgent");
    std::cout << "Agent evicted\n";
    return kOk;
  }
  Fail(kUsage, "spire agent list|show|ban|evict");
}

// A bundle printed in --format.
void PrintBundle(const spire::api::types::Bundle& bundle) {
  const std::string format = absl::GetFlag(FLAGS_format);
  if (format == "pem" || format.empty()) {
    for (const auto& authority : bundle.x509_authorities()) {
      std::cout << ca::DerToPem(authority.asn1(), "CERTIFICATE");
    }
    return;
  }
  if (format != "spiffe") Fail(kUsage, "--format pem|spiffe");
  absl::StatusOr<std::string> document = identity::ToSpiffeBundle(bundle);
  if (!document.ok()) Fail(kInvalid, std::string(document.status().message()));
  std::cout << *document << "\n";
}

// The trust domain --id names.
std::string TrustDomainFlag() {
  absl::StatusOr<std::string> td =
      spiffe::ValidateTrustDomain(absl::GetFlag(FLAGS_id));
  if (!td.ok()) Fail(kUsage, "--id: " + std::string(td.status().message()));
  return *td;
}

int BundleCommand(Client& client, const std::string& verb) {
  auto stub = bundle_v1::Bundle::NewStub(client.channel());
  if (verb == "show") {
    spire::api::types::Bundle bundle;
    Check(stub->GetBundle(client.Context().get(), {}, &bundle), "GetBundle");
    PrintBundle(bundle);
    return kOk;
  }
  if (verb == "list") {
    if (!absl::GetFlag(FLAGS_id).empty()) {
      bundle_v1::GetFederatedBundleRequest request;
      request.set_trust_domain(TrustDomainFlag());
      spire::api::types::Bundle bundle;
      Check(stub->GetFederatedBundle(client.Context().get(), request, &bundle),
            "GetFederatedBundle");
      PrintBundle(bundle);
      return kOk;
    }
    bundle_v1::ListFederatedBundlesResponse response;
    Check(stub->ListFederatedBundles(client.Context().get(), {}, &response),
          "ListFederatedBundles");
    for (const spire::api::types::Bundle& bundle : response.bundles()) {
      std::cout << "****************************************\n* spiffe://"
                << bundle.trust_domain()
                << "\n****************************************\n";
      PrintBundle(bundle);
    }
    return kOk;
  }
  if (verb == "set") {
    const std::string td = TrustDomainFlag();
    const std::string path = absl::GetFlag(FLAGS_path);
    std::string text;
    if (path.empty()) {
      text.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
      text = ReadFileOrDie(path);
    }
    spire::api::types::Bundle bundle;
    bundle.set_trust_domain(td);
    if (absl::GetFlag(FLAGS_format) == "spiffe") {
      absl::StatusOr<spire::api::types::Bundle> parsed =
          identity::FromSpiffeBundle(text, td);
      if (!parsed.ok()) Fail(kUsage, std::string(parsed.status().message()));
      bundle = std::move(*parsed);
    } else {
      absl::StatusOr<std::vector<std::string>> roots =
          ca::CertificatesFromPem(text);
      if (!roots.ok()) Fail(kUsage, std::string(roots.status().message()));
      for (const std::string& der : *roots) {
        bundle.add_x509_authorities()->set_asn1(der);
      }
    }
    bundle_v1::BatchSetFederatedBundleRequest request;
    *request.add_bundle() = std::move(bundle);
    bundle_v1::BatchSetFederatedBundleResponse response;
    Check(stub->BatchSetFederatedBundle(client.Context().get(), request,
                                        &response),
          "BatchSetFederatedBundle");
    if (response.results(0).status().code() != 0) {
      Fail(kInvalid, response.results(0).status().message());
    }
    std::cout << "bundle set.\n";
    return kOk;
  }
  if (verb == "delete") {
    bundle_v1::BatchDeleteFederatedBundleRequest request;
    request.add_trust_domains(TrustDomainFlag());
    const std::string mode = absl::GetFlag(FLAGS_mode);
    bundle_v1::BatchDeleteFederatedBundleRequest::Mode parsed;
    if (!bundle_v1::BatchDeleteFederatedBundleRequest::Mode_Parse(
            absl::AsciiStrToUpper(mode), &parsed)) {
      Fail(kUsage, "--mode restrict|delete|dissociate");
    }
    request.set_mode(parsed);
    bundle_v1::BatchDeleteFederatedBundleResponse response;
    Check(stub->BatchDeleteFederatedBundle(client.Context().get(), request,
                                           &response),
          "BatchDeleteFederatedBundle");
    if (response.results(0).status().code() != 0) {
      Fail(kInvalid, response.results(0).status().message());
    }
    std::cout << "bundle deleted.\n";
    return kOk;
  }
  if (verb == "count") {
    bundle_v1::CountBundlesResponse response;
    Check(stub->CountBundles(client.Context().get(), {}, &response),
          "CountBundles");
    std::cout << "Count: " << response.count() << "\n";
    return kOk;
  }
  Fail(kUsage, "spire bundle show|list|set|delete|count");
}

void PrintAuthority(const char* role,
                    const authority_v1::AuthorityState& state) {
  std::cout << role << " authority:\n  Authority ID: " << state.authority_id()
            << "\n";
  if (state.expires_at() != 0) {
    std::cout << "  Expires at: "
              << absl::FormatTime(absl::RFC3339_sec,
                                  absl::FromUnixSeconds(state.expires_at()),
                                  absl::UTCTimeZone())
              << "\n";
  }
  if (!state.upstream_authority_subject_key_id().empty()) {
    std::cout << "  Upstream authority subject key ID: "
              << state.upstream_authority_subject_key_id() << "\n";
  }
}

// One LocalAuthority call whose response holds one AuthorityState.
template <typename Request, typename Response>
authority_v1::AuthorityState CallAuthority(
    Client& client,
    grpc::Status (authority_v1::LocalAuthority::Stub::*method)(
        grpc::ClientContext*, const Request&, Response*),
    const authority_v1::AuthorityState& (Response::*state)() const,
    const char* what) {
  Request request;
  if constexpr (!std::is_same_v<Request,
                                authority_v1::PrepareX509AuthorityRequest> &&
                !std::is_same_v<Request,
                                authority_v1::PrepareJWTAuthorityRequest>) {
    request.set_authority_id(absl::GetFlag(FLAGS_authority_id));
  }
  auto stub = authority_v1::LocalAuthority::NewStub(client.channel());
  Response response;
  Check((stub.get()->*method)(client.Context().get(), request, &response),
        what);
  return (response.*state)();
}

template <typename Response>
void PrintAuthorityStates(const Response& response) {
  PrintAuthority("Active", response.active());
  if (response.has_prepared()) PrintAuthority("Prepared", response.prepared());
  if (response.has_old()) PrintAuthority("Old", response.old());
}

// `spire localauthority x509|jwt show|prepare|activate|taint|revoke`, as
// spire-server's `localauthority` commands.
int LocalAuthorityCommand(Client& client, const std::string& kind,
                          const std::string& verb) {
  using Stub = authority_v1::LocalAuthority::Stub;
  namespace a = authority_v1;
  if (kind != "x509" && kind != "jwt") {
    Fail(kUsage, "spire localauthority x509|jwt ...");
  }
  const bool x509 = kind == "x509";
  if (verb == "show") {
    auto stub = a::LocalAuthority::NewStub(client.channel());
    if (x509) {
      a::GetX509AuthorityStateResponse response;
      Check(stub->GetX509AuthorityState(client.Context().get(), {}, &response),
            "GetX509AuthorityState");
      PrintAuthorityStates(response);
    } else {
      a::GetJWTAuthorityStateResponse response;
      Check(stub->GetJWTAuthorityState(client.Context().get(), {}, &response),
            "GetJWTAuthorityState");
      PrintAuthorityStates(response);
    }
    return kOk;
  }
  if (verb != "prepare" && absl::GetFlag(FLAGS_authority_id).empty()) {
    Fail(kUsage, "--authority_id is required");
  }
  if (verb == "prepare") {
    PrintAuthority(
        "Prepared",
        x509
            ? CallAuthority(
                  client, &Stub::PrepareX509Authority,
                  &a::PrepareX509AuthorityResponse::prepared_authority,
                  "PrepareX509Authority")
            : CallAuthority(client, &Stub::PrepareJWTAuthority,
                            &a::PrepareJWTAuthorityResponse::prepared_authority,
                            "PrepareJWTAuthority"));
  } else if (verb == "activate") {
    PrintAuthority(
        "Activated",
        x509 ? CallAuthority(
                   client, &Stub::ActivateX509Authority,
                   &a::ActivateX509AuthorityResponse::activated_authority,
                   "ActivateX509Authority")
             : CallAuthority(
                   client, &Stub::ActivateJWTAuthority,
                   &a::ActivateJWTAuthorityResponse::activated_authority,
                   "ActivateJWTAuthority"));
  } else if (verb == "taint") {
    PrintAuthority(
        "Tainted",
        x509 ? CallAuthority(client, &Stub::TaintX509Authority,
                             &a::TaintX509AuthorityResponse::tainted_authority,
                             "TaintX509Authority")
             : CallAuthority(client, &Stub::TaintJWTAuthority,
                             &a::TaintJWTAuthorityResponse::tainted_authority,
                             "TaintJWTAuthority"));
  } else if (verb == "revoke") {
    PrintAuthority(
        "Revoked",
        x509 ? CallAuthority(client, &Stub::RevokeX509Authority,
                             &a::RevokeX509AuthorityResponse::revoked_authority,
                             "RevokeX509Authority")
             : CallAuthority(client, &Stub::RevokeJWTAuthority,
                             &a::RevokeJWTAuthorityResponse::revoked_authority,
                             "RevokeJWTAuthority"));
  } else {
    Fail(kUsage,
         "spire localauthority x509|jwt show|prepare|activate|taint|revoke");
  }
  return kOk;
}

}  // namespace

int SpireCommand(Client& client, const std::vector<char*>& args) {
  if (args.size() == 5 && std::string(args[2]) == "localauthority") {
    return LocalAuthorityCommand(client, args[3], args[4]);
  }
  if (args.size() != 4) {
    Fail(kUsage,
         "spire token generate | entry create|update|delete|show | agent "
         "list|show|ban|evict | bundle show|list|set|delete|count | "
         "localauthority x509|jwt show|prepare|activate|taint|revoke");
  }
  const std::string noun = args[2];
  const std::string verb = args[3];
  if (noun == "token") return TokenCommand(client, verb);
  if (noun == "entry") return EntryCommand(client, verb);
  if (noun == "agent") return AgentCommand(client, verb);
  if (noun == "bundle") return BundleCommand(client, verb);
  Fail(kUsage, "spire token|entry|agent|bundle ...");
}

}  // namespace trellis::cli
