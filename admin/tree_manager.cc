#include "admin/tree_manager.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crypto/keys.h"
#include "util/proto_time.h"

namespace trellis::admin {
namespace {

absl::StatusOr<crypto::PrivateKey> KeyFromAny(
    const google::protobuf::Any& any) {
  keyspb::PrivateKey der_key;
  if (any.UnpackTo(&der_key)) return crypto::ParsePrivateKey(der_key.der());
  keyspb::PEMKeyFile pem_file;
  if (any.UnpackTo(&pem_file)) {
    std::ifstream in(pem_file.path());
    if (!in) {
      return absl::InvalidArgumentError("cannot read PEM key file " +
                                        pem_file.path());
    }
    std::stringstream pem;
    pem << in.rdbuf();
    return crypto::ParsePrivateKeyPem(pem.str(), pem_file.password());
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported private_key type ", any.type_url(),
                   " (want keyspb.PrivateKey or keyspb.PEMKeyFile)"));
}

absl::StatusOr<int64_t> RandomTreeId() {
  uint64_t id = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof(id)) != 1) {
    return absl::InternalError("no randomness for tree id");
  }
  id &= 0x7fffffffffffffffull;
  return id == 0 ? 1 : static_cast<int64_t>(id);
}

void Redact(trillian::Tree& tree) { tree.clear_private_key(); }

}  // namespace

absl::StatusOr<trillian::Tree> TreeManager::CreateTree(
    const trillian::CreateTreeRequest& request) {
  if (!request.has_tree())
    return absl::InvalidArgumentError("tree is required");
  trillian::Tree tree = request.tree();

  switch (tree.tree_type()) {
    case trillian::LOG:
    case trillian::PREORDERED_LOG:
      break;
    case trillian::MAP:
      return absl::InvalidArgumentError("MAP trees are not supported yet");
    default:
      return absl::InvalidArgumentError(
          "tree_type must be LOG or PREORDERED_LOG");
  }
  if (tree.tree_state() == trillian::UNKNOWN_TREE_STATE) {
    tree.set_tree_state(trillian::ACTIVE);
  }
  if (tree.tree_state() != trillian::ACTIVE) {
    return absl::InvalidArgumentError("new trees must be ACTIVE");
  }
  if (tree.hash_strategy() == trillian::UNKNOWN_HASH_STRATEGY) {
    tree.set_hash_strategy(trillian::RFC6962_SHA256);
  }
  if (tree.hash_strategy() != trillian::RFC6962_SHA256) {
    return absl::InvalidArgumentError("log trees must use RFC6962_SHA256");
  }
  if (tree.hash_algorithm() == sigpb::DigitallySigned::NONE) {
    tree.set_hash_algorithm(sigpb::DigitallySigned::SHA256);
  }
  if (tree.hash_algorithm() != sigpb::DigitallySigned::SHA256) {
    return absl::InvalidArgumentError("hash_algorithm must be SHA256");
  }
  if (tree.has_max_root_duration() && (tree.max_root_duration().seconds() < 0 ||
                                       tree.max_root_duration().nanos() < 0)) {
    return absl::InvalidArgumentError("max_root_duration must not be negative");
  }

  // The key: supplied, or generated from key_spec (default ECDSA P-256).
  if (tree.has_private_key() && request.has_key_spec()) {
    return absl::InvalidArgumentError(
        "tree.private_key and key_spec are mutually exclusive");
  }
  absl::StatusOr<crypto::PrivateKey> key =
      tree.has_private_key() ? KeyFromAny(tree.private_key())
                             : crypto::GenerateKey(request.key_spec());
  if (!key.ok()) return absl::InvalidArgumentError(key.status().message());
  absl::StatusOr<sigpb::DigitallySigned::SignatureAlgorithm> algorithm =
      crypto::SignatureAlgorithmOf(**key);
  if (!algorithm.ok()) return algorithm.status();
  if (tree.signature_algorithm() == sigpb::DigitallySigned::ANONYMOUS) {
    tree.set_signature_algorithm(*algorithm);
  }
  if (tree.signature_algorithm() != *algorithm) {
    return absl::InvalidArgumentError(
        "signature_algorithm does not match the private key");
  }
  absl::StatusOr<std::string> public_der = crypto::MarshalPublicKey(**key);
  if (!public_der.ok()) return public_der.status();
  if (tree.has_public_key() && tree.public_key().der() != *public_der) {
    return absl::InvalidArgumentError(
        "public_key is not the public half of the private key");
  }
  tree.mutable_public_key()->set_der(*public_der);
  absl::StatusOr<std::string> private_der = crypto::MarshalPrivateKey(**key);
  if (!private_der.ok()) return private_der.status();
  absl::StatusOr<std::string> wrapped = keys_->Wrap(*private_der);
  OPENSSL_cleanse(private_der->data(), private_der->size());
  if (!wrapped.ok()) return wrapped.status();

  Redact(tree);
  tree.set_deleted(false);
  tree.clear_delete_time();
  const auto now = ToProto(absl::Now());
  *tree.mutable_create_time() = now;
  *tree.mutable_update_time() = now;
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<int64_t> id = RandomTreeId();
    if (!id.ok()) return id.status();
    tree.set_tree_id(*id);
    absl::Status s = trees_->CreateTree(tree, *wrapped);
    if (s.ok()) return tree;
    if (!absl::IsAlreadyExists(s) || attempt == 3) return s;
  }
}

