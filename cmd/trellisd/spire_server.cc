#include "cmd/trellisd/spire_server.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ca/upstream_ca.h"
#include "ca/x509.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "grpcpp/server_builder.h"
#include "identity/bundle_format.h"
#include "logging/grpc_request_log.h"
#include "logging/log.h"
#include "spiffe/id.h"
#include "util/file.h"

namespace trellis {
namespace {

constexpr char kIssuanceLogSetting[] = "issuance_log_id";

// How often the TLS stack re-reads the server SVID file.
constexpr int kSvidReloadSeconds = 1;

}  // namespace

namespace {

absl::StatusOr<ca::UpstreamCa> LoadUpstreamCa(const SpireOptions& options) {
  if (options.upstream_ca_cert_file.empty() ||
      options.upstream_ca_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--upstream_ca_cert and --upstream_ca_key go together");
  }
  absl::StatusOr<std::string> cert = ReadFile(options.upstream_ca_cert_file);
  if (!cert.ok()) return cert.status();
  ReadOptions key_options;
  key_options.no_follow = true;
  absl::StatusOr<std::string> key =
      ReadFile(options.upstream_ca_key_file, key_options);
  if (!key.ok()) return key.status();
  std::string bundle;
  if (!options.upstream_bundle_file.empty()) {
    absl::StatusOr<std::string> read = ReadFile(options.upstream_bundle_file);
    if (!read.ok()) return read.status();
    bundle = std::move(*read);
  }
  absl::StatusOr<std::string> td =
      spiffe::ValidateTrustDomain(options.trust_domain);
  if (!td.ok()) return td.status();
  return ca::ParseUpstreamCa(*cert, *key, bundle, *td);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SpireServer>> SpireServer::Start(
    const SpireOptions& options, const std::string& data_dir,
    storage::rocksdb::Database* db, const admin::KeyStore* keys,
    const admin::OperatorAuth* operators, log::LogManager* logs,
    identity::IssuanceLog::SignerProvider signers,
    std::function<absl::StatusOr<int64_t>()> create_log,
    std::function<absl::StatusOr<int64_t>()> create_map, map::MapManager* maps,
    attest::Appraiser* appraiser, attest::Registrar* registrar) {
  absl::StatusOr<std::string> trust_domain =
      spiffe::ValidateTrustDomain(options.trust_domain);
  if (!trust_domain.ok()) return trust_domain.status();
  if (!options.sovereign.claims_oid.empty()) {
    if (absl::Status s = ca::CheckOid(options.sovereign.claims_oid); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--sovereign_claims_oid: ", s.message()));
    }
  }
  ca::CaOptions ca_options;
  ca_options.trust_domain = *trust_domain;
  absl::StatusOr<ca::KeyType> key_type = ca::ParseKeyType(options.ca_key_type);
  if (!key_type.ok()) return key_type.status();
  ca_options.key_type = *key_type;
  ca_options.ca_ttl = options.ca_ttl;
  ca_options.default_x509_svid_ttl = options.default_x509_svid_ttl;
  if (!options.upstream_ca_cert_file.empty() ||
      !options.upstream_ca_key_file.empty()) {
    absl::StatusOr<ca::UpstreamCa> upstream = LoadUpstreamCa(options);
    if (!upstream.ok()) return upstream.status();
    ca_options.upstream = std::move(upstream->issuer);
    ca_options.upstream_chain = std::move(upstream->chain);
    ca_options.upstream_roots = std::move(upstream->roots);
  }

  auto server = std::unique_ptr<SpireServer>(new SpireServer());
  // Short SVID lifetimes need checks well within their half-life.
  server->rotation_interval_ =
      std::min(options.rotation_interval, options.default_x509_svid_ttl / 10);
  server->storage_ =
      std::make_unique<storage::rocksdb::RocksIdentityStorage>(db);
  ca::KeyWrapping wrapping{
      [keys](absl::string_view id, absl::string_view der) {
        return keys->Wrap(id, der);
      },
      [keys](absl::string_view id, absl::string_view wrapped) {
        return keys->Unwrap(id, wrapped);
      }};
  absl::StatusOr<std::unique_ptr<ca::CaManager>> ca = ca::CaManager::Create(
      server->storage_.get(), ca_options, std::move(wrapping));
  if (!ca.ok()) return ca.status();
  server->ca_ = std::move(*ca);
  // The issuance log: made with the first record, its id kept.
  storage::IdentityStorage* storage = server->storage_.get();
  auto stored_log_id = [storage]() -> absl::StatusOr<int64_t> {
    absl::StatusOr<std::optional<std::string>> kept =
        storage->GetSetting(kIssuanceLogSetting);
    if (!kept.ok()) return kept.status();
    int64_t log_id = 0;
    if (kept->has_value() && !absl::SimpleAtoi(**kept, &log_id)) {
      return absl::DataLossError("stored issuance log id is not a number");
    }
    return log_id;
  };
  auto issuance_log_id = [storage, stored_log_id,
                          create_log]() -> absl::StatusOr<int64_t> {
    absl::StatusOr<int64_t> kept = stored_log_id();
    if (!kept.ok() || *kept != 0) return kept;
    absl::StatusOr<int64_t> created = create_log();
    if (!created.ok()) return created.status();
    if (absl::Status s =
            storage->PutSetting(kIssuanceLogSetting, absl::StrCat(*created));
        !s.ok()) {
      return s;
    }
    return *created;
  };
  server->issuance_writer_ = std::make_unique<ThreadPool>(1);
  server->issuance_log_ = std::make_unique<identity::IssuanceLog>(
      logs, std::move(issuance_log_id), std::move(signers), absl::Now,
      server->issuance_writer_.get());
  // The map follows the log once it exists (made by the first issuance).
  server->identity_map_ = std::make_unique<identity::IdentityMap>(
      storage, logs, maps, std::move(stored_log_id), std::move(create_map));
  server->issuer_ = std::make_unique<identity::SvidIssuer>(
      server->ca_.get(), server->issuance_log_.get(), options.metrics);
  absl::StatusOr<std::unique_ptr<identity::EntryManager>> entries =
      identity::EntryManager::Create(server->storage_.get(), *trust_domain);
  if (!entries.ok()) return entries.status();
  server->entries_ = std::move(*entries);
  if (!options.sovereign_verifier.url.empty()) {
    absl::StatusOr<std::unique_ptr<identity::RemoteVerifier>> remote =
        identity::RemoteVerifier::Create(options.sovereign_verifier);
    if (!remote.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--sovereign_verifier_url: ", remote.status().message()));
    }
    server->evidence_verifier_ = std::move(*remote);
  } else {
    server->evidence_verifier_ =
        std::make_unique<identity::InProcessVerifier>(appraiser, registrar);
  }
  server->sovereign_ = std::make_unique<identity::SovereignAttestor>(
      options.sovereign, server->evidence_verifier_.get());
  if (!options.tpm_attestor.ek_ca_file.empty() ||
      !options.tpm_attestor.ek_hash_dir.empty()) {
    absl::StatusOr<std::unique_ptr<attest::spire_tpm::NodeVerifier>> tpm =
        attest::spire_tpm::NodeVerifier::Create(options.tpm_attestor);
    if (!tpm.ok()) return tpm.status();
    server->tpm_attestor_ = std::move(*tpm);
  }
  server->agents_ = std::make_unique<identity::AgentManager>(
      server->storage_.get(), server->ca_.get(), server->entries_.get(),
      server->issuer_.get(), server->sovereign_.get(),
      server->tpm_attestor_.get());
  server->bundles_ = std::make_unique<identity::BundleManager>(
      server->storage_.get(), server->ca_.get(), server->entries_.get());
  server->svids_ = std::make_unique<identity::SvidManager>(
      server->ca_.get(), server->entries_.get(), server->issuer_.get(),
      server->sovereign_.get());

  if (options.attestations_per_second > 0) {
    server->attestations_ = std::make_unique<RateLimiter>(
        options.attestations_per_second, /*burst=*/1);
  }
  server->issue_pool_ = std::make_unique<ThreadPool>(options.issue_threads);
  const identity::api::Authority authority{operators, server->ca_.get(),
                                           server->agents_.get(),
                                           server->attestations_.get()};
  for (Services* services :
       {&server->spire_services_, &server->operator_services_}) {
    services->agent = std::make_unique<identity::api::AgentService>(authority);
    services->bundle = std::make_unique<identity::api::BundleService>(
        authority, server->bundles_.get());
    services->entry = std::make_unique<identity::api::EntryService>(
        authority, server->entries_.get());
    services->svid = std::make_unique<identity::api::SvidService>(
        authority, server->svids_.get(), server->issue_pool_.get(),
        options.max_queued_issuance);
    services->local_authority =
        std::make_unique<identity::api::LocalAuthorityService>(authority);
  }

  // The server SVID lives in one file (key and chain together) that is
  // replaced atomically, so the TLS stack never reads a mismatched pair.
  const std::string dir = data_dir + "/spire";
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", dir, ": ", strerror(errno)));
  }
  server->svid_file_ = dir + "/server-svid.pem";
  if (absl::Status s = server->RenewServerSvid(); !s.ok()) return s;

  grpc::experimental::TlsServerCredentialsOptions tls(
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          server->svid_file_, server->svid_file_, kSvidReloadSeconds));
  tls.watch_identity_key_cert_pairs();
  tls.set_cert_request_type(
      GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.addr,
                           grpc::experimental::TlsServerCredentials(tls),
                           &server->port_);
  builder.RegisterService(server->spire_services_.agent.get());
  builder.RegisterService(server->spire_services_.bundle.get());
  builder.RegisterService(server->spire_services_.entry.get());
  builder.RegisterService(server->spire_services_.svid.get());
  builder.RegisterService(server->spire_services_.local_authority.get());
  server->node_service_ = std::make_unique<identity::api::NodeService>(
      authority, server->entries_.get(), server->svids_.get(),
      server->bundles_.get());
  builder.RegisterService(server->node_service_.get());
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 4);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  logging::CallLogOptions call_log;
  if (options.grpc_metrics != nullptr) {
    call_log.call_end = options.grpc_metrics->Recorder();
  }
  call_log.protobuf_services = {"/spire."};
  // Agents' certificates are verified by the calls, not by TLS.
  call_log.peers_verified = false;
  interceptors.push_back(logging::GrpcRequestLogFactory(std::move(call_log)));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server->grpc_server_ = builder.BuildAndStart();
  if (!server->grpc_server_ || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.addr));
  }
  SpireServer* self = server.get();
  if (!options.bundle_endpoint_addr.empty()) {
    http::ServerOptions endpoint;
    endpoint.address = options.bundle_endpoint_addr;
    endpoint.tls_cert_file = server->svid_file_;
    endpoint.tls_key_file = server->svid_file_;
    http::Router router;
    ca::CaManager* ca = server->ca_.get();
    router.Get("/", [ca](const http::Request&, http::Response& response) {
      absl::StatusOr<std::string> document =
          identity::ToSpiffeBundle(ca->Bundle());
      if (!document.ok()) {
        response.status = 500;
        response.body = R"({"error":"bundle unavailable"})";
        return;
      }
      response.body = std::move(*document);
    });
    absl::StatusOr<std::unique_ptr<http::Server>> started =
        http::Server::Start(std::move(endpoint), std::move(router));
    if (!started.ok()) {
      return absl::Status(
          started.status().code(),
          absl::StrCat("bundle endpoint: ", started.status().message()));
    }
    server->bundle_endpoint_ = std::move(*started);
  }
  server->rotation_thread_ = std::thread([self] { self->RotationLoop(); });
  server->identity_map_->Start(options.identity_map_interval);
  return server;
}

