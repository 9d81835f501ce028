// Workload SVIDs an agent asks for on behalf of its authorised entries.
#ifndef TRELLIS_IDENTITY_SVID_MANAGER_H_
#define TRELLIS_IDENTITY_SVID_MANAGER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ca/ca_manager.h"
#include "identity/agent_manager.h"
#include "identity/entry_manager.h"

namespace trellis::identity {

struct X509SvidRequest {
  std::string entry_id;
  std::string csr;  // DER PKCS#10.
};

class SvidManager {
 public:
  SvidManager(ca::CaManager* ca, EntryManager* entries)
      : ca_(ca), entries_(entries) {}

  // One result per request, in order: the SVID for the entry, or
  // INVALID_ARGUMENT (missing fields, bad CSR) / NOT_FOUND (the entry is
  // unknown or not authorised for `agent`). INVALID_ARGUMENT for the whole
  // call when it holds more than kMaxEntryBatch requests.
  absl::StatusOr<std::vector<absl::StatusOr<AgentSvid>>> BatchNewX509Svid(
      const trellis::AttestedAgent& agent,
      const std::vector<X509SvidRequest>& requests);

 private:
  ca::CaManager* const ca_;
  EntryManager* const entries_;
};

}  // namespace trellis::identity

#endif  // TRELLIS_IDENTITY_SVID_MANAGER_H_
