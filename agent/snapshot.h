// What the agent serves to workloads: its authorised entries, the
// X509-SVIDs it holds for them and the bundles, as one immutable value.
#ifndef TRELLIS_AGENT_SNAPSHOT_H_
#define TRELLIS_AGENT_SNAPSHOT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "agent/entry_sync.h"
#include "spire/api/types/bundle.pb.h"

namespace trellis::agent {

// An X509-SVID held for an entry.
struct WorkloadSvid {
  std::string entry_id;
  std::string spiffe_id;
  std::string key_der;                 // PKCS#8
  std::vector<std::string> chain_der;  // Leaf first.
  absl::Time not_before;
  absl::Time not_after;
};

struct Snapshot {
  uint64_t generation = 0;
  Entries entries;
  std::map<std::string, WorkloadSvid> svids;  // By entry id.
  spire::api::types::Bundle bundle;           // The trust domain's.
  // Federated trust domains' bundles, by trust domain name.
  std::map<std::string, spire::api::types::Bundle> federated;
};

}  // namespace trellis::agent

#endif  // TRELLIS_AGENT_SNAPSHOT_H_
