// The trust domain's certificate authority: CA slots that rotate as
// upstream SPIRE's do (a prepared CA enters the bundle before it signs
// anything, so agents hold the new root in time), X509-SVID signing, and the
// trust bundle. CA keys are stored wrapped (KeyStore::Wrap with key id
// "ca/<slot>", JWT keys "jwt/<slot>") and never leave through an API.
#ifndef TRELLIS_CA_CA_MANAGER_H_
#define TRELLIS_CA_CA_MANAGER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ca/svid_verify.h"
#include "ca/x509.h"
#include "crypto/key_wrapping.h"
#include "spire/api/types/bundle.pb.h"
#include "storage/identity_storage.h"
#include "util/lru_cache.h"

namespace trellis::ca {

struct CaOptions {
  std::string trust_domain;  // Bare name, already validated.
  KeyType key_type = KeyType::kEcP256;
  absl::Duration ca_ttl = absl::Hours(24);
  absl::Duration default_x509_svid_ttl = absl::Hours(1);
  absl::Duration default_jwt_svid_ttl = absl::Minutes(5);
  // How often bundle consumers are told to refresh.
  absl::Duration bundle_refresh_hint = absl::Minutes(5);
  // An upstream CA that signs each of our CAs (as SPIRE's "disk" upstream
  // authority): the trust domain's roots are then `upstream_roots`, and
  // SVID chains carry our CA and `upstream_chain` up to them.
  std::shared_ptr<const ParsedIssuer> upstream;
  std::vector<std::string> upstream_chain;  // DER, the upstream CA first;
                                            // empty if it is a root.
  std::vector<std::string> upstream_roots;  // DER.
};

// How CA keys are kept at rest (the key store's Wrap / Unwrap).
using KeyWrapping = crypto::KeyWrapping;

// Bytes of verified caller chains kept (a chain is a few KiB).
inline constexpr size_t kVerifiedChainCacheBytes = 16 << 20;

class CaManager {
 public:
  using Clock = std::function<absl::Time()>;

  // Loads the stored slots and rotates once (creating the first CA).
  static absl::StatusOr<std::unique_ptr<CaManager>> Create(
      storage::IdentityStorage* storage, CaOptions options,
      KeyWrapping wrapping, Clock clock = absl::Now);

  // Prepares the next CA when the active one is past min(lifetime/2, 30 d)
  // before its end, activates it at min(lifetime/6, 7 d) before, prunes CAs
  // a day after they expire. Call periodically.
  absl::Status Rotate();

  // An X509-SVID chain (leaf first) for `public_key_der` (SPKI). ttl zero:
  // the default; always capped at the CA's end.
  absl::StatusOr<std::vector<std::string>> SignX509Svid(
      const std::string& spiffe_id, const std::string& public_key_der,
      const std::vector<std::string>& dns_names, absl::Duration ttl);

  // The same in two steps, for certificates that carry an inclusion promise
  // of their own log record: the pre-certificate (signed, without the
  // promise), then the final certificate with the promise, signed by the
  // same CA even if another became active in between.
  struct Precertificate {
    IssuedCertificate cert;
    std::shared_ptr<const ParsedIssuer> issuer;
    std::string issuer_key_id;  // The CA's SKI.
    // What the chain needs above the leaf (DER; empty for a self-signed CA).
    std::vector<std::string> intermediates;
  };
  // `public_key_der` is the SPKI of a key already checked (a parsed CSR's).
  absl::StatusOr<Precertificate> PrepareX509Svid(
      const std::string& spiffe_id, const std::string& public_key_der,
      const std::vector<std::string>& dns_names, absl::Duration ttl,
      const std::vector<RawExtension>& extensions = {});
  // The final certificate's DER: the pre-certificate (unsigned so far)
  // with `promise`, or as it is if `promise` is empty, signed.
  absl::StatusOr<std::string> FinishX509Svid(Precertificate& precert,
                                             absl::string_view promise);

  // A CA certificate for a downstream server's key, signed by the active CA
  // (ttl zero: the CA TTL), and the trust domain's roots it chains to.
  struct DownstreamCa {
    std::vector<std::string> chain;  // DER, the new CA first.
    std::vector<std::string> roots;
    std::string issuer_key_id;
  };
  absl::StatusOr<DownstreamCa> SignDownstreamCa(
      const std::string& public_key_der, absl::Duration ttl);

  struct JwtSvid {
    std::string token;
    absl::Time issued_at;
    absl::Time expires_at;
  };
  // A JWT-SVID signed with the active CA's JWT key. ttl zero: the default;
  // always capped at the key's end.
  absl::StatusOr<JwtSvid> SignJwtSvid(const std::string& spiffe_id,
                                      const std::vector<std::string>& audiences,
                                      absl::Duration ttl);

  // The trust domain's bundle: every current root (prepared included), with
  // a sequence number that grows whenever the roots change.
  spire::api::types::Bundle Bundle() const;
  std::vector<std::string> X509Roots() const;

  // Adds authorities to the trust domain's bundle beside the CA's own (e.g.
  // an upstream's roots): X.509 roots are trusted for callers too, JWT keys
  // go to the bundle. Already-present ones are skipped; kept durably. The
  // caller validates them. Returns the new bundle.
  absl::StatusOr<spire::api::types::Bundle> AppendAuthorities(
      const std::vector<std::string>& x509_authorities,
      const std::vector<spire::api::types::JWTKey>& jwt_authorities);

