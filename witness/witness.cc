#include "witness/witness.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "merkle/hasher.h"
#include "merkle/verifier.h"
#include "tlog/checkpoint.h"
#include "tlog/witness_protocol.h"

namespace trellis::witness {
namespace {

std::string KeyId(absl::string_view name) {
  return absl::StrCat("witness/", name);
}

absl::StatusOr<std::shared_ptr<EVP_PKEY>> LoadOrMakeKey(
    const std::string& name, storage::WitnessStorage* storage,
    admin::KeyStore* keys) {
  absl::StatusOr<std::string> wrapped = storage->GetWrappedKey(name);
  if (absl::IsNotFound(wrapped.status())) {
    absl::StatusOr<admin::KeyStore::NewEd25519Key> made =
        keys->GenerateEd25519(KeyId(name));
    if (!made.ok()) return made.status();
    absl::Status added = storage->AddWrappedKey(name, made->wrapped);
    if (!added.ok() && !absl::IsAlreadyExists(added)) return added;
    wrapped = storage->GetWrappedKey(name);  // Another start's, if it won.
  }
  if (!wrapped.ok()) return wrapped.status();
  return keys->UnwrapPrivateKey(KeyId(name), *wrapped);
}

}  // namespace

absl::StatusOr<std::vector<tlog::NoteVerifierKey>> ParseWitnessedLogs(
    absl::string_view text) {
  std::vector<tlog::NoteVerifierKey> logs;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    absl::StatusOr<tlog::NoteVerifierKey> key =
        fields.size() >= 2 && fields.size() <= 3 && fields[0] == "log"
            ? tlog::ParseVerifierKey(fields[1])
            : absl::InvalidArgumentError("want \"log <vkey> [url]\"");
    if (key.ok() && key->type != tlog::kEd25519KeyType) {
      key = absl::InvalidArgumentError("a log key is an Ed25519 note key");
    }
    if (!key.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "witnessed logs, line ", number, ": ", key.status().message()));
    }
    logs.push_back(std::move(*key));
  }
  return logs;
}

absl::StatusOr<std::unique_ptr<Witness>> Witness::Create(
    WitnessOptions options, storage::WitnessStorage* storage,
    admin::KeyStore* keys) {
  absl::StatusOr<std::shared_ptr<EVP_PKEY>> key =
      LoadOrMakeKey(options.name, storage, keys);
  if (!key.ok()) return key.status();
  absl::StatusOr<tlog::NoteSigner> signer = tlog::NoteSigner::Create(
      options.name, std::move(*key), tlog::kCosignatureV1KeyType);
  if (!signer.ok()) return signer.status();
  return std::unique_ptr<Witness>(
      new Witness(std::move(options), storage,
                  std::make_unique<tlog::NoteSigner>(std::move(*signer))));
}

absl::StatusOr<std::string> Witness::AddCheckpoint(absl::string_view body,
                                                   uint64_t* witness_size) {
  absl::StatusOr<tlog::AddCheckpointRequest> request =
      tlog::ParseAddCheckpointRequest(body);
  if (!request.ok()) return request.status();
  absl::StatusOr<tlog::Note> note = tlog::ParseNote(request->checkpoint_note);
  if (!note.ok()) return note.status();
  absl::StatusOr<tlog::Checkpoint> checkpoint =
      tlog::ParseCheckpoint(note->text);
  if (!checkpoint.ok()) return checkpoint.status();

  std::vector<tlog::NoteVerifierKey> log_keys;
  for (const tlog::NoteVerifierKey& key : options_.logs) {
    if (key.name == checkpoint->origin) log_keys.push_back(key);
  }
  if (log_keys.empty()) {
    return absl::NotFoundError(
        absl::StrCat("unknown log origin \"", checkpoint->origin, "\""));
  }
  if (absl::StatusOr<std::vector<tlog::VerifiedSignature>> signed_by =
          tlog::VerifyNote(*note, log_keys);
      !signed_by.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat("the checkpoint is not signed by the log: ",
                     signed_by.status().message()));
  }
  if (request->old_size > checkpoint->size) {
    return absl::InvalidArgumentError("old size is beyond the checkpoint");
  }

  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::optional<storage::WitnessedCheckpoint>> latest =
      storage_->GetCheckpoint(checkpoint->origin);
  if (!latest.ok()) return latest.status();
  const uint64_t known_size = latest->has_value() ? (*latest)->size : 0;
  if (request->old_size != known_size) {
    *witness_size = known_size;
    return absl::AbortedError(absl::StrCat("this witness has size ", known_size,
                                           ", not ", request->old_size));
  }
  if (checkpoint->size == 0 && checkpoint->root_hash != merkle::EmptyRoot()) {
    return absl::FailedPreconditionError(
        "an empty checkpoint must have the empty tree's root");
  }
  if (known_size == 0) {
    if (!request->proof.empty()) {
      return absl::FailedPreconditionError("a proof from size 0 must be empty");
    }
  } else if (absl::Status consistent = merkle::VerifyConsistency(
                 known_size, checkpoint->size, (*latest)->root_hash,
                 checkpoint->root_hash, request->proof);
             !consistent.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        checkpoint->size == known_size ? "same size, another root (a fork)"
                                       : "the consistency proof fails",
        ": ", consistent.message()));
  }
  const absl::Time now = options_.now();
  absl::StatusOr<std::string> cosignature = signer_->CosignatureLine(
      note->text, static_cast<uint64_t>(absl::ToUnixSeconds(now)));
  if (!cosignature.ok()) return cosignature.status();
  // Persisted before the cosignature leaves.
  if (absl::Status stored = storage_->PutCheckpoint(
          checkpoint->origin,
          {checkpoint->size, checkpoint->root_hash, request->checkpoint_note});
      !stored.ok()) {
    return stored;
  }
  return cosignature;
}

}  // namespace trellis::witness
