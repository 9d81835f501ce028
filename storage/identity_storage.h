// Storage of what trellisd keeps as a SPIRE server: registration entries,
// attested agents, join tokens and CA slots. Every write is durable when it
// returns; backends make every method safe to call concurrently.
#ifndef TRELLIS_STORAGE_IDENTITY_STORAGE_H_
#define TRELLIS_STORAGE_IDENTITY_STORAGE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spire/api/types/bundle.pb.h"
#include "spire/api/types/entry.pb.h"
#include "trellis_identity.pb.h"

namespace trellis::storage {

class IdentityStorage {
 public:
  virtual ~IdentityStorage() = default;

  // Creates or replaces entries, all or none.
  virtual absl::Status PutEntries(
      const std::vector<spire::api::types::Entry>& entries) = 0;
  virtual absl::StatusOr<std::optional<spire::api::types::Entry>> GetEntry(
      const std::string& id) = 0;
  // NOT_FOUND if the entry does not exist.
  virtual absl::Status DeleteEntry(const std::string& id) = 0;
  virtual absl::StatusOr<std::vector<spire::api::types::Entry>>
  ListEntries() = 0;

  virtual absl::Status PutAgent(const trellis::AttestedAgent& agent) = 0;
  virtual absl::StatusOr<std::optional<trellis::AttestedAgent>> GetAgent(
      const std::string& spiffe_id) = 0;
  // NOT_FOUND if the agent does not exist.
  virtual absl::Status DeleteAgent(const std::string& spiffe_id) = 0;
  virtual absl::StatusOr<std::vector<trellis::AttestedAgent>> ListAgents() = 0;

  // ALREADY_EXISTS if a token with this value is held.
  virtual absl::Status PutJoinToken(const trellis::JoinTokenRecord& token) = 0;
  // Removes and returns the token (nullopt if unknown): a token is used at
  // most once, even by concurrent callers.
  virtual absl::StatusOr<std::optional<trellis::JoinTokenRecord>> TakeJoinToken(
      const std::string& token) = 0;

  // Small settings the identity role keeps (e.g. its issuance log's id).
  virtual absl::Status PutSetting(const std::string& name,
                                  const std::string& value) = 0;
  virtual absl::StatusOr<std::optional<std::string>> GetSetting(
      const std::string& name) = 0;

  // Bundles of federated trust domains, by trust domain name.
  virtual absl::Status PutFederatedBundle(
      const spire::api::types::Bundle& bundle) = 0;
  virtual absl::StatusOr<std::optional<spire::api::types::Bundle>>
  GetFederatedBundle(const std::string& trust_domain) = 0;
  // NOT_FOUND if there is no such bundle.
  virtual absl::Status DeleteFederatedBundle(
      const std::string& trust_domain) = 0;
  // In trust domain order.
  virtual absl::StatusOr<std::vector<spire::api::types::Bundle>>
  ListFederatedBundles() = 0;

  // Replaces every CA slot at once.
  virtual absl::Status PutCaSlots(
      const std::vector<trellis::CaSlot>& slots) = 0;
  virtual absl::StatusOr<std::vector<trellis::CaSlot>> GetCaSlots() = 0;
};

}  // namespace trellis::storage

#endif  // TRELLIS_STORAGE_IDENTITY_STORAGE_H_
