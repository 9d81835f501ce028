#include "witness/witness.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "merkle/hasher.h"
#include "storage/rocksdb/witness_storage.h"
#include "tlog/checkpoint.h"
#include "tlog/witness_protocol.h"
#include "util/test_util.h"

namespace trellis::witness {
namespace {

// RFC 6962 by definition (2.1, 2.1.2), the reference for the proofs.
std::string Root(const std::vector<std::string>& leaves, size_t begin,
                 size_t end) {
  if (end - begin == 1) return merkle::HashLeaf(leaves[begin]);
  size_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  return merkle::HashChildren(Root(leaves, begin, begin + k),
                              Root(leaves, begin + k, end));
}

void SubProof(const std::vector<std::string>& leaves, size_t m, size_t begin,
              size_t end, bool complete, std::vector<std::string>& proof) {
  if (m == end - begin) {
    if (!complete) proof.push_back(Root(leaves, begin, end));
    return;
  }
  size_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  if (m <= k) {
    SubProof(leaves, m, begin, begin + k, complete, proof);
    proof.push_back(Root(leaves, begin + k, end));
  } else {
    SubProof(leaves, m - k, begin + k, end, false, proof);
    proof.push_back(Root(leaves, begin, begin + k));
  }
}

std::shared_ptr<EVP_PKEY> NewEd25519() {
  keyspb::Specification spec;
  spec.mutable_ed25519_params();
  return std::shared_ptr<EVP_PKEY>(crypto::GenerateKey(spec)->release(),
                                   EVP_PKEY_free);
}

class WitnessTest : public ::testing::Test {
 protected:
  WitnessTest()
      : db_(*storage::rocksdb::Database::Open({dir_.path() + "/db"})),
        storage_(db_.get()),
        keys_(nullptr, std::string(32, 'k')),
        log_signer_(*tlog::NoteSigner::Create("example.com/log", NewEd25519())),
        other_signer_(
            *tlog::NoteSigner::Create("example.com/log", NewEd25519())) {
    for (int i = 0; i < 40; ++i) leaves_.push_back(absl::StrCat("leaf ", i));
  }

  std::unique_ptr<Witness> NewWitness() {
    WitnessOptions options;
    options.name = "example.com/witness";
    options.logs = {log_signer_.verifier_key()};
    options.now = [] { return absl::FromUnixSeconds(1700000000); };
    auto witness = Witness::Create(options, &storage_, &keys_);
    EXPECT_TRUE(witness.ok()) << witness.status();
    return std::move(*witness);
  }

  std::string Note(uint64_t size, const tlog::NoteSigner& signer,
                   std::string root = "") {
    tlog::Checkpoint checkpoint;
    checkpoint.origin = signer.verifier_key().name;
    checkpoint.size = size;
    checkpoint.root_hash = !root.empty() ? root
                           : size == 0   ? merkle::EmptyRoot()
                                         : Root(leaves_, 0, size);
    const std::string text = *tlog::FormatCheckpoint(checkpoint);
    return tlog::FormatNote(text, {*signer.SignatureLine(text)});
  }

  std::string Body(uint64_t old_size, uint64_t size,
                   const tlog::NoteSigner& signer, std::string root = "") {
    tlog::AddCheckpointRequest request;
    request.old_size = old_size;
    if (old_size > 0 && old_size < size) {
      SubProof(leaves_, old_size, 0, size, true, request.proof);
    }
    request.checkpoint_note = Note(size, signer, root);
    return *tlog::FormatAddCheckpointRequest(request);
  }

  absl::StatusCode Add(Witness& witness, const std::string& body,
                       uint64_t* size = nullptr) {
    uint64_t ignored = 0;
    return witness.AddCheckpoint(body, size ? size : &ignored).status().code();
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  storage::rocksdb::RocksWitnessStorage storage_;
  admin::KeyStore keys_;
  tlog::NoteSigner log_signer_;
  tlog::NoteSigner other_signer_;
  std::vector<std::string> leaves_;
};

TEST_F(WitnessTest, CosignsConsistentCheckpointsOnly) {
  std::unique_ptr<Witness> witness = NewWitness();
  EXPECT_EQ(witness->verifier_key().type, tlog::kCosignatureV1KeyType);

  uint64_t size = 0;
  auto first = witness->AddCheckpoint(Body(0, 5, log_signer_), &size);
  ASSERT_TRUE(first.ok()) << first.status();
  // The cosignature verifies over the checkpoint, with the clock's time.
  auto cosigned = tlog::ParseNote(Note(5, log_signer_) + *first);
  ASSERT_TRUE(cosigned.ok());
  auto verified = tlog::VerifyNote(*cosigned, {witness->verifier_key()});
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->front().timestamp, 1700000000u);

