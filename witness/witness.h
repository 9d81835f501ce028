// Trellis as a C2SP tlog-witness (https://c2sp.org/tlog-witness): for each
// configured log it keeps the latest checkpoint it cosigned and cosigns a
// newer one only with a consistency proof from it, so that a log cannot
// show it two views. Check and update are atomic and the new state is
// durable before a cosignature is returned.
#ifndef TRELLIS_WITNESS_WITNESS_H_
#define TRELLIS_WITNESS_WITNESS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "admin/key_store.h"
#include "storage/witness_storage.h"
#include "tlog/note.h"

namespace trellis::witness {

struct WitnessOptions {
  // The witness's name (its cosignature key name), e.g. "example.com/w1".
  std::string name;
  // The logs it witnesses: Ed25519 note keys, each named by its log's
  // origin (several keys may share an origin).
  std::vector<tlog::NoteVerifierKey> logs;
  // The cosignature timestamp's clock.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

// The logs of a witness configuration: one "log <vkey> [url]" line per key
// (the tlog-policy syntax; '#' comments and empty lines ignored).
// INVALID_ARGUMENT naming the line for anything else.
absl::StatusOr<std::vector<tlog::NoteVerifierKey>> ParseWitnessedLogs(
    absl::string_view text);

class Witness {
 public:
  // Loads the witness key named options.name, or makes and stores one
  // (Ed25519, wrapped by `keys`).
  static absl::StatusOr<std::unique_ptr<Witness>> Create(
      WitnessOptions options, storage::WitnessStorage* storage,
      admin::KeyStore* keys);

  // The cosignature/v1 verifier key clients pin.
  const tlog::NoteVerifierKey& verifier_key() const {
    return signer_->verifier_key();
  }

  // An add-checkpoint request body; returns the cosignature line. Errors,
  // with the HTTP status the protocol gives them:
  //   INVALID_ARGUMENT (400) malformed, or old size beyond the checkpoint;
  //   NOT_FOUND (404) unknown origin;
  //   PERMISSION_DENIED (403) no valid signature by a known key of it;
  //   ABORTED (409) old size is not the latest cosigned size, which is put
  //     in *witness_size;
  //   FAILED_PRECONDITION (422) the proof does not verify, or the same size
  //     with another root (a fork).
  absl::StatusOr<std::string> AddCheckpoint(absl::string_view body,
                                            uint64_t* witness_size);

 private:
  Witness(WitnessOptions options, storage::WitnessStorage* storage,
          std::unique_ptr<tlog::NoteSigner> signer)
      : options_(std::move(options)),
        storage_(storage),
        signer_(std::move(signer)) {}

  const WitnessOptions options_;
  storage::WitnessStorage* const storage_;
  const std::unique_ptr<tlog::NoteSigner> signer_;
  // Check and update are one step (the spec's rollback race).
  absl::Mutex mu_;
};

}  // namespace trellis::witness

#endif  // TRELLIS_WITNESS_WITNESS_H_
