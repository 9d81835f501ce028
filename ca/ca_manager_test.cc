#include "ca/ca_manager.h"

#include "absl/strings/escaping.h"
#include "ca/jwt.h"
#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "storage/rocksdb/identity_storage.h"
#include "util/test_util.h"

namespace trellis::ca {
namespace {

class CaManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(storage::rocksdb::Database::Open({dir_.path()}).value());
    storage_ =
        std::make_unique<storage::rocksdb::RocksIdentityStorage>(db_.get());
  }
  std::unique_ptr<CaManager> Open() {
    CaOptions options;
    options.trust_domain = "example.org";
    options.ca_ttl = absl::Hours(24);
    // Wrapping is checked: the stored key is the reverse of the real one.
    KeyWrapping reverse{[this](absl::string_view id, absl::string_view der) {
                          wrapped_ids_.emplace_back(id);
                          return absl::StatusOr<std::string>(
                              std::string(der.rbegin(), der.rend()));
                        },
                        [](absl::string_view, absl::string_view wrapped) {
                          return absl::StatusOr<std::string>(
                              std::string(wrapped.rbegin(), wrapped.rend()));
                        }};
    auto manager = CaManager::Create(storage_.get(), options, reverse,
                                     [this] { return now_; });
    EXPECT_TRUE(manager.ok()) << manager.status();
    return std::move(manager).value_or(nullptr);
  }
  std::vector<trellis::CaSlot::State> States() {
    std::vector<trellis::CaSlot::State> states;
    const std::vector<trellis::CaSlot> slots = storage_->GetCaSlots().value();
    for (const auto& slot : slots) {
      states.push_back(slot.state());
    }
    return states;
  }

  absl::Time now_ = absl::FromUnixSeconds(1800000000);
  std::vector<std::string> wrapped_ids_;
  testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<storage::rocksdb::RocksIdentityStorage> storage_;
};

TEST_F(CaManagerTest, RotatesThroughPreparedActiveOld) {
  auto ca = Open();
  EXPECT_EQ(States(), std::vector{trellis::CaSlot::ACTIVE});
  EXPECT_EQ(wrapped_ids_, (std::vector<std::string>{"ca/1", "jwt/1"}));
  EXPECT_EQ(ca->Bundle().sequence_number(), 1u);
  EXPECT_EQ(ca->Bundle().x509_authorities_size(), 1);
  // The key at rest is the wrapped form, not the key.
  const auto stored = storage_->GetCaSlots().value();
  EXPECT_NE(stored[0].wrapped_key().substr(0, 2), std::string("\x30\x81"));

  // Half-way: a second CA is prepared and enters the bundle first.
  now_ += absl::Hours(12) + absl::Seconds(1);
  ASSERT_TRUE(ca->Rotate().ok());
  EXPECT_EQ(States(),
            (std::vector{trellis::CaSlot::ACTIVE, trellis::CaSlot::PREPARED}));
  EXPECT_EQ(ca->Bundle().x509_authorities_size(), 2);
  EXPECT_EQ(ca->Bundle().sequence_number(), 2u);
  EXPECT_EQ(ca->Bundle().jwt_authorities_size(), 2);
  // JWT-SVIDs verify against the bundle's JWT authorities.
  auto jwt =
      ca->SignJwtSvid("spiffe://example.org/w", {"db"}, absl::ZeroDuration());
  ASSERT_TRUE(jwt.ok()) << jwt.status();
  EXPECT_EQ(jwt->expires_at - jwt->issued_at, absl::Minutes(5));
  EXPECT_TRUE(VerifyJwtSvid(jwt->token, ca->JwtAuthorities(), "db", now_).ok());
  // Signing still uses the first until activation at 5/6 of its life.
  EXPECT_EQ(
      ca->SignX509Svid("spiffe://example.org/w", "", {}, absl::ZeroDuration())
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);  // No key: refused.
  auto key = crypto::GenerateKey(keyspb::Specification());
  ASSERT_TRUE(key.ok());
  auto leaf = ca->SignX509Svid("spiffe://example.org/w",
                               *crypto::MarshalPublicKey(**key), {},
                               absl::ZeroDuration());
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  EXPECT_EQ(DescribeCertificate(leaf->front())->issuer,
            DescribeCertificate(ca->X509Roots()[0])->subject);
  const std::string first_ca_leaf = DerToPem(leaf->front(), "CERTIFICATE");
  ASSERT_TRUE(ca->VerifyCallerChain(first_ca_leaf).ok());
  ASSERT_TRUE(ca->VerifyCallerChain(first_ca_leaf).ok());  // Remembered.

  now_ += absl::Hours(8);
  ASSERT_TRUE(ca->Rotate().ok());
  EXPECT_EQ(States(),
            (std::vector{trellis::CaSlot::OLD, trellis::CaSlot::ACTIVE}));

  // A restart keeps the slots (and unwraps the keys).
  ca.reset();
  ca = Open();
  ASSERT_TRUE(ca->VerifyCallerChain(first_ca_leaf).ok());
  EXPECT_EQ(States(),
            (std::vector{trellis::CaSlot::OLD, trellis::CaSlot::ACTIVE}));

  // A day after the old CA ended it leaves the bundle.
  now_ += absl::Hours(30);
  ASSERT_TRUE(ca->Rotate().ok());
  const std::vector<trellis::CaSlot> left = storage_->GetCaSlots().value();
  for (const auto& slot : left) {
    EXPECT_NE(slot.slot_id(), "1");
  }
  // Its SVIDs are no longer trusted, though verified (and remembered)
  // before: the roots changed.
  EXPECT_EQ(ca->VerifyCallerChain(first_ca_leaf).status().code(),
            absl::StatusCode::kUnauthenticated);
}

