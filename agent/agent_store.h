// What the agent keeps on disk in its data directory, so that a restart
// needs no new attestation: its SVID (key and chain in one file, mode 0600,
// replaced atomically so the two always match) and the trust domain's X.509
// roots.
#ifndef TRELLIS_AGENT_AGENT_STORE_H_
#define TRELLIS_AGENT_AGENT_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/snapshot.h"

namespace trellis::agent {

struct AgentSvid {
  std::string key_pem;                 // PKCS#8
  std::vector<std::string> chain_der;  // Leaf first.
  bool reattestable = false;
  // Read from the leaf.
  std::string spiffe_id;
  absl::Time not_before;
  absl::Time not_after;

  std::string ChainPem() const;
};

// Fills spiffe_id and validity from the leaf; INVALID_ARGUMENT if it is not
// an X509-SVID.
absl::Status DescribeSvid(AgentSvid& svid);

class AgentStore {
 public:
  // `data_dir` is created (0700) if missing.
  static absl::StatusOr<AgentStore> Open(const std::string& data_dir);

  // nullopt when none is stored.
  absl::StatusOr<std::optional<AgentSvid>> LoadSvid() const;
  absl::Status SaveSvid(const AgentSvid& svid) const;
  // Forgets the SVID and the SVID cache (a banned agent, as upstream agents
  // do).
  absl::Status DeleteSvid() const;

  // The last snapshot served (SVID keys included: the file is 0600), so
  // that a restart serves workloads before the server answers.
  absl::StatusOr<std::optional<Snapshot>> LoadSnapshot() const;
  absl::Status SaveSnapshot(const Snapshot& snapshot) const;

  absl::StatusOr<std::optional<std::vector<std::string>>> LoadBundle() const;
  absl::Status SaveBundle(const std::vector<std::string>& roots_der) const;

 private:
  explicit AgentStore(std::string dir) : dir_(std::move(dir)) {}
  std::string SvidPath() const { return dir_ + "/agent-svid.json"; }
  std::string BundlePath() const { return dir_ + "/bundle.pem"; }
  std::string SnapshotPath() const { return dir_ + "/svid-cache.json"; }

  std::string dir_;
};

}  // namespace trellis::agent

#endif  // TRELLIS_AGENT_AGENT_STORE_H_
