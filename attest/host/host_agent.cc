#include "attest/host/host_agent.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "attest/keylime/quote.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "util/file.h"

namespace trellis::attest::host {
namespace {

using nlohmann::json;

absl::StatusOr<std::string> DecodeHex(const std::string& hex,
                                      const char* what) {
  if (hex.size() % 2 != 0 ||
      hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be hex"));
  }
  return absl::HexStringToBytes(hex);
}

// app.ctx: the TPM2B_PUBLIC then the TPM2B_PRIVATE, each self-delimiting.
std::string EncodeContext(const KeyBlob& key) {
  return key.public_area + key.private_area;
}

absl::StatusOr<KeyBlob> DecodeContext(absl::string_view bytes) {
  if (bytes.size() < 2) return absl::InvalidArgumentError("bad key context");
  const size_t public_size = 2 + (static_cast<uint8_t>(bytes[0]) << 8 |
                                  static_cast<uint8_t>(bytes[1]));
  if (bytes.size() <= public_size) {
    return absl::InvalidArgumentError("bad key context");
  }
  return KeyBlob{std::string(bytes.substr(0, public_size)),
                 std::string(bytes.substr(public_size))};
}

}  // namespace

HostAgent::HostAgent(std::unique_ptr<TpmDevice> tpm, std::string work_dir)
    : tpm_(std::move(tpm)), work_dir_(std::move(work_dir)) {
  mkdir(work_dir_.c_str(), 0700);
  // Keys made earlier live under the EK type recorded with them.
  if (absl::StatusOr<std::string> ek = ReadFile(work_dir_ + "/ek.pub");
      ek.ok()) {
    absl::StatusOr<TPMT_PUBLIC> area = tpm::ParsePublic(*ek);
    tpm_->UseEccEk(area.ok() && area->type == TPM2_ALG_ECC);
  }
}

absl::StatusOr<nlohmann::json> HostAgent::CreateEkAk(
    const std::string& algorithm, const std::string& ek_algorithm) {
  if (ek_algorithm != "rsa" && ek_algorithm != "ecc") {
    return absl::InvalidArgumentError("EK algorithm must be rsa or ecc");
  }
  absl::MutexLock lock(&mu_);
  tpm_->UseEccEk(ek_algorithm == "ecc");
  absl::StatusOr<std::string> ek = tpm_->EkPublic();
  if (!ek.ok()) return ek.status();
  absl::StatusOr<KeyBlob> ak = tpm_->CreateAk(algorithm);
  if (!ak.ok()) return ak.status();
  absl::StatusOr<TPMT_PUBLIC> ek_area = tpm::ParsePublic(*ek);
  absl::StatusOr<TPMT_PUBLIC> ak_area = tpm::ParsePublic(ak->public_area);
  if (!ek_area.ok()) return ek_area.status();
  if (!ak_area.ok()) return ak_area.status();
  absl::StatusOr<std::string> ak_qn = tpm::AkQualifiedName(*ek_area, *ak_area);
  absl::StatusOr<std::string> ak_name = tpm::ObjectName(*ak_area);
  absl::StatusOr<std::string> ak_pem = tpm::ToPem(*ak_area);
  if (!ak_qn.ok()) return ak_qn.status();
  if (!ak_name.ok()) return ak_name.status();
  if (!ak_pem.ok()) return ak_pem.status();
  for (const auto& [file, bytes] :
       {std::pair<const char*, const std::string&>{"ek.pub", *ek},
        {"ak.pub", ak->public_area},
        {"ak.priv", ak->private_area}}) {
    if (absl::Status s = ReplaceFile(absl::StrCat(work_dir_, "/", file), bytes);
        !s.ok()) {
      return s;
    }
  }
  json out = {
      {"status", "success"},
      {"ek_public", absl::Base64Escape(*ek)},
      {"ak_public", absl::Base64Escape(ak->public_area)},
      {"ak_public_pem", *ak_pem},
      {"ak_name", absl::BytesToHexString(*ak_name)},
      {"ak_qualified_name", absl::BytesToHexString(*ak_qn)},
  };
  if (absl::StatusOr<std::string> cert = tpm_->EkCertificate(); cert.ok()) {
    out["ek_certificate"] = absl::Base64Escape(*cert);
  }
  return out;
}

absl::StatusOr<HostAgent::PublicKeys> HostAgent::StoredPublicKeys() const {
  absl::StatusOr<std::string> ek = ReadFile(work_dir_ + "/ek.pub");
  absl::StatusOr<std::string> ak = ReadFile(work_dir_ + "/ak.pub");
  if (!ek.ok() || !ak.ok()) {
    return absl::FailedPreconditionError(
        "no EK/AK in the work directory: run create-ek-ak first");
  }
  return PublicKeys{*std::move(ek), *std::move(ak)};
}

absl::StatusOr<KeyBlob> HostAgent::LoadAk() {
  absl::StatusOr<std::string> pub = ReadFile(work_dir_ + "/ak.pub");
  absl::StatusOr<std::string> priv = ReadFile(work_dir_ + "/ak.priv");
  if (!pub.ok() || !priv.ok()) {
    return absl::FailedPreconditionError(
        "no AK in the work directory: run create-ek-ak first");
  }
  return KeyBlob{*pub, *priv};
}

absl::StatusOr<nlohmann::json> HostAgent::GenerateAppKey() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<KeyBlob> key = tpm_->CreateAppKey();
  if (!key.ok()) return key.status();
  absl::StatusOr<TPMT_PUBLIC> area = tpm::ParsePublic(key->public_area);
  if (!area.ok()) return area.status();
  absl::StatusOr<std::string> pem = tpm::ToPem(*area);
  if (!pem.ok()) return pem.status();
  const std::string context = work_dir_ + "/app.ctx";
  if (absl::Status s = ReplaceFile(context, EncodeContext(*key)); !s.ok()) {
    return s;
  }
  return json{{"status", "success"},
              {"app_key_public", *pem},
              {"app_key_context", context}};
}

