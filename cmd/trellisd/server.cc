#include "cmd/trellisd/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "explorer/server/explorer_http.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "log/tiles_http.h"
#include "logging/grpc_request_log.h"
#include "logging/http_request_log.h"
#include "logging/log.h"
#include "metrics/exposition.h"
#include "metrics/log_queue_collector.h"
#include "metrics/rocksdb_collector.h"
#include "storage/rocksdb/bundle_upgrade.h"
#include "storage/rocksdb/index_upgrade.h"
#include "storage/rocksdb/legacy_roots.h"
#include "util/file.h"
#include "witness/witness_http.h"

namespace trellis {
namespace {

// sockaddr_un.sun_path holds 108 bytes with the terminating NUL.
constexpr size_t kMaxUnixPath = 107;

// Loopback: the only place plaintext is allowed without --insecure.
bool IsLoopback(const std::string& addr) {
  return absl::StartsWith(addr, "127.") || absl::StartsWith(addr, "[::1]:") ||
         absl::StartsWith(addr, "localhost:") ||
         absl::StartsWith(addr, "unix:");
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const ServerOptions& options, const std::string& operator_ca_pem) {
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) {
    if (!options.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError("client CA given without TLS cert/key");
    }
    if (!IsLoopback(options.grpc_addr) && !options.insecure) {
      return absl::FailedPreconditionError(absl::StrCat(
          "refusing plaintext gRPC on non-loopback ", options.grpc_addr,
          ": give --tls_cert/--tls_key, or --insecure"));
    }
    return grpc::InsecureServerCredentials();
  }
  absl::StatusOr<std::string> cert = ReadFile(options.tls_cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile(options.tls_key_file);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  if (!options.tls_client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadFile(options.tls_client_ca_file);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
    ssl.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  if (!operator_ca_pem.empty()) {
    // Operators' certificates pass the handshake too; which calls they may
    // make is decided per call (admin::OperatorAuth).
    ssl.pem_root_certs += "\n" + operator_ca_pem;
    if (options.tls_client_ca_file.empty()) {
      ssl.client_certificate_request =
          GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
    }
  }
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

std::function<void(const http::Exchange&)> Server::HttpObserver(
    const std::string& listener) {
  return logging::HttpRequestLog(listener, http_metrics_->Observer(listener));
}

absl::StatusOr<std::unique_ptr<witness::Witness>> Server::StartWitness(
    const ServerOptions& options, Server& server) {
  if (options.tlog.http.address.empty()) {
    return absl::InvalidArgumentError(
        "--witness_name needs the tlog-tiles listener (--tlog_addr)");
  }
  absl::StatusOr<std::string> logs_text = ReadFile(options.tlog.witness_logs);
  if (!logs_text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--witness_logs: ", logs_text.status().message()));
  }
  absl::StatusOr<std::vector<tlog::NoteVerifierKey>> logs =
      witness::ParseWitnessedLogs(*logs_text);
  if (!logs.ok()) return logs.status();
  server.witness_storage_ =
      std::make_unique<storage::rocksdb::RocksWitnessStorage>(server.db_.get());
  witness::WitnessOptions witness_options;
  witness_options.name = options.tlog.witness_name;
  witness_options.logs = std::move(*logs);
  absl::StatusOr<std::unique_ptr<witness::Witness>> witness =
      witness::Witness::Create(std::move(witness_options),
                               server.witness_storage_.get(),
                               server.keys_.get());
  if (!witness.ok()) return witness.status();
  const std::string vkey = tlog::FormatVerifierKey((*witness)->verifier_key());
  if (absl::Status s =
          ReplaceFile(options.data_dir + "/witness.vkey", vkey + "\n", 0644);
      !s.ok()) {
    return s;
  }
  logging::Info("trellisd", "acting as a witness", {{"vkey", vkey}});
  return witness;
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& given) {
  ServerOptions options = given;
  absl::StatusOr<std::unique_ptr<admin::OperatorAuth>> operators =
      admin::OperatorAuth::Create(options.operator_client_ca_file);
  if (!operators.ok()) return operators.status();
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      Credentials(options, (*operators)->ca_pem());
  if (!credentials.ok()) return credentials.status();

  auto server = std::unique_ptr<Server>(new Server());
  server->operators_ = std::move(*operators);
  server->metrics_ = std::make_shared<prometheus::Registry>();
  server->grpc_metrics_ =
      std::make_unique<metrics::GrpcMetrics>(*server->metrics_);
  server->http_metrics_ =
      std::make_unique<metrics::HttpMetrics>(*server->metrics_);
  options.attestation.metrics = server->metrics_.get();
  options.spire.metrics = server->metrics_.get();
  options.spire.grpc_metrics = server->grpc_metrics_.get();
  options.attestation.http.observer = server->HttpObserver("verifier");
  options.gta.http.observer = server->HttpObserver("gta");
  options.tlog.http.observer = server->HttpObserver("tlog");
  absl::StatusOr<std::unique_ptr<storage::rocksdb::Database>> db =
      storage::rocksdb::Database::Open(
          {options.data_dir, options.block_cache_bytes});
  if (!db.ok()) return db.status();
  server->db_ = std::move(*db);
  // Data directories of older versions keep roots in a form storage no
  // longer parses: rewrite them once before anything reads them.
  if (absl::StatusOr<uint64_t> upgraded =
          storage::rocksdb::UpgradeLegacyRootRecords(*server->db_);
      !upgraded.ok()) {
    return upgraded.status();
  }
  if (absl::StatusOr<uint64_t> moved =
          storage::rocksdb::MoveLogIndexRecords(*server->db_);
      !moved.ok()) {
    return moved.status();
  }
  if (absl::StatusOr<uint64_t> shortened =
          storage::rocksdb::ShortenIdentityRecords(*server->db_);
      !shortened.ok()) {
    return shortened.status();
  }
  if (absl::StatusOr<uint64_t> bundled =
          storage::rocksdb::MoveLeavesIntoBundles(*server->db_);
      !bundled.ok()) {
    return bundled.status();
  } else if (*bundled > 0) {
    logging::Info("trellisd", "moved integrated leaves into entry bundles",
                  {{"leaves", absl::StrCat(*bundled)}});
  }
  server->trees_ =
      std::make_unique<storage::rocksdb::RocksTreeStorage>(server->db_.get());
  server->logs_ = std::make_unique<storage::rocksdb::RocksLogStorage>(
      server->db_.get(), options.log_tile_cache_bytes,
      options.max_queued_bytes_per_log);
  server->keys_ =
      std::make_unique<admin::KeyStore>(server->trees_.get(), options.kek);
  server->tree_manager_ = std::make_unique<admin::TreeManager>(
      server->trees_.get(), server->logs_.get(), server->keys_.get(),
      options.pem_key_dir, options.tlog.origin_prefix);
  // Logs of data directories from before checkpoints get their note keys.
  if (absl::StatusOr<int> added = server->tree_manager_->AddMissingNoteKeys();
      !added.ok()) {
    return added.status();
  }
  server->admin_service_ = std::make_unique<admin::AdminService>(
      server->tree_manager_.get(), server->operators_.get());
  admin::KeyStore* keys = server->keys_.get();
  log::SignerProvider signers = [keys](int64_t tree_id) {
    return keys->SignerFor(tree_id);
  };
  server->write_pool_ = std::make_unique<ThreadPool>(options.write_threads);
  log::QueueCoalescerOptions coalescing;
  coalescing.max_leaves_per_write = options.max_leaves_per_queue_write;
  coalescing.max_waiting_calls = options.log_options.max_queued_writes;
  server->queue_coalescer_ = std::make_unique<log::QueueCoalescer>(
      server->logs_.get(), server->write_pool_.get(), coalescing);
  server->log_manager_ = std::make_unique<log::LogManager>(
      server->trees_.get(), server->logs_.get(), signers,
      options.log_manager_options, server->queue_coalescer_.get());
  server->quotas_ = std::make_unique<quota::QuotaManager>(
      options.quotas, server->metrics_.get());
  server->log_service_ = std::make_unique<log::LogService>(
      server->log_manager_.get(), options.log_options,
      server->write_pool_.get(), server->quotas_.get());
  server->maps_ = std::make_unique<storage::rocksdb::RocksMapStorage>(
      server->db_.get(), options.map_tile_cache_bytes);
  server->map_manager_ = std::make_unique<map::MapManager>(
      server->trees_.get(), server->maps_.get(), server->log_manager_.get(),
      signers);
  // History entries a crash (or a log that was not writable) held back.
  server->map_manager_->DrainAllHistory().IgnoreError();  // Reported inside.
  server->map_service_ = std::make_unique<map::MapService>(
      server->map_manager_.get(), server->write_pool_.get(),
      options.map_max_queued_writes);
  server->map_write_service_ = std::make_unique<map::MapWriteService>(
      server->map_manager_.get(), server->write_pool_.get(),
      options.map_max_queued_writes);
  server->sequencer_ = std::make_unique<log::Sequencer>(
      server->logs_.get(), signers, options.sequencer_batch_size,
      server->metrics_.get());
  server->sequencer_manager_ = std::make_unique<log::SequencerManager>(
      server->trees_.get(), server->sequencer_.get(),
      options.sequencer_interval);
  log::LogManager* log_manager = server->log_manager_.get();
  server->witness_collector_ = std::make_unique<log::WitnessCollector>(
      [log_manager](int64_t tree_id, uint64_t from,
                    uint64_t to) -> absl::StatusOr<std::vector<std::string>> {
        absl::StatusOr<log::AtHead<std::vector<std::string>>> proof =
            log_manager->ConsistencyProof(tree_id, from, to);
        if (!proof.ok()) return proof.status();
        if (!proof->value.has_value()) {
          return absl::InternalError("consistency proof beyond the root");
        }
        return std::move(*proof->value);
      },
      options.tlog.witness_timeout, server->metrics_.get());
  server->checkpoints_ = std::make_unique<log::CheckpointPublisher>(
      server->trees_.get(), server->logs_.get(),
      [keys](int64_t tree_id) { return keys->NoteSignerFor(tree_id); },
      options.tlog.checkpoint_interval, server->witness_collector_.get());
  if (!options.tlog.witness_name.empty()) {
    absl::StatusOr<std::unique_ptr<witness::Witness>> witness =
        StartWitness(options, *server);
    if (!witness.ok()) return witness.status();
    server->witness_ = std::move(*witness);
  }
  server->tile_reader_ = std::make_unique<log::TileReader>(
      server->trees_.get(), server->logs_.get(), server->checkpoints_.get());

  // The attestation role logs its verdicts to a tree of its own, made (and
  // initialised) with the first verdict.
  Server* self = server.get();
  auto create_tree =
      [self](trillian::TreeType type, const std::string& name,
             const std::string& description) -> absl::StatusOr<int64_t> {
    trillian::CreateTreeRequest create;
    create.mutable_tree()->set_tree_type(type);
    create.mutable_tree()->set_tree_state(trillian::ACTIVE);
    create.mutable_tree()->set_display_name(name);
    create.mutable_tree()->set_description(description);
    absl::StatusOr<trillian::Tree> tree =
        self->tree_manager_->CreateTree(create);
    if (!tree.ok()) return tree.status();
    absl::Status s = type == trillian::MAP
                         ? self->map_manager_->Init(tree->tree_id()).status()
                         : self->log_manager_->Init(tree->tree_id()).status();
    if (!s.ok()) {
      return absl::InternalError(
          absl::StrCat("cannot initialise ", name, ": ", s.message()));
    }
    return tree->tree_id();
  };
  auto create_log = [create_tree](const std::string& name,
                                  const std::string& description) {
    return create_tree(trillian::LOG, name, description);
  };
  absl::StatusOr<std::unique_ptr<AttestationServer>> attestation =
      AttestationServer::Start(
          options.attestation, options.data_dir, server->db_.get(),
          server->log_manager_.get(),
          [create_log] {
            return create_log("trellis-attestations",
                              "Every attestation verdict of this "
                              "Trellis verifier");
          },
          server->operators_.get());
  if (!attestation.ok()) return attestation.status();
  server->attestation_ = std::move(*attestation);
  absl::StatusOr<std::unique_ptr<GtaServer>> gta = GtaServer::Start(
      options.gta, options.data_dir, server->db_.get(), server->keys_.get(),
      server->log_manager_.get(), [create_log] {
        return create_log(
            "trellis-gta",
            "Every token and every change of the GTA service's policies, "
            "reference values and certificates");
      });
  if (!gta.ok()) return gta.status();
  server->gta_ = std::move(*gta);
  if (!options.spire.addr.empty()) {
    absl::StatusOr<std::unique_ptr<SpireServer>> spire = SpireServer::Start(
        options.spire, options.data_dir, server->db_.get(), server->keys_.get(),
        server->operators_.get(), server->log_manager_.get(), signers,
        [create_log] {
          return create_log("trellis-issuance",
                            "Every SVID this Trellis SPIRE server issued");
        },
        [create_tree] {
          return create_tree(trillian::MAP, explorer::kIdentityMapName,
                             "Per SPIFFE ID: its latest issuance record and "
                             "the attestation verdict behind it");
        },
        server->map_manager_.get(), server->attestation_->appraiser(),
        server->attestation_->registrar());
    if (!spire.ok()) return spire.status();
    server->spire_ = std::move(*spire);
  }
  // The tiles listener starts once everything its explorer reads exists.
  if (!options.tlog.http.address.empty()) {
    http::Router router;
    log::AddTlogTilesRoutes(server->tile_reader_.get(), router);
    explorer::ExplorerSources sources;
    sources.trees = server->trees_.get();
    sources.logs = server->log_manager_.get();
    sources.maps = server->map_manager_.get();
    sources.all_maps = options.tlog.explorer_maps;
    if (server->spire_) {
      sources.identity_map_id = [spire = server->spire_.get()] {
        return spire->IdentityMapId();
      };
    }
    if (options.tlog.explorer_evidence) {
      sources.evidence = [appraiser = server->attestation_->appraiser()](
                             const std::string& digest) {
        return appraiser->Evidence(digest);
      };
    }
    if (absl::Status s = explorer::AddExplorerRoutes(
            sources, options.tlog.explorer_dir, router);
        !s.ok()) {
      return s;
    }
    if (server->witness_) {
      witness::AddWitnessRoutes(server->witness_.get(), router);
    }
    absl::StatusOr<std::unique_ptr<http::Server>> tiles =
        http::Server::Start(options.tlog.http, std::move(router));
    if (!tiles.ok()) {
      return absl::Status(
          tiles.status().code(),
          absl::StrCat("tlog-tiles listener: ", tiles.status().message()));
    }
    server->tlog_http_ = std::move(*tiles);
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.grpc_addr, *credentials, &server->port_);
  // The operator socket: every service, and operator calls without a
  // certificate (the data directory and the socket are the owner's only).
  const std::string socket_path = options.operator_socket.empty()
                                      ? options.data_dir + "/operator.sock"
                                      : options.operator_socket;
  if (socket_path.size() > kMaxUnixPath) {
    return absl::InvalidArgumentError(absl::StrCat(
        "operator socket path ", socket_path, " is longer than ", kMaxUnixPath,
        " bytes: choose a shorter one with --operator_socket"));
  }
  unlink(socket_path.c_str());
  server->operator_address_ = "unix:" + socket_path;
  builder.AddListeningPort(server->operator_address_,
                           grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  logging::CallLogOptions call_log;
  call_log.call_end = server->grpc_metrics_->Recorder();
  // Trillian's, Trellis' and SPIRE's services; gRPC's own health and
  // reflection services name no tree or host.
  call_log.protobuf_services = {"/trillian.", "/trellis.", "/spire."};
  interceptors.push_back(logging::GrpcRequestLogFactory(std::move(call_log)));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS,
                              2);
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 4);
  builder.RegisterService(server->admin_service_.get());
  server->operations_service_ = std::make_unique<admin::OperationsService>(
      server->db_.get(), server->operators_.get());
  builder.RegisterService(server->operations_service_.get());
  builder.RegisterService(server->log_service_.get());
  builder.RegisterService(server->map_service_.get());
  builder.RegisterService(server->map_write_service_.get());
  builder.RegisterService(server->attestation_->grpc_service());
  if (server->spire_) {
    for (grpc::Service* service : server->spire_->operator_services()) {
      builder.RegisterService(service);
    }
  }
  server->grpc_server_ = builder.BuildAndStart();
  if (!server->grpc_server_ || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.grpc_addr));
  }
  chmod(socket_path.c_str(), 0600);
  if (!options.metrics_addr.empty()) {
    http::Router router;
    metrics::AddMetricsRoute(
        router, {server->metrics_, metrics::RocksDbCollector(server->db_.get()),
                 metrics::LogQueueCollector(server->trees_.get(),
                                            server->logs_.get())});
    http::ServerOptions metrics_http;
    metrics_http.address = options.metrics_addr;
    metrics_http.worker_threads = 1;
    metrics_http.max_body_bytes = 1;  // Scrapes are GETs.
    metrics_http.max_connections = 64;
    metrics_http.max_connections_per_client = 8;
    absl::StatusOr<std::unique_ptr<http::Server>> started =
        http::Server::Start(metrics_http, std::move(router));
    if (!started.ok()) {
      return absl::Status(
          started.status().code(),
          absl::StrCat("metrics listener: ", started.status().message()));
    }
    server->metrics_http_ = std::move(*started);
  }
  server->sequencer_manager_->Start();
  server->checkpoints_->Start();
  return server;
}

void Server::Shutdown(absl::Duration grace) {
  if (metrics_http_) metrics_http_->Stop();
  metrics_http_.reset();
  // The verifier's HTTPS API first, then gRPC (which serves the verifier's
  // gRPC API too), then the verifier itself: all before the log they write.
  if (attestation_) attestation_->Shutdown();
  if (spire_) spire_->Shutdown();
  if (gta_) gta_->Shutdown();
  if (grpc_server_) {
    grpc_server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    grpc_server_->Wait();
    grpc_server_.reset();
    unlink(absl::StripPrefix(operator_address_, "unix:").data());
  }
  if (tlog_http_) tlog_http_->Stop();
  attestation_.reset();
  spire_.reset();
  gta_.reset();
  write_pool_.reset();  // Finishes writes already accepted.
  queue_coalescer_.reset();
  if (sequencer_manager_) sequencer_manager_->Stop();
  sequencer_manager_.reset();
  if (checkpoints_) checkpoints_->Stop();
  tlog_http_.reset();
  tile_reader_.reset();
  checkpoints_.reset();
  witness_collector_.reset();
  witness_.reset();
  witness_storage_.reset();
  log_service_.reset();
  log_manager_.reset();
  map_write_service_.reset();
  map_service_.reset();
  map_manager_.reset();
  maps_.reset();
  admin_service_.reset();
  operations_service_.reset();
  sequencer_.reset();
  tree_manager_.reset();
  keys_.reset();
  logs_.reset();
  trees_.reset();
  db_.reset();
}

Server::~Server() { Shutdown(absl::Seconds(5)); }

}  // namespace trellis
