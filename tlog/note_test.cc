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

TEST(NoteTest, EachKeyCountsOnce) {
  auto log = NoteSigner::Create("log.example/1", NewEd25519());
  auto witness = NoteSigner::Create("witness.example", NewEd25519(),
                                    kCosignatureV1KeyType);
  ASSERT_TRUE(log.ok() && witness.ok());
  const std::string text = "log.example/1\n3\nAAAA\n";
  const std::string cosignature = witness->CosignatureLine(text, 7).value();
  // One witness repeating its cosignature (and listed twice) is one.
  auto note = ParseNote(FormatNote(
      text, {log->SignatureLine(text).value(), cosignature, cosignature}));
  ASSERT_TRUE(note.ok()) << note.status();
  auto verified = VerifyNote(
      *note,
      {log->verifier_key(), witness->verifier_key(), witness->verifier_key()});
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->size(), 2u);
  // A signature under a known name but another key id is someone else's.
  NoteVerifierKey other_id = witness->verifier_key();
  other_id.id ^= 1;
  verified = VerifyNote(*note, {log->verifier_key(), other_id});
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->size(), 1u);
  // A cosigning key never accepts a plain 64-byte signature.
  NoteVerifierKey as_cosigner = log->verifier_key();
  as_cosigner.type = kCosignatureV1KeyType;
  EXPECT_FALSE(VerifyNote(*note, {as_cosigner}).ok());
}

TEST(NoteTest, VerifierKeysHaveOneText) {
  // A witness key as omniwitness prints it (type 0x04).
  auto witness = ParseVerifierKey(
      "witness.test/"
      "omni+e96c5c3c+BL47ZWEr7mNV+LW1TISwLQXggPHeU+2PrF6Y53vVEIYN");
  ASSERT_TRUE(witness.ok()) << witness.status();
  EXPECT_EQ(witness->type, kCosignatureV1KeyType);
  std::string upper = kSpecVkey;
  upper.replace(16, 8, "530D903A");
  EXPECT_FALSE(ParseVerifierKey(upper).ok());
  std::string unpadded = kSpecVkey;
  EXPECT_FALSE(ParseVerifierKey(unpadded + "=").ok());
  // Type 0x02 (ECDSA) and a short key.
  EXPECT_FALSE(ParseVerifierKey("n+00000000+AgAA").ok());
  EXPECT_FALSE(ParseVerifierKey("n+00000000+AQAA").ok());
  EXPECT_FALSE(
      ParseVerifierKey(
          "has space+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
          .ok());
}

TEST(NoteTest, TextAndNamesAreStrictUtf8) {
  const std::string sig = "\xe2\x80\x94 example.com/foo AAAAAAAA\n";
  // Accepted: DEL, a C1 character, four-byte UTF-8.
  for (const std::string& good :
       {std::string("del \x7f\n"), std::string("c1 \xc2\x85\n"),
        std::string("emoji \xf0\x9f\x98\x80\n")}) {
    EXPECT_TRUE(ParseNote(good + "\n" + sig).ok()) << good;
  }
  // Refused: an overlong form, a surrogate, beyond U+10FFFF, a tab.
  for (const std::string& bad :
       {std::string("\xe0\x80\xaf\n"), std::string("\xed\xa0\x80\n"),
        std::string("\xf4\x90\x80\x80\n"), std::string("tab\t\n")}) {
    EXPECT_FALSE(ParseNote(bad + "\n" + sig).ok()) << bad;
  }
  // Names: no Unicode space (U+00A0) inside.
  EXPECT_FALSE(NoteSigner::Create("no\xc2\xa0"
                                  "break",
                                  NewEd25519())
                   .ok());
  EXPECT_TRUE(NoteSigner::Create("caf\xc3\xa9", NewEd25519()).ok());
  // Signatures in base64 with whitespace or without padding are refused.
  EXPECT_FALSE(
      ParseNote("t\n\n\xe2\x80\x94 example.com/foo AAAA\tAAAA\n").ok());
  EXPECT_FALSE(ParseNote("t\n\n\xe2\x80\x94 example.com/foo AAAAAAA\n").ok());
}

}  // namespace
}  // namespace trellis::tlog
