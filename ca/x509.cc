#include "ca/x509.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "crypto/keys.h"
#include "crypto/keyspb/keyspb.pb.h"
#include "spiffe/id.h"

namespace trellis::ca {
namespace {

using crypto::OpenSslError;

template <auto kFree>
struct Free {
  template <typename T>
  void operator()(T *p) const {
    kFree(p);
  }
};
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, Free<X509_REQ_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Free<BN_free>>;
using GeneralNamesPtr =
    std::unique_ptr<GENERAL_NAMES, Free<GENERAL_NAMES_free>>;

struct ExtensionsFree {
  void operator()(STACK_OF(X509_EXTENSION) * exts) const {
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
};
using ExtensionsPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionsFree>;

const unsigned char *Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char *>(s.data());
}

absl::StatusOr<X509Ptr> ParseCertificate(absl::string_view der) {
  const unsigned char *p = Bytes(der);
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (cert == nullptr || p != Bytes(der) + der.size()) {
    return absl::InvalidArgumentError("cannot parse DER certificate: " +
                                      OpenSslError());
  }
  return cert;
}

absl::StatusOr<std::string> ToDer(X509 *cert) {
  unsigned char *der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len <= 0)
    return absl::InternalError("certificate DER: " + OpenSslError());
  std::string out(reinterpret_cast<char *>(der), len);
  OPENSSL_free(der);
  return out;
}

absl::Time MaxCertificateTime() {
  // GeneralizedTime has four year digits.
  return absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59),
                         absl::UTCTimeZone());
}

absl::Status SetTime(ASN1_TIME *field, absl::Time t) {
  if (t > MaxCertificateTime() ||
      ASN1_TIME_set(field, absl::ToTimeT(t)) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("time out of certificate range: ", absl::FormatTime(t)));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> GetTime(const ASN1_TIME *field) {
  struct tm tm;
  if (field == nullptr || ASN1_TIME_to_tm(field, &tm) != 1) {
    return absl::InvalidArgumentError("malformed certificate time");
  }
  return absl::FromCivil(
      absl::CivilSecond(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec),
      absl::UTCTimeZone());
}

// The digest upstream (Go crypto/x509) pairs with the signing key.
// Digests fetched once: OpenSSL 3 looks an implicitly named digest
// (EVP_sha256()) up in its provider store, under a lock, on every use.
const EVP_MD *Fetched(const char *name) {
  return EVP_MD_fetch(nullptr, name, nullptr);  // Kept for the process.
}

absl::StatusOr<const EVP_MD *> SigningDigest(const EVP_PKEY &key) {
  static const EVP_MD *const sha256 = Fetched("SHA2-256");
  static const EVP_MD *const sha384 = Fetched("SHA2-384");
  static const EVP_MD *const sha512 = Fetched("SHA2-512");
  switch (EVP_PKEY_get_base_id(&key)) {
    case EVP_PKEY_RSA:
      return sha256;
    case EVP_PKEY_EC:
      switch (EVP_PKEY_get_bits(&key)) {
        case 256:
          return sha256;
        case 384:
          return sha384;
        case 521:
          return sha512;
      }
      return absl::InvalidArgumentError("unsupported EC curve for a CA key");
  }
  return absl::InvalidArgumentError("CA key must be ECDSA or RSA");
}

// Uniform in [1, 2^128): 128 random bits, never zero.
absl::StatusOr<BignumPtr> RandomSerial() {
  BignumPtr serial(BN_new());
  if (serial == nullptr) return absl::InternalError("BN_new failed");
  unsigned char bytes[16];
  do {
    if (RAND_bytes(bytes, sizeof(bytes)) != 1 ||
        BN_bin2bn(bytes, sizeof(bytes), serial.get()) == nullptr) {
      return absl::InternalError("random serial: " + OpenSslError());
    }
  } while (BN_is_zero(serial.get()));
  return serial;
}

absl::StatusOr<std::string> Decimal(const BIGNUM *bn) {
  char *dec = BN_bn2dec(bn);
  if (dec == nullptr) return absl::InternalError("BN_bn2dec failed");
  std::string out(dec);
  OPENSSL_free(dec);
  return out;
}

// What Go's pkix.Name marshalling picks: PrintableString when it can.
bool IsPrintableString(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || absl::StrContains(" '()+,-./:=?", c);
  });
}

absl::Status AddNameEntry(X509_NAME *name, int nid, absl::string_view value) {
  // An explicit string type skips OpenSSL's ub-common-name (64) limit, which
  // Go does not enforce on CN = DNS name either.
  const int type =
      IsPrintableString(value) ? V_ASN1_PRINTABLESTRING : V_ASN1_UTF8STRING;
  if (X509_NAME_add_entry_by_NID(name, nid, type, Bytes(value),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return absl::InternalError("subject name: " + OpenSslError());
  }
  return absl::OkStatus();
}

absl::Status AddExtension(X509 *cert, int nid, void *value, bool critical) {
  if (X509_add1_ext_i2d(cert, nid, value, critical ? 1 : 0,
                        X509V3_ADD_DEFAULT) != 1) {
    return absl::InternalError(
        absl::StrCat("extension ", OBJ_nid2sn(nid), ": ", OpenSslError()));
  }
  return absl::OkStatus();
}

absl::Status AddGeneralName(GENERAL_NAMES *names, int type,
                            absl::string_view value) {
  ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
  GENERAL_NAME *name = GENERAL_NAME_new();
  if (ia5 == nullptr || name == nullptr ||
      ASN1_STRING_set(ia5, value.data(), static_cast<int>(value.size())) != 1) {
    ASN1_IA5STRING_free(ia5);
    GENERAL_NAME_free(name);
    return absl::InternalError("subjectAltName: " + OpenSslError());
  }
  GENERAL_NAME_set0_value(name, type, ia5);
  if (sk_GENERAL_NAME_push(names, name) == 0) {
    GENERAL_NAME_free(name);
    return absl::InternalError("subjectAltName: " + OpenSslError());
  }
  return absl::OkStatus();
}

void CollectNames(const GENERAL_NAMES *names, std::vector<std::string> *uris,
                  std::vector<std::string> *dns) {
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
    int type = 0;
    const auto *value =
        static_cast<const ASN1_STRING *>(GENERAL_NAME_get0_value(name, &type));
    if (type != GEN_URI && type != GEN_DNS) continue;
    std::string text(
        reinterpret_cast<const char *>(ASN1_STRING_get0_data(value)),
        ASN1_STRING_length(value));
    (type == GEN_URI ? uris : dns)->push_back(std::move(text));
  }
}

// Conservative: DNS SANs come from registration entries; the CN copy must be
// a valid IA5String/PrintableString-ish value too.
absl::Status CheckDnsName(absl::string_view name) {
  if (name.empty() || name.size() > 255) {
    return absl::InvalidArgumentError(
        "DNS name must be between 1 and 255 bytes");
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
          c == '*')) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid DNS name \"", absl::CHexEscape(name), "\""));
    }
  }
  return absl::OkStatus();
}

