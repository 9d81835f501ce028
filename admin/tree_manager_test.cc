#include "admin/tree_manager.h"

#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "crypto/keys.h"
#include "crypto/signer.h"
#include "gtest/gtest.h"
#include "storage/rocksdb/log_storage.h"
#include "storage/rocksdb/tree_storage.h"
#include "tlog/note.h"
#include "util/test_util.h"

namespace trellis::admin {
namespace {

class TreeManagerTest : public ::testing::Test {
 protected:
  TreeManagerTest()
      : db_(*storage::rocksdb::Database::Open({dir_.path() + "/db"})),
        trees_(db_.get()),
        logs_(db_.get()),
        keys_(&trees_, std::string(32, 'k')),
        manager_(&trees_, &logs_, &keys_, dir_.path() + "/keys") {}

  trillian::CreateTreeRequest LogRequest() {
    trillian::CreateTreeRequest request;
    request.mutable_tree()->set_tree_type(trillian::LOG);
    return request;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  storage::rocksdb::RocksTreeStorage trees_;
  storage::rocksdb::RocksLogStorage logs_;
  KeyStore keys_;
  TreeManager manager_;
};

TEST_F(TreeManagerTest, CreateFillsDefaultsAndNeverReturnsThePrivateKey) {
  auto tree = manager_.CreateTree(LogRequest());
  ASSERT_TRUE(tree.ok()) << tree.status();
  EXPECT_GT(tree->tree_id(), 0);
  EXPECT_EQ(tree->tree_state(), trillian::ACTIVE);
  EXPECT_EQ(tree->hash_strategy(), trillian::RFC6962_SHA256);
  EXPECT_EQ(tree->hash_algorithm(), sigpb::DigitallySigned::SHA256);
  EXPECT_EQ(tree->signature_algorithm(), sigpb::DigitallySigned::ECDSA);
  EXPECT_FALSE(tree->has_private_key());
  EXPECT_FALSE(tree->public_key().der().empty());
  EXPECT_TRUE(tree->has_create_time());
  EXPECT_FALSE(manager_.GetTree(tree->tree_id())->has_private_key());
  EXPECT_FALSE(manager_.ListTrees(false)->at(0).has_private_key());

  // The stored key signs for the returned public key.
  auto signer = keys_.SignerFor(tree->tree_id());
  ASSERT_TRUE(signer.ok()) << signer.status();
  auto sig = (*signer)->Sign("m");
  EXPECT_TRUE(
      crypto::VerifySignature(tree->public_key().der(), "m", *sig).ok());
  // And it is encrypted at rest.
  auto wrapped = trees_.GetWrappedPrivateKey(tree->tree_id());
  EXPECT_EQ((*wrapped)[0], '\x02');
}

TEST_F(TreeManagerTest, KeySpecAndSuppliedKeys) {
  auto request = LogRequest();
  request.mutable_key_spec()->mutable_ed25519_params();
  auto tree = manager_.CreateTree(request);
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(tree->signature_algorithm(), sigpb::DigitallySigned::ED25519);

  auto key = crypto::GenerateKey(keyspb::Specification());
  keyspb::PrivateKey der;
  der.set_der(*crypto::MarshalPrivateKey(**key));
  request = LogRequest();
  request.mutable_tree()->mutable_private_key()->PackFrom(der);
  tree = manager_.CreateTree(request);
  ASSERT_TRUE(tree.ok()) << tree.status();
  EXPECT_EQ(tree->public_key().der(), *crypto::MarshalPublicKey(**key));

  // PEM file in the server's key directory.
  std::filesystem::create_directory(dir_.path() + "/keys");
  const std::string pem_path = dir_.path() + "/keys/key.pem";
  FILE* f = fopen(pem_path.c_str(), "w");
  PEM_write_PrivateKey(f, key->get(), nullptr, nullptr, 0, nullptr, nullptr);
  fclose(f);
  keyspb::PEMKeyFile pem;
  pem.set_path(pem_path);
  request = LogRequest();
  request.mutable_tree()->mutable_private_key()->PackFrom(pem);
  tree = manager_.CreateTree(request);
  ASSERT_TRUE(tree.ok()) << tree.status();
  EXPECT_EQ(tree->public_key().der(), *crypto::MarshalPublicKey(**key));
  // Outside the key directory (even via ..): refused, as with no directory.
  std::filesystem::copy_file(pem_path, dir_.path() + "/outside.pem");
  for (const std::string& path :
       {dir_.path() + "/outside.pem", dir_.path() + "/keys/../outside.pem",
        std::string("/etc/passwd")}) {
    pem.set_path(path);
    request.mutable_tree()->mutable_private_key()->PackFrom(pem);
    EXPECT_EQ(manager_.CreateTree(request).status().code(),
              absl::StatusCode::kInvalidArgument)
        << path;
  }
  // Inside the directory but not a key file: links out (to a file or a
  // directory), a FIFO (which would block a plain open forever), a device,
  // an oversized file. Each refused without hanging.
  const std::string keys = dir_.path() + "/keys";
  ASSERT_EQ(symlink((dir_.path() + "/outside.pem").c_str(),
                    (keys + "/link.pem").c_str()),
            0);
  ASSERT_EQ(symlink(dir_.path().c_str(), (keys + "/up").c_str()), 0);
  ASSERT_EQ(symlink("/dev/zero", (keys + "/zero.pem").c_str()), 0);
  ASSERT_EQ(mkfifo((keys + "/fifo.pem").c_str(), 0600), 0);
  std::filesystem::copy_file(pem_path, keys + "/big.pem");
  std::filesystem::resize_file(keys + "/big.pem", 1 << 20);
  for (const char* name : {"link.pem", "up/outside.pem", "zero.pem", "fifo.pem",
                           "big.pem", "", "."}) {
    pem.set_path(keys + "/" + name);
    request.mutable_tree()->mutable_private_key()->PackFrom(pem);
    EXPECT_EQ(manager_.CreateTree(request).status().code(),
              absl::StatusCode::kInvalidArgument)
        << name;
  }
  // A relative path names a file in the key directory.
  pem.set_path("key.pem");
  request.mutable_tree()->mutable_private_key()->PackFrom(pem);
  EXPECT_TRUE(manager_.CreateTree(request).ok());
  TreeManager no_pem(&trees_, &logs_, &keys_);
  pem.set_path(pem_path);
  request.mutable_tree()->mutable_private_key()->PackFrom(pem);
  EXPECT_EQ(no_pem.CreateTree(request).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Both at once, mismatched algorithm, mismatched public key: refused.
  request.mutable_key_spec()->mutable_ecdsa_params();
  EXPECT_EQ(manager_.CreateTree(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request = LogRequest();
  request.mutable_tree()->set_signature_algorithm(sigpb::DigitallySigned::RSA);
  EXPECT_EQ(manager_.CreateTree(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request = LogRequest();
  request.mutable_tree()->mutable_public_key()->set_der("not it");
  EXPECT_EQ(manager_.CreateTree(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request = LogRequest();
  keyspb::PrivateKey garbage;
  garbage.set_der("garbage");
  request.mutable_tree()->mutable_private_key()->PackFrom(garbage);
  EXPECT_EQ(manager_.CreateTree(request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TreeManagerTest, CreateRefusesBadTrees) {
  trillian::CreateTreeRequest request;
  EXPECT_EQ(manager_.CreateTree(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request.mutable_tree();
  EXPECT_EQ(manager_.CreateTree(request).status().code(),
            absl::StatusCode::kInvalidArgument);  // No type.
  request = LogRequest();
  request.mutable_tree()->set_tree_state(trillian::FROZEN);
  EXPECT_FALSE(manager_.CreateTree(request).ok());
  request = LogRequest();
  request.mutable_tree()->set_hash_strategy(trillian::CONIKS_SHA256);
  EXPECT_FALSE(manager_.CreateTree(request).ok());
  request = LogRequest();
  request.mutable_tree()->mutable_max_root_duration()->set_seconds(-1);
  EXPECT_FALSE(manager_.CreateTree(request).ok());
  request = LogRequest();
  request.mutable_key_spec()->mutable_rsa_params()->set_bits(512);
  EXPECT_EQ(manager_.CreateTree(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(manager_.ListTrees(true)->empty());
}

TEST_F(TreeManagerTest, UpdateHonoursTheMask) {
  auto tree = manager_.CreateTree(LogRequest());
  ASSERT_TRUE(tree.ok());
  trillian::UpdateTreeRequest update;
  update.mutable_tree()->set_tree_id(tree->tree_id());
  update.mutable_tree()->set_display_name("renamed");
  update.mutable_tree()->set_description("ignored, not in mask");
  update.mutable_tree()->set_tree_state(trillian::FROZEN);
  update.mutable_update_mask()->add_paths("display_name");
  update.mutable_update_mask()->add_paths("tree_state");
  auto updated = manager_.UpdateTree(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->display_name(), "renamed");
  EXPECT_EQ(updated->description(), "");
  EXPECT_EQ(updated->tree_state(), trillian::FROZEN);
  EXPECT_EQ(manager_.GetTree(tree->tree_id())->display_name(), "renamed");

  for (const char* read_only :
       {"tree_id", "public_key", "hash_strategy", "create_time", "deleted",
        "signature_algorithm", "bogus"}) {
    trillian::UpdateTreeRequest bad = update;
    bad.mutable_update_mask()->add_paths(read_only);
    EXPECT_EQ(manager_.UpdateTree(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << read_only;
  }
  trillian::UpdateTreeRequest no_mask;
  *no_mask.mutable_tree() = *tree;
  EXPECT_EQ(manager_.UpdateTree(no_mask).status().code(),
            absl::StatusCode::kInvalidArgument);
  trillian::UpdateTreeRequest type_change = update;
  type_change.mutable_tree()->set_tree_type(trillian::PREORDERED_LOG);
  type_change.mutable_update_mask()->add_paths("tree_type");
  EXPECT_EQ(manager_.UpdateTree(type_change).status().code(),
            absl::StatusCode::kInvalidArgument);
  update.mutable_tree()->set_tree_id(12345);
  EXPECT_EQ(manager_.UpdateTree(update).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(TreeManagerTest, SoftDeleteAndUndelete) {
  auto tree = manager_.CreateTree(LogRequest());
  ASSERT_TRUE(tree.ok());
  const int64_t id = tree->tree_id();
  auto deleted = manager_.DeleteTree(id);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->deleted());
  EXPECT_TRUE(deleted->has_delete_time());
  EXPECT_EQ(manager_.DeleteTree(id).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(manager_.ListTrees(false)->empty());
  EXPECT_EQ(manager_.ListTrees(true)->size(), 1u);
  EXPECT_TRUE(manager_.GetTree(id)->deleted());
  auto undeleted = manager_.UndeleteTree(id);
  ASSERT_TRUE(undeleted.ok());
  EXPECT_FALSE(undeleted->deleted());
  EXPECT_EQ(manager_.UndeleteTree(id).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(manager_.DeleteTree(999).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(TreeManagerTest, LogsGetAnOriginAndANoteKeyThatSignsCheckpoints) {
  auto tree = manager_.CreateTree(LogRequest());
  ASSERT_TRUE(tree.ok()) << tree.status();
  trellis::LogSettings settings;
  ASSERT_TRUE(tree->storage_settings().UnpackTo(&settings));
  EXPECT_EQ(settings.origin(),
            absl::StrCat("localhost/trellis/", tree->tree_id()));
  EXPECT_TRUE(settings.entry_bundles());
  auto vkey = tlog::ParseVerifierKey(settings.note_verifier_key());
  ASSERT_TRUE(vkey.ok()) << vkey.status();
  EXPECT_EQ(vkey->name, settings.origin());

  auto signer = keys_.NoteSignerFor(tree->tree_id());
  ASSERT_TRUE(signer.ok()) << signer.status();
  const std::string text = settings.origin() + "\n1\nAAAA\n";
  auto line = (*signer)->SignatureLine(text);
  ASSERT_TRUE(line.ok());
  auto note = tlog::ParseNote(tlog::FormatNote(text, {*line}));
  ASSERT_TRUE(note.ok()) << note.status();
  auto verified = tlog::VerifyNote(*note, {*vkey});
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->size(), 1u);
  // Encrypted at rest, under the KEK.
  EXPECT_EQ((*trees_.GetWrappedNoteKey(tree->tree_id()))[0], '\x02');

  // The caller's origin and entry_bundles are kept; a verifier key is not.
  trillian::CreateTreeRequest request = LogRequest();
  trellis::LogSettings asked;
  asked.set_origin("example.com/log");
  asked.set_note_verifier_key("ignored");
  request.mutable_tree()->mutable_storage_settings()->PackFrom(asked);
  auto custom = manager_.CreateTree(request);
  ASSERT_TRUE(custom.ok()) << custom.status();
  ASSERT_TRUE(custom->storage_settings().UnpackTo(&settings));
  EXPECT_EQ(settings.origin(), "example.com/log");
  EXPECT_FALSE(settings.entry_bundles());
  EXPECT_NE(settings.note_verifier_key(), "ignored");
  EXPECT_TRUE(tlog::ParseVerifierKey(settings.note_verifier_key()).ok());

  // Origins that cannot name a note key, and settings of the wrong kind.
  for (const char* bad : {"has space", "a+b", "line\nbreak"}) {
    asked.set_origin(bad);
    request.mutable_tree()->mutable_storage_settings()->PackFrom(asked);
    EXPECT_EQ(manager_.CreateTree(request).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  asked.set_origin(std::string(257, 'o'));
  request.mutable_tree()->mutable_storage_settings()->PackFrom(asked);
  EXPECT_EQ(manager_.CreateTree(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Witnesses and verifiers keep state per origin: one log each.
  asked.set_origin("example.com/log");
  request.mutable_tree()->mutable_storage_settings()->PackFrom(asked);
  EXPECT_EQ(manager_.CreateTree(request).status().code(),
            absl::StatusCode::kAlreadyExists);
  request.mutable_tree()->mutable_storage_settings()->PackFrom(
      trellis::MapSettings());
  EXPECT_EQ(manager_.CreateTree(request).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Origin and entry bundles are fixed at creation.
  trillian::UpdateTreeRequest update;
  update.mutable_tree()->set_tree_id(tree->tree_id());
  asked.set_origin("elsewhere");
  asked.set_entry_bundles(true);
  update.mutable_tree()->mutable_storage_settings()->PackFrom(asked);
  update.mutable_update_mask()->add_paths("storage_settings");
  EXPECT_EQ(manager_.UpdateTree(update).status().code(),
            absl::StatusCode::kInvalidArgument);
  asked.set_origin("");
  asked.set_entry_bundles(false);
  update.mutable_tree()->mutable_storage_settings()->PackFrom(asked);
  EXPECT_EQ(manager_.UpdateTree(update).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TreeManagerTest, WitnessPoliciesAreCheckedAndMayChange) {
  auto tree = manager_.CreateTree(LogRequest());
  ASSERT_TRUE(tree.ok()) << tree.status();
  trellis::LogSettings created;
  ASSERT_TRUE(tree->storage_settings().UnpackTo(&created));
  auto witness_key = tlog::NoteSigner::Create(
      "example.com/w1",
      std::shared_ptr<EVP_PKEY>(crypto::GenerateKey([] {
                                  keyspb::Specification spec;
                                  spec.mutable_ed25519_params();
                                  return spec;
                                }())
                                    ->release(),
                                EVP_PKEY_free),
      tlog::kCosignatureV1KeyType);
  const std::string witness_line = absl::StrCat(
      "witness w1 ", tlog::FormatVerifierKey(witness_key->verifier_key()),
      " http://127.0.0.1:1/\n");

  auto update_with = [&](const std::string& policy, bool fail_open) {
    trillian::UpdateTreeRequest update;
    update.mutable_tree()->set_tree_id(tree->tree_id());
    trellis::LogSettings settings;
    settings.set_entry_bundles(true);
    settings.set_witness_policy(policy);
    settings.set_witness_fail_open(fail_open);
    update.mutable_tree()->mutable_storage_settings()->PackFrom(settings);
    update.mutable_update_mask()->add_paths("storage_settings");
    return manager_.UpdateTree(update);
  };
  auto updated = update_with(witness_line + "quorum w1\n", true);
  ASSERT_TRUE(updated.ok()) << updated.status();
  trellis::LogSettings settings;
  ASSERT_TRUE(updated->storage_settings().UnpackTo(&settings));
  EXPECT_EQ(settings.witness_policy(), witness_line + "quorum w1\n");
  EXPECT_TRUE(settings.witness_fail_open());
  // Untouched: origin and the verifier key.
  EXPECT_EQ(settings.origin(), created.origin());
  EXPECT_EQ(settings.note_verifier_key(), created.note_verifier_key());

  // With this log's own log line it is fine; another log's is not.
  EXPECT_TRUE(update_with(absl::StrCat("log ", created.note_verifier_key(),
                                       "\n", witness_line, "quorum w1\n"),
                          false)
                  .ok());
  auto other_log = manager_.CreateTree(LogRequest());
  trellis::LogSettings other;
  ASSERT_TRUE(other_log->storage_settings().UnpackTo(&other));
  EXPECT_EQ(update_with(absl::StrCat("log ", other.note_verifier_key(), "\n",
                                     witness_line, "quorum w1\n"),
                        false)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  // Malformed policies: no quorum, unknown witness, a URL that is not one,
  // a quorum only witnesses without URLs could meet.
  EXPECT_EQ(update_with(witness_line, false).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::string vkey = tlog::FormatVerifierKey(witness_key->verifier_key());
  EXPECT_EQ(update_with(absl::StrCat("witness w1 ", vkey,
                                     " witness.example/\nquorum w1\n"),
                        false)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      update_with(absl::StrCat("witness w1 ", vkey, "\nquorum w1\n"), false)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(update_with(witness_line + "quorum w2\n", false).status().code(),
            absl::StatusCode::kInvalidArgument);
  // And cleared again.
  ASSERT_TRUE(update_with("", false).ok());
}

TEST_F(TreeManagerTest, LogsFromBeforeCheckpointsGetANoteKeyOnce) {
  trillian::Tree old;
  old.set_tree_id(42);
  old.set_tree_type(trillian::PREORDERED_LOG);
  old.set_tree_state(trillian::ACTIVE);
  ASSERT_TRUE(trees_.CreateTree(old, "wrapped", "").ok());
  trillian::Tree map = old;
  map.set_tree_id(43);
  map.set_tree_type(trillian::MAP);
  ASSERT_TRUE(trees_.CreateTree(map, "wrapped", "").ok());

  auto added = manager_.AddMissingNoteKeys();
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(*added, 1);
  auto tree = manager_.GetTree(42);
  trellis::LogSettings settings;
  ASSERT_TRUE(tree->storage_settings().UnpackTo(&settings));
  EXPECT_EQ(settings.origin(), "localhost/trellis/42");
  EXPECT_FALSE(settings.entry_bundles());
  EXPECT_TRUE(keys_.NoteSignerFor(42).ok());
  EXPECT_EQ(keys_.NoteSignerFor(43).status().code(),
            absl::StatusCode::kNotFound);
  const std::string vkey = settings.note_verifier_key();
  EXPECT_EQ(*manager_.AddMissingNoteKeys(), 0);
  ASSERT_TRUE(manager_.GetTree(42)->storage_settings().UnpackTo(&settings));
  EXPECT_EQ(settings.note_verifier_key(), vkey);
}

}  // namespace
}  // namespace trellis::admin
