#include "cmd/trellis/svid_command.h"

#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ca/svid_verify.h"
#include "ca/x509.h"
#include "crypto/digest.h"
#include "crypto/signer.h"
#include "google/protobuf/util/json_util.h"
#include "identity/issuance_log.h"
#include "nlohmann/json.hpp"
#include "trellis_attest.pb.h"
#include "trellis_identity.pb.h"
#include "util/json_fields.h"

ABSL_FLAG(std::string, bundle, "",
          "svid verify: PEM file of the trust domain's X.509 roots (`trellis "
          "spire bundle show`).");
ABSL_FLAG(int64_t, map_id, 0,
          "svid latest: the identity map (default: the tree named "
          "trellis-identities).");
ABSL_FLAG(std::string, attested, "",
          "svid dump: JSON file of the AttestedClaims returned with the SVID "
          "(one object or a list).");

namespace trellis::cli {
namespace {

// The certificates of a PEM file (the SVID, then any intermediates), or
// the one of a DER file.
std::vector<std::string> ReadCertificates(const std::string& path) {
  const std::string bytes = ReadFileOrDie(path);
  if (!absl::StrContains(bytes, "-----BEGIN")) return {bytes};
  absl::StatusOr<std::vector<std::string>> certs =
      ca::CertificatesFromPem(bytes);
  if (!certs.ok()) Fail(kUsage, std::string(certs.status().message()));
  return *certs;
}

std::string ReadCertificate(const std::string& path) {
  return ReadCertificates(path).front();
}

// Every certificate of a PEM file, as DER.
std::vector<std::string> ReadBundle(const std::string& path) {
  absl::StatusOr<std::vector<std::string>> roots =
      ca::CertificatesFromPem(ReadFileOrDie(path));
  if (!roots.ok())
    Fail(kUsage, "bundle: " + std::string(roots.status().message()));
  return *roots;
}

nlohmann::json ProtoJson(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &text, options);
  return nlohmann::json::parse(text, nullptr, false);
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

// The sovereign claims document a certificate carries (under the fork's
// current OID or the one of the user's document); null without one.
nlohmann::json CertificateClaims(const std::string& cert_der) {
  for (const char* oid :
       {ca::kSovereignClaimsOid, ca::kLegacySovereignClaimsOid}) {
    absl::StatusOr<std::string> value = ca::ExtensionValue(cert_der, oid);
    if (!value.ok()) continue;
    nlohmann::json claims = nlohmann::json::parse(*value, nullptr, false);
    if (claims.is_discarded()) {
      Fail(kInvalid,
           absl::StrCat("the claims extension ", oid, " does not hold JSON"));
    }
    return claims;
  }
  return nullptr;
}

// The AttestedClaims of the phase-1 response: geolocation, host integrity,
// GPU metrics, each shown if present.
void PrintAttestedClaims(const nlohmann::json& claims) {
  const auto text = [&claims](const char* name) -> std::string {
    const nlohmann::json* value = json_fields::Find(claims, name);
    return value != nullptr && value->is_string() ? value->get<std::string>()
                                                  : "";
  };
  if (const std::string where = text("geolocation"); !where.empty()) {
    std::cout << "  Geolocation:     " << where << "\n";
  }
  if (const std::string integrity = text("host_integrity_status");
      !integrity.empty()) {
    std::cout << "  Host integrity:  " << integrity << "\n";
  }
  const nlohmann::json* gpu = json_fields::Find(claims, "gpu_metrics_health");
  if (gpu != nullptr && gpu->is_object()) {
    std::cout << "  GPU status:      " << gpu->value("status", "") << "\n"
              << "  GPU utilization: " << gpu->value("utilization_pct", 0.0)
              << "%\n"
              << "  GPU memory:      " << gpu->value("memory_mb", int64_t{0})
              << " MB\n";
  }
}

}  // namespace

int SvidDumpCommand(const std::vector<char*>& args) {
  if (args.size() != 4) {
    Fail(kUsage, "svid dump CERT.pem|CERT.der [--attested claims.json]");
  }
  const std::string cert = ReadCertificate(args[3]);
  absl::StatusOr<ca::CertificateInfo> info = ca::DescribeCertificate(cert);
  if (!info.ok()) Fail(kUsage, std::string(info.status().message()));
  std::cout << "SPIFFE ID:     "
            << (info->uri_sans.size() == 1 ? info->uri_sans[0]
                                           : "(not an X509-SVID)")
            << "\nSubject:       " << info->subject
            << "\nIssuer:        " << info->issuer
            << "\nSerial number: " << info->serial_number
            << "\nNot before:    " << Rfc3339(info->validity.not_before)
            << "\nNot after:     " << Rfc3339(info->validity.not_after)
            << "\nCA:            " << (info->is_ca ? "yes" : "no") << "\n";
  for (const std::string& dns : info->dns_sans) {
    std::cout << "DNS name:      " << dns << "\n";
  }
  if (ca::InclusionPromiseOf(cert).ok()) {
    std::cout << "Log promise:   yes (trellis svid verify checks it)\n";
  }
  // The Unified-Identity additions, set apart as the user's dump-svid does.
  const nlohmann::json in_certificate = CertificateClaims(cert);
  nlohmann::json attested;
  if (const std::string path = absl::GetFlag(FLAGS_attested); !path.empty()) {
    attested = nlohmann::json::parse(ReadFileOrDie(path), nullptr, false);
    if (attested.is_discarded()) Fail(kUsage, "--attested: not JSON");
    if (const nlohmann::json* list =
            json_fields::Find(attested, "attested_claims")) {
      attested = *list;  // A whole response was given.
    }
    if (!attested.is_array()) attested = nlohmann::json::array({attested});
  }
  if (in_certificate.is_null() && attested.is_null()) return kOk;
  std::cout << "\n== Unified-Identity additions ==\n";
  for (const nlohmann::json& claims : attested) PrintAttestedClaims(claims);
  if (!in_certificate.is_null()) {
    std::cout << "Claims in the certificate:\n"
              << in_certificate.dump(2) << "\n";
  }
  return kOk;
}

int SvidVerifyCommand(Client& client, const std::vector<char*>& args) {
  if (args.size() != 4 || absl::GetFlag(FLAGS_bundle).empty()) {
    Fail(kUsage, "svid verify CERT --bundle FILE");
  }
  // Under an upstream CA the file carries the intermediates too.
  const std::vector<std::string> chain = ReadCertificates(args[3]);
  const std::string& cert = chain.front();
  std::string chain_pem;
  for (const std::string& der : chain) {
    chain_pem += ca::DerToPem(der, "CERTIFICATE");
  }
  absl::StatusOr<ca::VerifiedSvid> svid =
      ca::VerifySvidChain(chain_pem, ReadBundle(absl::GetFlag(FLAGS_bundle)));
  if (!svid.ok()) Fail(kInvalid, std::string(svid.status().message()));

  absl::StatusOr<std::string> promise_bytes = ca::InclusionPromiseOf(cert);
  trellis::InclusionPromise promise;
  if (!promise_bytes.ok() || !promise.ParseFromString(*promise_bytes)) {
    Fail(kInvalid, "the certificate carries no inclusion promise");
  }
  // The promise must be the log's, under its pinned key.
  const trillian::Tree tree = client.GetTree(promise.log_id());
  if (absl::Status s = crypto::VerifySignature(
          client.TrustedKey(tree), identity::PromiseSigningInput(promise),
          promise.signature());
      !s.ok()) {
    Fail(kInvalid, "the inclusion promise is not signed by the log's key");
  }
  const ProvenLeaf proven =
      FetchProvenLeaf(client, promise.log_id(), promise.leaf_hash());
  trellis::IssuanceRecord record;
  if (!record.ParseFromString(proven.value) ||
      record.type() != identity::kIssuanceRecordType) {
    Fail(kInvalid, "the promised leaf is not an issuance record");
  }
  // The record must describe this very certificate.
  absl::StatusOr<std::string> precert = ca::PrecertificateHash(cert);
  if (!precert.ok() || record.credential_sha256() != *precert ||
      record.spiffe_id() != svid->spiffe_id ||
      record.serial_number() != svid->serial_number ||
      record.not_after() != absl::ToUnixSeconds(svid->not_after)) {
    Fail(kInvalid, "the logged record does not describe this certificate");
  }
  nlohmann::json out = {
      {"spiffe_id", svid->spiffe_id},
      {"log_id", std::to_string(promise.log_id())},
      {"leaf_hash", absl::BytesToHexString(promise.leaf_hash())},
      {"leaf_index", proven.leaf_index},
      {"tree_size", proven.root.tree_size},
      {"record", ProtoJson(record)}};
  // The attestation verdict the identity rests on: in its own log, proven,
  // and a pass. A remote verifier's verdict is in that verifier's log: the
  // auditor checks it there.
  if (!record.attestation_verifier().empty()) {
    out["verdict_remote"] = {
        {"verifier", record.attestation_verifier()},
        {"audit_id", record.attestation_audit_id()},
        {"log_id", std::to_string(record.attestation_log_id())}};
    std::cerr << "the verdict behind this SVID is in the log of "
              << record.attestation_verifier()
              << ": check it there with `trellis --addr <that trellisd> "
                 "audit show "
              << record.attestation_audit_id() << " --log "
              << record.attestation_log_id() << "`\n";
  } else if (!record.attestation_audit_id().empty()) {
    const std::string verdict_hash =
        absl::HexStringToBytes(record.attestation_audit_id());
    if (verdict_hash.size() != 32 || record.attestation_log_id() == 0) {
      Fail(kInvalid, "the record names its verdict malformedly");
    }
    const ProvenLeaf verdict_leaf =
        FetchProvenLeaf(client, record.attestation_log_id(), verdict_hash);
    trellis::AttestationRecord verdict;
    if (!verdict.ParseFromString(verdict_leaf.value) ||
        verdict.type() != "trellis.attestation.v1") {
      Fail(kInvalid, "the verdict's leaf is not an attestation record");
    }
    if (!verdict.verified()) {
      Fail(kInvalid, "the attestation verdict behind this SVID failed");
    }
    out["verdict"] = ProtoJson(verdict);
    out["verdict_leaf_index"] = verdict_leaf.leaf_index;
  }
  if (nlohmann::json claims = CertificateClaims(cert); !claims.is_null()) {
    out["claims"] = std::move(claims);
  }
  out["verified"] = true;
  std::cout << out.dump(2) << "\nOK\n";
  return kOk;
}

int SvidLatestCommand(Client& client, const std::vector<char*>& args) {
  if (args.size() != 4) Fail(kUsage, "svid latest SPIFFE_ID [--map_id N]");
  const std::string spiffe_id = args[3];
  int64_t map_id = absl::GetFlag(FLAGS_map_id);
  if (map_id == 0) {
    map_id = FindTree(client, trillian::MAP, "trellis-identities", "--map_id");
  }
  const trillian::Tree tree = client.GetTree(map_id);
  const MapProofFile proven = FetchProvenMapLeaf(
      client, tree,
      crypto::Digest(crypto::DigestAlgorithm::kSha256, {spiffe_id}), -1);
  if (proven.leaf.leaf_value().empty()) {
    Fail(kInvalid, absl::StrCat("nothing issued to ", spiffe_id,
                                " as of map revision ", proven.revision));
  }
  trellis::IdentityMapValue value;
  if (!value.ParseFromString(proven.leaf.leaf_value()) ||
      value.record().spiffe_id() != spiffe_id) {
    Fail(kInvalid, "the map's leaf is not an issuance of this SPIFFE ID");
  }
  nlohmann::json out = {
      {"spiffe_id", spiffe_id},
      {"map_id", std::to_string(map_id)},
      {"revision", proven.revision},
      {"issuance_log_id", std::to_string(value.issuance_log_id())},
      {"leaf_index", value.leaf_index()},
      {"leaf_hash", absl::BytesToHexString(value.leaf_hash())},
      {"record", ProtoJson(value.record())},
      {"proof_verified", true}};
  if (!value.verdict_leaf().empty()) {
    trellis::AttestationRecord verdict;
    if (!verdict.ParseFromString(value.verdict_leaf())) {
      Fail(kInvalid, "the map's verdict is not an attestation record");
    }
    out["verdict"] = ProtoJson(verdict);
  }
  std::cout << out.dump(2) << "\n";
  return kOk;
}

}  // namespace trellis::cli
