// trellisd's SPIRE server role: the CA, entries and agents, the SPIRE API on
// its own TLS port (the server's own X509-SVID, client certificates
// requested but not required, as agents bootstrap without one), and the
// same services for operators on the operator socket.
#ifndef TRELLIS_CMD_TRELLISD_SPIRE_SERVER_H_
#define TRELLIS_CMD_TRELLISD_SPIRE_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "admin/key_store.h"
#include "admin/operator_auth.h"
#include "ca/ca_manager.h"
#include "grpcpp/server.h"
#include "http/server.h"
#include "identity/agent_manager.h"
#include "identity/api/agent_service.h"
#include "identity/api/bundle_service.h"
#include "identity/api/entry_service.h"
#include "identity/api/local_authority_service.h"
#include "identity/api/node_service.h"
#include "identity/api/svid_service.h"
#include "identity/bundle_manager.h"
#include "identity/entry_manager.h"
#include "identity/identity_map.h"
#include "identity/in_process_verifier.h"
#include "identity/issuance_log.h"
#include "identity/remote_verifier.h"
#include "identity/sovereign_attestor.h"
#include "identity/svid_issuer.h"
#include "identity/svid_manager.h"
#include "log/log_manager.h"
#include "map/map_manager.h"
#include "metrics/grpc_metrics.h"
#include "prometheus/registry.h"
#include "storage/rocksdb/identity_storage.h"
#include "util/thread_pool.h"

namespace trellis {

struct SpireOptions {
  // Where issuance metrics go, and the SPIRE API's calls (null: nowhere).
  prometheus::Registry* metrics = nullptr;
  metrics::GrpcMetrics* grpc_metrics = nullptr;
  // SPIRE API address (port 0: a free port; empty: the role is off).
  std::string addr = "127.0.0.1:8081";
  std::string trust_domain = "example.org";
  // An upstream CA signing our CAs (SPIRE's "disk" upstream authority):
  // its certificate (then intermediates) and key, PEM; the roots, PEM
  // (empty: the certificate is self-signed and is the root).
  std::string upstream_ca_cert_file;
  std::string upstream_ca_key_file;
  std::string upstream_bundle_file;
  // The SPIFFE bundle endpoint (https_spiffe profile); empty: off.
  std::string bundle_endpoint_addr;
  std::string ca_key_type = "ec-p256";
  absl::Duration ca_ttl = absl::Hours(24);
  absl::Duration default_x509_svid_ttl = absl::Hours(1);
  // Node attestations allowed per client address and second (0: no limit);
  // upstream SPIRE allows one.
  double attestations_per_second = 1;
  // Threads issuing SVIDs for agents' calls, and how many calls may wait
  // for one before RESOURCE_EXHAUSTED.
  int issue_threads = 32;
  size_t max_queued_issuance = 4096;
  // How often CA rotation and the server SVID's half-life are checked.
  absl::Duration rotation_interval = absl::Seconds(10);
  // How often the identity map catches up with the issuance log.
  absl::Duration identity_map_interval = absl::Seconds(1);
  // The `tpm` node attestor; off unless EK CAs or an EK hash directory are
  // given.
  attest::spire_tpm::NodeVerifierOptions tpm_attestor;
  // Sovereign attestation (the Unified-Identity feature flag).
  identity::SovereignOptions sovereign;
  // A remote verifier appraising sovereign evidence (its url empty: the
  // verifier in this process).
  attest::VerifierEndpoint sovereign_verifier;
};

class SpireServer {
 public:
  static absl::StatusOr<std::unique_ptr<SpireServer>> Start(
      const SpireOptions& options, const std::string& data_dir,
      storage::rocksdb::Database* db, const admin::KeyStore* keys,
      const admin::OperatorAuth* operators, log::LogManager* logs,
      identity::IssuanceLog::SignerProvider signers,
      std::function<absl::StatusOr<int64_t>()> create_log,
      std::function<absl::StatusOr<int64_t>()> create_map,
      map::MapManager* maps, attest::Appraiser* appraiser,
      attest::Registrar* registrar);
  ~SpireServer();

  // The services for trellisd's operator socket and main port (operators
  // administer entries, agents and tokens there).
  std::vector<grpc::Service*> operator_services();
  // The identity map's tree id; 0 before its first revision.
  absl::StatusOr<int64_t> IdentityMapId();
  int port() const { return port_; }
  int bundle_endpoint_port() const {
    return bundle_endpoint_ ? bundle_endpoint_->port() : 0;
  }
  void Shutdown();

 private:
  SpireServer() = default;
  // A new server X509-SVID, written where the TLS stack reloads it from.
  absl::Status RenewServerSvid();
  void RotationLoop();

  std::string svid_file_;
  absl::Duration rotation_interval_;
  std::unique_ptr<storage::rocksdb::RocksIdentityStorage> storage_;
  std::unique_ptr<ca::CaManager> ca_;
  std::unique_ptr<identity::IssuanceLog> issuance_log_;
  // Writes the records of calls that do not wait (JWT-SVIDs); destroyed
  // before the log, finishing what is queued.
  std::unique_ptr<ThreadPool> issuance_writer_;
  std::unique_ptr<identity::IdentityMap> identity_map_;
  std::unique_ptr<identity::SvidIssuer> issuer_;
  std::unique_ptr<identity::EvidenceVerifier> evidence_verifier_;
  std::unique_ptr<identity::SovereignAttestor> sovereign_;
  std::unique_ptr<attest::spire_tpm::NodeVerifier> tpm_attestor_;
  std::unique_ptr<identity::EntryManager> entries_;
  std::unique_ptr<identity::AgentManager> agents_;
  std::unique_ptr<identity::BundleManager> bundles_;
  std::unique_ptr<identity::SvidManager> svids_;
  std::unique_ptr<RateLimiter> attestations_;
  // Runs agents' SVID issuance calls, which wait for the issuance log's
  // synced write; destroyed after the services (it finishes queued calls).
  std::unique_ptr<ThreadPool> issue_pool_;
  // One set of services per gRPC server (a service joins only one).
  struct Services {
    std::unique_ptr<identity::api::AgentService> agent;
    std::unique_ptr<identity::api::BundleService> bundle;
    std::unique_ptr<identity::api::EntryService> entry;
    std::unique_ptr<identity::api::SvidService> svid;
    std::unique_ptr<identity::api::LocalAuthorityService> local_authority;
  };
  Services spire_services_;
  // The legacy node API (agents <= v0.10), on the SPIRE port only:
  // operators have nothing to do there.
  std::unique_ptr<identity::api::NodeService> node_service_;
  Services operator_services_;
  std::unique_ptr<grpc::Server> grpc_server_;
  // Serves the bundle with the server SVID as its certificate.
  std::unique_ptr<http::Server> bundle_endpoint_;
  int port_ = 0;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time svid_renew_at_ ABSL_GUARDED_BY(mu_);
  uint64_t svid_bundle_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread rotation_thread_;
};

}  // namespace trellis

#endif  // TRELLIS_CMD_TRELLISD_SPIRE_SERVER_H_
