#include "admin/tree_manager.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crypto/keys.h"
#include "map/hasher.h"
#include "tlog/policy.h"
#include "tlog/witness_protocol.h"
#include "trellis_settings.pb.h"
#include "util/file.h"
#include "util/proto_time.h"

namespace trellis::admin {
namespace {

// A PEM private key, even RSA-4096 with a certificate chain, is far smaller.
constexpr size_t kMaxKeyFileBytes = 64 << 10;
// Random 63-bit ids collide only by accident; a few tries are plenty.
constexpr int kTreeIdAttempts = 4;

// The PEM file `requested` names, read only if it lies inside `dir` once
// every directory on its path is resolved, and is not itself a link: the
// check comes before the open, and O_NOFOLLOW keeps a link swapped in
// afterwards from leading out.
absl::StatusOr<std::string> ReadKeyFileInDir(const std::string& dir,
                                             const std::string& requested) {
  const absl::Status refused = absl::InvalidArgumentError(
      "PEM key file is not a readable file in the server's key directory");
  std::error_code ec;
  const std::filesystem::path root = std::filesystem::canonical(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        "the server's PEM key directory is unusable: " + ec.message());
  }
  const std::filesystem::path lexical = (root / requested).lexically_normal();
  if (!lexical.has_filename()) return refused;
  const std::filesystem::path parent =
      std::filesystem::canonical(lexical.parent_path(), ec);
  if (ec) return refused;
  const auto [root_end, unused] =
      std::mismatch(root.begin(), root.end(), parent.begin(), parent.end());
  if (root_end != root.end()) return refused;
  ReadOptions options;
  options.no_follow = true;
  options.max_bytes = kMaxKeyFileBytes;
  absl::StatusOr<std::string> pem =
      ReadFile((parent / lexical.filename()).string(), options);
  if (!pem.ok()) return refused;
  return pem;
}

// The key a CreateTree/UpdateTree request carries: DER inline, or a PEM file
// on the server, accepted only inside the configured key directory (a client
// must not make the server read, or sign with, arbitrary files).
absl::StatusOr<crypto::PrivateKey> KeyFromAny(const google::protobuf::Any& any,
                                              const std::string& pem_key_dir) {
  keyspb::PrivateKey der_key;
  if (any.UnpackTo(&der_key)) return crypto::ParsePrivateKey(der_key.der());
  keyspb::PEMKeyFile pem_file;
  if (any.UnpackTo(&pem_file)) {
    if (pem_key_dir.empty()) {
      return absl::InvalidArgumentError(
          "keyspb.PEMKeyFile is disabled on this server (no PEM key "
          "directory configured); send keyspb.PrivateKey");
    }
    absl::StatusOr<std::string> pem =
        ReadKeyFileInDir(pem_key_dir, pem_file.path());
    if (!pem.ok()) return pem.status();
    return crypto::ParsePrivateKeyPem(*pem, pem_file.password());
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported private_key type ", any.type_url(),
                   " (want keyspb.PrivateKey or keyspb.PEMKeyFile)"));
}

absl::Status ValidateMaxRootDuration(const google::protobuf::Duration& d) {
  const bool mixed_signs =
      (d.seconds() > 0 && d.nanos() < 0) || (d.seconds() < 0 && d.nanos() > 0);
  if (d.seconds() < 0 || d.nanos() < 0 || d.nanos() > 999999999 ||
      mixed_signs) {
    return absl::InvalidArgumentError(
        "max_root_duration must be a valid, non-negative duration");
  }
  return absl::OkStatus();
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

// Witnesses a checkpoint can carry cosignatures of: with the log's own
// signature, well under a note's 100.
constexpr size_t kMaxAskedWitnesses = 64;
// An origin is a checkpoint's first line and the note key's name.
constexpr size_t kMaxOriginBytes = 256;

// A log's witness policy parses, names this log's key if it names logs,
// and can be met by the witnesses the log can ask (those with a valid URL).
absl::Status CheckWitnessPolicy(const trellis::LogSettings& settings) {
  if (settings.witness_policy().empty()) return absl::OkStatus();
  absl::StatusOr<tlog::WitnessPolicy> policy =
      tlog::WitnessPolicy::Parse(settings.witness_policy());
  if (!policy.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("witness_policy: ", policy.status().message()));
  }
  std::set<std::string> askable;
  for (const tlog::PolicyWitness& witness : policy->witnesses()) {
    if (witness.url.empty()) continue;
    if (absl::StatusOr<tlog::SubmissionPrefix> url =
            tlog::ParseSubmissionPrefix(witness.url);
        !url.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("witness_policy: ", url.status().message()));
    }
    askable.insert(witness.name);
  }
  if (askable.size() > kMaxAskedWitnesses) {
    return absl::InvalidArgumentError(absl::StrCat("witness_policy: at most ",
                                                   kMaxAskedWitnesses,
                                                   " witnesses with URLs"));
  }
  if (!policy->QuorumMet(askable)) {
    return absl::InvalidArgumentError(
        "witness_policy: its quorum cannot be met by the witnesses that have "
        "a URL");
  }
  if (policy->logs().empty()) return absl::OkStatus();
  for (const tlog::PolicyLog& log : policy->logs()) {
    if (tlog::FormatVerifierKey(log.key) == settings.note_verifier_key()) {
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      "witness_policy names logs, but not this one's key");
}

}  // namespace