absl::StatusOr<trillian::Tree> TreeManager::GetTree(int64_t tree_id) {
  absl::StatusOr<trillian::Tree> tree = trees_->GetTree(tree_id);
  if (tree.ok()) Redact(*tree);
  return tree;
}

absl::StatusOr<std::vector<trillian::Tree>> TreeManager::ListTrees(
    bool show_deleted) {
  absl::StatusOr<std::vector<trillian::Tree>> trees =
      trees_->ListTrees(show_deleted);
  if (trees.ok()) {
    for (trillian::Tree& tree : *trees) Redact(tree);
  }
  return trees;
}

absl::StatusOr<trillian::Tree> TreeManager::UpdateTree(
    const trillian::UpdateTreeRequest& request) {
  if (!request.has_tree())
    return absl::InvalidArgumentError("tree is required");
  if (request.update_mask().paths().empty()) {
    return absl::InvalidArgumentError("update_mask is required");
  }
  absl::StatusOr<trillian::Tree> stored =
      trees_->GetTree(request.tree().tree_id());
  if (!stored.ok()) return stored.status();
  trillian::Tree tree = *stored;
  const trillian::Tree& in = request.tree();
  for (const std::string& path : request.update_mask().paths()) {
    if (path == "tree_state") {
      tree.set_tree_state(in.tree_state());
    } else if (path == "tree_type") {
      tree.set_tree_type(in.tree_type());
    } else if (path == "display_name") {
      tree.set_display_name(in.display_name());
    } else if (path == "description") {
      tree.set_description(in.description());
    } else if (path == "storage_settings") {
      *tree.mutable_storage_settings() = in.storage_settings();
    } else if (path == "max_root_duration") {
      *tree.mutable_max_root_duration() = in.max_root_duration();
    } else if (path == "private_key") {
      // Only another encoding of the same key is accepted.
      absl::StatusOr<crypto::PrivateKey> key = KeyFromAny(in.private_key());
      if (!key.ok()) return absl::InvalidArgumentError(key.status().message());
      absl::StatusOr<std::string> public_der = crypto::MarshalPublicKey(**key);
      if (!public_der.ok() || *public_der != tree.public_key().der()) {
        return absl::InvalidArgumentError(
            "private_key may only change to another encoding of the same key");
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "update_mask path \"", path, "\" is read-only or unknown"));
    }
  }
  switch (tree.tree_state()) {
    case trillian::ACTIVE:
    case trillian::FROZEN:
    case trillian::DRAINING:
      break;
    default:
      return absl::InvalidArgumentError(
          "tree_state must be ACTIVE, FROZEN or DRAINING");
  }
  if (tree.tree_type() != stored->tree_type()) {
    const bool allowed = stored->tree_type() == trillian::PREORDERED_LOG &&
                         tree.tree_type() == trillian::LOG &&
                         stored->tree_state() == trillian::FROZEN &&
                         tree.tree_state() == trillian::FROZEN;
    if (!allowed) {
      return absl::InvalidArgumentError(
          "tree_type may only change from PREORDERED_LOG to LOG while FROZEN");
    }
  }
  if (tree.max_root_duration().seconds() < 0 ||
      tree.max_root_duration().nanos() < 0) {
    return absl::InvalidArgumentError("max_root_duration must not be negative");
  }
  *tree.mutable_update_time() = ToProto(absl::Now());
  if (absl::Status s = trees_->UpdateTree(tree); !s.ok()) return s;
  Redact(tree);
  return tree;
}

absl::StatusOr<trillian::Tree> TreeManager::DeleteTree(int64_t tree_id) {
  absl::StatusOr<trillian::Tree> tree = trees_->GetTree(tree_id);
  if (!tree.ok()) return tree.status();
  if (tree->deleted()) {
    return absl::FailedPreconditionError(
        absl::StrCat("tree ", tree_id, " is already soft-deleted"));
  }
  tree->set_deleted(true);
  *tree->mutable_delete_time() = ToProto(absl::Now());
  if (absl::Status s = trees_->UpdateTree(*tree); !s.ok()) return s;
  Redact(*tree);
  return tree;
}

absl::StatusOr<trillian::Tree> TreeManager::UndeleteTree(int64_t tree_id) {
  absl::StatusOr<trillian::Tree> tree = trees_->GetTree(tree_id);
  if (!tree.ok()) return tree.status();
  if (!tree->deleted()) {
    return absl::FailedPreconditionError(
        absl::StrCat("tree ", tree_id, " is not soft-deleted"));
  }
  tree->set_deleted(false);
  tree->clear_delete_time();
  if (absl::Status s = trees_->UpdateTree(*tree); !s.ok()) return s;
  Redact(*tree);
  return tree;
}

}  // namespace trellis::admin