absl::Status SpireServer::RenewServerSvid() {
  absl::StatusOr<std::string> key =
      ca::GeneratePrivateKey(ca_->options().key_type);
  if (!key.ok()) return key.status();
  absl::StatusOr<crypto::PrivateKey> parsed = crypto::ParsePrivateKey(*key);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<std::string> public_key = crypto::MarshalPublicKey(**parsed);
  if (!public_key.ok()) return public_key.status();
  const spire::api::types::Bundle bundle = ca_->Bundle();
  absl::StatusOr<std::vector<std::string>> chain = ca_->SignX509Svid(
      absl::StrCat("spiffe://", ca_->options().trust_domain, "/spire/server"),
      *public_key, {}, absl::ZeroDuration());
  if (!chain.ok()) return chain.status();
  std::string pem = ca::DerToPem(*key, "PRIVATE KEY");
  for (const std::string& der : *chain) {
    pem += ca::DerToPem(der, "CERTIFICATE");
  }
  if (absl::Status s = ReplaceFile(svid_file_, pem, 0600); !s.ok()) return s;
  absl::StatusOr<ca::Validity> validity = ca::GetValidity(chain->front());
  if (!validity.ok()) return validity.status();
  absl::MutexLock lock(&mu_);
  // Renewed at half-life, or as soon as the roots change (a new CA).
  svid_renew_at_ =
      validity->not_before + (validity->not_after - validity->not_before) / 2;
  svid_bundle_sequence_ = bundle.sequence_number();
  // Federating servers authenticate the endpoint by this SVID too.
  if (bundle_endpoint_) return bundle_endpoint_->ReloadTls();
  return absl::OkStatus();
}

