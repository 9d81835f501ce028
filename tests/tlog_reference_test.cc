// tlog/ (signed notes, cosignatures, checkpoints, tile paths) against an
// independent implementation: tests/peers/tlog-check on
// golang.org/x/mod/sumdb (note, tlog) and transparency-dev/formats, built
// from the Go module proxy by scripts/build_peers.sh. Each side signs what
// the other verifies.
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "tests/trellisd_process.h"
#include "tlog/checkpoint.h"
#include "tlog/note.h"
#include "tlog/tiles.h"
#include "util/file.h"

namespace trellis::testing {
namespace {

using tlog::NoteSigner;

CliResult Check(const std::vector<std::string>& args,
                const std::string& input = "") {
  return RunProgram(PeerBinary("tlog-check"), args, input);
}

// A fresh Ed25519 key, as the key store makes them.
std::shared_ptr<EVP_PKEY> NewEd25519() {
  keyspb::Specification spec;
  spec.mutable_ed25519_params();
  return std::shared_ptr<EVP_PKEY>(crypto::GenerateKey(spec).value().release(),
                                   EVP_PKEY_free);
}

std::string CheckpointText(uint64_t size) {
  tlog::Checkpoint checkpoint;
  checkpoint.origin = "trellis.test/log/1";
  checkpoint.size = size;
  checkpoint.root_hash = std::string(32, static_cast<char>(size));
  return tlog::FormatCheckpoint(checkpoint).value();
}

class TlogReferenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(PeerBinary("tlog-check").c_str(), X_OK), 0)
        << "run scripts/build_peers.sh";
  }
};

TEST_F(TlogReferenceTest, GoVerifiesNotesTrellisSigns) {
  auto signer = NoteSigner::Create("trellis.test/log/1", NewEd25519());
  ASSERT_TRUE(signer.ok());
  const std::string vkey = tlog::FormatVerifierKey(signer->verifier_key());
  const std::string text = CheckpointText(70000);
  const std::string note =
      tlog::FormatNote(text, {signer->SignatureLine(text).value()});
  CliResult verified = Check({"verify", vkey}, note);
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_EQ(verified.out, text);
  std::string forged = note;
  forged[20] ^= 1;  // In the size line.
  EXPECT_EQ(Check({"verify", vkey}, forged).exit_code, 1);
}