struct CertSpec {
  const BIGNUM *serial = nullptr;
  std::vector<std::pair<int, std::string>> subject;
  const X509_NAME *issuer_name = nullptr;  // Null: self-issued.
  EVP_PKEY *public_key = nullptr;
  Validity validity;
  bool is_ca = false;
  std::string uri;
  std::vector<std::string> dns_names;
  // The issuer's SKI; null for a self-signed certificate (its own SKI).
  const ASN1_OCTET_STRING *authority_key_id = nullptr;
  EVP_PKEY *signing_key = nullptr;
  const EVP_MD *digest = nullptr;
  std::vector<RawExtension> extensions;
  // If set, the subject key as SPKI DER, used instead of public_key.
  absl::string_view public_key_spki;
  // Leave the certificate unsigned (its TBS complete, signature algorithm
  // included): it is signed once its last extension is in.
  bool defer_signature = false;
};

// The TBS signature algorithm X509_sign will set for `key` and `digest`
// (ECDSA: parameters absent; RSA PKCS #1 v1.5: NULL), set ahead so that a
// certificate signed later hashes the same before and after.
absl::Status SetTbsSignatureAlgorithm(X509 *cert, EVP_PKEY *key,
                                      const EVP_MD *digest) {
  const int key_type = EVP_PKEY_get_base_id(key);
  int signature_nid = NID_undef;
  if ((key_type != EVP_PKEY_EC && key_type != EVP_PKEY_RSA) ||
      !OBJ_find_sigid_by_algs(&signature_nid, EVP_MD_get_type(digest),
                              key_type)) {
    return absl::InternalError("no signature algorithm for the issuer's key");
  }
  X509_ALGOR *algorithm = const_cast<X509_ALGOR *>(X509_get0_tbs_sigalg(cert));
  if (X509_ALGOR_set0(algorithm, OBJ_nid2obj(signature_nid),
                      key_type == EVP_PKEY_RSA ? V_ASN1_NULL : V_ASN1_UNDEF,
                      nullptr) != 1) {
    return absl::InternalError("signature algorithm: " + OpenSslError());
  }
  return absl::OkStatus();
}

// Sets the certificate's subject key from SPKI DER without decoding the key:
// OpenSSL 3 turns an EVP_PKEY into a certificate's key by encoding and
// decoding it through its provider registry, which costs more than all the
// rest of an SVID. The algorithm and key bits are copied as they are (the
// caller has decoded the key once, e.g. to check a CSR's signature).
absl::Status SetPublicKeySpki(X509 *cert, absl::string_view spki) {
  const unsigned char *p = Bytes(spki);
  const unsigned char *const end = p + spki.size();
  long length = 0;
  int tag = 0, cls = 0;
  if ((ASN1_get_object(&p, &length, &tag, &cls,
                       static_cast<long>(spki.size())) &
       0x80) != 0 ||
      tag != V_ASN1_SEQUENCE || p + length != end) {
    ERR_clear_error();
    return absl::InvalidArgumentError("subject key is not an SPKI");
  }
  std::unique_ptr<X509_ALGOR, Free<X509_ALGOR_free>> algorithm(
      d2i_X509_ALGOR(nullptr, &p, end - p));
  std::unique_ptr<ASN1_BIT_STRING, Free<ASN1_BIT_STRING_free>> bits(
      algorithm == nullptr ? nullptr
                           : d2i_ASN1_BIT_STRING(nullptr, &p, end - p));
  if (bits == nullptr || p != end || (bits->flags & 0x07) != 0) {
    ERR_clear_error();
    return absl::InvalidArgumentError("subject key is not an SPKI");
  }
  const ASN1_OBJECT *oid = nullptr;
  int parameter_type = 0;
  const void *parameter = nullptr;
  X509_ALGOR_get0(&oid, &parameter_type, &parameter, algorithm.get());
  // X509_PUBKEY_set0_param takes ownership: copies of what the algorithm
  // identifier holds.
  void *parameter_copy = nullptr;
  switch (parameter_type) {
    case V_ASN1_UNDEF:
    case V_ASN1_NULL:
      break;
    case V_ASN1_OBJECT:  // EC: the named curve.
      parameter_copy = OBJ_dup(static_cast<const ASN1_OBJECT *>(parameter));
      break;
    case V_ASN1_SEQUENCE:  // E.g. RSA-PSS parameters.
      parameter_copy =
          ASN1_STRING_dup(static_cast<const ASN1_STRING *>(parameter));
      break;
    default:
      return absl::InvalidArgumentError(
          "subject key has unsupported algorithm parameters");
  }
  ASN1_OBJECT *oid_copy = OBJ_dup(oid);
  const int key_length = ASN1_STRING_length(bits.get());
  unsigned char *key_bits = static_cast<unsigned char *>(
      OPENSSL_memdup(ASN1_STRING_get0_data(bits.get()), key_length));
  if (oid_copy == nullptr || key_bits == nullptr ||
      ((parameter_type == V_ASN1_OBJECT || parameter_type == V_ASN1_SEQUENCE) &&
       parameter_copy == nullptr) ||
      X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert), oid_copy,
                             parameter_type, parameter_copy, key_bits,
                             key_length) != 1) {
    ASN1_OBJECT_free(oid_copy);
    OPENSSL_free(key_bits);
    if (parameter_type == V_ASN1_OBJECT) {
      ASN1_OBJECT_free(static_cast<ASN1_OBJECT *>(parameter_copy));
    } else {
      ASN1_STRING_free(static_cast<ASN1_STRING *>(parameter_copy));
    }
    return absl::InternalError("subject key: " + OpenSslError());
  }
  return absl::OkStatus();
}

// The extensions every SVID (or every CA) carries with the same value,
// built once: building them from config text for each certificate costs a
// config parse and name lookups.
struct ConstantExtensions {
  X509_EXTENSION *leaf_key_usage;
  X509_EXTENSION *ca_key_usage;
  X509_EXTENSION *extended_key_usage;
  X509_EXTENSION *leaf_basic_constraints;
  X509_EXTENSION *ca_basic_constraints;
};

const ConstantExtensions *Constants() {
  static const ConstantExtensions *const constants = [] {
    auto make = [](int nid, const char *value) {
      return X509V3_EXT_conf_nid(nullptr, nullptr, nid, value);
    };
    auto *c = new ConstantExtensions{
        make(NID_key_usage,
             "critical,digitalSignature,keyEncipherment,keyAgreement"),
        make(NID_key_usage, "critical,keyCertSign,cRLSign"),
        make(NID_ext_key_usage, "serverAuth,clientAuth"),
        make(NID_basic_constraints, "critical,CA:FALSE"),
        make(NID_basic_constraints, "critical,CA:TRUE")};
    return c;
  }();
  return constants;
}

