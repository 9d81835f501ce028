// The trellisd composition root: opens storage, builds the services and the
// sequencer, and serves them over gRPC.
#ifndef TRELLIS_CMD_TRELLISD_SERVER_H_
#define TRELLIS_CMD_TRELLISD_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "admin/admin_service.h"
#include "admin/key_store.h"
#include "admin/operations_service.h"
#include "admin/operator_auth.h"
#include "admin/tree_manager.h"
#include "cmd/trellisd/attestation_server.h"
#include "cmd/trellisd/gta_server.h"
#include "cmd/trellisd/spire_server.h"
#include "grpcpp/server.h"
#include "http/server.h"
#include "log/checkpoint_publisher.h"
#include "log/log_service.h"
#include "log/queue_coalescer.h"
#include "log/sequencer.h"
#include "log/sequencer_manager.h"
#include "log/tile_reader.h"
#include "log/witness_collector.h"
#include "map/map_manager.h"
#include "map/map_service.h"
#include "metrics/grpc_metrics.h"
#include "metrics/http_metrics.h"
#include "prometheus/registry.h"
#include "quota/quota_manager.h"
#include "storage/rocksdb/database.h"
#include "storage/rocksdb/log_storage.h"
#include "storage/rocksdb/map_storage.h"
#include "storage/rocksdb/tree_storage.h"
#include "storage/rocksdb/witness_storage.h"
#include "util/thread_pool.h"
#include "witness/witness.h"

