#include "attest/spire_tpm/node_verifier.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "attest/registrar/make_credential.h"
#include "attest/spire_tpm/messages.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "crypto/digest.h"
#include "crypto/keys.h"
#include "crypto/random.h"

namespace trellis::attest::spire_tpm {
namespace {

// The secret sealed in each challenge.
constexpr size_t kSecretBytes = 32;

// The EK the agent sent: its key, and its certificate's DER if it sent one.
struct SentEk {
  crypto::PrivateKey key;
  std::string certificate_der;
};

absl::StatusOr<SentEk> ParseEk(absl::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long length = 0;
  if (bio == nullptr ||
      PEM_read_bio(bio.get(), &name, &header, &data, &length) != 1) {
    return absl::InvalidArgumentError("EK is not PEM");
  }
  const std::string type = name;
  std::string der(reinterpret_cast<const char*>(data), length);
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  SentEk ek;
  if (type == "CERTIFICATE") {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
    EVP_PKEY* key = cert == nullptr ? nullptr : X509_get_pubkey(cert.get());
    if (key == nullptr) {
      return absl::InvalidArgumentError("EK certificate is not X.509");
    }
    ek.key.reset(key);
    ek.certificate_der = std::move(der);
  } else if (type == "PUBLIC KEY") {
    absl::StatusOr<crypto::PrivateKey> key = crypto::ParsePublicKey(der);
    if (!key.ok()) {
      return absl::InvalidArgumentError("EK public key is not PKIX DER");
    }
    ek.key = std::move(*key);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "EK PEM block \"", type, "\" is neither CERTIFICATE nor PUBLIC KEY"));
  }
  return ek;
}

// The hash an AK's signing scheme uses; INVALID_ARGUMENT if it has none.
absl::StatusOr<TPM2_ALG_ID> SchemeHash(const TPMT_PUBLIC& ak) {
  const TPMT_RSA_SCHEME& rsa = ak.parameters.rsaDetail.scheme;
  const TPMT_ECC_SCHEME& ecc = ak.parameters.eccDetail.scheme;
  if (ak.type == TPM2_ALG_RSA && rsa.scheme != TPM2_ALG_NULL) {
    return rsa.details.anySig.hashAlg;
  }
  if (ak.type == TPM2_ALG_ECC && ecc.scheme != TPM2_ALG_NULL) {
    return ecc.details.anySig.hashAlg;
  }
  return absl::InvalidArgumentError("AK has no signing scheme");
}

// The AK's Name once the TPM's proof that it created the AK, signed by the
// AK itself, checks out.
absl::StatusOr<std::string> CheckAk(const AttestationPayload& payload) {
  absl::StatusOr<TPMT_PUBLIC> ak = tpm::ParsePublicArea(payload.ak_public);
  if (!ak.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("AK: ", ak.status().message()));
  }
  if (absl::Status s = tpm::CheckAttestationKey(*ak); !s.ok()) {
    return absl::PermissionDeniedError(s.message());
  }
  if (ak->type == TPM2_ALG_RSA && ak->parameters.rsaDetail.keyBits < 2048) {
    return absl::PermissionDeniedError("AK: RSA keys must be >= 2048 bits");
  }
  absl::StatusOr<TPM2_ALG_ID> hash = SchemeHash(*ak);
  if (!hash.ok()) return hash.status();
  absl::StatusOr<std::string> name = tpm::ObjectName(*ak);
  if (!name.ok()) return name.status();
  absl::StatusOr<TPMS_ATTEST> attest =
      tpm::ParseAttest(payload.create_attestation);
  if (!attest.ok()) return attest.status();
  if (attest->type != TPM2_ST_ATTEST_CREATION) {
    return absl::InvalidArgumentError(
        "AK creation attestation is not a TPM2_CertifyCreation");
  }
  const TPMS_CREATION_INFO& creation = attest->attested.creation;
  absl::StatusOr<std::string> creation_hash =
      tpm::TpmHash(ak->nameAlg, payload.create_data);
  if (!creation_hash.ok()) return creation_hash.status();
  if (tpm::View(creation.objectName) != *name ||
      tpm::View(creation.creationHash) != *creation_hash) {
    return absl::PermissionDeniedError(
        "AK creation attestation is for another key or creation data");
  }
  absl::StatusOr<TPMT_SIGNATURE> signature =
      tpm::ParseSignature(payload.create_signature);
  if (!signature.ok()) return signature.status();
  absl::StatusOr<crypto::PrivateKey> key = tpm::ToOpenSslKey(*ak);
  if (!key.ok()) return key.status();
  if (absl::Status s = tpm::VerifyTpmSignature(
          *key->get(), *signature, payload.create_attestation, *hash);
      !s.ok()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "AK creation attestation is not signed by the AK: ", s.message()));
  }
  return name;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NodeVerifier>> NodeVerifier::Create(
    const NodeVerifierOptions& options) {
  if (options.ek_ca_file.empty() && options.ek_hash_dir.empty()) {
    return absl::InvalidArgumentError(
        "the tpm node attestor needs EK CAs or a directory of EK hashes");
  }
  absl::StatusOr<std::unique_ptr<EkCertificateAuthorities>> cas =
      EkCertificateAuthorities::LoadIfNamed(options.ek_ca_file);
  if (!cas.ok()) return cas.status();
  return std::unique_ptr<NodeVerifier>(
      new NodeVerifier(options, std::move(*cas)));
}