absl::Status AddConstantExtension(X509 *cert, const X509_EXTENSION *ext) {
  if (ext == nullptr ||
      X509_add_ext(cert, const_cast<X509_EXTENSION *>(ext), -1) != 1) {
    return absl::InternalError("extension: " + OpenSslError());
  }
  return absl::OkStatus();
}

absl::Status AddRawExtension(X509 *cert, const RawExtension &extension);

absl::StatusOr<X509Ptr> BuildCertificate(const CertSpec &spec) {
  X509Ptr cert(X509_new());
  if (cert == nullptr) return absl::InternalError("X509_new failed");
  X509 *x = cert.get();
  if (X509_set_version(x, X509_VERSION_3) != 1 ||
      BN_to_ASN1_INTEGER(spec.serial, X509_get_serialNumber(x)) == nullptr ||
      (spec.public_key_spki.empty() &&
       X509_set_pubkey(x, spec.public_key) != 1)) {
    return absl::InternalError("certificate fields: " + OpenSslError());
  }
  if (!spec.public_key_spki.empty()) {
    if (absl::Status s = SetPublicKeySpki(x, spec.public_key_spki); !s.ok()) {
      return s;
    }
  }
  X509_NAME *subject = X509_get_subject_name(x);
  for (const auto &[nid, value] : spec.subject) {
    if (absl::Status s = AddNameEntry(subject, nid, value); !s.ok()) return s;
  }
  if (X509_set_issuer_name(
          x, spec.issuer_name != nullptr ? spec.issuer_name : subject) != 1) {
    return absl::InternalError("issuer name: " + OpenSslError());
  }
  if (absl::Status s =
          SetTime(X509_getm_notBefore(x), spec.validity.not_before);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = SetTime(X509_getm_notAfter(x), spec.validity.not_after);
      !s.ok()) {
    return s;
  }

  // Go's extension order: KU, EKU, BC, SKI, AKI, SAN.
  const ConstantExtensions *constants = Constants();
  absl::Status s = AddConstantExtension(
      x, spec.is_ca ? constants->ca_key_usage : constants->leaf_key_usage);
  if (s.ok() && !spec.is_ca) {
    s = AddConstantExtension(x, constants->extended_key_usage);
  }
  if (s.ok()) {
    s = AddConstantExtension(x, spec.is_ca ? constants->ca_basic_constraints
                                           : constants->leaf_basic_constraints);
  }
  if (!s.ok()) return s;

  // RFC 5280 4.2.1.2 method 1, as SPIRE's x509util.GetSubjectKeyID.
  unsigned char ski[EVP_MAX_MD_SIZE];
  unsigned int ski_len = 0;
  std::unique_ptr<ASN1_OCTET_STRING, Free<ASN1_OCTET_STRING_free>> ski_oct(
      ASN1_OCTET_STRING_new());
  if (X509_pubkey_digest(x, EVP_sha1(), ski, &ski_len) != 1 ||
      ski_oct == nullptr ||
      ASN1_OCTET_STRING_set(ski_oct.get(), ski, static_cast<int>(ski_len)) !=
          1) {
    return absl::InternalError("subject key id: " + OpenSslError());
  }
  if (s = AddExtension(x, NID_subject_key_identifier, ski_oct.get(), false);
      !s.ok()) {
    return s;
  }
  const ASN1_OCTET_STRING *aki_value =
      spec.authority_key_id != nullptr ? spec.authority_key_id : ski_oct.get();
  std::unique_ptr<AUTHORITY_KEYID, Free<AUTHORITY_KEYID_free>> aki(
      AUTHORITY_KEYID_new());
  if (aki == nullptr ||
      (aki->keyid = ASN1_OCTET_STRING_dup(aki_value)) == nullptr) {
    return absl::InternalError("authority key id: " + OpenSslError());
  }
  if (s = AddExtension(x, NID_authority_key_identifier, aki.get(), false);
      !s.ok()) {
    return s;
  }

  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (names == nullptr) return absl::InternalError("subjectAltName alloc");
  if (s = AddGeneralName(names.get(), GEN_URI, spec.uri); !s.ok()) return s;
  for (const std::string &dns : spec.dns_names) {
    if (s = AddGeneralName(names.get(), GEN_DNS, dns); !s.ok()) return s;
  }
  // Critical only with an empty subject (RFC 5280); ours never is.
  if (s = AddExtension(x, NID_subject_alt_name, names.get(), false); !s.ok()) {
    return s;
  }
  for (const RawExtension &extension : spec.extensions) {
    if (s = AddRawExtension(x, extension); !s.ok()) return s;
  }

  if (spec.defer_signature) {
    if (s = SetTbsSignatureAlgorithm(x, spec.signing_key, spec.digest);
        !s.ok()) {
      return s;
    }
    return cert;
  }
  if (X509_sign(x, spec.signing_key, spec.digest) <= 0) {
    return absl::InternalError("signing the certificate: " + OpenSslError());
  }
  return cert;
}

std::string NameText(const X509_NAME *name) {
  std::unique_ptr<BIO, Free<BIO_free>> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    return "";
  }
  char *data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, len);
}

absl::StatusOr<CertificateInfo> DescribeX509(X509 *cert) {
  CertificateInfo info;
  info.subject = NameText(X509_get_subject_name(cert));
  info.issuer = NameText(X509_get_issuer_name(cert));
  GeneralNamesPtr names(static_cast<GENERAL_NAMES *>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (names != nullptr) {
    CollectNames(names.get(), &info.uri_sans, &info.dns_sans);
  }
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (bn == nullptr) return absl::InvalidArgumentError("malformed serial");
  absl::StatusOr<std::string> serial = Decimal(bn.get());
  if (!serial.ok()) return serial.status();
  info.serial_number = std::move(*serial);
  absl::StatusOr<absl::Time> not_before = GetTime(X509_get0_notBefore(cert));
  absl::StatusOr<absl::Time> not_after = GetTime(X509_get0_notAfter(cert));
  if (!not_before.ok()) return not_before.status();
  if (!not_after.ok()) return not_after.status();
  info.validity = {*not_before, *not_after};
  info.is_ca = X509_check_ca(cert) != 0;
  return info;
}

using ObjectPtr = std::unique_ptr<ASN1_OBJECT, Free<ASN1_OBJECT_free>>;

ObjectPtr PromiseObject() {
  return ObjectPtr(OBJ_txt2obj(kInclusionPromiseOid, /*no_name=*/1));
}

// SHA-256 of the TBSCertificate with any promise removed; the extension is
// taken out for the encoding and put back, so `cert` ends as it began.
absl::StatusOr<std::string> TbsHashWithoutPromise(X509 *cert) {
  ObjectPtr object = PromiseObject();
  if (object == nullptr) return absl::InternalError("promise OID");
  const int index = X509_get_ext_by_OBJ(cert, object.get(), -1);
  X509_EXTENSION *removed = index >= 0 ? X509_delete_ext(cert, index) : nullptr;
  unsigned char *tbs = nullptr;
  const int len = i2d_re_X509_tbs(cert, &tbs);
  if (removed != nullptr) {
    // Put it back where it was: the certificate keeps its encoding.
    X509_add_ext(cert, removed, index);
    X509_EXTENSION_free(removed);
  }
  if (len <= 0) return absl::InternalError("cannot encode the TBS");
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(tbs, static_cast<size_t>(len), digest);
  OPENSSL_free(tbs);
  return std::string(reinterpret_cast<char *>(digest), sizeof(digest));
}

absl::StatusOr<ObjectPtr> ParseOid(absl::string_view oid) {
  ObjectPtr object(OBJ_txt2obj(std::string(oid).c_str(), /*no_name=*/1));
  if (object == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", absl::CHexEscape(oid), "\" is not an OID"));
  }
  return object;
}