namespace trellis {

// Logs published as C2SP tlog-tiles: checkpoints and their HTTP listener.
struct TlogOptions {
  // The tiles listener (http.address empty: not served; checkpoints are
  // still published).
  http::ServerOptions http = [] {
    http::ServerOptions defaults;
    defaults.address = "127.0.0.1:8091";
    return defaults;
  }();
  absl::Duration checkpoint_interval = absl::Seconds(1);
  // Logs created without an origin get "<origin_prefix>/<tree id>".
  std::string origin_prefix = admin::TreeManager::kDefaultOriginPrefix;
  // How long one witness has to answer an add-checkpoint request.
  absl::Duration witness_timeout = absl::Seconds(5);
  // Trellis as a witness (POST /add-checkpoint on the tiles listener) when
  // a name is given: its key name, and the logs it witnesses ("log <vkey>"
  // lines). Its verifier key is written to <data_dir>/witness.vkey.
  std::string witness_name;
  std::string witness_logs;
  // The browser explorer's built files (explorer/dist), served under
  // /explorer/ with its JSON API; empty: the API only.
  std::string explorer_dir;
  // Whether the explorer serves stored attestation evidence by digest, so
  // that its pages follow an SVID to the evidence behind it. Off by
  // default: evidence names a host's software (its IMA list).
  bool explorer_evidence = false;
  // Whether it serves every map's leaves; without, only the identity map's
  // (derived from logs the tiles publish).
  bool explorer_maps = false;
};

struct ServerOptions {
  std::string data_dir;
  // host:port; port 0 picks a free port.
  std::string grpc_addr = "127.0.0.1:8090";
  // Optional TLS: server certificate chain and key (PEM files); with
  // client_ca_file, clients must present a certificate it signed (mTLS).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // Operators' client certificates (PEM CA bundle). With it, operator calls
  // (tree writes, policy writes, host removal) are accepted from clients
  // with such a certificate, besides the operator socket.
  std::string operator_client_ca_file;
  // The operator socket's path; empty: <data_dir>/operator.sock.
  std::string operator_socket;
  // Allow plaintext gRPC on a non-loopback address.
  bool insecure = false;
  // Directory from which CreateTree may load keyspb.PEMKeyFile keys (empty:
  // PEMKeyFile refused).
  std::string pem_key_dir;
  // 32-byte key-encryption key for tree private keys at rest (empty: none).
  std::string kek;
  // Threads that run write RPCs (log and map), which wait for synced
  // commits: many at once so that their commits share fsyncs.
  int write_threads = 32;
  // Most leaves of concurrent QueueLeaves calls to one log written together.
  size_t max_leaves_per_queue_write =
      log::QueueCoalescerOptions().max_leaves_per_write;
  // Map write calls that may wait for a write thread (the log's limit is
  // log_options.max_queued_writes).
  size_t map_max_queued_writes = map::kDefaultMaxQueuedMapWrites;
  // RocksDB's block cache, the log's cache of Merkle tiles, and each of the
  // map's two caches of decoded tiles.
  size_t block_cache_bytes = storage::rocksdb::kDefaultBlockCacheBytes;
  size_t log_tile_cache_bytes = storage::rocksdb::kDefaultLogTileCacheBytes;
  // Leaves waiting for the sequencer, per log, before RESOURCE_EXHAUSTED.
  size_t max_queued_bytes_per_log =
      storage::rocksdb::kDefaultMaxQueuedBytesPerLog;
  size_t map_tile_cache_bytes = storage::rocksdb::kDefaultMapTileCacheBytes;
  size_t sequencer_batch_size = 10000;
  absl::Duration sequencer_interval = absl::Milliseconds(50);
  log::LogManagerOptions log_manager_options;
  log::LogServiceOptions log_options;
  // Write and read quotas of the log API's callers (none by default).
  quota::QuotaOptions quotas;
  int max_receive_message_bytes = 64 << 20;
  // The attestation verifier (registrar, nonces, HTTPS API).
  AttestationOptions attestation;
  // The SPIRE server role (CA, entries, agents, SPIRE API).
  SpireOptions spire;
  // The openEuler GTA-compatible attestation service.
  GtaOptions gta;
  TlogOptions tlog;
  // The Prometheus /metrics listener (plain HTTP; empty: off).
  std::string metrics_addr = "127.0.0.1:8092";
};

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options);
  ~Server();  // Shutdown() if still running.

  // The port actually bound.
  int port() const { return port_; }
  // The operator socket: "unix:<data_dir>/operator.sock".
  const std::string& operator_address() const { return operator_address_; }
  // The verifier API's port (0 if off).
  int verifier_port() const { return attestation_->port(); }
  // The SPIRE API's port (0 if off).
  int spire_port() const { return spire_ ? spire_->port() : 0; }
  int bundle_endpoint_port() const {
    return spire_ ? spire_->bundle_endpoint_port() : 0;
  }
  // The GTA service API's port (0 if off).
  int gta_port() const { return gta_ ? gta_->port() : 0; }
  int gta_vault_port() const { return gta_ ? gta_->vault_port() : 0; }
  // The tlog-tiles listener's port (0 if off).
  int tlog_port() const { return tlog_http_ ? tlog_http_->port() : 0; }
  // The metrics listener's port (0 if off).
  int metrics_port() const { return metrics_http_ ? metrics_http_->port() : 0; }

  // Stops accepting RPCs, waits up to `grace` for running ones, stops the
  // sequencer and closes the database.
  void Shutdown(absl::Duration grace);

 private:
  Server() = default;
  // Counts a listener's exchanges, and at debug logs each.
  std::function<void(const http::Exchange&)> HttpObserver(
      const std::string& listener);
  static absl::StatusOr<std::unique_ptr<witness::Witness>> StartWitness(
      const ServerOptions& options, Server& server);

  // Metrics, first: every component records into them until destroyed.
  std::shared_ptr<prometheus::Registry> metrics_;
  std::unique_ptr<metrics::GrpcMetrics> grpc_metrics_;
  std::unique_ptr<metrics::HttpMetrics> http_metrics_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<storage::rocksdb::RocksTreeStorage> trees_;
  std::unique_ptr<storage::rocksdb::RocksLogStorage> logs_;
  std::unique_ptr<storage::rocksdb::RocksMapStorage> maps_;
  std::unique_ptr<map::MapManager> map_manager_;
  std::unique_ptr<map::MapService> map_service_;
  std::unique_ptr<map::MapWriteService> map_write_service_;
  std::unique_ptr<admin::KeyStore> keys_;
  std::unique_ptr<admin::TreeManager> tree_manager_;
  std::unique_ptr<admin::OperatorAuth> operators_;
  std::unique_ptr<admin::AdminService> admin_service_;
  std::unique_ptr<admin::OperationsService> operations_service_;
  // Runs the log's write RPCs, which wait for synced commits; many at once
  // so that their commits share fsyncs.
  // Writes queued leaves through write_pool_, which must go first (its
  // threads finish the coalescer's writes): hence declared before it.
  std::unique_ptr<log::QueueCoalescer> queue_coalescer_;
  // Runs write RPCs, which wait for synced commits.
  std::unique_ptr<ThreadPool> write_pool_;
  std::unique_ptr<log::LogManager> log_manager_;
  std::unique_ptr<quota::QuotaManager> quotas_;
  std::unique_ptr<log::LogService> log_service_;
  std::unique_ptr<log::Sequencer> sequencer_;
  std::unique_ptr<log::SequencerManager> sequencer_manager_;
  std::unique_ptr<log::WitnessCollector> witness_collector_;
  std::unique_ptr<log::CheckpointPublisher> checkpoints_;
  std::unique_ptr<storage::rocksdb::RocksWitnessStorage> witness_storage_;
  std::unique_ptr<witness::Witness> witness_;
  std::unique_ptr<log::TileReader> tile_reader_;
  std::unique_ptr<http::Server> tlog_http_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<AttestationServer> attestation_;
  std::unique_ptr<SpireServer> spire_;
  std::unique_ptr<GtaServer> gta_;
  // Reads db_ when scraped: stopped before it closes.
  std::unique_ptr<http::Server> metrics_http_;
  int port_ = 0;
  std::string operator_address_;
};

}  // namespace trellis

#endif  // TRELLIS_CMD_TRELLISD_SERVER_H_
