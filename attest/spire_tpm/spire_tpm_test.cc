#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "attest/host/tpm_device.h"
#include "attest/spire_tpm/agent_attestor.h"
#include "attest/spire_tpm/messages.h"
#include "attest/spire_tpm/node_verifier.h"
#include "attest/testing/swtpm.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace trellis::attest::spire_tpm {
namespace {

using ::trellis::testing::Swtpm;
using ::trellis::testing::TempDir;

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

// The EK hash as the plugin defines it, computed by tpm2-tools and the
// openssl CLI: SHA-256 of the EK public key's PKIX DER, lowercase hex.
std::string EkHashByTools(Swtpm& swtpm, const std::string& dir) {
  std::string out;
  EXPECT_EQ(
      swtpm.RunTools(
          absl::StrCat("tpm2_createek -c ", dir, "/ek.ctx -G rsa -f pem -u ",
                       dir, "/ek.pem >/dev/null && openssl pkey -pubin -in ",
                       dir, "/ek.pem -outform DER | sha256sum | cut -d' ' -f1"),
          &out),
      0);
  return std::string(absl::StripAsciiWhitespace(out));
}

class SpireTpmTest : public ::testing::Test {
 protected:
  std::unique_ptr<host::TpmDevice> Open(Swtpm& swtpm) {
    absl::StatusOr<std::unique_ptr<host::TpmDevice>> tpm =
        host::TpmDevice::Open(swtpm.tcti());
    EXPECT_TRUE(tpm.ok()) << tpm.status();
    return std::move(*tpm);
  }

  std::unique_ptr<NodeVerifier> Verifier(const NodeVerifierOptions& options) {
    absl::StatusOr<std::unique_ptr<NodeVerifier>> verifier =
        NodeVerifier::Create(options);
    EXPECT_TRUE(verifier.ok()) << verifier.status();
    return std::move(*verifier);
  }