absl::Status TreeManager::ValidateSettings(const trillian::Tree& tree) {
  if (!tree.has_storage_settings()) return absl::OkStatus();
  if (tree.tree_type() != trillian::MAP) {
    trellis::LogSettings log_settings;
    if (!tree.storage_settings().UnpackTo(&log_settings)) {
      return absl::InvalidArgumentError(
          "storage_settings of a log must be a trellis.LogSettings");
    }
    return absl::OkStatus();
  }
  trellis::MapSettings settings;
  if (!tree.storage_settings().UnpackTo(&settings)) {
    return absl::InvalidArgumentError(
        "storage_settings must be a trellis.MapSettings of a MAP tree");
  }
  if (settings.history_log_id() == 0) return absl::OkStatus();
  absl::StatusOr<trillian::Tree> log =
      trees_->GetTree(settings.history_log_id());
  if (!log.ok() || log->tree_type() != trillian::LOG || log->deleted()) {
    return absl::InvalidArgumentError(
        "history_log_id must name an existing LOG tree");
  }
  return absl::OkStatus();
}

absl::StatusOr<trillian::Tree> TreeManager::CreateTree(
    const trillian::CreateTreeRequest& request) {
  if (!request.has_tree())
    return absl::InvalidArgumentError("tree is required");
  trillian::Tree tree = request.tree();

  const bool is_map = tree.tree_type() == trillian::MAP;
  if (!is_map && tree.tree_type() != trillian::LOG &&
      tree.tree_type() != trillian::PREORDERED_LOG) {
    return absl::InvalidArgumentError(
        "tree_type must be LOG, PREORDERED_LOG or MAP");
  }
  if (tree.tree_state() == trillian::UNKNOWN_TREE_STATE) {
    tree.set_tree_state(trillian::ACTIVE);
  }
  if (tree.tree_state() != trillian::ACTIVE) {
    return absl::InvalidArgumentError("new trees must be ACTIVE");
  }
  if (tree.hash_strategy() == trillian::UNKNOWN_HASH_STRATEGY) {
    // CONIKS_SHA256 for maps: the same construction as Trillian's default
    // CONIKS_SHA512_256, and over twice as fast where SHA-256 has hardware
    // support (map updates are hash-bound).
    tree.set_hash_strategy(is_map ? trillian::CONIKS_SHA256
                                  : trillian::RFC6962_SHA256);
  }
  if (is_map ? !map::NewMapHasher(tree.hash_strategy()).ok()
             : tree.hash_strategy() != trillian::RFC6962_SHA256) {
    return absl::InvalidArgumentError(
        is_map ? "map trees must use CONIKS_SHA512_256, CONIKS_SHA256 or "
                 "TEST_MAP_HASHER"
               : "log trees must use RFC6962_SHA256");
  }
  if (absl::Status s = ValidateSettings(tree); !s.ok()) return s;
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
      tree.has_private_key() ? KeyFromAny(tree.private_key(), pem_key_dir_)
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
  // Logs created without settings serve entry bundles; those whose leaves
  // may exceed a bundle entry's 65535 bytes ask for entry_bundles false.
  trellis::LogSettings log_settings;
  if (!is_map) {
    if (tree.has_storage_settings()) {
      tree.storage_settings().UnpackTo(&log_settings);  // Validated above.
    } else {
      log_settings.set_entry_bundles(true);
    }
    log_settings.clear_note_verifier_key();  // Output only.
  }
  Redact(tree);
  tree.set_deleted(false);
  tree.clear_delete_time();
  const auto now = ToProto(absl::Now());
  *tree.mutable_create_time() = now;
  *tree.mutable_update_time() = now;
  absl::Status created;
  absl::MutexLock create_lock(&create_mu_);
  for (int attempt = 0; attempt < kTreeIdAttempts; ++attempt) {
    absl::StatusOr<int64_t> id = RandomTreeId();
    if (!id.ok()) {
      created = id.status();
      break;
    }
    tree.set_tree_id(*id);
    // Wrapped per id: the ciphertext names its tree, so it cannot be moved
    // to another.
    absl::StatusOr<std::string> wrapped =
        keys_->Wrap(KeyStore::TreeKeyId(*id), *private_der);
    if (!wrapped.ok()) {
      created = wrapped.status();
      break;
    }
    std::string wrapped_note_key;
    if (!is_map) {
      trellis::LogSettings settings = log_settings;
      absl::StatusOr<KeyStore::NewNoteKey> note_key = NewNoteKey(*id, settings);
      if (!note_key.ok()) {
        created = note_key.status();
        break;
      }
      if (absl::Status s = CheckWitnessPolicy(settings); !s.ok()) {
        created = s;
        break;
      }
      tree.mutable_storage_settings()->PackFrom(settings);
      wrapped_note_key = std::move(note_key->wrapped);
    }
    created = trees_->CreateTree(tree, *wrapped, wrapped_note_key);
    if (!absl::IsAlreadyExists(created)) break;
  }
  OPENSSL_cleanse(private_der->data(), private_der->size());
  if (!created.ok()) return created;
  return tree;
}

