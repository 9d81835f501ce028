#include "cmd/trellisd/gta_server.h"

#include "ca/x509.h"
#include "cmd/trellisd/tls_files.h"
#include "gta/api/service_http.h"
#include "gta/api/vault_http.h"
#include "util/file.h"

namespace trellis {
namespace {

constexpr char kChangeLogSetting[] = "change_log_id";

}  // namespace

absl::StatusOr<std::unique_ptr<GtaServer>> GtaServer::Start(
    const GtaOptions& options, const std::string& data_dir,
    storage::rocksdb::Database* db, admin::KeyStore* keys,
    log::RecordSink* records,
    std::function<absl::StatusOr<int64_t>()> create_log) {
  auto server = std::unique_ptr<GtaServer>(new GtaServer());
  if (options.addr.empty()) return server;
  server->storage_ = std::make_unique<storage::rocksdb::RocksGtaStorage>(db);
  storage::GtaStorage* storage = server->storage_.get();
  server->log_id_ = std::make_unique<log::LazyLogId>(
      [storage] { return storage->GetSetting(kChangeLogSetting); },
      [storage](const std::string& id) {
        return storage->PutSetting(kChangeLogSetting, id);
      },
      std::move(create_log));
  log::LazyLogId* log_id = server->log_id_.get();
  server->changes_ = std::make_unique<gta::ChangeLog>(
      records, [log_id] { return log_id->Get(); });
  crypto::KeyWrapping wrapping{
      [keys](absl::string_view id, absl::string_view der) {
        return keys->Wrap(id, der);
      },
      [keys](absl::string_view id, absl::string_view wrapped) {
        return keys->Unwrap(id, wrapped);
      }};
  absl::StatusOr<std::unique_ptr<gta::KeyRing>> ring =
      gta::KeyRing::Open(storage, std::move(wrapping), options.key_overlap,
                         absl::Now, options.token_key);
  if (!ring.ok()) return ring.status();
  server->keys_ = std::move(*ring);
  // Users' rows are sealed with the FSK (the key ring's own rows are
  // wrapped by the key store instead).
  absl::StatusOr<std::unique_ptr<gta::SealedGtaStorage>> sealed =
      gta::SealedGtaStorage::Open(storage, server->keys_.get());
  if (!sealed.ok()) return sealed.status();
  server->rows_ = std::move(*sealed);
  storage::GtaStorage* rows = server->rows_.get();
  if (options.requests_per_second != 0 && !(options.requests_per_second >= 1)) {
    return absl::InvalidArgumentError(
        "--gta_rate_limit must be 0 (no limit) or at least 1 request a "
        "second");
  }
  const policy::RegoSandboxOptions& sandbox = options.policy_sandbox;
  if (sandbox.workers < 1 || sandbox.workers > 64 ||
      sandbox.timeout <= absl::ZeroDuration() ||
      sandbox.memory_limit_bytes < (size_t{64} << 20)) {
    return absl::InvalidArgumentError(
        "--gta_policy_workers must be 1..64, --gta_policy_timeout positive "
        "and --gta_policy_memory_mib at least 64");
  }
  server->sandbox_ = std::make_unique<policy::RegoSandbox>(sandbox);
  server->policies_ = std::make_unique<gta::PolicyManager>(
      rows, server->changes_.get(), server->sandbox_.get());
  server->nonces_ = std::make_unique<gta::NonceService>(server->keys_.get(),
                                                        options.nonce_validity);
  server->certs_ =
      std::make_unique<gta::CertManager>(rows, server->changes_.get());
  server->ref_values_ =
      std::make_unique<gta::RefValueManager>(rows, server->changes_.get());
  absl::StatusOr<std::unique_ptr<gta::TokenIssuer>> tokens =
      gta::TokenIssuer::Create(server->keys_.get(), options.tokens);
  if (!tokens.ok()) return tokens.status();
  server->tokens_ = std::move(*tokens);
  absl::StatusOr<std::unique_ptr<gta::AttestationService>> attestation =
      gta::AttestationService::Create(
          server->nonces_.get(), server->certs_.get(), server->policies_.get(),
          server->ref_values_.get(), server->tokens_.get(),
          server->changes_.get());
  if (!attestation.ok()) return attestation.status();
  server->attestation_ = std::move(*attestation);

  absl::StatusOr<std::pair<std::string, std::string>> tls =
      TlsFiles(options.tls_cert_file, options.tls_key_file, data_dir, "gta-tls",
               "trellis gta");
  if (!tls.ok()) return tls.status();
  http::ServerOptions http_options = options.http;
  http_options.address = options.addr;
  http_options.tls_cert_file = tls->first;
  http_options.tls_key_file = tls->second;
  if (!options.client_ca_file.empty()) {
    http_options.client_ca_files.push_back(options.client_ca_file);
    http_options.require_client_certificate = true;
  }
  http::Router router;
  server->api_keys_ = std::make_unique<gta::ApiKeyManager>(storage);
  gta::RegisterServiceRoutes(
      router,
      {server->policies_.get(), server->certs_.get(), server->ref_values_.get(),
       server->nonces_.get(), server->tokens_.get(), server->attestation_.get(),
       server->api_keys_.get(), options.require_api_key,
       options.requests_per_second});
  absl::StatusOr<std::unique_ptr<http::Server>> https =
      http::Server::Start(std::move(http_options), std::move(router));
  if (!https.ok()) return https.status();
  server->https_ = std::move(*https);
  if (!options.vault_addr.empty()) {
    if (options.vault_client_ca.empty() ||
        options.vault_allowed_certs.empty()) {
      return absl::InvalidArgumentError(
          "the GTA key manager API needs a client CA and allowed client "
          "certificates");
    }
    absl::StatusOr<std::string> allowed_pem =
        ReadFile(options.vault_allowed_certs);
    if (!allowed_pem.ok()) return allowed_pem.status();
    absl::StatusOr<std::vector<std::string>> allowed =
        ca::CertificatesFromPem(*allowed_pem);
    if (!allowed.ok() || allowed->empty()) {
      return absl::InvalidArgumentError(
          "the allowed key manager clients file holds no certificate");
    }
    http::ServerOptions vault_options = options.http;
    vault_options.address = options.vault_addr;
    vault_options.tls_cert_file = tls->first;
    vault_options.tls_key_file = tls->second;
    vault_options.client_ca_files = {options.vault_client_ca};
    vault_options.require_client_certificate = true;
    http::Router vault_router;
    gta::RegisterVaultRoutes(vault_router, *server->keys_,
                             {allowed->begin(), allowed->end()});
    absl::StatusOr<std::unique_ptr<http::Server>> vault =
        http::Server::Start(std::move(vault_options), std::move(vault_router));
    if (!vault.ok()) return vault.status();
    server->vault_ = std::move(*vault);
  }
  return server;
}

}  // namespace trellis
