#include "cmd/trellis/audit.h"

#include <iostream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "attest/verifier/replay.h"
#include "google/protobuf/util/json_util.h"
#include "merkle/hasher.h"
#include "merkle/verifier.h"
#include "nlohmann/json.hpp"
#include "trellis_attest.pb.h"
#include "trellis_gta.pb.h"
#include "trellis_identity.pb.h"
#include "util/json_fields.h"

namespace trellis::cli {
namespace {

using nlohmann::json;

constexpr char kAttestationLog[] = "trellis-attestations";
constexpr char kGtaLog[] = "trellis-gta";
constexpr char kIssuanceLog[] = "trellis-issuance";

// The record logs trellisd keeps, in the order `show` searches them.
constexpr const char* kRecordLogs[] = {kAttestationLog, kGtaLog, kIssuanceLog};

std::string LeafHashOf(const std::string& audit_id) {
  if (audit_id.size() != 64 ||
      audit_id.find_first_not_of("0123456789abcdefABCDEF") !=
          std::string::npos) {
    Fail(kUsage, "an audit_id is 64 hex digits");
  }
  return absl::HexStringToBytes(audit_id);
}

// What `show` says of a proven leaf besides the record.
json ProofJson(const std::string& audit_id, int64_t log_id,
               const ProvenLeaf& proven) {
  json hashes = json::array();
  for (const std::string& h : proven.path) hashes.push_back(B64(h));
  return {{"auditId", audit_id},
          {"logId", std::to_string(log_id)},
          {"leafIndex", proven.leaf_index},
          {"treeSize", proven.root.tree_size},
          {"rootHash", B64(proven.root.root_hash)},
          {"signedLogRoot", B64(proven.signed_root.log_root())},
          {"logRootSignature", B64(proven.signed_root.log_root_signature())},
          {"inclusionProof", hashes},
          {"proofVerified", true}};
}

// The attestation record whose Merkle leaf hash is `audit_id`, its
// inclusion in the latest signed root verified here.
trellis::AttestationRecord FetchRecord(Client& client,
                                       const std::string& audit_id,
                                       int64_t log_id) {
  const ProvenLeaf proven =
      FetchProvenLeaf(client, log_id, LeafHashOf(audit_id));
  trellis::AttestationRecord record;
  if (!record.ParseFromString(proven.value)) {
    Fail(kInvalid, "the log returned a leaf that is not the audited record");
  }
  return record;
}

json MessageJson(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &text, options);
  return json::parse(text);
}

// A leaf of the record log `log_name` as JSON, by that log's record type.
json DecodeRecord(const std::string& log_name, const std::string& value) {
  std::unique_ptr<google::protobuf::Message> record;
  if (log_name == kGtaLog) {
    record = std::make_unique<trellis::GtaChangeRecord>();
  } else if (log_name == kIssuanceLog) {
    record = std::make_unique<trellis::IssuanceRecord>();
  } else {
    record = std::make_unique<trellis::AttestationRecord>();
  }
  if (!record->ParseFromString(value)) {
    Fail(kInvalid,
         "the log returned a leaf that is not a " + log_name + " record");
  }
  return MessageJson(*record);
}

// The record `audit_id` in the log `log_id` (with --log) or in whichever
// record log holds it: attestation verdicts, GTA changes and tokens, SVID
// issuances.
int Show(Client& client, const std::string& audit_id, int64_t log_id) {
  const std::string leaf_hash = LeafHashOf(audit_id);
  std::vector<trillian::Tree> logs;
  if (log_id != 0) {
    logs.push_back(client.GetTree(log_id));
  } else {
    trillian::ListTreesResponse trees;
    Check(client.admin().ListTrees(client.Context().get(), {}, &trees),
          "ListTrees");
    for (const char* name : kRecordLogs) {
      for (const trillian::Tree& tree : trees.tree()) {
        if (tree.tree_type() == trillian::LOG && tree.display_name() == name) {
          logs.push_back(tree);
        }
      }
    }
  }
  for (const trillian::Tree& log : logs) {
    std::optional<ProvenLeaf> proven =
        FindProvenLeaf(client, log.tree_id(), leaf_hash);
    if (!proven) continue;
    json out = ProofJson(audit_id, log.tree_id(), *proven);
    out["recordLog"] = log.display_name();
    out["record"] = DecodeRecord(log.display_name(), proven->value);
    std::cout << out.dump(2) << "\n";
    return kOk;
  }
  Fail(kInvalid, "no such record in the record logs (or not yet integrated)");
}

int Replay(Client& client, const std::string& audit_id, int64_t log_id,
           const attest::VerifierEndpoint& endpoint) {
  const trellis::AttestationRecord record =
      FetchRecord(client, audit_id, log_id);
  absl::StatusOr<std::unique_ptr<attest::VerifierClient>> verifier =
      attest::VerifierClient::Create(endpoint);
  if (!verifier.ok()) Fail(kUsage, verifier.status().ToString());
  absl::StatusOr<json> evidence =
      (*verifier)->Get("/v2.4/audit/evidence/" +
                       absl::BytesToHexString(record.evidence_digest()));
  // An unreachable verifier gives no verdict (2); its "no" is one (1).
  if (!evidence.ok()) {
    Fail(ExitCodeFor(evidence.status()), evidence.status().ToString());
  }
  if (record.host_id().empty()) {
    Fail(kInvalid, "the record names no host (its AK was not registered)");
  }
  absl::StatusOr<json> host =
      (*verifier)->Get("/v2.4/registrar/hosts/" + record.host_id());
  if (!host.ok()) Fail(ExitCodeFor(host.status()), host.status().ToString());
  absl::StatusOr<json> policy =
      (*verifier)->Get(absl::StrCat("/v2.4/policies/", record.policy_id(),
                                    "?version=", record.policy_version()));
  if (!policy.ok()) {
    Fail(ExitCodeFor(policy.status()), policy.status().ToString());
  }
  attest::ReplayInputs inputs;
  inputs.record = record;
  // The server's replies are as untrusted as anything else an auditor reads.
  absl::StatusOr<std::string> policy_text =
      json_fields::String(*policy, "policy");
  absl::StatusOr<std::string> evidence_text =
      json_fields::String(*evidence, "evidence");
  absl::StatusOr<std::string> ek_public =
      json_fields::Base64(*host, "ek_public");
  absl::StatusOr<std::string> ak_public =
      json_fields::Base64(*host, "ak_public");
  for (const absl::Status& s : {policy_text.status(), evidence_text.status(),
                                ek_public.status(), ak_public.status()}) {
    if (!s.ok()) {
      Fail(kUsage, "the verifier sent an unusable reply: " + s.ToString());
    }
  }
  inputs.policy_text = std::move(*policy_text);
  inputs.evidence = std::move(*evidence_text);
  inputs.ek_public = std::move(*ek_public);
  inputs.ak_public = std::move(*ak_public);
  absl::StatusOr<attest::ReplayResult> result = attest::ReplayAppraisal(inputs);
  if (!result.ok()) Fail(kInvalid, result.status().ToString());
  json checks = json::array();
  for (const attest::CheckResult& r : result->replayed.results()) {
    checks.push_back({{"name", r.name}, {"passed", r.passed}});
  }
  const json out = {{"auditId", audit_id},
                    {"logId", std::to_string(log_id)},
                    {"proofVerified", true},
                    {"loggedVerified", record.verified()},
                    {"replayedVerified", result->replayed_verified},
                    {"agrees", result->agrees},
                    {"differences", result->differences},
                    {"takenFromRecord", result->taken_from_record},
                    {"checks", checks}};
  std::cout << out.dump(2) << "\n";
  return result->agrees ? kOk : kInvalid;
}

}  // namespace

