// Registration entries: validation, storage, and which entries an agent is
// authorised for, exactly as a SPIRE server decides it. Entries are kept in
// memory (loaded once) beside their durable copy, so entry sync and SVID
// authorisation never read the database.
#ifndef TRELLIS_IDENTITY_ENTRY_MANAGER_H_
#define TRELLIS_IDENTITY_ENTRY_MANAGER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "spire/api/types/entry.pb.h"
#include "spire/api/types/selector.pb.h"
#include "storage/identity_storage.h"

namespace trellis::identity {

using Entry = spire::api::types::Entry;
using Selector = spire::api::types::Selector;

// Most entries one batch may create, update or delete.
inline constexpr size_t kMaxEntryBatch = 500;

class EntryManager {
 public:
  using Clock = std::function<absl::Time()>;

  // Loads every stored entry.
  static absl::StatusOr<std::unique_ptr<EntryManager>> Create(
      storage::IdentityStorage* storage, std::string trust_domain,
      Clock clock = absl::Now);

  // Validates and stores new entries; per entry: the stored entry (id
  // generated if empty, revision 0, created_at set) or INVALID_ARGUMENT /
  // ALREADY_EXISTS (same SPIFFE ID, parent and selectors, or same id).
  std::vector<absl::StatusOr<Entry>> Create(std::vector<Entry> entries);
  // Replaces existing entries (revision_number increments); NOT_FOUND for
  // an unknown id.
  std::vector<absl::StatusOr<Entry>> Update(std::vector<Entry> entries);
  std::vector<absl::Status> Delete(const std::vector<std::string>& ids);

  // Deletes the entries past their expiry (upstream's registration
  // pruning); how many.
  absl::StatusOr<size_t> PruneExpired();

  absl::StatusOr<Entry> Get(const std::string& id) const;
  // Every entry, ordered by id.
  std::vector<Entry> List() const;
  size_t Count() const;

  // The unexpired entry marked downstream whose SPIFFE ID is `spiffe_id`
  // (what makes a caller a downstream server); PERMISSION_DENIED if none.
  absl::StatusOr<Entry> DownstreamEntry(const std::string& spiffe_id) const;

  // The entries an agent may mint SVIDs for: those parented (recursively)
  // to the agent, and the descendants of node-alias entries (parented to
  // the server) whose selectors are all among the agent's node selectors.
  // Expired entries (expires_at passed) are left out, with what hangs
  // below them only through them.
  std::vector<Entry> AuthorizedEntries(
      const std::string& agent_id,
      const std::vector<Selector>& agent_selectors) const;
  // Entry `entry_id` if it is among AuthorizedEntries(agent_id,
  // agent_selectors), found by walking up from it rather than listing them
  // all (agents ask per SVID); NOT_FOUND otherwise.
  absl::StatusOr<Entry> AuthorizedEntry(
      const std::string& agent_id, const std::vector<Selector>& agent_selectors,
      const std::string& entry_id) const;

 private:
  EntryManager(storage::IdentityStorage* storage, std::string trust_domain,
               Clock clock);
  absl::Status Validate(const Entry& entry) const;
  // Runs `prepare` on each entry (it fills in and checks it), stores those
  // it accepts in one write and indexes them; one result per entry.
  std::vector<absl::StatusOr<Entry>> StoreLocked(
      std::vector<Entry> entries,
      absl::FunctionRef<absl::Status(Entry&)> prepare)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Key of (SPIFFE ID, parent, selector set) for the uniqueness rule.
  static std::string SimilarityKey(const Entry& entry);
  void IndexLocked(const Entry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UnindexLocked(const Entry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  storage::IdentityStorage* const storage_;
  const std::string trust_domain_;
  const std::string server_id_;
  const Clock clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> by_id_ ABSL_GUARDED_BY(mu_);
  // parent SPIFFE ID -> ids of its children.
  absl::flat_hash_map<std::string, std::vector<std::string>> by_parent_
      ABSL_GUARDED_BY(mu_);
  // SPIFFE ID -> ids of the entries for it.
  absl::flat_hash_map<std::string, std::vector<std::string>> by_spiffe_id_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> by_similarity_
      ABSL_GUARDED_BY(mu_);
};

// "spiffe://<trust_domain><path>" of a proto SPIFFE ID.
std::string SpiffeIdString(const spire::api::types::SPIFFEID& id);

}  // namespace trellis::identity

#endif  // TRELLIS_IDENTITY_ENTRY_MANAGER_H_
