// The node agent's core: it attests the node (or resumes with its stored
// SVID), then every sync interval renews its own SVID when half its life is
// gone, fetches the trust domain's and federated bundles, syncs its
// authorised entries and mints X509-SVIDs (keys made here, never sent) for
// those that lack one, are past half-life or chain to a tainted or retired
// root. What workloads are served is an immutable snapshot, replaced whole.
#ifndef TRELLIS_AGENT_AGENT_H_
#define TRELLIS_AGENT_AGENT_H_

#include <openssl/evp.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/agent_store.h"
#include "agent/config.h"
#include "agent/entry_sync.h"
#include "agent/node_attestor.h"
#include "agent/server_channel.h"
#include "agent/snapshot.h"
#include "spire/api/types/bundle.pb.h"
#include "spire/api/types/sovereignattestation.pb.h"

namespace trellis::agent {

// An X509-SVID resting on sovereign evidence, with the verified claims.
struct SovereignSvid {
  WorkloadSvid svid;
  spire::api::types::AttestedClaims claims;
};

// A JWT-SVID as the server issued it.
struct JwtSvid {
  std::string spiffe_id;
  std::string token;
  std::string key_id;  // The header's kid: the JWT authority that signed it.
  absl::Time issued_at;
  absl::Time expires_at;
};

class Agent {
 public:
  // Attests (or resumes from the data directory) and syncs once, so that
  // the Workload API starts with what it serves. PERMISSION_DENIED if the
  // server refuses the node.
  static absl::StatusOr<std::unique_ptr<Agent>> Start(
      const AgentConfig& config);
  ~Agent();  // Stops the sync loop.

  std::shared_ptr<const Snapshot> Current() const;
  // The snapshot once its generation differs from `seen`, or at `deadline`
  // the current one.
  std::shared_ptr<const Snapshot> WaitForChange(uint64_t seen,
                                                absl::Time deadline) const;

  // Runs `changed` after each new snapshot (on the thread that made it,
  // without the agent's locks) until Unsubscribe returns; `changed` must
  // not subscribe or unsubscribe.
  uint64_t Subscribe(std::function<void()> changed);
  void Unsubscribe(uint64_t subscription);

  // A JWT-SVID for `entry` with `audiences`, from the cache while it has
  // more than half its life left, else from the server.
  absl::StatusOr<JwtSvid> FetchJwtSvid(
      const spire::api::types::Entry& entry,
      const std::vector<std::string>& audiences);

  // X509-SVIDs for `entries` that rest on sovereign evidence: `given` (a
  // workload's own, for the first entry only, as its nonce is single use)
  // or, when `given` holds no quote, evidence this agent gathers from its
  // TPM per entry (a server nonce each; needs the unified_identity node
  // attestor). The server's verdict decides: PERMISSION_DENIED when it
  // fails.
  absl::StatusOr<std::vector<SovereignSvid>> MintSovereignSvids(
      const std::vector<const spire::api::types::Entry*>& entries,
      const spire::api::types::SovereignAttestation& given);

  // Set when the server banned this agent (it then stops syncing, as
  // upstream agents exit).
  bool banned() const;
  // The agent's own SPIFFE ID, "" before its first SVID.
  std::string spiffe_id() const;
  const AgentConfig& config() const { return config_; }

 private:
  Agent(AgentConfig config, AgentStore store);

  // The channel to the server with the current SVID (mTLS).
  std::shared_ptr<grpc::Channel> Channel() const;
  absl::Status AttestNode();
  std::string ServerAddress() const;
  // Makes `svid` the agent's: the channel presents it from now on.
  void UseSvid(AgentSvid svid);
  // An SVID the server issued for `key`: described, stored, used.
  absl::Status AdoptSvid(const EVP_PKEY& key,
                         std::vector<std::string> chain_der, bool reattestable);
  // Renews the agent SVID past its half-life, or at once if `bundle` (may
  // be null) marks the authority it rests on tainted.
  absl::Status RenewSvidIfDue(const spire::api::types::Bundle* bundle);
  absl::Status SyncOnce();
  // Mints the SVIDs `next` lacks or must replace; held SVIDs are checked
  // against the roots only when the bundle changed (`roots_changed`).
  absl::Status MintSvids(Snapshot& next, bool roots_changed);
  // Acts on PERMISSION_DENIED as upstream agents do; returns `status`.
  absl::Status HandleDenied(const absl::Status& status);
  // Makes `next` what workloads are served and, with `persist`, what a
  // restart serves first.
  void Publish(Snapshot next, bool persist = true);
  void Loop();

  const AgentConfig config_;
  const AgentStore store_;
  const std::shared_ptr<TrustedRoots> roots_ = std::make_shared<TrustedRoots>();
  std::unique_ptr<NodeAttestor> attestor_;

  mutable absl::Mutex mu_;
  std::optional<AgentSvid> svid_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<grpc::Channel> channel_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, JwtSvid> jwt_cache_ ABSL_GUARDED_BY(mu_);
  bool banned_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Held while subscribers run, so that none runs after Unsubscribe.
  absl::Mutex subscribers_mu_;
  std::map<uint64_t, std::function<void()>> subscribers_
      ABSL_GUARDED_BY(subscribers_mu_);
  uint64_t next_subscription_ ABSL_GUARDED_BY(subscribers_mu_) = 0;
  std::thread loop_;
};

}  // namespace trellis::agent

#endif  // TRELLIS_AGENT_AGENT_H_