  // Old size must be the witness's: 409 with its size.
  EXPECT_EQ(Add(*witness, Body(0, 9, log_signer_), &size),
            absl::StatusCode::kAborted);
  EXPECT_EQ(size, 5u);
  EXPECT_EQ(Add(*witness, Body(3, 9, log_signer_), &size),
            absl::StatusCode::kAborted);
  // With the proof from 5 it goes on; the same checkpoint again is fine.
  EXPECT_EQ(Add(*witness, Body(5, 9, log_signer_)), absl::StatusCode::kOk);
  EXPECT_EQ(Add(*witness, Body(9, 9, log_signer_)), absl::StatusCode::kOk);

  // A fork: size 9 with another root, properly signed by the log.
  EXPECT_EQ(Add(*witness, Body(9, 9, log_signer_, std::string(32, 'f'))),
            absl::StatusCode::kFailedPrecondition);
  // A bad proof, and a proof from 0.
  std::string bad = Body(9, 20, log_signer_);
  bad[7] = bad[7] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Add(*witness, bad), absl::StatusCode::kFailedPrecondition);
  // Not the log's key (same name), unknown origin, malformed, old > size.
  EXPECT_EQ(Add(*witness, Body(9, 20, other_signer_)),
            absl::StatusCode::kPermissionDenied);
  auto stranger = tlog::NoteSigner::Create("example.com/other", NewEd25519());
  EXPECT_EQ(Add(*witness, Body(0, 3, *stranger)), absl::StatusCode::kNotFound);
  EXPECT_EQ(Add(*witness, "old 9\n"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Add(*witness, Body(30, 20, log_signer_)),
            absl::StatusCode::kInvalidArgument);

  // The state and the key survive a restart.
  const tlog::NoteVerifierKey key = witness->verifier_key();
  witness.reset();
  std::unique_ptr<Witness> again = NewWitness();
  EXPECT_EQ(again->verifier_key().public_key, key.public_key);
  EXPECT_EQ(Add(*again, Body(5, 20, log_signer_), &size),
            absl::StatusCode::kAborted);
  EXPECT_EQ(size, 9u);
  EXPECT_EQ(Add(*again, Body(9, 40, log_signer_)), absl::StatusCode::kOk);
}

TEST_F(WitnessTest, EmptyTreesAndProofsFromZero) {
  std::unique_ptr<Witness> witness = NewWitness();
  EXPECT_EQ(Add(*witness, Body(0, 0, log_signer_, std::string(32, 'x'))),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Add(*witness, Body(0, 0, log_signer_)), absl::StatusCode::kOk);
  tlog::AddCheckpointRequest request;
  request.old_size = 0;
  request.proof = {std::string(32, 'p')};
  request.checkpoint_note = Note(4, log_signer_);
  EXPECT_EQ(Add(*witness, *tlog::FormatAddCheckpointRequest(request)),
            absl::StatusCode::kFailedPrecondition);
}

TEST(WitnessedLogsTest, ParsesLogLines) {
  auto signer = tlog::NoteSigner::Create("example.com/log", NewEd25519());
  const std::string vkey = tlog::FormatVerifierKey(signer->verifier_key());
  auto logs = ParseWitnessedLogs(absl::StrCat(
      "# logs\n\nlog ", vkey, "\nlog ", vkey, " https://example.com/log/\n"));
  ASSERT_TRUE(logs.ok()) << logs.status();
  EXPECT_EQ(logs->size(), 2u);
  for (const std::string& bad :
       {absl::StrCat("witness w ", vkey), std::string("log not-a-key"),
        absl::StrCat("log ", vkey, " url extra")}) {
    EXPECT_EQ(ParseWitnessedLogs(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace trellis::witness
