#include "cmd/trellis/workload_command.h"

#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ca/x509.h"
#include "cmd/trellis/client.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "nlohmann/json.hpp"
#include "spiffe/workload/workload.grpc.pb.h"
#include "util/file.h"

ABSL_FLAG(std::string, socket, "",
          "svid fetch: the Workload API socket (default "
          "$SPIFFE_ENDPOINT_SOCKET, else /tmp/spire-agent/public/api.sock).");
ABSL_FLAG(std::string, out, ".", "svid fetch: where to write the files.");
// Shared with `trellis spire entry` (defined there).
ABSL_DECLARE_FLAG(std::string, spiffe_id);
ABSL_FLAG(bool, sovereign, false,
          "svid fetch: ask for an SVID resting on sovereign evidence.");
ABSL_FLAG(std::string, evidence, "",
          "svid fetch --sovereign: a JSON SovereignAttestation to send (else "
          "the agent gathers it).");

namespace trellis::cli {
namespace {

std::string SocketPath() {
  std::string socket = absl::GetFlag(FLAGS_socket);
  if (socket.empty()) {
    const char* env = std::getenv("SPIFFE_ENDPOINT_SOCKET");
    socket = env != nullptr ? env : "/tmp/spire-agent/public/api.sock";
  }
  if (socket.rfind("unix://", 0) == 0) socket = socket.substr(7);
  if (socket.rfind("unix:", 0) == 0) socket = socket.substr(5);
  return socket;
}

std::string PemChain(const std::string& concatenated_der) {
  absl::StatusOr<std::vector<std::string>> certs =
      ca::CertificatesFromDer(concatenated_der);
  if (!certs.ok()) {
    Fail(kInvalid, absl::StrCat("the agent sent malformed certificates: ",
                                certs.status().message()));
  }
  std::string pem;
  for (const std::string& der : *certs) {
    pem += ca::DerToPem(der, "CERTIFICATE");
  }
  return pem;
}

void Write(const std::string& path, const std::string& bytes, int mode) {
  if (absl::Status s = ReplaceFile(path, bytes, mode); !s.ok()) {
    Fail(kUnusable, std::string(s.message()));
  }
}

}  // namespace

int SvidFetchCommand(const std::vector<char*>& args) {
  const std::string verb = args[2];
  const bool sovereign =
      verb == "generate-sovereign" || absl::GetFlag(FLAGS_sovereign);
  const std::string wanted = absl::GetFlag(FLAGS_spiffe_id);
  if (args.size() != 3 || (verb == "generate-sovereign" && wanted.empty())) {
    Fail(kUsage,
         "svid fetch [--socket PATH] [--out DIR] [--spiffe_id ID] "
         "[--sovereign [--evidence FILE]] | svid generate-sovereign "
         "--spiffe_id ID [--socket PATH] [--out DIR] [--evidence FILE]");
  }
  X509SVIDRequest request;
  if (sovereign) {
    request.mutable_sovereign_attestation();
    if (const std::string path = absl::GetFlag(FLAGS_evidence); !path.empty()) {
      absl::StatusOr<std::string> text = ReadFile(path);
      if (!text.ok()) Fail(kUsage, std::string(text.status().message()));
      if (!google::protobuf::util::JsonStringToMessage(
               *text, request.mutable_sovereign_attestation())
               .ok()) {
        Fail(kUsage, "--evidence is not a JSON SovereignAttestation");
      }
    }
  }
  auto stub = SpiffeWorkloadAPI::NewStub(grpc::CreateChannel(
      "unix:" + SocketPath(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("workload.spiffe.io", "true");
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto stream = stub->FetchX509SVID(&context, request);
  X509SVIDResponse response;
  if (!stream->Read(&response)) {
    const grpc::Status status = stream->Finish();
    Fail(status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                 status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
             ? kUnusable
             : kInvalid,
         absl::StrCat("the agent refused: ", status.error_message()));
  }
  context.TryCancel();
  stream->Finish();
  int chosen = -1;
  for (int i = 0; i < response.svids_size(); ++i) {
    if (wanted.empty() || response.svids(i).spiffe_id() == wanted) {
      chosen = i;
      break;
    }
  }
  if (chosen < 0) {
    Fail(kInvalid, absl::StrCat("the agent gave no SVID for ", wanted));
  }
  const X509SVID& svid = response.svids(chosen);
  const std::string out = absl::GetFlag(FLAGS_out);
  Write(out + "/svid.crt", PemChain(svid.x509_svid()), 0644);
  Write(out + "/svid.key", ca::DerToPem(svid.x509_svid_key(), "PRIVATE KEY"),
        0600);
  Write(out + "/bundle.crt", PemChain(svid.bundle()), 0644);
  nlohmann::json report = {{"spiffe_id", svid.spiffe_id()},
                           {"files", {"svid.crt", "svid.key", "bundle.crt"}}};
  if (chosen < response.attested_claims_size()) {
    std::string claims;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(
        response.attested_claims(chosen), &claims, options);
    const std::string document =
        absl::StrCat("{\"attested_claims\":[", claims, "]}\n");
    Write(out + "/svid_attested_claims.json", document, 0644);
    report["files"].push_back("svid_attested_claims.json");
    report["attested_claims"] = nlohmann::json::parse(claims, nullptr, false);
  }
  std::cout << report.dump(2) << "\n";
  return kOk;
}

}  // namespace trellis::cli
