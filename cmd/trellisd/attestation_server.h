// trellisd's attestation role: registrar, nonces, appraisal and the
// Keylime-style HTTPS API, with every verdict appended to a log tree.
#ifndef TRELLIS_CMD_TRELLISD_ATTESTATION_SERVER_H_
#define TRELLIS_CMD_TRELLISD_ATTESTATION_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "admin/operator_auth.h"
#include "attest/api/verifier_grpc.h"
#include "attest/registrar/registrar.h"
#include "attest/verifier/appraiser.h"
#include "attest/verifier/nonce_store.h"
#include "http/server.h"
#include "log/record_sink.h"
#include "prometheus/registry.h"
#include "storage/rocksdb/attest_storage.h"
#include "storage/rocksdb/database.h"

namespace trellis {

struct AttestationOptions {
  // host:port of the HTTPS API; port 0 picks a free port; empty: off.
  std::string addr = "127.0.0.1:8881";
  // Server certificate and key (PEM). Empty: a self-signed certificate made
  // once and kept in <data_dir>/verifier-tls/.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Clients must present a certificate this CA signed (mTLS).
  std::string tls_client_ca_file;
  // Operators' client certificates (policy writes, host removal).
  std::string operator_client_ca_file;
  // Connection, deadline and size limits of the HTTPS API.
  http::ServerOptions http;
  // Log tree for verdict records; 0: one made with the first verdict and
  // kept.
  int64_t record_log_id = 0;
  attest::RegistrarOptions registrar;
  absl::Duration nonce_lifetime = absl::Minutes(5);
  // Where verdict metrics go (null: nowhere).
  prometheus::Registry* metrics = nullptr;
};

class AttestationServer {
 public:
  // Verdicts go to `records`; `create_log` makes and initialises a new LOG
  // tree for them, returning its id.
  static absl::StatusOr<std::unique_ptr<AttestationServer>> Start(
      const AttestationOptions& options, const std::string& data_dir,
      storage::rocksdb::Database* db, log::RecordSink* records,
      const std::function<absl::StatusOr<int64_t>()>& create_log,
      const admin::OperatorAuth* operators);
  ~AttestationServer();

  int port() const;
  // trellis.AttestationVerifier, for the gRPC server to register.
  grpc::Service* grpc_service() { return grpc_.get(); }
  // For the SPIRE role's sovereign attestation (same nonces, same log).
  attest::Appraiser* appraiser() { return appraiser_.get(); }
  attest::Registrar* registrar() { return registrar_.get(); }
  // The log tree of the verdicts (made if there is none yet).
  absl::StatusOr<int64_t> RecordLogId();
  void Shutdown();

 private:
  AttestationServer() = default;

  std::unique_ptr<storage::rocksdb::RocksAttestStorage> storage_;
  std::function<absl::StatusOr<int64_t>()> create_log_;
  absl::Mutex log_mu_;
  int64_t record_log_id_ ABSL_GUARDED_BY(log_mu_) = 0;
  std::unique_ptr<attest::Registrar> registrar_;
  std::unique_ptr<attest::NonceStore> nonces_;
  std::unique_ptr<attest::Appraiser> appraiser_;
  std::unique_ptr<attest::VerifierGrpcService> grpc_;
  std::unique_ptr<http::Server> https_;
};

}  // namespace trellis

#endif  // TRELLIS_CMD_TRELLISD_ATTESTATION_SERVER_H_
