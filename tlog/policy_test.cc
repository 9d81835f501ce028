#include "tlog/policy.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "crypto/keys.h"
#include "gtest/gtest.h"

namespace trellis::tlog {
namespace {

std::shared_ptr<EVP_PKEY> NewEd25519() {
  keyspb::Specification spec;
  spec.mutable_ed25519_params();
  return std::shared_ptr<EVP_PKEY>(crypto::GenerateKey(spec).value().release(),
                                   EVP_PKEY_free);
}

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = std::make_unique<NoteSigner>(
        NoteSigner::Create("example.com/log", NewEd25519()).value());
    for (const char* name : {"X1", "X2", "X3", "Y1", "Y2", "Y3"}) {
      witnesses_.emplace(name,
                         NoteSigner::Create(absl::StrCat("w.example/", name),
                                            NewEd25519(), kCosignatureV1KeyType)
                             .value());
    }
  }
  std::string Vkey(const std::string& witness) {
    return FormatVerifierKey(witnesses_.at(witness).verifier_key());
  }
  // The specification's example: two of the X witnesses and one Y.
  std::string ExamplePolicy() {
    return absl::StrCat(
        "# the spec's example\n", "log ",
        FormatVerifierKey(log_->verifier_key()),
        " https://example.com/log/\n\n", "witness X1 ", Vkey("X1"), "\n",
        "witness X2 ", Vkey("X2"), " https://x2.example/\n", "witness X3 ",
        Vkey("X3"), "\n", "  group\tX-witnesses 2 X1 X2 X3  \n", "witness Y1 ",
        Vkey("Y1"), "\n", "witness Y2 ", Vkey("Y2"), "\n", "witness Y3 ",
        Vkey("Y3"), "\n", "group Y-witnesses any Y1 Y2 Y3\n",
        "group X-and-Y all X-witnesses Y-witnesses\n", "quorum X-and-Y\n");
  }
  // A checkpoint signed by the log and cosigned by `cosigners`.
  std::string Checkpoint(const std::vector<std::string>& cosigners,
                         const std::string& origin = "example.com/log") {
    tlog::Checkpoint checkpoint;
    checkpoint.origin = origin;
    checkpoint.size = 300;
    checkpoint.root_hash = std::string(32, 'r');
    const std::string text = FormatCheckpoint(checkpoint).value();
    std::vector<std::string> lines = {log_->SignatureLine(text).value()};
    for (const std::string& name : cosigners) {
      lines.push_back(witnesses_.at(name).CosignatureLine(text, 100).value());
    }
    return FormatNote(text, lines);
  }

  std::unique_ptr<NoteSigner> log_;
  std::map<std::string, NoteSigner> witnesses_;
};