absl::Status AddRawExtension(X509 *cert, const RawExtension &extension) {
  absl::StatusOr<ObjectPtr> object = ParseOid(extension.oid);
  if (!object.ok()) return object.status();
  std::unique_ptr<ASN1_OCTET_STRING, Free<ASN1_OCTET_STRING_free>> value(
      ASN1_OCTET_STRING_new());
  if (value == nullptr ||
      ASN1_OCTET_STRING_set(value.get(), Bytes(extension.value),
                            static_cast<int>(extension.value.size())) != 1) {
    return absl::InternalError("extension value: " + OpenSslError());
  }
  if (X509_get_ext_by_OBJ(cert, object->get(), -1) >= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("certificate already has extension ", extension.oid));
  }
  std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>> added(
      X509_EXTENSION_create_by_OBJ(nullptr, object->get(), /*crit=*/0,
                                   value.get()));
  if (added == nullptr || X509_add_ext(cert, added.get(), -1) != 1) {
    return absl::InternalError(
        absl::StrCat("extension ", extension.oid, ": ", OpenSslError()));
  }
  return absl::OkStatus();
}

absl::Status AddPromise(X509 *cert, EVP_PKEY *key, const EVP_MD *digest,
                        absl::string_view promise) {
  if (absl::Status s = AddRawExtension(
          cert, RawExtension{kInclusionPromiseOid, std::string(promise)});
      !s.ok()) {
    return s;
  }
  if (X509_sign(cert, key, digest) <= 0) {
    return absl::InternalError("adding the promise: " + OpenSslError());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<KeyType> ParseKeyType(absl::string_view name) {
  for (KeyType type : {KeyType::kEcP256, KeyType::kEcP384, KeyType::kRsa2048,
                       KeyType::kRsa4096}) {
    if (name == KeyTypeName(type)) return type;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown key type \"", absl::CHexEscape(name),
                   "\"; want ec-p256, ec-p384, rsa-2048 or rsa-4096"));
}

absl::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return "ec-p256";
    case KeyType::kEcP384:
      return "ec-p384";
    case KeyType::kRsa2048:
      return "rsa-2048";
    case KeyType::kRsa4096:
      return "rsa-4096";
  }
  return "unknown";
}

absl::StatusOr<std::string> GeneratePrivateKey(KeyType type) {
  keyspb::Specification spec;
  switch (type) {
    case KeyType::kEcP256:
      spec.mutable_ecdsa_params()->set_curve(
          keyspb::Specification::ECDSA::P256);
      break;
    case KeyType::kEcP384:
      spec.mutable_ecdsa_params()->set_curve(
          keyspb::Specification::ECDSA::P384);
      break;
    case KeyType::kRsa2048:
      spec.mutable_rsa_params()->set_bits(2048);
      break;
    case KeyType::kRsa4096:
      spec.mutable_rsa_params()->set_bits(4096);
      break;
  }
  absl::StatusOr<crypto::PrivateKey> key = crypto::GenerateKey(spec);
  if (!key.ok()) return key.status();
  return crypto::MarshalPrivateKey(**key);
}

namespace {

// One DER element: where it starts, its contents and its end.
struct Tlv {
  int tag = 0;
  int tag_class = 0;
  bool constructed = false;
  const unsigned char *start = nullptr;
  const unsigned char *content = nullptr;
  const unsigned char *end = nullptr;
};

// Reads the element at `p` (advancing it) within `limit`; false unless it
// is well-formed definite-length DER that ends within `limit`.
bool ReadTlv(const unsigned char *&p, const unsigned char *limit, Tlv &out) {
  if (p >= limit) return false;
  out.start = p;
  long length = 0;
  const int flags =
      ASN1_get_object(&p, &length, &out.tag, &out.tag_class, limit - p);
  if ((flags & 0x80) != 0 || (flags & 0x01) != 0) {  // Error, or indefinite.
    ERR_clear_error();
    return false;
  }
  out.constructed = (flags & V_ASN1_CONSTRUCTED) != 0;
  out.content = p;
  out.end = p + length;
  if (out.end > limit) return false;
  p = out.end;
  return true;
}

bool IsUniversal(const Tlv &tlv, int tag, bool constructed) {
  return tlv.tag_class == V_ASN1_UNIVERSAL && tlv.tag == tag &&
         tlv.constructed == constructed;
}

// The bits of a BIT STRING element with no unused bits.
bool WholeBits(const Tlv &tlv, absl::string_view &bits) {
  if (!IsUniversal(tlv, V_ASN1_BIT_STRING, false) || tlv.end == tlv.content ||
      tlv.content[0] != 0) {
    return false;
  }
  bits = absl::string_view(reinterpret_cast<const char *>(tlv.content + 1),
                           tlv.end - tlv.content - 1);
  return true;
}

absl::Status MalformedCsr(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("cannot parse DER CSR: ", what));
}

