#include "identity/agent_manager.h"

#include "absl/strings/str_cat.h"
#include "ca/jwt.h"
#include "ca/svid_verify.h"
#include "ca/testing/csr.h"
#include "ca/x509.h"
#include "crypto/signer.h"
#include "gtest/gtest.h"
#include "identity/svid_manager.h"
#include "merkle/hasher.h"
#include "storage/rocksdb/identity_storage.h"
#include "util/test_util.h"

namespace trellis::identity {
namespace {

using Reason = spire::api::types::PermissionDeniedDetails;

constexpr char kTd[] = "example.org";

// The reason a PERMISSION_DENIED status carries for agents.
Reason::Reason ReasonOf(const absl::Status& status) {
  auto payload = status.GetPayload(kPermissionDeniedDetailsUrl);
  Reason details;
  if (!payload.has_value() || !details.ParseFromString(std::string(*payload))) {
    return Reason::UNKNOWN;
  }
  return details.reason();
}

// Keeps what the issuance log appends, with the leaf hashes a log gives.
class RecordingSink : public log::RecordSink {
 public:
  absl::StatusOr<std::vector<std::string>> Append(
      int64_t log_id, const std::vector<std::string>& records) override {
    std::vector<std::string> hashes;
    for (const std::string& record : records) {
      trellis::IssuanceRecord parsed;
      EXPECT_TRUE(parsed.ParseFromString(record));
      EXPECT_EQ(log_id, kLogId);
      hashes.push_back(merkle::HashLeaf(record));
      appended.push_back(std::move(parsed));
    }
    return hashes;
  }
  static constexpr int64_t kLogId = 7;
  std::vector<trellis::IssuanceRecord> appended;
};

class AgentManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(storage::rocksdb::Database::Open({dir_.path()}).value());
    storage_ =
        std::make_unique<storage::rocksdb::RocksIdentityStorage>(db_.get());
    ca::CaOptions options;
    options.trust_domain = kTd;
    ca::KeyWrapping plain{
        [](absl::string_view, absl::string_view der) {
          return absl::StatusOr<std::string>(std::string(der));
        },
        [](absl::string_view, absl::string_view wrapped) {
          return absl::StatusOr<std::string>(std::string(wrapped));
        }};
    auto clock = [this] { return now_; };
    ca_ = std::move(
        ca::CaManager::Create(storage_.get(), options, plain, clock).value());
    entries_ =
        std::move(EntryManager::Create(storage_.get(), kTd, clock).value());
    log_signer_ = std::make_shared<crypto::Signer>(
        crypto::GenerateKey(keyspb::Specification()).value());
    issuance_log_ = std::make_unique<IssuanceLog>(
        &sink_, [] { return absl::StatusOr<int64_t>(RecordingSink::kLogId); },
        [this](int64_t) {
          return absl::StatusOr<std::shared_ptr<const crypto::Signer>>(
              log_signer_);
        },
        clock);
    issuer_ = std::make_unique<SvidIssuer>(ca_.get(), issuance_log_.get());
    agents_ = std::make_unique<AgentManager>(storage_.get(), ca_.get(),
                                             entries_.get(), issuer_.get(),
                                             /*sovereign=*/nullptr,
                                             /*tpm=*/nullptr, clock);
    svids_ =
        std::make_unique<SvidManager>(ca_.get(), entries_.get(), issuer_.get());
  }

  // Attests with a fresh token; returns the agent's verified SVID.
  ca::VerifiedSvid Attest(const std::string& token) {
    EXPECT_TRUE(agents_->CreateJoinToken(600, token, "").ok());
    auto key = ca::testing::NewP256Key();
    auto svid =
        agents_->AttestJoinToken(token, ca::testing::MakeCsr(key.get()));
    EXPECT_TRUE(svid.ok()) << svid.status();
    return Verify(*svid);
  }
  ca::VerifiedSvid Verify(const IssuedX509& svid) {
    auto verified = ca::VerifySvidChain(
        ca::DerToPem(svid.cert_chain.front(), "CERTIFICATE"), ca_->X509Roots());
    EXPECT_TRUE(verified.ok()) << verified.status();
    return verified.value_or(ca::VerifiedSvid{});
  }

  absl::Time now_ = absl::FromUnixSeconds(1800000000);
  testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<storage::rocksdb::RocksIdentityStorage> storage_;
  std::unique_ptr<ca::CaManager> ca_;
  std::unique_ptr<EntryManager> entries_;
  RecordingSink sink_;
  std::shared_ptr<crypto::Signer> log_signer_;
  std::unique_ptr<IssuanceLog> issuance_log_;
  std::unique_ptr<SvidIssuer> issuer_;
  std::unique_ptr<AgentManager> agents_;
  std::unique_ptr<SvidManager> svids_;
};