absl::StatusOr<std::string> HostAgent::GenerateQuote(
    const std::string& nonce_hex, const std::string& pcr_list) {
  absl::StatusOr<std::string> nonce = DecodeHex(nonce_hex, "nonce");
  if (!nonce.ok()) return nonce.status();
  if (nonce->empty()) return absl::InvalidArgumentError("nonce is empty");
  absl::StatusOr<QuoteOutput> quote = Quote(*nonce, pcr_list);
  if (!quote.ok()) return quote.status();
  absl::StatusOr<std::string> blob = tpm::SerializePcrBlob(quote->pcrs);
  if (!blob.ok()) return blob.status();
  return keylime::FormatQuote(
      {quote->signed_quote.attest, quote->signed_quote.signature, *blob});
}

absl::StatusOr<QuoteOutput> HostAgent::Quote(const std::string& qualifying_data,
                                             const std::string& pcr_list) {
  absl::StatusOr<TPML_PCR_SELECTION> pcrs = ParsePcrList(pcr_list);
  if (!pcrs.ok()) return pcrs.status();
  absl::MutexLock lock(&mu_);
  absl::StatusOr<KeyBlob> ak = LoadAk();
  if (!ak.ok()) return ak.status();
  return tpm_->Quote(*ak, qualifying_data, *pcrs);
}

absl::StatusOr<std::string> HostAgent::CertifyAppKey(
    const std::string& context_path, const std::string& expected_pem,
    const std::string& nonce_hex) {
  // Only key contexts this agent made: no reading files elsewhere.
  char resolved[PATH_MAX];
  char dir[PATH_MAX];
  if (realpath(context_path.c_str(), resolved) == nullptr ||
      realpath(work_dir_.c_str(), dir) == nullptr ||
      !absl::StartsWith(resolved, absl::StrCat(dir, "/"))) {
    return absl::InvalidArgumentError(
        "app_key_context_path must name a key in the agent's work directory");
  }
  absl::StatusOr<std::string> nonce = DecodeHex(nonce_hex, "challenge_nonce");
  if (!nonce.ok()) return nonce.status();
  absl::StatusOr<std::string> bytes = ReadFile(resolved);
  if (!bytes.ok()) return absl::InvalidArgumentError(bytes.status().message());
  absl::StatusOr<KeyBlob> app = DecodeContext(*bytes);
  if (!app.ok()) return app.status();
  absl::StatusOr<TPMT_PUBLIC> area = tpm::ParsePublic(app->public_area);
  if (!area.ok()) return area.status();
  absl::StatusOr<std::string> pem = tpm::ToPem(*area);
  if (!pem.ok()) return pem.status();
  if (!expected_pem.empty()) {
    absl::StatusOr<std::string> want = tpm::PemToDer(expected_pem);
    absl::StatusOr<std::string> have = tpm::PemToDer(*pem);
    if (!want.ok()) return want.status();
    if (!have.ok() || *want != *have) {
      return absl::InvalidArgumentError(
          "app_key_public is not the key in app_key_context_path");
    }
  }
  absl::MutexLock lock(&mu_);
  absl::StatusOr<KeyBlob> ak = LoadAk();
  if (!ak.ok()) return ak.status();
  absl::StatusOr<SignedAttestation> certified =
      tpm_->Certify(*app, *ak, *nonce);
  if (!certified.ok()) return certified.status();
  return keylime::EncodeAppKeyCertificate({*pem, app->public_area,
                                           certified->attest,
                                           certified->signature, "sha256"});
}

absl::StatusOr<std::string> HostAgent::EkCertificate() {
  absl::MutexLock lock(&mu_);
  return tpm_->EkCertificate();
}

absl::StatusOr<std::string> HostAgent::ActivateCredential(
    const std::string& credential, const std::string& secret) {
  std::string credential_bytes, secret_bytes;
  if (!absl::Base64Unescape(credential, &credential_bytes) ||
      !absl::Base64Unescape(secret, &secret_bytes)) {
    return absl::InvalidArgumentError("credential and secret must be base64");
  }
  absl::MutexLock lock(&mu_);
  absl::StatusOr<KeyBlob> ak = LoadAk();
  if (!ak.ok()) return ak.status();
  return tpm_->ActivateCredential(*ak, credential_bytes, secret_bytes);
}

}  // namespace trellis::attest::host