// The decoded EC key of an id-ecPublicKey SPKI with a named curve, built
// from its parameters (OpenSSL 3.0 decodes keys through a decoder chain it
// builds anew for each key, several times dearer than the rest of a CSR);
// nullopt for other key types (the caller takes the general path).
absl::StatusOr<std::optional<crypto::PrivateKey>> EcKeyOf(const Tlv &spki) {
  const unsigned char *p = spki.content;
  Tlv algorithm, key_bits;
  if (!ReadTlv(p, spki.end, algorithm) ||
      !IsUniversal(algorithm, V_ASN1_SEQUENCE, true) ||
      !ReadTlv(p, spki.end, key_bits) || p != spki.end) {
    return MalformedCsr("subject public key info");
  }
  const unsigned char *a = algorithm.content;
  Tlv oid, curve;
  if (!ReadTlv(a, algorithm.end, oid) ||
      !IsUniversal(oid, V_ASN1_OBJECT, false)) {
    return MalformedCsr("key algorithm");
  }
  // 1.2.840.10045.2.1 (id-ecPublicKey).
  static constexpr unsigned char kEcPublicKey[] = {0x2a, 0x86, 0x48, 0xce,
                                                   0x3d, 0x02, 0x01};
  if (static_cast<size_t>(oid.end - oid.content) != sizeof(kEcPublicKey) ||
      memcmp(oid.content, kEcPublicKey, sizeof(kEcPublicKey)) != 0 ||
      !ReadTlv(a, algorithm.end, curve) ||
      !IsUniversal(curve, V_ASN1_OBJECT, false) || a != algorithm.end) {
    return std::nullopt;  // Not an EC key with a named curve.
  }
  const unsigned char *c = curve.start;
  std::unique_ptr<ASN1_OBJECT, Free<ASN1_OBJECT_free>> curve_oid(
      d2i_ASN1_OBJECT(nullptr, &c, curve.end - curve.start));
  const int nid =
      curve_oid == nullptr ? NID_undef : OBJ_obj2nid(curve_oid.get());
  if (nid != NID_X9_62_prime256v1 && nid != NID_secp384r1 &&
      nid != NID_secp521r1) {
    ERR_clear_error();
    return std::nullopt;
  }
  absl::string_view point;
  if (!WholeBits(key_bits, point)) return MalformedCsr("public key bits");
  char *group = const_cast<char *>(OBJ_nid2sn(nid));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                        const_cast<char *>(point.data()),
                                        point.size()),
      OSSL_PARAM_construct_end()};
  std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX_free>> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY *key = nullptr;
  // The import checks that the point is on the curve.
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("CSR public key is unusable");
  }
  return crypto::PrivateKey(key);
}

// The extensions of the CSR's extensionRequest attribute (null if none).
absl::StatusOr<ExtensionsPtr> RequestedExtensions(const Tlv &attributes) {
  ExtensionsPtr found;
  const unsigned char *p = attributes.content;
  while (p < attributes.end) {
    Tlv element;
    if (!ReadTlv(p, attributes.end, element)) return MalformedCsr("attributes");
    const unsigned char *e = element.start;
    std::unique_ptr<X509_ATTRIBUTE, Free<X509_ATTRIBUTE_free>> attribute(
        d2i_X509_ATTRIBUTE(nullptr, &e, element.end - element.start));
    if (attribute == nullptr || e != element.end) {
      ERR_clear_error();
      return MalformedCsr("attribute");
    }
    if (OBJ_obj2nid(X509_ATTRIBUTE_get0_object(attribute.get())) !=
        NID_ext_req) {
      continue;
    }
    const ASN1_TYPE *value = X509_ATTRIBUTE_get0_type(attribute.get(), 0);
    if (found != nullptr || X509_ATTRIBUTE_count(attribute.get()) != 1 ||
        value == nullptr || value->type != V_ASN1_SEQUENCE) {
      return absl::InvalidArgumentError("CSR has malformed extensions");
    }
    const unsigned char *x = value->value.sequence->data;
    found.reset(
        d2i_X509_EXTENSIONS(nullptr, &x, value->value.sequence->length));
    if (found == nullptr ||
        x != value->value.sequence->data + value->value.sequence->length) {
      ERR_clear_error();
      return absl::InvalidArgumentError("CSR has malformed extensions");
    }
  }
  return found;
}

// The URI and DNS names of `exts`' subjectAltName.
absl::Status CollectRequestedNames(const STACK_OF(X509_EXTENSION) * exts,
                                   CertificateRequest &out) {
  if (exts == nullptr) return absl::OkStatus();
  int critical = -1;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES *>(
      X509V3_get_d2i(exts, NID_subject_alt_name, &critical, nullptr)));
  if (names == nullptr) {
    if (critical == -2) {
      return absl::InvalidArgumentError(
          "CSR has two subjectAltName extensions");
    }
    if (critical >= 0) {
      return absl::InvalidArgumentError("CSR has a malformed subjectAltName: " +
                                        OpenSslError());
    }
    return absl::OkStatus();
  }
  CollectNames(names.get(), &out.uri_sans, &out.dns_sans);
  return absl::OkStatus();
}

