#include "tlog/note.h"

#include <openssl/evp.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "crypto/keys.h"
#include "gtest/gtest.h"

namespace trellis::tlog {
namespace {

// The signed-note specification's example key and note.
constexpr char kSpecVkey[] =
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
constexpr char kSpecNote[] =
    "This is an example message.\n\n"
    "\xe2\x80\x94 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXm"
    "RKuwHjG1Yu72IneyaQM=\n";

// A fresh Ed25519 key, as the key store makes them.
std::shared_ptr<EVP_PKEY> NewEd25519() {
  keyspb::Specification spec;
  spec.mutable_ed25519_params();
  return std::shared_ptr<EVP_PKEY>(crypto::GenerateKey(spec).value().release(),
                                   EVP_PKEY_free);
}

TEST(NoteTest, TheSpecificationsExampleVerifies) {
  auto key = ParseVerifierKey(kSpecVkey);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->name, "example.com/foo");
  EXPECT_EQ(key->id, 0x530d903au);
  EXPECT_EQ(FormatVerifierKey(*key), kSpecVkey);
  auto note = ParseNote(kSpecNote);
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(note->text, "This is an example message.\n");
  auto verified = VerifyNote(*note, {*key});
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->size(), 1u);

  note->text[0] = 't';
  EXPECT_EQ(VerifyNote(*note, {*key}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A wrong id in the vkey, and a key that did not sign.
  std::string wrong_id = kSpecVkey;
  wrong_id[16] = '6';
  EXPECT_FALSE(ParseVerifierKey(wrong_id).ok());
  auto other = NoteSigner::Create("example.com/bar", NewEd25519());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(VerifyNote(*ParseNote(kSpecNote), {other->verifier_key()})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST(NoteTest, SignsAndVerifiesWithItsOwnKeys) {
  auto signer = NoteSigner::Create("log.example/1", NewEd25519());
  ASSERT_TRUE(signer.ok()) << signer.status();
  const std::string text = "log.example/1\n3\nAAAA\n";
  auto line = signer->SignatureLine(text);
  ASSERT_TRUE(line.ok()) << line.status();
  const std::string note = FormatNote(text, {*line});
  auto vkey = ParseVerifierKey(FormatVerifierKey(signer->verifier_key()));
  ASSERT_TRUE(vkey.ok()) << vkey.status();
  EXPECT_TRUE(VerifyNote(*ParseNote(note), {*vkey}).ok());
  EXPECT_FALSE(signer->SignatureLine("no newline").ok());
  EXPECT_FALSE(signer->SignatureLine("bell\a\n").ok());
  EXPECT_FALSE(NoteSigner::Create("has space", NewEd25519()).ok());
  EXPECT_FALSE(NoteSigner::Create("a+b", NewEd25519()).ok());
}

TEST(NoteTest, CosignaturesCarryTheirTimestamp) {
  auto witness = NoteSigner::Create("witness.example", NewEd25519(),
                                    kCosignatureV1KeyType);
  ASSERT_TRUE(witness.ok());
  const std::string text = "log.example/1\n3\nAAAA\n";
  EXPECT_FALSE(witness->SignatureLine(text).ok());
  auto line = witness->CosignatureLine(text, 1679315147);
  ASSERT_TRUE(line.ok()) << line.status();
  auto note = ParseNote(FormatNote(text, {*line}));
  ASSERT_TRUE(note.ok());
  EXPECT_EQ(note->signatures[0].signature.size(), 8u + 64u);
  auto verified = VerifyNote(*note, {witness->verifier_key()});
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->at(0).timestamp, 1679315147u);
  EXPECT_EQ(FormatVerifierKey(witness->verifier_key())
                .substr(witness->verifier_key().name.size() + 10, 1),
            "B");  // base64 of the 0x04 type byte.
  // The timestamp is signed: changing it breaks the cosignature.
  note->signatures[0].signature[7] ^= 1;
  EXPECT_FALSE(VerifyNote(*note, {witness->verifier_key()}).ok());
}

TEST(NoteTest, MalformedNotesAreRefused) {
  const std::string sig = "\xe2\x80\x94 example.com/foo AAAAAAAA\n";
  for (const std::string& bad : std::vector<std::string>{
           std::string(""),
           std::string("text\n"),                       // No signatures.
           std::string("text\n\n"),                     // An empty block.
           "text\n\n- example.com/foo AAAAAAAA\n",      // Not an em dash.
           "text\n\n" + sig.substr(0, sig.size() - 1),  // No final newline.
           "te\rxt\n\n" + sig,                          // A control character.
           "text\n\n\xe2\x80\x94 example.com/foo !!!!\n",  // Not base64.
           "text\n\n\xe2\x80\x94 example.com/foo AAA=\n",  // Too short.
       }) {
    EXPECT_FALSE(ParseNote(bad).ok()) << bad;
  }
  std::string many = "text\n\n";
  for (int i = 0; i <= 100; ++i) many += sig;
  EXPECT_FALSE(ParseNote(many).ok());
  EXPECT_TRUE(ParseNote("text\n\n" + sig).ok());
}

}  // namespace
}  // namespace trellis::tlog