  // VerifySvidChain against the current roots, remembered per chain until
  // the roots change: agents present the same SVID on every call, and
  // decoding and verifying it each time costs more than the call.
  absl::StatusOr<VerifiedSvid> VerifyCallerChain(const std::string& chain_pem);
  // kid -> PKIX DER public key of every current JWT key.
  absl::flat_hash_map<std::string, std::string> JwtAuthorities() const;

  const CaOptions& options() const { return options_; }
  absl::Time Now() const { return clock_(); }

  // Operator control of the authorities (SPIRE's LocalAuthority API, for
  // rotations forced by a compromise). A slot holds one X.509 CA and one
  // JWT key that are prepared and activated together, so preparing or
  // activating either kind acts on both; tainting and revoking act on one
  // kind. X.509 authority ids are the CA's subject key id in lower-case
  // hex, JWT ones the key id. Errors are INVALID_ARGUMENT with upstream's
  // wording, FAILED_PRECONDITION where an upstream CA forbids the action.
  enum class AuthorityKind { kX509, kJwt };
  struct AuthorityState {
    std::string authority_id;
    absl::Time expires_at;
    std::string upstream_authority_subject_key_id;  // Hex; empty if none.
  };
  struct AuthorityStates {
    std::optional<AuthorityState> active;
    std::optional<AuthorityState> prepared;
    std::optional<AuthorityState> old;  // The most recent one.
  };
  AuthorityStates GetAuthorityStates(AuthorityKind kind) const;
  // A new prepared slot (in the bundle, not yet signing), replacing any
  // prepared one.
  absl::StatusOr<AuthorityState> PrepareAuthority(AuthorityKind kind);
  // The prepared slot `id` signs from now on; the active one becomes old.
  absl::StatusOr<AuthorityState> ActivateAuthority(AuthorityKind kind,
                                                   absl::string_view id);
  // Flags an old authority tainted in the bundle: agents replace what it
  // signed. It still authenticates callers until it is revoked.
  absl::StatusOr<AuthorityState> TaintAuthority(AuthorityKind kind,
                                                absl::string_view id);
  // Removes a tainted old authority from the bundle and from the roots.
  absl::StatusOr<AuthorityState> RevokeAuthority(AuthorityKind kind,
                                                 absl::string_view id);
  // Why the upstream CA `subject_key_id` (hex) cannot be tainted or
  // revoked: the upstream CA from files never changes, so it signed the
  // active CA too (or there is none). Always an error.
  absl::Status RefuseUpstreamAuthorityChange(
      absl::string_view subject_key_id) const;

 private:
  struct Slot {
    trellis::CaSlot record;
    // Unwrapped and decoded, in memory only.
    std::shared_ptr<const ParsedIssuer> issuer;
    std::string issuer_key_id;
    SharedKey jwt_key;
    std::vector<std::string> intermediates;  // Above the leaf, DER.
  };
  // What signing with the active slot needs (not its whole record: this is
  // on every issuance); UNAVAILABLE if there is none.
  struct ActiveCa {
    std::shared_ptr<const ParsedIssuer> issuer;
    std::string issuer_key_id;
    std::vector<std::string> intermediates;  // Empty for a self-signed CA.
  };
  absl::StatusOr<ActiveCa> Active() const;
  CaManager(storage::IdentityStorage* storage, CaOptions options,
            KeyWrapping wrapping, Clock clock);
  absl::StatusOr<Slot> NewSlot(absl::Time now, trellis::CaSlot::State state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A slot record with its keys unwrapped and decoded.
  absl::StatusOr<Slot> LoadSlot(trellis::CaSlot record) const;
  absl::Status PersistLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LoadAuthorityChanges();
  // The operator's changes to the slots: counted durably first (the bundle
  // sequence must grow), then persisted.
  absl::Status PersistAuthorityChangeLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  AuthorityState StateOf(const Slot& slot, AuthorityKind kind) const;
  // The slot in `state` whose `kind` authority is `id`, or null.
  Slot* FindSlotLocked(trellis::CaSlot::State state, AuthorityKind kind,
                       absl::string_view id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Checks shared by taint and revoke: `id` names an old authority.
  absl::StatusOr<Slot*> OldSlotLocked(AuthorityKind kind, absl::string_view id,
                                      absl::string_view verb)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  storage::IdentityStorage* const storage_;
  const CaOptions options_;
  const KeyWrapping wrapping_;
  const Clock clock_;
  mutable absl::Mutex mu_;
  std::vector<Slot> slots_ ABSL_GUARDED_BY(mu_);
  // Highest slot number ever used: slot ids and the bundle sequence.
  uint64_t last_slot_ ABSL_GUARDED_BY(mu_) = 0;
  // Authorities appended to the bundle (AppendAuthorities), and how many
  // appends changed it: part of the bundle's sequence number.
  spire::api::types::Bundle appended_ ABSL_GUARDED_BY(mu_);
  uint64_t appends_ ABSL_GUARDED_BY(mu_) = 0;
  // Grows whenever the set of roots changes (pruning included).
  uint64_t roots_version_ ABSL_GUARDED_BY(mu_) = 0;
  // Operator changes to the slots (taints, revocations), kept durably:
  // part of the bundle's sequence number.
  uint64_t authority_changes_ ABSL_GUARDED_BY(mu_) = 0;
  // Hex subject key id of the upstream CA, if there is one.
  std::string upstream_ski_;
  LruCache<VerifiedSvid> verified_chains_{kVerifiedChainCacheBytes};
};

}  // namespace trellis::ca

#endif  // TRELLIS_CA_CA_MANAGER_H_