TEST_F(PolicyTest, TheSpecificationsExampleQuorum) {
  auto policy = WitnessPolicy::Parse(ExamplePolicy());
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->logs().size(), 1u);
  EXPECT_EQ(policy->witnesses().size(), 6u);
  EXPECT_EQ(policy->witnesses()[1].url, "https://x2.example/");
  EXPECT_TRUE(policy->QuorumMet({"X1", "X3", "Y2"}));
  EXPECT_FALSE(policy->QuorumMet({"X1", "Y2", "Y3"}));
  EXPECT_FALSE(policy->QuorumMet({"X1", "X2", "X3"}));

  auto verified = policy->Verify(Checkpoint({"X1", "X2", "Y3"}));
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->checkpoint.size, 300u);
  EXPECT_EQ(verified->witnesses, (std::set<std::string>{"X1", "X2", "Y3"}));
  EXPECT_EQ(policy->Verify(Checkpoint({"X1", "Y3"})).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // One witness repeating itself is still one witness.
  EXPECT_EQ(policy->Verify(Checkpoint({"X1", "X1", "Y3"})).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A checkpoint whose origin is not the log key's name.
  EXPECT_FALSE(policy->Verify(Checkpoint({"X1", "X2", "Y3"}, "other")).ok());
  // A known witness's cosignature of another checkpoint, attached to this
  // one, rejects it.
  const std::string good = Checkpoint({"X1", "X2"});
  const std::string other_text =
      "example.com/log\n301\n" + std::string(43, 'A') + "=\n";
  const std::string misplaced =
      good + witnesses_.at("Y3").CosignatureLine(other_text, 100).value();
  EXPECT_EQ(policy->Verify(misplaced).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Groups sharing subgroups, 200 deep: evaluated once each, not once per
// path (which would never finish).
TEST_F(PolicyTest, DeepSharedGroupsEvaluateQuickly) {
  std::string text =
      absl::StrCat("witness X1 ", Vkey("X1"), "\nwitness X2 ", Vkey("X2"),
                   "\ngroup G0 any X1\n", "group G1 any X2 G0\n");
  for (int i = 2; i < 200; ++i) {
    absl::StrAppend(&text, "group G", i, " all G", i - 1, " G", i - 2, "\n");
  }
  absl::StrAppend(&text, "quorum G199\n");
  auto policy = WitnessPolicy::Parse(text);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(policy->QuorumMet({"X1"}));
  EXPECT_FALSE(policy->QuorumMet({"X2"}));
  // A cosigner named like a group is not that group.
  EXPECT_FALSE(policy->QuorumMet({"G199"}));
}

TEST_F(PolicyTest, QuorumNoneNeedsNoWitness) {
  auto policy = WitnessPolicy::Parse(absl::StrCat(
      "log ", FormatVerifierKey(log_->verifier_key()), "\nquorum none\n"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(policy->Verify(Checkpoint({})).ok());
  // Another log's policy does not accept this log's checkpoint.
  auto other = NoteSigner::Create("example.com/log", NewEd25519()).value();
  auto elsewhere = WitnessPolicy::Parse(absl::StrCat(
      "log ", FormatVerifierKey(other.verifier_key()), "\nquorum none\n"));
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status();
  EXPECT_EQ(elsewhere->Verify(Checkpoint({})).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PolicyTest, MalformedPoliciesAreRefused) {
  const std::string log = "log " + FormatVerifierKey(log_->verifier_key());
  const std::string x1 = "witness X1 " + Vkey("X1");
  const std::string x2 = "witness X2 " + Vkey("X2");
  for (const std::string& bad : std::vector<std::string>{
           log,                                             // No quorum.
           log + "\nquorum none\nquorum none",              // Two quorums.
           x1 + "\nquorum X2",                              // Undefined.
           x1 + "\ngroup G 1 X1 X2\nquorum G",              // Undefined member.
           x1 + "\ngroup G 1 X1 X1\nquorum G",              // Member twice.
           x1 + "\n" + x2 + "\ngroup G 3 X1 X2\nquorum G",  // k > n.
           x1 + "\ngroup G 0 X1\nquorum G",                 // k = 0.
           x1 + "\ngroup G 1 none\nquorum G",               // none as member.
           x1 + "\nwitness X1 " + Vkey("X2") + "\nquorum X1",  // Name twice.
           x1 + "\nwitness X9 " + Vkey("X1") + "\nquorum X1",  // Key twice.
           "witness none " + Vkey("X1") + "\nquorum none",     // Reserved.
           "witness X1 " + FormatVerifierKey(log_->verifier_key()) +
               "\nquorum X1",                  // Key type.
           log + "\nquorum none\nfrobnicate",  // Keyword.
           log + "\r\nquorum none",            // Control.
           "group G any\nquorum G",            // No members.
       }) {
    EXPECT_FALSE(WitnessPolicy::Parse(bad).ok()) << bad;
  }
  EXPECT_TRUE(WitnessPolicy::Parse(x1 + "\n  # comment\n\nquorum X1\n").ok());
}

}  // namespace
}  // namespace trellis::tlog