void SpireServer::RotationLoop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), rotation_interval_)) {
      break;
    }
    mu_.Unlock();
    absl::Status s = ca_->Rotate();
    if (!s.ok()) {
      logging::Error("spire", "CA rotation failed", {{"error", s.ToString()}});
    }
    // Expired entries authorise nothing already; upstream deletes them too.
    if (absl::StatusOr<size_t> pruned = entries_->PruneExpired();
        !pruned.ok()) {
      logging::Error("spire", "pruning expired entries failed",
                     {{"error", pruned.status().ToString()}});
    }
    const uint64_t sequence = ca_->Bundle().sequence_number();
    bool renew;
    {
      absl::MutexLock check(&mu_);
      renew =
          absl::Now() >= svid_renew_at_ || sequence != svid_bundle_sequence_;
    }
    if (renew) {
      if (absl::Status r = RenewServerSvid(); !r.ok()) {
        logging::Error("spire", "server SVID renewal failed",
                       {{"error", r.ToString()}});
      }
    }
    mu_.Lock();
  }
}

absl::StatusOr<int64_t> SpireServer::IdentityMapId() {
  return identity_map_->MapId();
}

std::vector<grpc::Service*> SpireServer::operator_services() {
  return {operator_services_.agent.get(), operator_services_.bundle.get(),
          operator_services_.entry.get(), operator_services_.svid.get(),
          operator_services_.local_authority.get()};
}

void SpireServer::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (rotation_thread_.joinable()) rotation_thread_.join();
  if (grpc_server_) {
    grpc_server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    grpc_server_->Wait();
    grpc_server_.reset();
  }
  if (identity_map_) identity_map_->Stop();
  if (bundle_endpoint_) bundle_endpoint_->Stop();
}

SpireServer::~SpireServer() { Shutdown(); }

}  // namespace trellis