// ParseCsr for EC keys on named curves, without OpenSSL's key decoders;
// nullopt for other keys.
absl::StatusOr<std::optional<CertificateRequest>> ParseEcCsr(
    absl::string_view csr_der, bool check_signature) {
  const unsigned char *p = Bytes(csr_der);
  const unsigned char *const limit = p + csr_der.size();
  Tlv request, info, signature_algorithm, signature;
  if (!ReadTlv(p, limit, request) ||
      !IsUniversal(request, V_ASN1_SEQUENCE, true) || p != limit) {
    return MalformedCsr("not a DER SEQUENCE");
  }
  const unsigned char *r = request.content;
  if (!ReadTlv(r, request.end, info) ||
      !IsUniversal(info, V_ASN1_SEQUENCE, true) ||
      !ReadTlv(r, request.end, signature_algorithm) ||
      !IsUniversal(signature_algorithm, V_ASN1_SEQUENCE, true) ||
      !ReadTlv(r, request.end, signature) || r != request.end) {
    return MalformedCsr("certification request");
  }
  const unsigned char *i = info.content;
  Tlv version, subject, spki, attributes;
  if (!ReadTlv(i, info.end, version) ||
      !IsUniversal(version, V_ASN1_INTEGER, false) ||
      version.end - version.content != 1 || version.content[0] != 0 ||
      !ReadTlv(i, info.end, subject) || !ReadTlv(i, info.end, spki) ||
      !IsUniversal(spki, V_ASN1_SEQUENCE, true)) {
    return MalformedCsr("request info");
  }
  const unsigned char *s = subject.start;
  std::unique_ptr<X509_NAME, Free<X509_NAME_free>> name(
      d2i_X509_NAME(nullptr, &s, subject.end - subject.start));
  if (name == nullptr || s != subject.end) {
    ERR_clear_error();
    return MalformedCsr("subject");
  }
  bool has_attributes = false;
  if (i != info.end) {
    if (!ReadTlv(i, info.end, attributes) ||
        attributes.tag_class != V_ASN1_CONTEXT_SPECIFIC ||
        attributes.tag != 0 || !attributes.constructed || i != info.end) {
      return MalformedCsr("attributes");
    }
    has_attributes = true;
  }
  absl::StatusOr<std::optional<crypto::PrivateKey>> key = EcKeyOf(spki);
  if (!key.ok()) return key.status();
  if (!key->has_value()) return std::nullopt;

  if (check_signature) {
    const unsigned char *a = signature_algorithm.start;
    std::unique_ptr<X509_ALGOR, Free<X509_ALGOR_free>> algorithm(d2i_X509_ALGOR(
        nullptr, &a, signature_algorithm.end - signature_algorithm.start));
    int digest_nid = NID_undef, key_nid = NID_undef;
    absl::string_view signature_bits;
    if (algorithm == nullptr ||
        !OBJ_find_sigid_algs(OBJ_obj2nid(algorithm->algorithm), &digest_nid,
                             &key_nid) ||
        key_nid != NID_X9_62_id_ecPublicKey ||
        !WholeBits(signature, signature_bits)) {
      ERR_clear_error();
      return absl::InvalidArgumentError("CSR signature does not verify");
    }
    const EVP_MD *digest = EVP_get_digestbynid(digest_nid);
    std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>> verify(EVP_MD_CTX_new());
    if (digest == nullptr || verify == nullptr ||
        EVP_DigestVerifyInit(verify.get(), nullptr, digest, nullptr,
                             key->value().get()) != 1 ||
        EVP_DigestVerify(verify.get(), Bytes(signature_bits),
                         signature_bits.size(), info.start,
                         info.end - info.start) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError("CSR signature does not verify");
    }
  }
  CertificateRequest out;
  out.public_key_der.assign(reinterpret_cast<const char *>(spki.start),
                            spki.end - spki.start);
  if (has_attributes) {
    absl::StatusOr<ExtensionsPtr> exts = RequestedExtensions(attributes);
    if (!exts.ok()) return exts.status();
    if (absl::Status st = CollectRequestedNames(exts->get(), out); !st.ok()) {
      return st;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<CertificateRequest> ParseCsr(absl::string_view csr_der,
                                            bool check_signature) {
  if (csr_der.empty()) return absl::InvalidArgumentError("CSR is empty");
  if (csr_der.size() > kMaxCsrSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CSR is ", csr_der.size(), " bytes; the limit is ", kMaxCsrSize));
  }
  absl::StatusOr<std::optional<CertificateRequest>> ec =
      ParseEcCsr(csr_der, check_signature);
  if (!ec.ok()) return ec.status();
  if (ec->has_value()) return std::move(**ec);

  // Other key types (RSA, Ed25519) through OpenSSL's own parser.
  const unsigned char *p = Bytes(csr_der);
  X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(csr_der.size())));
  if (req == nullptr || p != Bytes(csr_der) + csr_der.size()) {
    return absl::InvalidArgumentError("cannot parse DER CSR: " +
                                      OpenSslError());
  }
  EVP_PKEY *key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr) {
    return absl::InvalidArgumentError("CSR public key is unusable: " +
                                      OpenSslError());
  }
  if (check_signature && X509_REQ_verify(req.get(), key) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("CSR signature does not verify");
  }
  CertificateRequest out;
  unsigned char *spki = nullptr;
  const int spki_length =
      i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(req.get()), &spki);
  if (spki_length <= 0) {
    return absl::InternalError("CSR public key: " + OpenSslError());
  }
  out.public_key_der.assign(reinterpret_cast<char *>(spki), spki_length);
  OPENSSL_free(spki);

  ExtensionsPtr exts(X509_REQ_get_extensions(req.get()));
  if (exts == nullptr &&
      X509_REQ_get_attr_by_NID(req.get(), NID_ext_req, -1) >= 0) {
    // Null is also how some OpenSSL versions say "no extensions".
    return absl::InvalidArgumentError("CSR has malformed extensions: " +
                                      OpenSslError());
  }
  ERR_clear_error();
  if (absl::Status st = CollectRequestedNames(exts.get(), out); !st.ok()) {
    return st;
  }
  return out;
}

namespace {

// `spec` (keys, issuer, validity set) completed as SPIRE's CAs are: a random
// serial, subject C=US, O=SPIFFE, serialNumber; the trust domain's ID.
absl::StatusOr<std::string> BuildCaCertificate(CertSpec spec,
                                               absl::string_view trust_domain) {
  absl::StatusOr<BignumPtr> serial = RandomSerial();
  if (!serial.ok()) return serial.status();
  absl::StatusOr<std::string> serial_text = Decimal(serial->get());
  if (!serial_text.ok()) return serial_text.status();
  spec.serial = serial->get();
  spec.subject = {{NID_countryName, "US"},
                  {NID_organizationName, "SPIFFE"},
                  {NID_serialNumber, *serial_text}};
  spec.is_ca = true;
  spec.uri = spiffe::SpiffeId{std::string(trust_domain), ""}.ToString();
  absl::StatusOr<X509Ptr> cert = BuildCertificate(spec);
  if (!cert.ok()) return cert.status();
  return ToDer(cert->get());
}

}  // namespace

absl::StatusOr<std::string> CreateSelfSignedCa(absl::string_view key_der,
                                               absl::string_view trust_domain,
                                               absl::Time now,
                                               absl::Duration ttl) {
  if (ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("CA TTL must be positive");
  }
  absl::StatusOr<std::string> td = spiffe::ValidateTrustDomain(trust_domain);
  if (!td.ok()) return td.status();
  absl::StatusOr<crypto::PrivateKey> key = crypto::ParsePrivateKey(key_der);
  if (!key.ok()) return key.status();
  absl::StatusOr<const EVP_MD *> digest = SigningDigest(**key);
  if (!digest.ok()) return digest.status();
  CertSpec spec;
  spec.public_key = key->get();
  spec.validity = {now - kNotBeforeCushion, now + ttl};
  spec.signing_key = key->get();
  spec.digest = *digest;
  return BuildCaCertificate(std::move(spec), *td);
}

absl::StatusOr<std::string> SignDownstreamCa(const ParsedIssuer &issuer,
                                             absl::string_view public_key_der,
                                             absl::Time now,
                                             absl::Duration ttl) {
  if (ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("CA TTL must be positive");
  }
  if (public_key_der.empty()) {
    return absl::InvalidArgumentError("missing public key");
  }
  const absl::Time not_after = std::min(now + ttl, issuer.not_after);
  if (not_after <= now) {
    return absl::FailedPreconditionError(
        absl::StrCat("issuer expired at ", absl::FormatTime(issuer.not_after)));
  }
  CertSpec spec;
  spec.issuer_name = X509_get_subject_name(issuer.cert.get());
  spec.public_key_spki = public_key_der;
  spec.validity = {now - kNotBeforeCushion, not_after};
  spec.authority_key_id = X509_get0_subject_key_id(issuer.cert.get());
  spec.signing_key = issuer.key.get();
  spec.digest = issuer.digest;
  return BuildCaCertificate(std::move(spec), issuer.trust_domain);
}

absl::StatusOr<ParsedIssuer> ParseIssuer(const Issuer &issuer) {
  return ParseIssuerFor(issuer, "");
}

