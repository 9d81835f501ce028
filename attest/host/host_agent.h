// What trellis-tpm does for a host, for its command line and its HTTP API
// alike: keys kept in a work directory, quotes, app key certification. JSON
// shapes follow the Unified-Identity design (the SPIRE TPM plugin and the
// delegated certification endpoint).
#ifndef TRELLIS_ATTEST_HOST_HOST_AGENT_H_
#define TRELLIS_ATTEST_HOST_HOST_AGENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "attest/host/tpm_device.h"
#include "attest/keylime/app_key_certificate.h"
#include "nlohmann/json.hpp"

namespace trellis::attest::host {

class HostAgent {
 public:
  // Keys are kept in `work_dir` (created if missing, mode 0700): ek.pub,
  // ak.pub, ak.priv, app.ctx.
  HostAgent(std::unique_ptr<TpmDevice> tpm, std::string work_dir);

  const std::string& work_dir() const { return work_dir_; }

  // Makes an AK ("ecc" or "rsa") under the EK (`ek_algorithm` "rsa", the
  // default, or "ecc": the TCG default EK of that type) and stores it:
  // {ek_public, ek_certificate?, ak_public, ak_public_pem, ak_name,
  //  ak_qualified_name}, binary values base64, names hex.
  absl::StatusOr<nlohmann::json> CreateEkAk(
      const std::string& algorithm, const std::string& ek_algorithm = "rsa");
  // The EK's and the AK's public areas as create-ek-ak stored them;
  // FAILED_PRECONDITION before it.
  struct PublicKeys {
    std::string ek;
    std::string ak;
  };
  absl::StatusOr<PublicKeys> StoredPublicKeys() const;
  // Makes an app key: {status, app_key_public, app_key_context}.
  absl::StatusOr<nlohmann::json> GenerateAppKey();
  // A Keylime quote string over `pcr_list` with the nonce's bytes as
  // qualifying data. FAILED_PRECONDITION before CreateEkAk.
  absl::StatusOr<std::string> GenerateQuote(const std::string& nonce_hex,
                                            const std::string& pcr_list);
  // A quote by the stored AK over `pcr_list` ("sha256:0,1,..."), with
  // `qualifying_data` (at most a digest's size) as extraData.
  absl::StatusOr<QuoteOutput> Quote(const std::string& qualifying_data,
                                    const std::string& pcr_list);
  // Certifies the app key in `context_path` (inside the work directory)
  // with the AK; `expected_pem`, if set, must be that key. `nonce_hex` goes
  // into the certification's extraData. Returns the base64 certificate.
  absl::StatusOr<std::string> CertifyAppKey(const std::string& context_path,
                                            const std::string& expected_pem,
                                            const std::string& nonce_hex);
  // The TPM's EK certificate (DER), NOT_FOUND if it has none.
  absl::StatusOr<std::string> EkCertificate();
  // Decrypts a registrar's credential challenge: {credential, secret}
  // base64 in, the released secret out.
  absl::StatusOr<std::string> ActivateCredential(const std::string& credential,
                                                 const std::string& secret);

 private:
  absl::StatusOr<KeyBlob> LoadAk();

  absl::Mutex mu_;  // One TPM command sequence at a time.
  std::unique_ptr<TpmDevice> tpm_ ABSL_GUARDED_BY(mu_);
  const std::string work_dir_;
};

}  // namespace trellis::attest::host

#endif  // TRELLIS_ATTEST_HOST_HOST_AGENT_H_
