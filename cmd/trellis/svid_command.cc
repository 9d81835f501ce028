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
#include "crypto/signer.h"
#include "google/protobuf/util/json_util.h"
#include "identity/issuance_log.h"
#include "nlohmann/json.hpp"
#include "trellis_identity.pb.h"

ABSL_FLAG(std::string, bundle, "",
          "svid verify: PEM file of the trust domain's X.509 roots (`trellis "
          "spire bundle show`).");

namespace trellis::cli {
namespace {

// The first certificate of a PEM or DER file, as DER.
std::string ReadCertificate(const std::string& path) {
  const std::string bytes = ReadFileOrDie(path);
  if (!absl::StrContains(bytes, "-----BEGIN")) return bytes;
  absl::StatusOr<std::vector<std::string>> certs =
      ca::CertificatesFromPem(bytes, 1);
  if (!certs.ok()) Fail(kUsage, std::string(certs.status().message()));
  return certs->front();
}

// Every certificate of a PEM file, as DER.
std::vector<std::string> ReadBundle(const std::string& path) {
  absl::StatusOr<std::vector<std::string>> roots =
      ca::CertificatesFromPem(ReadFileOrDie(path));
  if (!roots.ok())
    Fail(kUsage, "bundle: " + std::string(roots.status().message()));
  return *roots;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

}  // namespace

int SvidDumpCommand(const std::vector<char*>& args) {
  if (args.size() != 4) Fail(kUsage, "svid dump CERT.pem|CERT.der");
  absl::StatusOr<ca::CertificateInfo> info =
      ca::DescribeCertificate(ReadCertificate(args[3]));
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
  return kOk;
}

int SvidVerifyCommand(Client& client, const std::vector<char*>& args) {
  if (args.size() != 4 || absl::GetFlag(FLAGS_bundle).empty()) {
    Fail(kUsage, "svid verify CERT --bundle FILE");
  }
  const std::string cert = ReadCertificate(args[3]);
  absl::StatusOr<ca::VerifiedSvid> svid =
      ca::VerifySvidChain(ca::DerToPem(cert, "CERTIFICATE"),
                          ReadBundle(absl::GetFlag(FLAGS_bundle)));
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
  std::string record_json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(record, &record_json,
                                                    options);
  std::cout << nlohmann::json{{"spiffe_id", svid->spiffe_id},
                              {"log_id", std::to_string(promise.log_id())},
                              {"leaf_hash",
                               absl::BytesToHexString(promise.leaf_hash())},
                              {"leaf_index", proven.leaf_index},
                              {"tree_size", proven.root.tree_size},
                              {"record", nlohmann::json::parse(record_json)},
                              {"verified", true}}
                   .dump(2)
            << "\nOK\n";
  return kOk;
}

}  // namespace trellis::cli