absl::StatusOr<KeyStore::NewNoteKey> TreeManager::NewNoteKey(
    int64_t tree_id, trellis::LogSettings& settings) {
  if (settings.origin().empty()) {
    settings.set_origin(absl::StrCat(origin_prefix_, "/", tree_id));
  }
  if (settings.origin().size() > kMaxOriginBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("origin is longer than ", kMaxOriginBytes, " bytes"));
  }
  // Witnesses and verifiers keep their state per origin.
  absl::StatusOr<std::vector<trillian::Tree>> trees =
      trees_->ListTrees(/*include_deleted=*/true);
  if (!trees.ok()) return trees.status();
  for (const trillian::Tree& tree : *trees) {
    trellis::LogSettings other;
    if (tree.tree_id() != tree_id && tree.tree_type() != trillian::MAP &&
        tree.storage_settings().UnpackTo(&other) &&
        other.origin() == settings.origin()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "origin ", settings.origin(), " is tree ", tree.tree_id(), "'s"));
    }
  }
  absl::StatusOr<KeyStore::NewNoteKey> note_key =
      keys_->GenerateNoteKey(tree_id, settings.origin());
  if (note_key.ok()) settings.set_note_verifier_key(note_key->verifier_key);
  return note_key;
}

absl::Status TreeManager::UpdateLogSettings(const trillian::Tree& in,
                                            trillian::Tree& tree) {
  trellis::LogSettings asked;
  if (!in.storage_settings().UnpackTo(&asked)) {
    return absl::InvalidArgumentError(
        "storage_settings of a log must be a trellis.LogSettings");
  }
  trellis::LogSettings settings;
  tree.storage_settings().UnpackTo(&settings);
  // The origin names the note key that witnesses and clients pin, and
  // entry bundles decide which leaves were accepted: both are fixed.
  if ((!asked.origin().empty() && asked.origin() != settings.origin()) ||
      asked.entry_bundles() != settings.entry_bundles()) {
    return absl::InvalidArgumentError(
        "a log's origin and entry_bundles are fixed at creation; only "
        "witness_policy and witness_fail_open may change");
  }
  settings.set_witness_policy(asked.witness_policy());
  settings.set_witness_fail_open(asked.witness_fail_open());
  if (absl::Status s = CheckWitnessPolicy(settings); !s.ok()) return s;
  tree.mutable_storage_settings()->PackFrom(settings);
  return absl::OkStatus();
}

