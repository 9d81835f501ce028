// trellisd's openEuler GTA-compatible attestation service: its own HTTPS
// listener (--gta_addr), per-user policies on the embedded RocksDB, NSK /
// TSK / FSK keys wrapped by the key store, and a log tree of every change.
#ifndef TRELLIS_CMD_TRELLISD_GTA_SERVER_H_
#define TRELLIS_CMD_TRELLISD_GTA_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "admin/key_store.h"
#include "gta/api_keys.h"
#include "gta/attestation_service.h"
#include "gta/cert_manager.h"
#include "gta/change_log.h"
#include "gta/key_ring.h"
#include "gta/nonce_service.h"
#include "gta/policy_manager.h"
#include "gta/ref_value_manager.h"
#include "gta/sealed_storage.h"
#include "gta/token_issuer.h"
#include "http/server.h"
#include "log/lazy_log_id.h"
#include "log/record_sink.h"
#include "policy/rego_sandbox.h"
#include "storage/rocksdb/database.h"
#include "storage/rocksdb/gta_storage.h"

namespace trellis {

struct GtaOptions {
  // host:port of the service API; port 0 picks a free port; empty: off.
  std::string addr;
  // Server certificate and key (PEM); empty: a self-signed pair made once
  // in <data_dir>/gta-tls/.
  std::string tls_cert_file;
  std::string tls_key_file;
  // With it, callers must present a certificate this CA signed.
  std::string client_ca_file;
  absl::Duration nonce_validity = gta::kDefaultNonceValidity;
  // How long a superseded NSK / TSK version still verifies.
  absl::Duration key_overlap = absl::Hours(24);
  // Token algorithm (PS256/384/512) and lifetime.
  gta::TokenOptions tokens;
  // RSA size of new TSK versions.
  gta::TokenKeyShape token_key;
  // Callers must present their API-Key (from GET register).
  bool require_api_key = false;
  // Per client address; 0: no limit (gta/api/service_http.h).
  double requests_per_second = 1000;
  // The key manager API (it returns private keys): host:port of its own
  // listener, off when empty; it needs client certificates from
  // `vault_client_ca` and accepts only those in `vault_allowed_certs`
  // (a PEM file).
  std::string vault_addr;
  std::string vault_client_ca;
  std::string vault_allowed_certs;
  // Where users' policies run: worker processes, each evaluation bounded in
  // time and memory.
  policy::RegoSandboxOptions policy_sandbox;
  http::ServerOptions http;
};

class GtaServer {
 public:
  // Changes are appended to `records`, in a log tree `create_log` makes
  // with the first of them.
  static absl::StatusOr<std::unique_ptr<GtaServer>> Start(
      const GtaOptions& options, const std::string& data_dir,
      storage::rocksdb::Database* db, admin::KeyStore* keys,
      log::RecordSink* records,
      std::function<absl::StatusOr<int64_t>()> create_log);

  int port() const { return https_ ? https_->port() : 0; }
  int vault_port() const { return vault_ ? vault_->port() : 0; }
  void Shutdown() {
    https_.reset();
    vault_.reset();
  }

 private:
  GtaServer() = default;

  std::unique_ptr<storage::rocksdb::RocksGtaStorage> storage_;
  std::unique_ptr<log::LazyLogId> log_id_;
  std::unique_ptr<gta::ChangeLog> changes_;
  std::unique_ptr<gta::KeyRing> keys_;
  std::unique_ptr<gta::SealedGtaStorage> rows_;
  // Declared before its users: destroyed after them.
  std::unique_ptr<policy::RegoSandbox> sandbox_;
  std::unique_ptr<gta::PolicyManager> policies_;
  std::unique_ptr<gta::NonceService> nonces_;
  std::unique_ptr<gta::CertManager> certs_;
  std::unique_ptr<gta::RefValueManager> ref_values_;
  std::unique_ptr<gta::TokenIssuer> tokens_;
  std::unique_ptr<gta::AttestationService> attestation_;
  std::unique_ptr<gta::ApiKeyManager> api_keys_;
  std::unique_ptr<http::Server> https_;
  std::unique_ptr<http::Server> vault_;
};

}  // namespace trellis

#endif  // TRELLIS_CMD_TRELLISD_GTA_SERVER_H_