absl::Status NodeVerifier::AcceptEk(const std::string& ek_hash,
                                    absl::string_view certificate_der,
                                    const EVP_PKEY& ek) const {
  struct stat listed;
  if (!options_.ek_hash_dir.empty() &&
      stat(absl::StrCat(options_.ek_hash_dir, "/", ek_hash).c_str(), &listed) ==
          0 &&
      S_ISREG(listed.st_mode)) {
    return absl::OkStatus();
  }
  if (cas_ != nullptr && !certificate_der.empty()) {
    return cas_->Verify(certificate_der, ek);
  }
  return absl::PermissionDeniedError(
      absl::StrCat("EK ", ek_hash,
                   cas_ == nullptr ? " is not listed"
                                   : " is not listed and has no certificate"));
}

absl::StatusOr<NodeVerifier::Pending> NodeVerifier::Challenge(
    absl::string_view text) const {
  absl::StatusOr<AttestationPayload> payload = DecodePayload(text);
  if (!payload.ok()) return payload.status();
  absl::StatusOr<SentEk> ek = ParseEk(payload->ek_pem);
  if (!ek.ok()) return ek.status();
  absl::StatusOr<std::string> ek_der = crypto::MarshalPublicKey(*ek->key);
  if (!ek_der.ok()) return ek_der.status();
  Pending pending;
  pending.ek_hash = absl::BytesToHexString(
      crypto::Digest(crypto::DigestAlgorithm::kSha256, {*ek_der}));
  if (absl::Status s = AcceptEk(pending.ek_hash, ek->certificate_der, *ek->key);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<TPMT_PUBLIC> ek_public = tpm::DefaultEkPublicArea(*ek->key);
  if (!ek_public.ok()) return ek_public.status();
  absl::StatusOr<std::string> ak_name = CheckAk(*payload);
  if (!ak_name.ok()) return ak_name.status();
  pending.secret = crypto::RandomBytes(kSecretBytes);
  absl::StatusOr<Credential> credential =
      MakeCredential(*ek_public, *ak_name, pending.secret);
  if (!credential.ok()) return credential.status();
  pending.challenge = EncodeChallenge(
      {credential->credential_blob, credential->encrypted_secret});
  return pending;
}

absl::Status NodeVerifier::CheckResponse(const Pending& pending,
                                         absl::string_view response) {
  absl::StatusOr<std::string> secret = DecodeChallengeResponse(response);
  if (!secret.ok()) return secret.status();
  if (secret->size() != pending.secret.size() ||
      CRYPTO_memcmp(secret->data(), pending.secret.data(), secret->size()) !=
          0) {
    return absl::PermissionDeniedError(
        "the TPM did not release the challenge secret");
  }
  return absl::OkStatus();
}

}  // namespace trellis::attest::spire_tpm