int PolicyCommand(Client& client, const std::vector<char*>& args,
                  int64_t version) {
  const std::string verb = args.size() > 2 ? args[2] : "";
  if (!((verb == "put" && args.size() == 5) ||
        (verb == "get" && args.size() == 4))) {
    Fail(kUsage, "usage: trellis policy put ID FILE | policy get ID");
  }
  trellis::Policy policy;
  if (verb == "put") {
    trellis::PutPolicyRequest request;
    request.set_id(args[3]);
    request.set_policy_json(ReadFileOrDie(args[4]));
    Check(client.verifier().PutPolicy(client.Context().get(), request, &policy),
          "PutPolicy");
  } else {
    trellis::GetPolicyRequest request;
    request.set_id(args[3]);
    request.set_version(version);
    Check(client.verifier().GetPolicy(client.Context().get(), request, &policy),
          "GetPolicy");
  }
  const json out = {{"id", policy.id()},
                    {"version", policy.version()},
                    {"digest", absl::BytesToHexString(policy.digest())},
                    {"policy", policy.policy_json()}};
  std::cout << out.dump(2) << "\n";
  return kOk;
}

int HostCommand(Client& client, const std::vector<char*>& args) {
  if (args.size() != 4 || std::string(args[2]) != "remove") {
    Fail(kUsage, "usage: trellis host remove HOST_ID");
  }
  trellis::RemoveHostRequest request;
  request.set_host_id(args[3]);
  trellis::RemoveHostResponse response;
  Check(
      client.verifier().RemoveHost(client.Context().get(), request, &response),
      "RemoveHost");
  std::cout << json{{"removed", args[3]}}.dump() << "\n";
  return kOk;
}

int AuditCommand(Client& client, const std::vector<char*>& args,
                 const AuditOptions& options) {
  if (args.size() != 4)
    Fail(kUsage, "usage: trellis audit show|replay AUDIT_ID");
  const std::string verb = args[2];
  if (verb == "show") return Show(client, args[3], options.log_id);
  if (verb == "replay") {
    const int64_t log_id =
        options.log_id != 0
            ? options.log_id
            : FindTree(client, trillian::LOG, kAttestationLog, "--log");
    return Replay(client, args[3], log_id, options.verifier);
  }
  Fail(kUsage, "usage: trellis audit show|replay AUDIT_ID");
}

}  // namespace trellis::cli
