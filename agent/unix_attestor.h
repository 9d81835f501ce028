// Workload attestation from a Unix socket peer's credentials, as SPIRE's
// `unix` workload attestor: unix:uid, unix:user, unix:gid, unix:group and,
// when the process's binary can be read, unix:path and unix:sha256; and
// unix:supplementary_gid / unix:supplementary_group of its other groups.
#ifndef TRELLIS_AGENT_UNIX_ATTESTOR_H_
#define TRELLIS_AGENT_UNIX_ATTESTOR_H_

#include <sys/types.h>

#include <vector>

#include "spire/api/types/selector.pb.h"

namespace trellis::agent {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Which of the costlier selectors to find out (name lookups, reading the
// binary): only those some entry uses.
struct UnixSelectorKinds {
  bool user = true;
  bool group = true;
  bool path = true;
  bool sha256 = true;
  bool supplementary = true;  // supplementary_gid and supplementary_group.
};

std::vector<spire::api::types::Selector> UnixSelectors(
    const PeerCredentials& peer, const UnixSelectorKinds& kinds = {});

}  // namespace trellis::agent

#endif  // TRELLIS_AGENT_UNIX_ATTESTOR_H_
