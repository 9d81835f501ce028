// X.509 pieces of a SPIFFE certificate authority: CA key generation, CSR
// parsing, a self-signed root and X509-SVID leaves shaped as upstream SPIRE
// (v1.13, pkg/server/credtemplate) shapes them.
#ifndef TRELLIS_CA_X509_H_
#define TRELLIS_CA_X509_H_

#include <openssl/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace trellis::ca {

// A decoded key, shared (decoding DER is costly in OpenSSL 3, so keys on the
// issuing path are decoded once).
using SharedKey = std::shared_ptr<EVP_PKEY>;

// SPIRE's ca_key_type values.
enum class KeyType { kEcP256, kEcP384, kRsa2048, kRsa4096 };

// "ec-p256", "ec-p384", "rsa-2048" or "rsa-4096".
absl::StatusOr<KeyType> ParseKeyType(absl::string_view name);
absl::string_view KeyTypeName(KeyType type);

// A fresh private key, PKCS#8 DER.
absl::StatusOr<std::string> GeneratePrivateKey(KeyType type);

// SPIRE agents send one CSR per entry; anything bigger is not a CSR.
inline constexpr size_t kMaxCsrSize = 64 * 1024;

struct CertificateRequest {
  std::string public_key_der;  // SubjectPublicKeyInfo, as the CSR has it.
  // From the subjectAltName extension, if any; other name types are ignored.
  std::vector<std::string> uri_sans;
  std::vector<std::string> dns_sans;
};

// Parses a DER PKCS#10 request; INVALID_ARGUMENT for garbage, trailing
// bytes, more than kMaxCsrSize bytes, a malformed subjectAltName or (if
// `check_signature`) a signature that does not verify.
absl::StatusOr<CertificateRequest> ParseCsr(absl::string_view csr_der,
                                            bool check_signature);

// Backdating of NotBefore against clock skew, as upstream.
inline constexpr absl::Duration kNotBeforeCushion = absl::Seconds(10);

struct Validity {
  absl::Time not_before;
  absl::Time not_after;
};

// A self-signed root for `trust_domain` (bare or "spiffe://" form) with the
// key `key_der` (PKCS#8, SEC1 or PKCS#1 DER): subject C=US, O=SPIFFE,
// serialNumber=<serial>; URI SAN spiffe://<td>; CA:TRUE and
// keyCertSign|cRLSign (both critical); SKI and AKI; valid from
// now-kNotBeforeCushion to now+ttl. Returns DER.
absl::StatusOr<std::string> CreateSelfSignedCa(absl::string_view key_der,
                                               absl::string_view trust_domain,
                                               absl::Time now,
                                               absl::Duration ttl);

// The signing CA.
struct Issuer {
  std::string cert_der;
  std::string key_der;  // PKCS#8 (or SEC1 / PKCS#1) DER.
};

// A non-critical extension whose extnValue holds `value` as it is (no inner
// ASN.1), as the sovereign claims extension is defined.
struct RawExtension {
  std::string oid;  // Dotted text.
  std::string value;
};

struct SvidTemplate {
  std::string spiffe_id;  // Must be in the issuer's trust domain.
  // The subject key: SubjectPublicKeyInfo DER of a key already checked
  // (ParseCsr's), used as it is; or, if that is empty, the decoded key.
  std::string public_key_der;
  SharedKey public_key;
  std::vector<std::string> dns_names;  // The first is also the subject CN.
  absl::Time now;
  absl::Duration ttl;  // > 0; capped at the issuer's NotAfter.
  std::vector<RawExtension> extensions;
  // Leave the certificate unsigned (IssuedCertificate::AddInclusionPromise
  // or Sign signs it): an SVID with a promise is signed once, not twice.
  bool defer_signature = false;
};

// An X509-SVID leaf signed by `issuer`, DER: subject C=US, O=SPIRE (CN = first
// DNS name); exactly one URI SAN plus the DNS SANs; CA:FALSE and
// digitalSignature|keyEncipherment|keyAgreement (both critical); EKU
// serverAuth+clientAuth; SKI; AKI = issuer SKI; random 128-bit serial.
// INVALID_ARGUMENT for bad template fields or an unusable issuer;
// FAILED_PRECONDITION if the issuer has expired at `now`.
absl::StatusOr<std::string> SignX509Svid(const Issuer &issuer,
                                         const SvidTemplate &svid);

// The signing CA decoded and checked once (key matches the certificate, a
// CA, one SPIFFE ID): what the issuing path keeps per CA.
struct ParsedIssuer {
  std::string cert_der;
  std::shared_ptr<X509> cert;
  SharedKey key;
  const EVP_MD *digest = nullptr;
  std::string trust_domain;
  absl::Time not_after;
};
absl::StatusOr<ParsedIssuer> ParseIssuer(const Issuer &issuer);
// An upstream CA (any CA certificate and its key, e.g. an organisation's)
// signing for `trust_domain`: no SPIFFE ID required of it.
absl::StatusOr<ParsedIssuer> ParseIssuerFor(const Issuer &issuer,
                                            absl::string_view trust_domain);

