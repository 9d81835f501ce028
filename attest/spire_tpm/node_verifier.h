// The server side of the spire-tpm-plugin `tpm` node attestor: decides
// whether an agent's EK is a TPM this trust domain accepts and whether its
// AK lives in that TPM, by credential activation. The agent's identity is
// the SHA-256 of its EK public key.
#ifndef TRELLIS_ATTEST_SPIRE_TPM_NODE_VERIFIER_H_
#define TRELLIS_ATTEST_SPIRE_TPM_NODE_VERIFIER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "attest/registrar/ek_certificates.h"
#include "attest/spire_tpm/messages.h"

namespace trellis::attest::spire_tpm {

struct NodeVerifierOptions {
  // PEM bundle of TPM manufacturer CAs: an EK certificate chaining to one
  // is accepted (the plugin's ca_path).
  std::string ek_ca_file;
  // Directory of files named by accepted EKs' public-key hashes (lowercase
  // hex, the plugin's hash_path).
  std::string ek_hash_dir;
};

class NodeVerifier {
 public:
  // INVALID_ARGUMENT unless at least one way to accept an EK is given, or
  // if the CA file cannot be read.
  static absl::StatusOr<std::unique_ptr<NodeVerifier>> Create(
      const NodeVerifierOptions& options);

  // An attestation under way: what the agent is sent and must give back.
  struct Pending {
    std::string ek_hash;    // Lowercase hex SHA-256 of the EK's PKIX DER.
    std::string challenge;  // JSON for the agent.
    std::string secret;     // What its TPM must release.
  };
  // Checks the agent's payload (EK accepted, AK a restricted signing key the
  // TPM certified it created) and seals a fresh secret to the EK and AK.
  // INVALID_ARGUMENT for malformed input, PERMISSION_DENIED for an EK or AK
  // that is not accepted.
  absl::StatusOr<Pending> Challenge(absl::string_view payload) const;

  // OK if `response` holds the pending secret (compared in constant time);
  // PERMISSION_DENIED otherwise.
  static absl::Status CheckResponse(const Pending& pending,
                                    absl::string_view response);

 private:
  NodeVerifier(NodeVerifierOptions options,
               std::unique_ptr<EkCertificateAuthorities> cas)
      : options_(std::move(options)), cas_(std::move(cas)) {}

  // OK if the EK's hash is listed or its certificate chains to the CAs.
  absl::Status AcceptEk(const std::string& ek_hash,
                        absl::string_view certificate_der,
                        const EVP_PKEY& ek) const;

  const NodeVerifierOptions options_;
  const std::unique_ptr<EkCertificateAuthorities> cas_;  // May be null.
};

}  // namespace trellis::attest::spire_tpm

#endif  // TRELLIS_ATTEST_SPIRE_TPM_NODE_VERIFIER_H_