absl::StatusOr<int> TreeManager::AddMissingNoteKeys() {
  absl::MutexLock create_lock(&create_mu_);
  absl::StatusOr<std::vector<trillian::Tree>> trees =
      trees_->ListTrees(/*include_deleted=*/true);
  if (!trees.ok()) return trees.status();
  int added = 0;
  for (const trillian::Tree& tree : *trees) {
    if (tree.tree_type() == trillian::MAP) continue;
    absl::StatusOr<std::string> existing =
        trees_->GetWrappedNoteKey(tree.tree_id());
    if (existing.ok()) continue;
    if (!absl::IsNotFound(existing.status())) return existing.status();
    trellis::LogSettings settings;
    absl::StatusOr<KeyStore::NewNoteKey> note_key =
        NewNoteKey(tree.tree_id(), settings);
    if (!note_key.ok()) return note_key.status();
    absl::StatusOr<trillian::Tree> updated = trees_->AddNoteKey(
        tree.tree_id(), note_key->wrapped, [&settings](trillian::Tree& stored) {
          stored.mutable_storage_settings()->PackFrom(settings);
          return absl::OkStatus();
        });
    if (!updated.ok()) return updated.status();
    ++added;
  }
  return added;
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
  if (!request.has_tree()) {
    return absl::InvalidArgumentError("tree is required");
  }
  if (request.update_mask().paths().empty()) {
    return absl::InvalidArgumentError("update_mask is required");
  }
  const trillian::Tree& in = request.tree();
  auto apply = [&](trillian::Tree& tree) -> absl::Status {
    const trillian::Tree stored = tree;
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
        if (tree.tree_type() != trillian::MAP) {
          if (absl::Status s = UpdateLogSettings(in, tree); !s.ok()) return s;
          continue;
        }
        *tree.mutable_storage_settings() = in.storage_settings();
        if (absl::Status s = ValidateSettings(tree); !s.ok()) return s;
      } else if (path == "max_root_duration") {
        *tree.mutable_max_root_duration() = in.max_root_duration();
      } else if (path == "private_key") {
        // Only another encoding of the same key is accepted.
        absl::StatusOr<crypto::PrivateKey> key =
            KeyFromAny(in.private_key(), pem_key_dir_);
        if (!key.ok())
          return absl::InvalidArgumentError(key.status().message());
        absl::StatusOr<std::string> public_der =
            crypto::MarshalPublicKey(**key);
        if (!public_der.ok() || *public_der != tree.public_key().der()) {
          return absl::InvalidArgumentError(
              "private_key may only change to another encoding of the same "
              "key");
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
    if (tree.tree_type() != stored.tree_type()) {
      const bool allowed = stored.tree_type() == trillian::PREORDERED_LOG &&
                           tree.tree_type() == trillian::LOG &&
                           stored.tree_state() == trillian::FROZEN &&
                           tree.tree_state() == trillian::FROZEN;
      if (!allowed) {
        return absl::InvalidArgumentError(
            "tree_type may only change from PREORDERED_LOG to LOG while "
            "FROZEN");
      }
      // Queued leaves would take the indices of leaves added beyond the
      // tree's end and never integrated.
      absl::StatusOr<bool> stranded =
          logs_->HasUnintegratedLeaves(tree.tree_id());
      if (!stranded.ok()) return stranded.status();
      if (*stranded) {
        return absl::FailedPreconditionError(
            "tree holds sequenced leaves beyond its end; it cannot become a "
            "LOG");
      }
    }
    if (absl::Status s = ValidateMaxRootDuration(tree.max_root_duration());
        !s.ok()) {
      return s;
    }
    *tree.mutable_update_time() = ToProto(absl::Now());
    return absl::OkStatus();
  };
  absl::StatusOr<trillian::Tree> tree = trees_->UpdateTree(in.tree_id(), apply);
  if (tree.ok()) Redact(*tree);
  return tree;
}

absl::StatusOr<trillian::Tree> TreeManager::DeleteTree(int64_t tree_id) {
  absl::StatusOr<trillian::Tree> tree =
      trees_->UpdateTree(tree_id, [&](trillian::Tree& tree) {
        if (tree.deleted()) {
          return absl::FailedPreconditionError(
              absl::StrCat("tree ", tree_id, " is already soft-deleted"));
        }
        tree.set_deleted(true);
        *tree.mutable_delete_time() = ToProto(absl::Now());
        return absl::OkStatus();
      });
  if (tree.ok()) Redact(*tree);
  return tree;
}

absl::StatusOr<trillian::Tree> TreeManager::UndeleteTree(int64_t tree_id) {
  absl::StatusOr<trillian::Tree> tree =
      trees_->UpdateTree(tree_id, [&](trillian::Tree& tree) {
        if (!tree.deleted()) {
          return absl::FailedPreconditionError(
              absl::StrCat("tree ", tree_id, " is not soft-deleted"));
        }
        tree.set_deleted(false);
        tree.clear_delete_time();
        return absl::OkStatus();
      });
  if (tree.ok()) Redact(*tree);
  return tree;
}

}  // namespace trellis::admin
