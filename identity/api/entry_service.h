// spire.api.server.entry.v1.Entry: entry administration for operators,
// authorised entries (full or paged sync) for agents.
#ifndef TRELLIS_IDENTITY_API_ENTRY_SERVICE_H_
#define TRELLIS_IDENTITY_API_ENTRY_SERVICE_H_

#include "identity/api/caller.h"
#include "identity/entry_manager.h"
#include "spire/api/server/entry/v1/entry.grpc.pb.h"

namespace trellis::identity::api {

// Entries per SyncAuthorizedEntries page, as upstream.
inline constexpr size_t kSyncPageSize = 500;

class EntryService final
    : public spire::api::server::entry::v1::Entry::Service {
 public:
  EntryService(Authority authority, EntryManager* entries)
      : authority_(authority), entries_(entries) {}

  grpc::Status CountEntries(
      grpc::ServerContext* context,
      const spire::api::server::entry::v1::CountEntriesRequest* request,
      spire::api::server::entry::v1::CountEntriesResponse* response) override;
  grpc::Status ListEntries(
      grpc::ServerContext* context,
      const spire::api::server::entry::v1::ListEntriesRequest* request,
      spire::api::server::entry::v1::ListEntriesResponse* response) override;
  grpc::Status GetEntry(
      grpc::ServerContext* context,
      const spire::api::server::entry::v1::GetEntryRequest* request,
      spire::api::types::Entry* response) override;
  grpc::Status BatchCreateEntry(
      grpc::ServerContext* context,
      const spire::api::server::entry::v1::BatchCreateEntryRequest* request,
      spire::api::server::entry::v1::BatchCreateEntryResponse* response)
      override;
  grpc::Status BatchUpdateEntry(
      grpc::ServerContext* context,
      const spire::api::server::entry::v1::BatchUpdateEntryRequest* request,
      spire::api::server::entry::v1::BatchUpdateEntryResponse* response)
      override;
  grpc::Status BatchDeleteEntry(
      grpc::ServerContext* context,
      const spire::api::server::entry::v1::BatchDeleteEntryRequest* request,
      spire::api::server::entry::v1::BatchDeleteEntryResponse* response)
      override;
  grpc::Status GetAuthorizedEntries(
      grpc::ServerContext* context,
      const spire::api::server::entry::v1::GetAuthorizedEntriesRequest* request,
      spire::api::server::entry::v1::GetAuthorizedEntriesResponse* response)
      override;
  grpc::Status SyncAuthorizedEntries(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<
          spire::api::server::entry::v1::SyncAuthorizedEntriesResponse,
          spire::api::server::entry::v1::SyncAuthorizedEntriesRequest>* stream)
      override;

 private:
  absl::StatusOr<std::vector<Entry>> AuthorizedFor(
      const grpc::ServerContext& context) const;

  const Authority authority_;
  EntryManager* const entries_;
};

}  // namespace trellis::identity::api

#endif  // TRELLIS_IDENTITY_API_ENTRY_SERVICE_H_