// A CA certificate for a downstream server's key (SPKI DER, checked by the
// caller): the trust domain's ID as its URI SAN, keyCertSign|cRLSign, signed
// by `issuer`, NotAfter capped at the issuer's.
absl::StatusOr<std::string> SignDownstreamCa(const ParsedIssuer &issuer,
                                             absl::string_view public_key_der,
                                             absl::Time now,
                                             absl::Duration ttl);

// A certificate just signed, kept decoded so that its pre-certificate hash
// and the embedding of its inclusion promise need no decoding.
class IssuedCertificate;
absl::StatusOr<IssuedCertificate> SignX509Svid(const ParsedIssuer &issuer,
                                               const SvidTemplate &svid);

// Inclusion promises, as Certificate Transparency embeds SCTs: an issued
// certificate carries, as a non-critical extension, a log's signed promise
// that the record of its pre-certificate (the same certificate without that
// extension) is in the log. The OID extends the arc the user's
// sovereign-SVID document uses (1.3.6.1.4.1.99999.1 for claims) until
// Trellis has an enterprise number of its own; it must keep every arc
// small: Go's X.509 parser (spire-agent, go-spiffe) refuses certificates
// with an OID arc beyond 31 bits, such as UUID-based 2.25 ones.
inline constexpr char kInclusionPromiseOid[] = "1.3.6.1.4.1.99999.2.1";

// The sovereign (Unified-Identity) claims extension: the fork's current OID,
// and the one the user's sovereign-SVID document names. Its extnValue is the
// claims JSON itself.
inline constexpr char kSovereignClaimsOid[] = "1.3.6.1.4.1.55744.1.1";
inline constexpr char kLegacySovereignClaimsOid[] = "1.3.6.1.4.1.99999.1";

// INVALID_ARGUMENT unless `oid` is a dotted OID usable in extensions.
absl::Status CheckOid(absl::string_view oid);

// SHA-256 of the certificate's TBSCertificate with any inclusion promise
// removed: what a log record of the certificate names.
absl::StatusOr<std::string> PrecertificateHash(absl::string_view cert_der);

// `cert_der` (signed by the issuer of `issuer_key_der`) with `promise`
// added as the inclusion-promise extension, signed again.
absl::StatusOr<std::string> AddInclusionPromise(
    absl::string_view cert_der, absl::string_view issuer_key_der,
    absl::string_view promise);

// The extnValue of extension `oid`; NOT_FOUND without one.
absl::StatusOr<std::string> ExtensionValue(absl::string_view cert_der,
                                           absl::string_view oid);
// The promise a certificate carries; NOT_FOUND without one.
absl::StatusOr<std::string> InclusionPromiseOf(absl::string_view cert_der);

// Readers of a DER certificate (INVALID_ARGUMENT if it does not parse).
absl::StatusOr<Validity> GetValidity(absl::string_view cert_der);
absl::StatusOr<absl::Time> NotAfter(absl::string_view cert_der);
// Decimal, as SPIRE stores it (attested node cert_serial_number).
absl::StatusOr<std::string> SerialNumber(absl::string_view cert_der);
// Raw bytes of the subjectKeyIdentifier; NOT_FOUND without one.
absl::StatusOr<std::string> SubjectKeyId(absl::string_view cert_der);

// What a certificate says, for people and for checks on presented SVIDs.
struct CertificateInfo {
  std::string subject;  // RFC 2253 text.
  std::string issuer;
  std::vector<std::string> uri_sans;
  std::vector<std::string> dns_sans;
  std::string serial_number;  // Decimal.
  Validity validity;
  bool is_ca = false;
};
absl::StatusOr<CertificateInfo> DescribeCertificate(absl::string_view cert_der);

class IssuedCertificate {
 public:
  // Empty until signed (a deferred signature).
  const std::string &der() const { return der_; }
  const CertificateInfo &info() const { return info_; }
  // As the free PrecertificateHash, on the decoded certificate.
  absl::StatusOr<std::string> PrecertificateHash() const;
  // Embeds `promise` and signs (again) with `issuer` (the same CA);
  // INTERNAL if that changed the pre-certificate hash.
  absl::Status AddInclusionPromise(const ParsedIssuer &issuer,
                                   absl::string_view promise);
  // Signs a certificate whose signature was deferred, as it is.
  absl::Status Sign(const ParsedIssuer &issuer);

 private:
  friend absl::StatusOr<IssuedCertificate> SignX509Svid(
      const ParsedIssuer &issuer, const SvidTemplate &svid);
  // Takes ownership of `cert`.
  static absl::StatusOr<IssuedCertificate> Wrap(X509 *cert, bool signed_now);

  std::shared_ptr<X509> cert_;
  std::string der_;
  CertificateInfo info_;
};

// The DER certificates of a PEM text (other blocks skipped), at most
// `max`; INVALID_ARGUMENT if there is none or one does not decode.
absl::StatusOr<std::vector<std::string>> CertificatesFromPem(
    absl::string_view pem, size_t max = 64);

// The certificates of concatenated DER (as the Workload API carries
// chains and bundles); INVALID_ARGUMENT for anything else.
absl::StatusOr<std::vector<std::string>> CertificatesFromDer(
    absl::string_view concatenated, size_t max = 1024);

// PEM armour, e.g. DerToPem(der, "CERTIFICATE").
std::string DerToPem(absl::string_view der, absl::string_view label);

}  // namespace trellis::ca

#endif  // TRELLIS_CA_X509_H_