TEST_F(TlogReferenceTest, TrellisVerifiesNotesGoSigns) {
  CliResult keys = Check({"gen", "go.test/log"});
  ASSERT_EQ(keys.exit_code, 0) << keys.err;
  const std::vector<std::string> lines =
      absl::StrSplit(keys.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  auto vkey = tlog::ParseVerifierKey(lines[1]);
  ASSERT_TRUE(vkey.ok()) << vkey.status() << " " << lines[1];
  const std::string text = CheckpointText(5);
  CliResult signed_note = Check({"sign", lines[0]}, text);
  ASSERT_EQ(signed_note.exit_code, 0) << signed_note.err;
  auto note = tlog::ParseNote(signed_note.out);
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(note->text, text);
  EXPECT_TRUE(tlog::VerifyNote(*note, {*vkey}).ok());
  EXPECT_TRUE(tlog::ParseCheckpoint(note->text).ok());

  // Go's cosignature/v1 over Trellis' note, verified here with the
  // witness's 0x04 key; and Trellis' cosignature verified by Go.
  auto cosigning_key = tlog::ParseVerifierKey(lines[2]);
  ASSERT_TRUE(cosigning_key.ok()) << cosigning_key.status() << " " << lines[2];
  EXPECT_EQ(cosigning_key->type, tlog::kCosignatureV1KeyType);
  CliResult cosigned = Check({"cosign", lines[0]}, signed_note.out);
  ASSERT_EQ(cosigned.exit_code, 0) << cosigned.err;
  auto both = tlog::ParseNote(cosigned.out);
  ASSERT_TRUE(both.ok()) << both.status();
  ASSERT_EQ(both->signatures.size(), 2u);
  auto verified = tlog::VerifyNote(*both, {*vkey, *cosigning_key});
  ASSERT_TRUE(verified.ok()) << verified.status();
  ASSERT_EQ(verified->size(), 2u);
  EXPECT_GT(verified->at(1).timestamp, 1700000000u);

  auto witness = NoteSigner::Create("trellis.test/witness", NewEd25519(),
                                    tlog::kCosignatureV1KeyType);
  ASSERT_TRUE(witness.ok());
  const std::string cosignature =
      witness->CosignatureLine(text, 1767225600).value();
  const std::string witnessed = tlog::FormatNote(text, {cosignature});
  const std::string witness_vkey =
      tlog::FormatVerifierKey(witness->verifier_key());
  CliResult go_verified = Check({"verify-cosig", witness_vkey}, witnessed);
  EXPECT_EQ(go_verified.exit_code, 0) << go_verified.err;
  std::string bad = witnessed;
  bad[3] ^= 1;
  EXPECT_EQ(Check({"verify-cosig", witness_vkey}, bad).exit_code, 1);
}

// `trellis verify-checkpoint` on a checkpoint Go signed and two Go
// witnesses cosigned, against tlog-policy files: 0 when the quorum is met,
// 1 when it is not or the log is another, 2 for a policy that does not
// parse.
TEST_F(TlogReferenceTest, TheCliVerifiesGoSignedCheckpointsAgainstAPolicy) {
  auto keys = [](const std::string& name) {
    CliResult generated = Check({"gen", name});
    EXPECT_EQ(generated.exit_code, 0) << generated.err;
    return std::vector<std::string>(
        absl::StrSplit(generated.out, '\n', absl::SkipEmpty()));
  };
  const std::vector<std::string> log = keys("trellis.test/log/1");
  const std::vector<std::string> w1 = keys("w1.test");
  const std::vector<std::string> w2 = keys("w2.test");
  const std::vector<std::string> w3 = keys("w3.test");
  ASSERT_EQ(log.size(), 3u);
  CliResult signed_note = Check({"sign", log[0]}, CheckpointText(300));
  ASSERT_EQ(signed_note.exit_code, 0) << signed_note.err;
  CliResult once = Check({"cosign", w1[0]}, signed_note.out);
  ASSERT_EQ(once.exit_code, 0) << once.err;
  CliResult twice = Check({"cosign", w2[0]}, once.out);
  ASSERT_EQ(twice.exit_code, 0) << twice.err;

  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string checkpoint = dir + "/checkpoint";
  ASSERT_TRUE(ReplaceFile(checkpoint, twice.out, 0600).ok());
  auto verify = [&](const std::string& policy_text) {
    const std::string policy = dir + "/policy";
    EXPECT_TRUE(ReplaceFile(policy, policy_text, 0600).ok());
    return RunCli({"verify-checkpoint", checkpoint, policy});
  };
  const std::string witnesses =
      absl::StrCat("log ", log[1], "\nwitness W1 ", w1[2], "\nwitness W2 ",
                   w2[2], "\nwitness W3 ", w3[2], "\n");
  CliResult two_of_three = verify(witnesses + "group G 2 W1 W2 W3\nquorum G\n");
  ASSERT_EQ(two_of_three.exit_code, 0) << two_of_three.err;
  EXPECT_NE(two_of_three.out.find("\"treeSize\": 300"), std::string::npos)
      << two_of_three.out;
  EXPECT_EQ(verify(witnesses + "group G all W1 W2 W3\nquorum G\n").exit_code,
            1);
  EXPECT_EQ(verify(witnesses + "quorum W3\n").exit_code, 1);
  const std::vector<std::string> other_log = keys("trellis.test/log/1");
  EXPECT_EQ(
      verify(absl::StrCat("log ", other_log[1], "\nquorum none\n")).exit_code,
      1);
  EXPECT_EQ(verify(witnesses + "quorum G\n").exit_code, 2);
}

TEST_F(TlogReferenceTest, TilePathsMatchXMod) {
  std::mt19937_64 random(7);
  std::vector<tlog::TileId> tiles = {{false, 0, 0, 256},
                                     {false, 0, 999, 1},
                                     {false, 1, 1000, 255},
                                     {true, 0, 1234067, 256},
                                     {true, 0, 1000000, 17}};
  for (int i = 0; i < 20; ++i) {
    tiles.push_back({i % 3 == 0, i % 3 == 0 ? 0 : static_cast<int>(i % 6),
                     random() >> (i * 3 % 60),
                     static_cast<int>(random() % 256) + 1});
  }
  for (const tlog::TileId& tile : tiles) {
    CliResult go =
        Check({"tile-path", tile.entries ? "-1" : absl::StrCat(tile.level),
               absl::StrCat(tile.index % (uint64_t{1} << 62)),
               absl::StrCat(tile.width)});
    ASSERT_EQ(go.exit_code, 0) << go.err;
    tlog::TileId same = tile;
    same.index = tile.index % (uint64_t{1} << 62);
    EXPECT_EQ(tlog::TilePath(same).value() + "\n", go.out);
  }
}

}  // namespace
}  // namespace trellis::testing