absl::StatusOr<ParsedIssuer> ParseIssuerFor(const Issuer &issuer,
                                            absl::string_view trust_domain) {
  absl::StatusOr<X509Ptr> ca = ParseCertificate(issuer.cert_der);
  if (!ca.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("issuer: ", ca.status().message()));
  }
  absl::StatusOr<crypto::PrivateKey> ca_key =
      crypto::ParsePrivateKey(issuer.key_der);
  if (!ca_key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("issuer: ", ca_key.status().message()));
  }
  if (X509_check_private_key(ca->get(), ca_key->get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "issuer key does not match the issuer certificate");
  }
  // Also false for a CA whose keyUsage lacks keyCertSign.
  if (X509_check_ca(ca->get()) == 0) {
    return absl::InvalidArgumentError("issuer certificate is not a CA");
  }
  absl::StatusOr<const EVP_MD *> digest = SigningDigest(**ca_key);
  if (!digest.ok()) return digest.status();
  absl::StatusOr<absl::Time> ca_not_after =
      GetTime(X509_get0_notAfter(ca->get()));
  if (!ca_not_after.ok()) return ca_not_after.status();
  ParsedIssuer parsed;
  parsed.cert_der = issuer.cert_der;
  parsed.digest = *digest;
  parsed.not_after = *ca_not_after;
  if (!trust_domain.empty()) {
    // An upstream CA: any CA, signing for our trust domain.
    parsed.trust_domain = std::string(trust_domain);
    parsed.cert = std::shared_ptr<X509>(ca->release(), X509_free);
    parsed.key = std::shared_ptr<EVP_PKEY>(ca_key->release(), EVP_PKEY_free);
    return parsed;
  }
  // SVIDs are only valid when signed by an authority of their trust domain.
  std::vector<std::string> ca_uris, ca_dns;
  GeneralNamesPtr ca_names(static_cast<GENERAL_NAMES *>(
      X509_get_ext_d2i(ca->get(), NID_subject_alt_name, nullptr, nullptr)));
  if (ca_names != nullptr) CollectNames(ca_names.get(), &ca_uris, &ca_dns);
  if (ca_uris.size() != 1) {
    return absl::InvalidArgumentError(
        "issuer certificate must have exactly one URI SAN (its SPIFFE ID)");
  }
  absl::StatusOr<spiffe::SpiffeId> ca_id = spiffe::ParseSpiffeId(ca_uris[0]);
  if (!ca_id.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("issuer: ", ca_id.status().message()));
  }
  parsed.cert = std::shared_ptr<X509>(ca->release(), X509_free);
  parsed.key = std::shared_ptr<EVP_PKEY>(ca_key->release(), EVP_PKEY_free);
  parsed.trust_domain = ca_id->trust_domain;
  return parsed;
}

absl::StatusOr<IssuedCertificate> SignX509Svid(const ParsedIssuer &issuer,
                                               const SvidTemplate &svid) {
  if (svid.ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("X509-SVID TTL must be positive");
  }
  absl::StatusOr<spiffe::SpiffeId> id = spiffe::ParseSpiffeId(svid.spiffe_id);
  if (!id.ok()) return id.status();
  if (id->path.empty()) {
    return absl::InvalidArgumentError(
        "an X509-SVID ID must have a path (it is not the trust domain's ID)");
  }
  for (const std::string &dns : svid.dns_names) {
    if (absl::Status s = CheckDnsName(dns); !s.ok()) return s;
  }
  if (svid.public_key_der.empty() && svid.public_key == nullptr) {
    return absl::InvalidArgumentError("missing public key");
  }
  if (issuer.trust_domain != id->trust_domain) {
    return absl::InvalidArgumentError(
        absl::StrCat(id->ToString(), " is not in the issuer's trust domain ",
                     issuer.trust_domain));
  }
  const absl::Time not_after = std::min(svid.now + svid.ttl, issuer.not_after);
  if (not_after <= svid.now) {
    return absl::FailedPreconditionError(
        absl::StrCat("issuer expired at ", absl::FormatTime(issuer.not_after)));
  }
  absl::StatusOr<BignumPtr> serial = RandomSerial();
  if (!serial.ok()) return serial.status();

  CertSpec spec;
  spec.serial = serial->get();
  spec.subject = {{NID_countryName, "US"}, {NID_organizationName, "SPIRE"}};
  if (!svid.dns_names.empty()) {
    spec.subject.emplace_back(NID_commonName, svid.dns_names[0]);
  }
  spec.issuer_name = X509_get_subject_name(issuer.cert.get());
  spec.public_key = svid.public_key.get();
  spec.public_key_spki = svid.public_key_der;
  spec.validity = {svid.now - kNotBeforeCushion, not_after};
  spec.uri = id->ToString();
  spec.dns_names = svid.dns_names;
  spec.authority_key_id = X509_get0_subject_key_id(issuer.cert.get());
  spec.signing_key = issuer.key.get();
  spec.digest = issuer.digest;
  spec.extensions = svid.extensions;
  spec.defer_signature = svid.defer_signature;
  absl::StatusOr<X509Ptr> cert = BuildCertificate(spec);
  if (!cert.ok()) return cert.status();
  return IssuedCertificate::Wrap(cert->release(), !svid.defer_signature);
}

absl::StatusOr<IssuedCertificate> IssuedCertificate::Wrap(X509 *raw,
                                                          bool signed_now) {
  X509Ptr cert(raw);
  IssuedCertificate out;
  if (signed_now) {
    absl::StatusOr<std::string> der = ToDer(cert.get());
    if (!der.ok()) return der.status();
    out.der_ = std::move(*der);
  }
  absl::StatusOr<CertificateInfo> info = DescribeX509(cert.get());
  if (!info.ok()) return info.status();
  out.info_ = std::move(*info);
  out.cert_ = std::shared_ptr<X509>(cert.release(), X509_free);
  return out;
}

absl::StatusOr<std::string> IssuedCertificate::PrecertificateHash() const {
  return TbsHashWithoutPromise(cert_.get());
}