// The operator's forced rotation (LocalAuthority): prepare, activate, taint,
// revoke, with upstream's rules; the bundle flags and then drops the
// authority, its sequence grows, and all of it survives a restart.
TEST_F(CaManagerTest, OperatorPreparesActivatesTaintsAndRevokes) {
  using Kind = CaManager::AuthorityKind;
  auto ca = Open();
  const CaManager::AuthorityStates initial =
      ca->GetAuthorityStates(Kind::kX509);
  ASSERT_TRUE(initial.active.has_value());
  EXPECT_FALSE(initial.prepared.has_value());
  EXPECT_FALSE(initial.old.has_value());
  const std::string first = initial.active->authority_id;
  EXPECT_EQ(first, absl::BytesToHexString(
                       *SubjectKeyId(ca->Bundle().x509_authorities(0).asn1())));
  const std::string first_jwt =
      ca->GetAuthorityStates(Kind::kJwt).active->authority_id;
  auto key = crypto::GenerateKey(keyspb::Specification());
  ASSERT_TRUE(key.ok());
  const std::string spki = *crypto::MarshalPublicKey(**key);
  auto leaf = ca->SignX509Svid("spiffe://example.org/w", spki, {},
                               absl::ZeroDuration());
  ASSERT_TRUE(leaf.ok());
  const std::string first_leaf = DerToPem(leaf->front(), "CERTIFICATE");

  // Only an old authority can be tainted.
  EXPECT_EQ(ca->TaintAuthority(Kind::kX509, "").status().message(),
            "no authority ID provided");
  EXPECT_EQ(ca->TaintAuthority(Kind::kX509, first).status().message(),
            "unable to taint current local authority");
  EXPECT_EQ(ca->ActivateAuthority(Kind::kX509, "beef").status().message(),
            "unexpected authority ID");

  auto prepared = ca->PrepareAuthority(Kind::kX509);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_EQ(ca->Bundle().x509_authorities_size(), 2);
  EXPECT_EQ(ca->TaintAuthority(Kind::kX509, prepared->authority_id)
                .status()
                .message(),
            "only Old local authorities can be tainted");
  // Preparing again replaces the prepared slot.
  prepared = ca->PrepareAuthority(Kind::kX509);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(ca->Bundle().x509_authorities_size(), 2);
  EXPECT_EQ(ca->GetAuthorityStates(Kind::kX509).prepared->authority_id,
            prepared->authority_id);

  auto activated = ca->ActivateAuthority(Kind::kX509, prepared->authority_id);
  ASSERT_TRUE(activated.ok()) << activated.status();
  const CaManager::AuthorityStates after = ca->GetAuthorityStates(Kind::kX509);
  EXPECT_EQ(after.active->authority_id, prepared->authority_id);
  EXPECT_EQ(after.old->authority_id, first);
  // The JWT key moved with the CA.
  EXPECT_EQ(ca->GetAuthorityStates(Kind::kJwt).old->authority_id, first_jwt);
  leaf = ca->SignX509Svid("spiffe://example.org/w", spki, {},
                          absl::ZeroDuration());
  ASSERT_TRUE(leaf.ok());
  std::vector<std::string> new_root;
  const spire::api::types::Bundle rotated = ca->Bundle();
  for (const auto& authority : rotated.x509_authorities()) {
    if (absl::BytesToHexString(*SubjectKeyId(authority.asn1())) ==
        prepared->authority_id) {
      new_root.push_back(authority.asn1());
    }
  }
  EXPECT_TRUE(
      VerifySvidChain(DerToPem(leaf->front(), "CERTIFICATE"), new_root).ok());

  // Revoking needs a taint first.
  EXPECT_EQ(ca->RevokeAuthority(Kind::kX509, first).status().code(),
            absl::StatusCode::kInvalidArgument);
  const uint64_t sequence = ca->Bundle().sequence_number();
  ASSERT_TRUE(ca->TaintAuthority(Kind::kX509, first).ok());
  EXPECT_EQ(ca->TaintAuthority(Kind::kX509, first).status().message(),
            "the authority is already tainted");
  spire::api::types::Bundle bundle = ca->Bundle();
  EXPECT_GT(bundle.sequence_number(), sequence);
  int tainted = 0;
  for (const auto& authority : bundle.x509_authorities()) {
    tainted += authority.tainted();
  }
  EXPECT_EQ(tainted, 1);
  for (const auto& jwt : bundle.jwt_authorities()) EXPECT_FALSE(jwt.tainted());
  // Tainted still authenticates (agents need it to move off).
  EXPECT_TRUE(ca->VerifyCallerChain(first_leaf).ok());

  // A restart keeps the taint.
  ca.reset();
  ca = Open();
  EXPECT_EQ(ca->Bundle().sequence_number(), bundle.sequence_number());
  ASSERT_TRUE(ca->TaintAuthority(Kind::kJwt, first_jwt).ok());
  ASSERT_TRUE(ca->RevokeAuthority(Kind::kX509, first).ok());
  bundle = ca->Bundle();
  ASSERT_EQ(bundle.x509_authorities_size(), 1);
  EXPECT_FALSE(bundle.x509_authorities(0).tainted());
  EXPECT_EQ(ca->VerifyCallerChain(first_leaf).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_FALSE(ca->GetAuthorityStates(Kind::kX509).old.has_value());
  ASSERT_TRUE(ca->RevokeAuthority(Kind::kJwt, first_jwt).ok());
  EXPECT_EQ(ca->Bundle().jwt_authorities_size(), 1);
  EXPECT_EQ(ca->JwtAuthorities().count(first_jwt), 0u);

  // Without an upstream CA there is none to taint.
  EXPECT_EQ(ca->RefuseUpstreamAuthorityChange("ab").code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace trellis::ca
