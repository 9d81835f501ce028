#include "attest/spire_tpm/agent_attestor.h"

#include <openssl/pem.h>

#include "attest/spire_tpm/messages.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "crypto/keys.h"

namespace trellis::attest::spire_tpm {
namespace {

std::string Pem(const char* type, const std::string& der) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio(bio.get(), type, "",
                reinterpret_cast<const unsigned char*>(der.data()),
                static_cast<long>(der.size()));
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, length);
}

}  // namespace

absl::StatusOr<std::string> AgentAttestor::Payload() {
  AttestationPayload payload;
  absl::StatusOr<std::string> certificate = tpm_->EkCertificate();
  if (certificate.ok()) {
    payload.ek_pem = Pem("CERTIFICATE", *certificate);
  } else if (absl::IsNotFound(certificate.status())) {
    absl::StatusOr<std::string> ek = tpm_->EkPublic();
    if (!ek.ok()) return ek.status();
    absl::StatusOr<TPMT_PUBLIC> area = tpm::ParsePublic(*ek);
    if (!area.ok()) return area.status();
    absl::StatusOr<crypto::PrivateKey> key = tpm::ToOpenSslKey(*area);
    if (!key.ok()) return key.status();
    absl::StatusOr<std::string> der = crypto::MarshalPublicKey(*key->get());
    if (!der.ok()) return der.status();
    payload.ek_pem = Pem("PUBLIC KEY", *der);
  } else {
    return certificate.status();
  }
  absl::StatusOr<host::TpmDevice::CertifiedAk> ak = tpm_->CreateCertifiedAk();
  if (!ak.ok()) return ak.status();
  absl::StatusOr<TPMT_PUBLIC> ak_public = tpm::ParsePublic(ak->key.public_area);
  if (!ak_public.ok()) return ak_public.status();
  payload.ak_public = tpm::MarshalPublicArea(*ak_public);
  payload.create_data = ak->creation_data;
  payload.create_attestation = ak->certification.attest;
  payload.create_signature = ak->certification.signature;
  ak_ = std::move(ak->key);
  return EncodePayload(payload);
}

absl::StatusOr<std::string> AgentAttestor::Answer(absl::string_view challenge) {
  if (!ak_.has_value()) {
    return absl::FailedPreconditionError("no attestation payload was made");
  }
  absl::StatusOr<EncryptedCredential> sealed = DecodeChallenge(challenge);
  if (!sealed.ok()) return sealed.status();
  absl::StatusOr<std::string> secret =
      tpm_->ActivateCredential(*ak_, sealed->credential, sealed->secret);
  if (!secret.ok()) return secret.status();
  return EncodeChallengeResponse(*secret);
}

}  // namespace trellis::attest::spire_tpm