TEST_F(AgentManagerTest, JoinTokenAttestsOnceAndNamesTheAgent) {
  EXPECT_EQ(agents_->CreateJoinToken(0, "", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  const ca::VerifiedSvid svid = Attest("tok1");
  EXPECT_EQ(svid.spiffe_id, "spiffe://example.org/spire/agent/join_token/tok1");
  auto key = ca::testing::NewP256Key();
  EXPECT_EQ(agents_->AttestJoinToken("tok1", ca::testing::MakeCsr(key.get()))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  // A random token is a UUID; an expired one is consumed all the same.
  auto token = agents_->CreateJoinToken(1, "", "");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->token().size(), 36u);
  now_ += absl::Seconds(5);
  auto expired =
      agents_->AttestJoinToken(token->token(), ca::testing::MakeCsr(key.get()));
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(expired.status().message().find("expired"), std::string::npos);
  EXPECT_FALSE(storage_->TakeJoinToken(token->token())->has_value());
  // Garbage CSR: refused, and the token is used up anyway.
  ASSERT_TRUE(agents_->CreateJoinToken(60, "tok2", "").ok());
  EXPECT_EQ(agents_->AttestJoinToken("tok2", "garbage").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(
      agents_->Get("spiffe://example.org/spire/agent/join_token/tok2").ok());
}

TEST_F(AgentManagerTest, AuthorizeAppliesTheAgentStates) {
  ca::VerifiedSvid svid = Attest("tok");
  EXPECT_TRUE(agents_->Authorize(svid).ok());

  ca::VerifiedSvid stranger = svid;
  stranger.spiffe_id = "spiffe://example.org/spire/agent/join_token/other";
  EXPECT_EQ(ReasonOf(agents_->Authorize(stranger).status()),
            Reason::AGENT_NOT_ATTESTED);

  // Renewal: the new SVID becomes current on first use; the old one is
  // then no longer active.
  auto agent = agents_->Authorize(svid);
  auto key = ca::testing::NewP256Key();
  auto renewed = agents_->Renew(*agent, ca::testing::MakeCsr(key.get()));
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_TRUE(agents_->Authorize(svid).ok());  // Old still current.
  ASSERT_TRUE(renewed->svid.has_value());
  const ca::VerifiedSvid fresh = Verify(*renewed->svid);
  EXPECT_TRUE(agents_->Authorize(fresh).ok());
  EXPECT_EQ(ReasonOf(agents_->Authorize(svid).status()),
            Reason::AGENT_NOT_ACTIVE);

  ca::VerifiedSvid late = fresh;
  late.not_after = now_ - absl::Seconds(1);
  EXPECT_EQ(ReasonOf(agents_->Authorize(late).status()), Reason::AGENT_EXPIRED);

  ASSERT_TRUE(agents_->Ban(fresh.spiffe_id).ok());
  const absl::Status banned = agents_->Authorize(fresh).status();
  EXPECT_EQ(banned.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ReasonOf(banned), Reason::AGENT_BANNED);
}

TEST_F(AgentManagerTest, AliasTokenAuthorisesEntriesUnderTheAlias) {
  ASSERT_TRUE(
      agents_->CreateJoinToken(600, "aliased", "spiffe://example.org/node/1")
          .ok());
  Entry workload;
  workload.mutable_parent_id()->set_trust_domain(kTd);
  workload.mutable_parent_id()->set_path("/node/1");
  workload.mutable_spiffe_id()->set_trust_domain(kTd);
  workload.mutable_spiffe_id()->set_path("/web");
  workload.add_selectors()->set_type("unix");
  workload.mutable_selectors(0)->set_value("uid:1000");
  workload.add_dns_names("web.example.org");
  auto created = entries_->Create({workload});
  ASSERT_TRUE(created[0].ok());

  auto key = ca::testing::NewP256Key();
  auto agent_svid =
      agents_->AttestJoinToken("aliased", ca::testing::MakeCsr(key.get()));
  ASSERT_TRUE(agent_svid.ok());
  auto agent = agents_->Authorize(Verify(*agent_svid));
  ASSERT_TRUE(agent.ok());

  auto results = svids_->BatchNewX509Svid(
      *agent, {{created[0]->id(), ca::testing::MakeCsr(key.get())},
               {"unknown", ca::testing::MakeCsr(key.get())},
               {created[0]->id(), "garbage"},
               {"", ca::testing::MakeCsr(key.get())}});
  ASSERT_TRUE(results.ok());
  ASSERT_EQ(results->size(), 4u);
  ASSERT_TRUE((*results)[0].ok()) << (*results)[0].status();
  EXPECT_EQ(Verify(*(*results)[0]).spiffe_id, "spiffe://example.org/web");
  EXPECT_EQ((*results)[1].status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*results)[2].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*results)[3].status().code(), absl::StatusCode::kInvalidArgument);

  // JWT-SVIDs for the same entry, verified against the bundle's keys.
  auto jwt = svids_->NewJwtSvid(*agent, created[0]->id(), {"db"});
  ASSERT_TRUE(jwt.ok()) << jwt.status();
  EXPECT_EQ(jwt->spiffe_id, "spiffe://example.org/web");
  auto claims =
      ca::VerifyJwtSvid(jwt->jwt.token, ca_->JwtAuthorities(), "db", now_);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "spiffe://example.org/web");
  EXPECT_EQ(svids_->NewJwtSvid(*agent, created[0]->id(), {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(svids_->NewJwtSvid(*agent, created[0]->id(), {""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(svids_->NewJwtSvid(*agent, "unknown", {"db"}).status().code(),
            absl::StatusCode::kNotFound);

  std::vector<X509SvidRequest> too_many(kMaxEntryBatch + 1);
  EXPECT_EQ(svids_->BatchNewX509Svid(*agent, too_many).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Every SVID is recorded before it is handed out, and carries the log's
// promise for that record.
TEST_F(AgentManagerTest, EveryIssuedSvidIsRecordedAndCarriesItsPromise) {
  const ca::VerifiedSvid agent_svid = Attest("recorded");
  ASSERT_EQ(sink_.appended.size(), 1u);
  const trellis::IssuanceRecord& record = sink_.appended[0];
  EXPECT_EQ(record.type(), kIssuanceRecordType);
  EXPECT_EQ(record.kind(), trellis::IssuanceRecord::AGENT_X509_SVID);
  EXPECT_EQ(record.spiffe_id(), agent_svid.spiffe_id);
  EXPECT_EQ(record.serial_number(), agent_svid.serial_number);
  EXPECT_EQ(record.attestation_type(), "join_token");

  auto key = ca::testing::NewP256Key();
  auto minted = svids_->MintX509Svid(
      ca::testing::MakeCsr(key.get(), "URI:spiffe://example.org/minted"),
      absl::Minutes(10));
  ASSERT_TRUE(minted.ok()) << minted.status();
  ASSERT_EQ(sink_.appended.size(), 2u);
  const std::string& cert = minted->cert_chain.front();
  // The promise names the record's leaf and is signed by the log key.
  auto promise_bytes = ca::InclusionPromiseOf(cert);
  ASSERT_TRUE(promise_bytes.ok()) << promise_bytes.status();
  trellis::InclusionPromise promise;
  ASSERT_TRUE(promise.ParseFromString(*promise_bytes));
  EXPECT_EQ(promise.log_id(), RecordingSink::kLogId);
  EXPECT_EQ(promise.leaf_hash(),
            merkle::HashLeaf(SerializeRecord(sink_.appended[1])));
  const std::string public_key =
      crypto::MarshalPublicKey(log_signer_->key()).value();
  EXPECT_TRUE(crypto::VerifySignature(public_key, PromiseSigningInput(promise),
                                      promise.signature())
                  .ok());
  // The record names this certificate (its pre-certificate hash).
  EXPECT_EQ(sink_.appended[1].credential_sha256(),
            ca::PrecertificateHash(cert).value());
  EXPECT_EQ(sink_.appended[1].serial_number(), ca::SerialNumber(cert).value());
  // A JWT-SVID is recorded by the token's hash.
  ASSERT_TRUE(svids_
                  ->MintJwtSvid("spiffe://example.org/minted", {"aud"},
                                absl::ZeroDuration())
                  .ok());
  ASSERT_EQ(sink_.appended.size(), 3u);
  EXPECT_EQ(sink_.appended[2].kind(), trellis::IssuanceRecord::JWT_SVID);
}

TEST_F(AgentManagerTest, OperatorsMintWithoutEntries) {
  auto key = ca::testing::NewP256Key();
  auto minted = svids_->MintX509Svid(
      ca::testing::MakeCsr(key.get(), "URI:spiffe://example.org/minted"),
      absl::Minutes(10));
  ASSERT_TRUE(minted.ok()) << minted.status();
  EXPECT_EQ(Verify(*minted).spiffe_id, "spiffe://example.org/minted");
  for (const std::string& sans :
       {std::string(""), std::string("URI:spiffe://other.org/x"),
        std::string("URI:spiffe://example.org/a,URI:spiffe://example.org/b")}) {
    EXPECT_EQ(svids_
                  ->MintX509Svid(ca::testing::MakeCsr(key.get(), sans),
                                 absl::ZeroDuration())
                  .status()
                  .code(),
              absl::StatusCode::kInvalidArgument)
        << sans;
  }
  EXPECT_TRUE(svids_
                  ->MintJwtSvid("spiffe://example.org/minted", {"aud"},
                                absl::ZeroDuration())
                  .ok());
  EXPECT_EQ(
      svids_->MintJwtSvid("spiffe://other.org/x", {"aud"}, absl::ZeroDuration())
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace trellis::identity
