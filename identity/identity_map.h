// The identity map: per SPIFFE ID, its latest issuance (the record, its
// place in the issuance log) and the attestation verdict behind it, in a
// verifiable map. It follows the issuance log's integrated leaves, so the map
// is derived from the log alone: a pass that a crash interrupts is redone
// from the last position stored, and issuance never waits for it.
#ifndef TRELLIS_IDENTITY_IDENTITY_MAP_H_
#define TRELLIS_IDENTITY_IDENTITY_MAP_H_

#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "log/log_manager.h"
#include "map/map_manager.h"
#include "storage/identity_storage.h"

namespace trellis::identity {

// The map index of a SPIFFE ID: SHA-256 of its text.
std::string IdentityMapIndex(const std::string& spiffe_id);

class IdentityMap {
 public:
  // Makes and initialises a new MAP tree, returning its id.
  using MapCreator = std::function<absl::StatusOr<int64_t>()>;
  // The issuance log's id, 0 while there is none.
  using IssuanceLogId = std::function<absl::StatusOr<int64_t>()>;

  IdentityMap(storage::IdentityStorage* settings, log::LogManager* logs,
              map::MapManager* maps, IssuanceLogId issuance_log,
              MapCreator create_map);
  ~IdentityMap();

  // Brings the map up to the issuance log's signed size: one map revision
  // for everything integrated since the last pass (the latest issuance per
  // SPIFFE ID wins). Returns the log size the map now covers.
  absl::StatusOr<int64_t> Sync();

  // The map's tree id, 0 before the first revision.
  absl::StatusOr<int64_t> MapId();

  // Sync()s every `interval` on a thread of its own until Stop().
  void Start(absl::Duration interval);
  void Stop();

 private:
  absl::StatusOr<int64_t> MapIdOrCreate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The verdict leaves the records name, by audit id.
  absl::StatusOr<absl::flat_hash_map<std::string, std::string>> Verdicts(
      const std::vector<trellis::IssuanceRecord>& records);

  storage::IdentityStorage* const settings_;
  log::LogManager* const logs_;
  map::MapManager* const maps_;
  const IssuanceLogId issuance_log_;
  const MapCreator create_map_;

  absl::Mutex mu_;  // One pass at a time.
  absl::Mutex stop_mu_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread thread_;
};

}  // namespace trellis::identity

#endif  // TRELLIS_IDENTITY_IDENTITY_MAP_H_