absl::Status IssuedCertificate::AddInclusionPromise(const ParsedIssuer &issuer,
                                                    absl::string_view promise) {
  // The logged record names the pre-certificate's hash: the final
  // certificate must keep it (a signature algorithm set ahead that signing
  // changed would break every proof).
  absl::StatusOr<std::string> before = TbsHashWithoutPromise(cert_.get());
  if (!before.ok()) return before.status();
  if (absl::Status s =
          AddPromise(cert_.get(), issuer.key.get(), issuer.digest, promise);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> after = TbsHashWithoutPromise(cert_.get());
  if (!after.ok()) return after.status();
  if (*after != *before) {
    return absl::InternalError(
        "signing changed the pre-certificate the log records");
  }
  absl::StatusOr<std::string> der = ToDer(cert_.get());
  if (!der.ok()) return der.status();
  der_ = std::move(*der);
  return absl::OkStatus();
}

absl::Status IssuedCertificate::Sign(const ParsedIssuer &issuer) {
  if (X509_sign(cert_.get(), issuer.key.get(), issuer.digest) <= 0) {
    return absl::InternalError("signing the certificate: " + OpenSslError());
  }
  absl::StatusOr<std::string> der = ToDer(cert_.get());
  if (!der.ok()) return der.status();
  der_ = std::move(*der);
  return absl::OkStatus();
}

absl::StatusOr<std::string> SignX509Svid(const Issuer &issuer,
                                         const SvidTemplate &svid) {
  absl::StatusOr<ParsedIssuer> parsed = ParseIssuer(issuer);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<IssuedCertificate> cert = SignX509Svid(*parsed, svid);
  if (!cert.ok()) return cert.status();
  return cert->der();
}

absl::StatusOr<CertificateInfo> DescribeCertificate(
    absl::string_view cert_der) {
  absl::StatusOr<X509Ptr> cert = ParseCertificate(cert_der);
  if (!cert.ok()) return cert.status();
  return DescribeX509(cert->get());
}

absl::StatusOr<std::string> PrecertificateHash(absl::string_view cert_der) {
  absl::StatusOr<X509Ptr> cert = ParseCertificate(cert_der);
  if (!cert.ok()) return cert.status();
  return TbsHashWithoutPromise(cert->get());
}

absl::StatusOr<std::string> AddInclusionPromise(
    absl::string_view cert_der, absl::string_view issuer_key_der,
    absl::string_view promise) {
  absl::StatusOr<X509Ptr> cert = ParseCertificate(cert_der);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::ParsePrivateKey(issuer_key_der);
  if (!key.ok()) return key.status();
  absl::StatusOr<const EVP_MD *> digest = SigningDigest(**key);
  if (!digest.ok()) return digest.status();
  if (absl::Status s = AddPromise(cert->get(), key->get(), *digest, promise);
      !s.ok()) {
    return s;
  }
  return ToDer(cert->get());
}

absl::Status CheckOid(absl::string_view oid) {
  // OBJ_txt2obj also takes names ("commonName"); only dotted text is meant.
  if (oid.empty() || oid.find_first_not_of("0123456789.") != oid.npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", absl::CHexEscape(oid), "\" is not a dotted OID"));
  }
  return ParseOid(oid).status();
}

absl::StatusOr<std::string> ExtensionValue(absl::string_view cert_der,
                                           absl::string_view oid) {
  absl::StatusOr<X509Ptr> cert = ParseCertificate(cert_der);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<ObjectPtr> object = ParseOid(oid);
  if (!object.ok()) return object.status();
  const int index = X509_get_ext_by_OBJ(cert->get(), object->get(), -1);
  if (index < 0) return absl::NotFoundError(absl::StrCat("no extension ", oid));
  const ASN1_OCTET_STRING *value =
      X509_EXTENSION_get_data(X509_get_ext(cert->get(), index));
  return std::string(
      reinterpret_cast<const char *>(ASN1_STRING_get0_data(value)),
      ASN1_STRING_length(value));
}

absl::StatusOr<std::string> InclusionPromiseOf(absl::string_view cert_der) {
  absl::StatusOr<std::string> promise =
      ExtensionValue(cert_der, kInclusionPromiseOid);
  if (absl::IsNotFound(promise.status())) {
    return absl::NotFoundError("no inclusion promise");
  }
  return promise;
}

absl::StatusOr<Validity> GetValidity(absl::string_view cert_der) {
  absl::StatusOr<X509Ptr> cert = ParseCertificate(cert_der);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<absl::Time> not_before =
      GetTime(X509_get0_notBefore(cert->get()));
  if (!not_before.ok()) return not_before.status();
  absl::StatusOr<absl::Time> not_after =
      GetTime(X509_get0_notAfter(cert->get()));
  if (!not_after.ok()) return not_after.status();
  return Validity{*not_before, *not_after};
}

absl::StatusOr<absl::Time> NotAfter(absl::string_view cert_der) {
  absl::StatusOr<Validity> validity = GetValidity(cert_der);
  if (!validity.ok()) return validity.status();
  return validity->not_after;
}

absl::StatusOr<std::string> SerialNumber(absl::string_view cert_der) {
  absl::StatusOr<X509Ptr> cert = ParseCertificate(cert_der);
  if (!cert.ok()) return cert.status();
  BignumPtr bn(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert->get()), nullptr));
  if (bn == nullptr) return absl::InvalidArgumentError("malformed serial");
  return Decimal(bn.get());
}

absl::StatusOr<std::string> SubjectKeyId(absl::string_view cert_der) {
  absl::StatusOr<X509Ptr> cert = ParseCertificate(cert_der);
  if (!cert.ok()) return cert.status();
  const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(cert->get());
  if (ski == nullptr) {
    return absl::NotFoundError("certificate has no subject key identifier");
  }
  return std::string(reinterpret_cast<const char *>(ASN1_STRING_get0_data(ski)),
                     ASN1_STRING_length(ski));
}

absl::StatusOr<std::vector<std::string>> CertificatesFromPem(
    absl::string_view pem, size_t max) {
  std::unique_ptr<BIO, Free<BIO_free>> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return absl::InternalError("BIO_new_mem_buf");
  std::vector<std::string> out;
  while (out.size() < max) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) break;
    absl::StatusOr<std::string> der = ToDer(cert.get());
    if (!der.ok()) return der.status();
    out.push_back(std::move(*der));
  }
  ERR_clear_error();  // The end of the text reads as an error.
  if (out.empty()) {
    return absl::InvalidArgumentError("no PEM certificate found");
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> CertificatesFromDer(
    absl::string_view concatenated, size_t max) {
  std::vector<std::string> out;
  const unsigned char *p =
      reinterpret_cast<const unsigned char *>(concatenated.data());
  const unsigned char *end = p + concatenated.size();
  while (p < end) {
    if (out.size() == max) {
      return absl::InvalidArgumentError("too many certificates");
    }
    const unsigned char *start = p;
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(end - p)));
    if (cert == nullptr) {
      ERR_clear_error();
      return absl::InvalidArgumentError("not concatenated DER certificates");
    }
    out.emplace_back(reinterpret_cast<const char *>(start), p - start);
  }
  if (out.empty()) return absl::InvalidArgumentError("no certificate");
  return out;
}

std::string DerToPem(absl::string_view der, absl::string_view label) {
  const std::string b64 = absl::Base64Escape(der);
  std::string out = absl::StrCat("-----BEGIN ", label, "-----\n");
  for (size_t i = 0; i < b64.size(); i += 64) {
    absl::StrAppend(&out, b64.substr(i, 64), "\n");
  }
  absl::StrAppend(&out, "-----END ", label, "-----\n");
  return out;
}

}  // namespace trellis::ca
