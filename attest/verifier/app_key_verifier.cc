#include "attest/verifier/app_key_verifier.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "attest/keylime/app_key_certificate.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"

namespace trellis::attest {
namespace {

// Why the certificate is not a valid certification by `ak`, or "".
std::string CertificationProblem(const keylime::AppKeyCertificate& cert,
                                 const RegisteredAk& ak,
                                 const std::string& nonce, TPM2_ALG_ID hash,
                                 TPMS_ATTEST& attest) {
  absl::StatusOr<TPMS_ATTEST> parsed = tpm::ParseAttest(cert.certify_data);
  if (!parsed.ok()) return std::string(parsed.status().message());
  attest = *parsed;
  if (attest.type != TPM2_ST_ATTEST_CERTIFY) {
    return "certify_data is not a TPM2_Certify attestation";
  }
  absl::StatusOr<TPMT_SIGNATURE> signature =
      tpm::ParseSignature(cert.signature);
  if (!signature.ok()) return std::string(signature.status().message());
  absl::StatusOr<std::shared_ptr<const EVP_PKEY>> key = AkKey(ak);
  if (!key.ok()) return std::string(key.status().message());
  absl::Status s =
      tpm::VerifyTpmSignature(**key, *signature, cert.certify_data, hash);
  if (!s.ok()) return absl::StrCat("certification ", s.message());
  if (tpm::View(attest.qualifiedSigner) != ak.qualified_name) {
    return "certification signed by another key than the registered AK";
  }
  const absl::string_view extra = tpm::View(attest.extraData);
  if (!extra.empty() && extra != nonce &&
      extra != absl::BytesToHexString(nonce)) {
    return "certification made for another nonce";
  }
  return "";
}

}  // namespace

void VerifyAppKeyCertificate(const std::string& certificate,
                             const std::string& app_key_public,
                             const RegisteredAk& ak, const std::string& nonce,
                             TPM2_ALG_ID hash, Checks& checks) {
  absl::StatusOr<keylime::AppKeyCertificate> cert =
      keylime::DecodeAppKeyCertificate(certificate);
  if (!cert.ok()) {
    checks.Add(kAppKeyCertificateValid, false,
               std::string(cert.status().message()));
    checks.Add(kAppKeyPublicMatchesCert, false, "no usable certificate");
    return;
  }
  TPMS_ATTEST attest{};
  const std::string problem =
      CertificationProblem(*cert, ak, nonce, hash, attest);
  checks.Add(kAppKeyCertificateValid, problem.empty(), problem);
  if (!problem.empty()) {
    checks.Add(kAppKeyPublicMatchesCert, false, "certificate not valid");
    return;
  }
  // The certified Name must be the app key's, and that key the request's.
  std::string mismatch;
  absl::StatusOr<TPMT_PUBLIC> app = tpm::ParsePublic(cert->app_key_tpm_public);
  absl::StatusOr<std::string> name =
      app.ok() ? tpm::ObjectName(*app) : app.status();
  absl::StatusOr<std::string> certified_der =
      absl::InvalidArgumentError("no app key public area");
  if (app.ok()) {
    absl::StatusOr<crypto::PrivateKey> key = tpm::ToOpenSslKey(*app);
    certified_der = key.ok() ? crypto::MarshalPublicKey(**key) : key.status();
  }
  absl::StatusOr<std::string> claimed_der = tpm::PemToDer(app_key_public);
  // Usually the same PEM text: decode it once.
  absl::StatusOr<std::string> cert_der =
      cert->app_key_public == app_key_public
          ? claimed_der
          : tpm::PemToDer(cert->app_key_public);
  if (!app.ok()) {
    mismatch =
        "certificate lacks the app key's TPM public area (app_key_tpm_public)";
  } else if (!name.ok() || *name != tpm::View(attest.attested.certify.name)) {
    mismatch = "the certified Name is not the app key's";
  } else if (!claimed_der.ok() || !certified_der.ok() ||
             *claimed_der != *certified_der) {
    mismatch = "app_key_public is not the certified key";
  } else if (!cert_der.ok() || *cert_der != *certified_der) {
    mismatch = "the certificate's app_key_public is not the certified key";
  } else if (!(app->objectAttributes & TPMA_OBJECT_FIXEDTPM)) {
    mismatch = "the app key is not fixedTPM";
  }
  checks.Add(kAppKeyPublicMatchesCert, mismatch.empty(), mismatch);
}

}  // namespace trellis::attest
