#include "gta/cert_manager.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crypto/digest.h"
#include "crypto/random.h"
#include "gta/policy_manager.h"
#include "gta/sealed_storage.h"

namespace trellis::gta {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct CrlFree {
  void operator()(X509_CRL* c) const { X509_CRL_free(c); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using Cert = std::unique_ptr<X509, X509Free>;
using Crl = std::unique_ptr<X509_CRL, CrlFree>;

constexpr size_t kMaxPemBytes = 1 << 20;
const std::set<std::string> kCertTypes = {"refvalue", "policy", "tpm_boot",
                                          "tpm_ima"};

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

// The one certificate (or CRL) of a PEM text.
template <typename T, typename Reader>
std::unique_ptr<T,
                std::conditional_t<std::is_same_v<T, X509>, X509Free, CrlFree>>
ReadPem(const std::string& pem, Reader reader) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  T* parsed = bio == nullptr ? nullptr : reader(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return std::unique_ptr<
      T, std::conditional_t<std::is_same_v<T, X509>, X509Free, CrlFree>>(
      parsed);
}

Cert CertFromDer(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return Cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

Crl CrlFromDer(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return Crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
}

std::string NameDer(const X509_NAME* name) {
  unsigned char* out = nullptr;
  const int n = i2d_X509_NAME(name, &out);
  std::string der = n > 0 ? std::string(reinterpret_cast<char*>(out), n) : "";
  OPENSSL_free(out);
  return der;
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
  char* hex = bn == nullptr ? nullptr : BN_bn2hex(bn);
  std::string out = hex == nullptr ? "" : hex;
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

// RSA 2048-4096 or EC P-256; SHA-256/384/512 signatures.
absl::Status CheckAlgorithms(X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) return Invalid("the certificate's key does not parse");
  const int type = EVP_PKEY_base_id(key);
  const int bits = EVP_PKEY_bits(key);
  if (type == EVP_PKEY_RSA) {
    if (bits < 2048 || bits > 4096) {
      return Invalid("RSA keys must be 2048 to 4096 bits");
    }
  } else if (type == EVP_PKEY_EC) {
    if (bits != 256) return Invalid("EC keys must be P-256");
  } else {
    return Invalid("the certificate's key must be RSA or EC P-256");
  }
  int digest = NID_undef;
  if (!X509_get_signature_info(cert, &digest, nullptr, nullptr, nullptr) ||
      (digest != NID_sha256 && digest != NID_sha384 && digest != NID_sha512)) {
    return Invalid("the certificate must be signed with SHA-256/384/512");
  }
  return absl::OkStatus();
}

absl::Status CheckValidity(X509* cert, absl::Time now) {
  const time_t t = absl::ToTimeT(now);
  if (X509_cmp_time(X509_get0_notBefore(cert), const_cast<time_t*>(&t)) > 0) {
    return Invalid("the certificate is not valid yet");
  }
  if (X509_cmp_time(X509_get0_notAfter(cert), const_cast<time_t*>(&t)) < 0) {
    return Invalid("the certificate has expired");
  }
  return absl::OkStatus();
}

struct RevokedEntry {
  int64_t time;
  int reason;
};

// Revoked serials of `crl` (hex) with time and reason; INVALID_ARGUMENT if
// an entry has no reason code.
absl::StatusOr<std::map<std::string, RevokedEntry>> RevokedSerials(
    X509_CRL* crl) {
  std::map<std::string, RevokedEntry> out;
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    X509_REVOKED* entry = sk_X509_REVOKED_value(revoked, i);
    ASN1_ENUMERATED* reason = static_cast<ASN1_ENUMERATED*>(
        X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr));
    if (reason == nullptr) return Invalid("every CRL entry needs a reasonCode");
    const int code = static_cast<int>(ASN1_ENUMERATED_get(reason));
    ASN1_ENUMERATED_free(reason);
    struct tm tm {};
    ASN1_TIME_to_tm(X509_REVOKED_get0_revocationDate(entry), &tm);
    out[SerialHex(X509_REVOKED_get0_serialNumber(entry))] = {timegm(&tm), code};
  }
  return out;
}

bool IsCrl(const trellis::GtaCert& cert) { return cert.is_crl(); }

absl::Status CheckTypes(const std::vector<std::string>& types) {
  if (types.empty()) return Invalid("type must name at least one use");
  if (std::find(types.begin(), types.end(), "crl") != types.end()) {
    return types.size() == 1 ? absl::OkStatus()
                             : Invalid("a CRL's type must be [\"crl\"] alone");
  }
  for (const std::string& type : types) {
    if (!kCertTypes.count(type)) {
      return Invalid(absl::StrCat(
          "type must be refvalue, policy, tpm_boot, tpm_ima or crl, not ",
          type));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckText(const std::string& value, size_t min, size_t max,
                       const char* field) {
  if (value.size() < min || value.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be ", min, " to ", max, " characters long"));
  }
  return absl::OkStatus();
}

// Marks the user's certificates revoked by `crl` (issuer and serial).
void ApplyCrl(X509_CRL* crl, const std::map<std::string, RevokedEntry>& revoked,
              std::vector<trellis::GtaCert>& certs, absl::Time now,
              std::vector<trellis::GtaCert>* changed) {
  const std::string issuer = NameDer(X509_CRL_get_issuer(crl));
  for (trellis::GtaCert& cert : certs) {
    // Revoked already, or a row that failed its integrity check.
    if (cert.is_crl() || cert.valid_code() != 0) continue;
    Cert parsed = CertFromDer(cert.der());
    if (parsed == nullptr ||
        NameDer(X509_get_issuer_name(parsed.get())) != issuer) {
      continue;
    }
    auto hit = revoked.find(SerialHex(X509_get0_serialNumber(parsed.get())));
    if (hit == revoked.end()) continue;
    cert.set_valid_code(2);
    cert.set_revoked_time(hit->second.time);
    cert.set_revoked_reason(hit->second.reason);
    cert.set_version(cert.version() + 1);
    cert.set_update_time(absl::ToUnixSeconds(now));
    changed->push_back(cert);
  }
}

}  // namespace

absl::Status CertManager::Record(const trellis::GtaCert& cert,
                                 const std::string& action) {
  trellis::GtaChangeRecord record;
  record.set_user_id(cert.user_id());
  record.set_resource(cert.is_crl() ? "crl" : "cert");
  record.set_action(action);
  record.set_resource_id(cert.id());
  record.set_version(cert.version());
  record.set_name(cert.name());
  record.set_content_sha256(
      crypto::Digest(crypto::DigestAlgorithm::kSha256, {cert.der()}));
  return changes_->Append(std::move(record)).status();
}

absl::StatusOr<trellis::GtaCert> CertManager::Add(const std::string& user_id,
                                                  NewCert request) {
  if (absl::Status s = ValidateUserId(user_id); !s.ok()) return s;
  for (const absl::Status& s :
       {CheckText(request.name, 1, 255, "name"),
        CheckText(request.description, 0, 512, "description"),
        CheckTypes(request.types),
        CheckText(request.content, 1, kMaxPemBytes, "content")}) {
    if (!s.ok()) return s;
  }
  const absl::Time now = clock_();
  const bool is_crl = request.types == std::vector<std::string>{"crl"};
  trellis::GtaCert cert;
  cert.set_user_id(user_id);
  cert.set_id(absl::BytesToHexString(crypto::RandomBytes(16)));
  cert.set_name(request.name);
  cert.set_description(request.description);
  for (const std::string& type : request.types) cert.add_types(type);
  cert.set_is_crl(is_crl);
  cert.set_is_default(request.is_default);
  cert.set_version(1);
  cert.set_update_time(absl::ToUnixSeconds(now));

  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::vector<trellis::GtaCert>> held =
      storage_->ListCerts(user_id);
  if (!held.ok()) return held.status();
  size_t same_kind = 0;
  for (const trellis::GtaCert& other : *held) {
    if (other.name() == request.name) {
      return absl::AlreadyExistsError("a certificate with this name exists");
    }
    same_kind += other.is_crl() == is_crl;
  }
  if (same_kind >= (is_crl ? kMaxCrlsPerUser : kMaxCertsPerUser)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "a user may hold at most 10 ", is_crl ? "CRLs" : "certificates"));
  }
  std::vector<trellis::GtaCert> revoked_now;
  if (is_crl) {
    Crl crl = ReadPem<X509_CRL>(request.content, PEM_read_bio_X509_CRL);
    if (crl == nullptr) return Invalid("content is not a PEM CRL");
    const time_t t = absl::ToTimeT(now);
    const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get());
    if (next == nullptr || X509_cmp_time(next, const_cast<time_t*>(&t)) < 0) {
      return Invalid("the CRL's nextUpdate has passed");
    }
    absl::StatusOr<std::map<std::string, RevokedEntry>> revoked =
        RevokedSerials(crl.get());
    if (!revoked.ok()) return revoked.status();
    // Signed by one of the user's certificates.
    bool signed_by_user = false;
    const std::string issuer = NameDer(X509_CRL_get_issuer(crl.get()));
    for (const trellis::GtaCert& other : *held) {
      if (other.is_crl()) continue;
      Cert signer = CertFromDer(other.der());
      if (signer != nullptr &&
          NameDer(X509_get_subject_name(signer.get())) == issuer &&
          X509_CRL_verify(crl.get(), X509_get0_pubkey(signer.get())) == 1) {
        signed_by_user = true;
        break;
      }
    }
    if (!signed_by_user) {
      return Invalid("the CRL is signed by none of your certificates");
    }
    unsigned char* der = nullptr;
    const int n = i2d_X509_CRL(crl.get(), &der);
    cert.set_der(std::string(reinterpret_cast<char*>(der), n));
    OPENSSL_free(der);
    ApplyCrl(crl.get(), *revoked, *held, now, &revoked_now);
  } else {
    Cert parsed = ReadPem<X509>(request.content, PEM_read_bio_X509);
    if (parsed == nullptr) return Invalid("content is not a PEM certificate");
    for (const absl::Status& s :
         {CheckValidity(parsed.get(), now), CheckAlgorithms(parsed.get())}) {
      if (!s.ok()) return s;
    }
    unsigned char* der = nullptr;
    const int n = i2d_X509(parsed.get(), &der);
    cert.set_der(std::string(reinterpret_cast<char*>(der), n));
    OPENSSL_free(der);
    // A CRL already held may revoke it.
    std::vector<trellis::GtaCert> self = {cert};
    for (const trellis::GtaCert& other : *held) {
      if (!other.is_crl()) continue;
      Crl crl = CrlFromDer(other.der());
      absl::StatusOr<std::map<std::string, RevokedEntry>> revoked =
          crl == nullptr ? absl::StatusOr<std::map<std::string, RevokedEntry>>(
                               absl::DataLossError("stored CRL"))
                         : RevokedSerials(crl.get());
      if (revoked.ok()) {
        std::vector<trellis::GtaCert> ignored;
        ApplyCrl(crl.get(), *revoked, self, now, &ignored);
      }
    }
    cert = self.front();
    cert.set_version(1);
  }
  if (absl::Status s = Record(cert, "add"); !s.ok()) return s;
  for (const trellis::GtaCert& changed : revoked_now) {
    if (absl::Status s = Record(changed, "revoke"); !s.ok()) return s;
  }
  revoked_now.push_back(cert);
  if (absl::Status s = storage_->PutCerts(revoked_now); !s.ok()) return s;
  return cert;
}

absl::StatusOr<trellis::GtaCert> CertManager::Update(const std::string& user_id,
                                                     CertChange change) {
  if (absl::Status s = ValidateUserId(user_id); !s.ok()) return s;
  if (absl::Status s = CheckText(change.id, 1, 64, "id"); !s.ok()) return s;
  if (change.name) {
    if (absl::Status s = CheckText(*change.name, 1, 255, "name"); !s.ok()) {
      return s;
    }
  }
  if (change.description) {
    if (absl::Status s = CheckText(*change.description, 0, 512, "description");
        !s.ok()) {
      return s;
    }
  }
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::vector<trellis::GtaCert>> held =
      storage_->ListCerts(user_id);
  if (!held.ok()) return held.status();
  absl::StatusOr<trellis::GtaCert> found =
      FindIntact(*held, change.id, "certificate");
  if (!found.ok()) return found.status();
  trellis::GtaCert cert = *std::move(found);
  if (change.types) {
    if (absl::Status s = CheckTypes(*change.types); !s.ok()) return s;
    const bool to_crl = *change.types == std::vector<std::string>{"crl"};
    if (to_crl != cert.is_crl()) {
      return Invalid("a certificate cannot become a CRL or the reverse");
    }
    cert.clear_types();
    for (const std::string& type : *change.types) cert.add_types(type);
  }
  if (change.name && *change.name != cert.name()) {
    for (const trellis::GtaCert& other : *held) {
      if (other.name() == *change.name) {
        return absl::AlreadyExistsError("a certificate with this name exists");
      }
    }
    cert.set_name(*change.name);
  }
  if (change.description) cert.set_description(*change.description);
  if (change.is_default) cert.set_is_default(*change.is_default);
  cert.set_version(cert.version() + 1);
  cert.set_update_time(absl::ToUnixSeconds(clock_()));
  if (absl::Status s = Record(cert, "update"); !s.ok()) return s;
  if (absl::Status s = storage_->PutCerts({cert}); !s.ok()) return s;
  return cert;
}

absl::StatusOr<std::vector<trellis::GtaCert>> CertManager::Delete(
    const std::string& user_id, const CertDeletion& deletion) {
  if (absl::Status s = ValidateUserId(user_id); !s.ok()) return s;
  if (deletion.delete_type == "id") {
    if (deletion.ids.empty() || deletion.ids.size() > 10) {
      return Invalid("ids must name 1 to 10 certificates");
    }
  } else if (deletion.delete_type == "type") {
    if (deletion.type != "crl" && !kCertTypes.count(deletion.type)) {
      return Invalid("type must be refvalue, policy, tpm_boot, tpm_ima or crl");
    }
  } else if (deletion.delete_type != "all") {
    return Invalid("delete_type must be id, type or all");
  }
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::vector<trellis::GtaCert>> held =
      storage_->ListCerts(user_id);
  if (!held.ok()) return held.status();
  const std::set<std::string> ids(deletion.ids.begin(), deletion.ids.end());
  std::vector<trellis::GtaCert> doomed;
  std::vector<std::string> doomed_ids;
  for (const trellis::GtaCert& cert : *held) {
    const bool of_type = std::find(cert.types().begin(), cert.types().end(),
                                   deletion.type) != cert.types().end();
    if (deletion.delete_type == "all" ||
        (deletion.delete_type == "id" && ids.count(cert.id())) ||
        (deletion.delete_type == "type" && of_type)) {
      if (absl::Status s = Record(cert, "delete"); !s.ok()) return s;
      doomed.push_back(cert);
      doomed_ids.push_back(cert.id());
    }
  }
  if (absl::Status s = storage_->DeleteCerts(user_id, doomed_ids); !s.ok()) {
    return s;
  }
  return doomed;
}

absl::StatusOr<std::vector<trellis::GtaCert>> CertManager::Query(
    const std::string& user_id, const std::vector<std::string>& ids,
    const std::string& type) {
  if (absl::Status s = ValidateUserId(user_id); !s.ok()) return s;
  if (ids.size() > 100) return Invalid("at most 100 ids per query");
  absl::StatusOr<std::vector<trellis::GtaCert>> held =
      storage_->ListCerts(user_id);
  if (!held.ok()) return held.status();
  const std::set<std::string> wanted(ids.begin(), ids.end());
  std::vector<trellis::GtaCert> out;
  for (trellis::GtaCert& cert : *held) {
    const bool match = !wanted.empty() ? wanted.count(cert.id()) > 0
                       : type.empty()
                           ? !IsCrl(cert)
                           : std::find(cert.types().begin(), cert.types().end(),
                                       type) != cert.types().end();
    if (match) out.push_back(std::move(cert));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<EVP_PKEY>> CertManager::VerifyAkChain(
    const std::string& user_id, const std::string& attester_type,
    const std::vector<std::string>& chain_pems) {
  if (chain_pems.empty()) return Invalid("no AK certificate");
  absl::StatusOr<std::vector<trellis::GtaCert>> held =
      storage_->ListCerts(user_id);
  if (!held.ok()) return held.status();
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  int anchors = 0;
  std::vector<std::pair<Crl, std::map<std::string, RevokedEntry>>> crls;
  for (const trellis::GtaCert& cert : *held) {
    if (cert.is_crl()) {
      // A changed CRL may have lost entries: refuse rather than skip it.
      if (absl::Status s = Intact(cert); !s.ok()) return s;
      Crl crl = CrlFromDer(cert.der());
      if (crl == nullptr) continue;
      absl::StatusOr<std::map<std::string, RevokedEntry>> revoked =
          RevokedSerials(crl.get());
      if (revoked.ok()) crls.emplace_back(std::move(crl), std::move(*revoked));
      continue;
    }
    if (cert.valid_code() != 0 ||
        std::find(cert.types().begin(), cert.types().end(), attester_type) ==
            cert.types().end()) {
      continue;
    }
    Cert anchor = CertFromDer(cert.der());
    if (anchor != nullptr && X509_STORE_add_cert(store.get(), anchor.get())) {
      ++anchors;
    }
  }
  if (anchors == 0) {
    return Invalid(absl::StrCat("no certificate of type ", attester_type,
                                " to verify the AK certificate against"));
  }
  std::vector<Cert> chain;
  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  for (const std::string& pem : chain_pems) {
    Cert cert = ReadPem<X509>(pem, PEM_read_bio_X509);
    if (cert == nullptr) return Invalid("an AK certificate does not parse");
    if (!chain.empty()) {
      X509_up_ref(cert.get());
      sk_X509_push(untrusted.get(), cert.get());
    }
    chain.push_back(std::move(cert));
  }
  X509* leaf = chain.front().get();
  if (X509_check_issued(leaf, leaf) == X509_V_OK) {
    return Invalid("a self-signed AK certificate is not trusted");
  }
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get())) {
    return absl::InternalError("cannot verify certificates");
  }
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_PARTIAL_CHAIN);
  X509_STORE_CTX_set_time(ctx.get(), 0, absl::ToTimeT(clock_()));
  if (X509_verify_cert(ctx.get()) != 1) {
    return Invalid(absl::StrCat(
        "the AK certificate chain does not verify: ",
        X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()))));
  }
  // The user's CRLs, applied to every certificate of the chain built.
  STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; i < sk_X509_num(built); ++i) {
    X509* cert = sk_X509_value(built, i);
    const std::string issuer = NameDer(X509_get_issuer_name(cert));
    const std::string serial = SerialHex(X509_get0_serialNumber(cert));
    for (const auto& [crl, revoked] : crls) {
      if (NameDer(X509_CRL_get_issuer(crl.get())) == issuer &&
          revoked.count(serial)) {
        return Invalid(i == 0 ? "the AK certificate is revoked"
                              : "a certificate of the AK's chain is revoked");
      }
    }
  }
  std::shared_ptr<EVP_PKEY> key(X509_get_pubkey(leaf), EVP_PKEY_free);
  if (key == nullptr) return Invalid("the AK certificate's key does not parse");
  return key;
}

}  // namespace trellis::gta