  TempDir dir_;
};

TEST_F(SpireTpmTest, ListedEkAttestsByCredentialActivation) {
  Swtpm swtpm;
  const std::string ek_hash = EkHashByTools(swtpm, dir_.path());
  ASSERT_EQ(ek_hash.size(), 64u);
  const std::string hashes = dir_.path() + "/hashes";
  ASSERT_EQ(mkdir(hashes.c_str(), 0700), 0);
  std::unique_ptr<NodeVerifier> verifier = Verifier({.ek_hash_dir = hashes});
  std::unique_ptr<host::TpmDevice> tpm = Open(swtpm);
  AgentAttestor agent(tpm.get());
  absl::StatusOr<std::string> payload = agent.Payload();
  ASSERT_TRUE(payload.ok()) << payload.status();

  // Not listed yet.
  EXPECT_EQ(verifier->Challenge(*payload).status().code(),
            absl::StatusCode::kPermissionDenied);
  WriteFile(hashes + "/" + ek_hash, "");
  absl::StatusOr<NodeVerifier::Pending> pending = verifier->Challenge(*payload);
  ASSERT_TRUE(pending.ok()) << pending.status();
  EXPECT_EQ(pending->ek_hash, ek_hash);
  absl::StatusOr<std::string> answer = agent.Answer(pending->challenge);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(NodeVerifier::CheckResponse(*pending, *answer).ok());

  // Each challenge seals a fresh secret: an old answer does not pass.
  absl::StatusOr<NodeVerifier::Pending> second = verifier->Challenge(*payload);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->secret, pending->secret);
  EXPECT_EQ(NodeVerifier::CheckResponse(*second, *answer).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(NodeVerifier::CheckResponse(
                *second, EncodeChallengeResponse(std::string(32, '\0')))
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(SpireTpmTest, EkCertificateChainsToManufacturerCa) {
  Swtpm swtpm(/*ek_certificate=*/true);
  const std::string ca_file = dir_.path() + "/ek-ca.pem";
  WriteFile(ca_file, testing::LocalCaBundle());
  std::unique_ptr<NodeVerifier> verifier = Verifier({.ek_ca_file = ca_file});
  std::unique_ptr<host::TpmDevice> tpm = Open(swtpm);
  AgentAttestor agent(tpm.get());
  absl::StatusOr<std::string> payload = agent.Payload();
  ASSERT_TRUE(payload.ok()) << payload.status();
  absl::StatusOr<AttestationPayload> decoded = DecodePayload(*payload);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->ek_pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  absl::StatusOr<NodeVerifier::Pending> pending = verifier->Challenge(*payload);
  ASSERT_TRUE(pending.ok()) << pending.status();
  EXPECT_EQ(pending->ek_hash, EkHashByTools(swtpm, dir_.path()));
  absl::StatusOr<std::string> answer = agent.Answer(pending->challenge);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(NodeVerifier::CheckResponse(*pending, *answer).ok());

  // The same TPM's certificate under CAs that did not sign it.
  const std::string other_ca = dir_.path() + "/other-ca.pem";
  ASSERT_EQ(system(absl::StrCat("openssl req -x509 -newkey ec -pkeyopt "
                                "ec_paramgen_curve:P-256 -nodes -keyout ",
                                dir_.path(), "/k.pem -subj /CN=other -out ",
                                other_ca, " 2>/dev/null")
                       .c_str()),
            0);
  EXPECT_EQ(
      Verifier({.ek_ca_file = other_ca})->Challenge(*payload).status().code(),
      absl::StatusCode::kPermissionDenied);
}

TEST_F(SpireTpmTest, AnotherTpmCannotAnswer) {
  Swtpm swtpm;
  Swtpm other;
  const std::string hashes = dir_.path();
  WriteFile(hashes + "/" + EkHashByTools(swtpm, dir_.path()), "");
  std::unique_ptr<NodeVerifier> verifier = Verifier({.ek_hash_dir = hashes});
  std::unique_ptr<host::TpmDevice> tpm = Open(swtpm);
  AgentAttestor agent(tpm.get());
  absl::StatusOr<std::string> payload = agent.Payload();
  ASSERT_TRUE(payload.ok());
  absl::StatusOr<NodeVerifier::Pending> pending = verifier->Challenge(*payload);
  ASSERT_TRUE(pending.ok()) << pending.status();

  // A different TPM given this AK's blobs cannot load them, let alone
  // release the secret.
  std::unique_ptr<host::TpmDevice> other_tpm = Open(other);
  AgentAttestor impostor(other_tpm.get());
  ASSERT_TRUE(impostor.Payload().ok());
  EXPECT_FALSE(impostor.Answer(pending->challenge).ok());
  EXPECT_EQ(AgentAttestor(tpm.get()).Answer(pending->challenge).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(SpireTpmTest, ForgedAkProofsAreRefused) {
  Swtpm swtpm;
  WriteFile(dir_.path() + "/" + EkHashByTools(swtpm, dir_.path()), "");
  std::unique_ptr<NodeVerifier> verifier =
      Verifier({.ek_hash_dir = dir_.path()});
  std::unique_ptr<host::TpmDevice> tpm = Open(swtpm);
  AgentAttestor agent(tpm.get());
  absl::StatusOr<std::string> first = agent.Payload();
  absl::StatusOr<std::string> second = agent.Payload();
  ASSERT_TRUE(first.ok() && second.ok());
  const AttestationPayload a = *DecodePayload(*first);
  const AttestationPayload b = *DecodePayload(*second);
  ASSERT_TRUE(verifier->Challenge(EncodePayload(a)).ok());

  // Another AK's proof presented for this AK.
  AttestationPayload swapped = a;
  swapped.ak_public = b.ak_public;
  EXPECT_EQ(verifier->Challenge(EncodePayload(swapped)).status().code(),
            absl::StatusCode::kPermissionDenied);
  // Creation data that is not what the TPM certified.
  AttestationPayload other_data = a;
  other_data.create_data = b.create_data + "x";
  EXPECT_EQ(verifier->Challenge(EncodePayload(other_data)).status().code(),
            absl::StatusCode::kPermissionDenied);
  // A signature by the other AK.
  AttestationPayload other_signer = a;
  other_signer.create_signature = b.create_signature;
  EXPECT_EQ(verifier->Challenge(EncodePayload(other_signer)).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(SpireTpmMessagesTest, MalformedInputIsInvalidArgument) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<NodeVerifier>> verifier =
      NodeVerifier::Create({.ek_hash_dir = dir.path()});
  ASSERT_TRUE(verifier.ok());
  for (const std::string& payload :
       {std::string("not json"), std::string("[]"), std::string("{}"),
        std::string(R"({"EK":"!!!","AK":{}})"),
        std::string(R"({"EK":"","AK":{"Public":""}})"),
        std::string(R"({"EK":"eA==","AK":{"Public":"eA==","CreateData":"eA==",)"
                    R"("CreateAttestation":"eA==","CreateSignature":"eA=="}})"),
        std::string(kMaxMessageBytes + 1, ' ')}) {
    EXPECT_EQ((*verifier)->Challenge(payload).status().code(),
              absl::StatusCode::kInvalidArgument)
        << payload.substr(0, 80);
  }
  absl::StatusOr<AttestationPayload> round =
      DecodePayload(EncodePayload({"pem", "pub", "data", "att", "sig"}));
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->create_signature, "sig");
  EXPECT_EQ(
      DecodePayload(R"({"EK":"eA==","AK":{"UseTCSDActivationFormat":true,)"
                    R"("Public":"eA==","CreateData":"eA==",)"
                    R"("CreateAttestation":"eA==","CreateSignature":"eA=="}})")
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NodeVerifier::Create({}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(DecodeChallenge(R"({"EC":{"Credential":"eA=="}})").ok());
  EXPECT_FALSE(DecodeChallengeResponse("{}").ok());
}

}  // namespace
}  // namespace trellis::attest::spire_tpm
