// Tree signing keys: generation, DER encoding and parsing (OpenSSL).
#ifndef TRELLIS_CRYPTO_KEYS_H_
#define TRELLIS_CRYPTO_KEYS_H_

#include <openssl/evp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/keyspb/keyspb.pb.h"
#include "crypto/sigpb/sigpb.pb.h"

namespace trellis::crypto {

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PrivateKey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// Generates a key as `spec` asks: ECDSA (P-256 unless another curve is named),
// RSA (2048 bits unless more are asked; fewer than 2048 are refused) or
// Ed25519. An empty spec means ECDSA P-256.
absl::StatusOr<PrivateKey> GenerateKey(const keyspb::Specification& spec);
// An RSA key of `bits` with `primes` prime factors (RFC 8017 multi-prime:
// private operations about (primes/2)^2 times faster by CRT, public ones
// and signatures unchanged; FIPS 186-5 allows only 2).
absl::StatusOr<PrivateKey> GenerateRsaKey(int bits, int primes);

// PKCS#8 DER of a private key.
absl::StatusOr<std::string> MarshalPrivateKey(const EVP_PKEY& key);

// Parses a DER private key: PKCS#8, or the SEC1 / PKCS#1 forms.
absl::StatusOr<PrivateKey> ParsePrivateKey(absl::string_view der);

// Parses a PEM private key (any of the forms above), optionally encrypted.
absl::StatusOr<PrivateKey> ParsePrivateKeyPem(absl::string_view pem,
                                              absl::string_view password);

// Parses a public key: DER SubjectPublicKeyInfo, or PEM "PUBLIC KEY" (what
// `openssl pkey -pubout` writes). Trailing bytes after the DER are refused.
absl::StatusOr<PrivateKey> ParsePublicKey(absl::string_view pem_or_der);

// DER SubjectPublicKeyInfo of a key's public half.
absl::StatusOr<std::string> MarshalPublicKey(const EVP_PKEY& key);

// The Trillian signature algorithm a key signs with.
absl::StatusOr<sigpb::DigitallySigned::SignatureAlgorithm> SignatureAlgorithmOf(
    const EVP_PKEY& key);

// The last OpenSSL error as text, for error messages.
std::string OpenSslError();

}  // namespace trellis::crypto

#endif  // TRELLIS_CRYPTO_KEYS_H_
