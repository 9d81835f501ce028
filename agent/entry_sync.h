// The agent side of SyncAuthorizedEntries (paged protocol, as spire-agent
// runs it): the server either sends every authorised entry at once, or
// pages of (id, revision) from which the agent asks in full only for the
// entries it lacks or holds stale.
#ifndef TRELLIS_AGENT_ENTRY_SYNC_H_
#define TRELLIS_AGENT_ENTRY_SYNC_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "spire/api/types/entry.pb.h"

namespace trellis::agent {

using Entries = std::map<std::string, spire::api::types::Entry>;  // By id.

// The authorised entries now, reusing `cached` ones whose revision has not
// changed. Entries that fail the agent's checks (id, SPIFFE ID, selectors)
// are left out.
absl::StatusOr<Entries> SyncEntries(
    const std::shared_ptr<grpc::Channel>& channel, const Entries& cached);

}  // namespace trellis::agent

#endif  // TRELLIS_AGENT_ENTRY_SYNC_H_
