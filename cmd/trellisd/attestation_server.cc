#include "cmd/trellisd/attestation_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "attest/api/verifier_http.h"
#include "cmd/trellisd/tls_files.h"
#include "util/file.h"

namespace trellis {
namespace {

constexpr char kRecordLogSetting[] = "record_log_id";

}  // namespace

absl::StatusOr<std::unique_ptr<AttestationServer>> AttestationServer::Start(
    const AttestationOptions& options, const std::string& data_dir,
    storage::rocksdb::Database* db, log::RecordSink* records,
    const std::function<absl::StatusOr<int64_t>()>& create_log,
    const admin::OperatorAuth* operators) {
  auto server = std::unique_ptr<AttestationServer>(new AttestationServer());
  server->storage_ = std::make_unique<storage::rocksdb::RocksAttestStorage>(db);

  server->create_log_ = create_log;
  {
    absl::MutexLock lock(&server->log_mu_);  // Not shared yet; for clang.
    server->record_log_id_ = options.record_log_id;
  }
  absl::StatusOr<std::unique_ptr<attest::Registrar>> registrar =
      attest::Registrar::Create(server->storage_.get(), options.registrar);
  if (!registrar.ok()) return registrar.status();
  server->registrar_ = std::move(*registrar);
  server->nonces_ =
      std::make_unique<attest::NonceStore>(options.nonce_lifetime);
  server->appraiser_ = std::make_unique<attest::Appraiser>(
      server->registrar_.get(), server->nonces_.get(), server->storage_.get(),
      records, [self = server.get()] { return self->RecordLogId(); },
      options.metrics);
  server->grpc_ = std::make_unique<attest::VerifierGrpcService>(
      server->registrar_.get(), server->appraiser_.get(), server->nonces_.get(),
      [operators](const grpc::ServerContext& context) {
        return operators->IsOperator(context);
      });
  if (options.addr.empty()) return server;

  absl::StatusOr<std::pair<std::string, std::string>> tls =
      TlsFiles(options.tls_cert_file, options.tls_key_file, data_dir,
               "verifier-tls", "trellis verifier");
  if (!tls.ok()) return tls.status();
  http::ServerOptions http_options = options.http;
  http_options.address = options.addr;
  http_options.tls_cert_file = tls->first;
  http_options.tls_key_file = tls->second;
  // Attestors' certificates (when mTLS is on) and operators' are accepted at
  // the handshake; operator routes check for the operator CA themselves.
  if (!options.tls_client_ca_file.empty()) {
    http_options.client_ca_files.push_back(options.tls_client_ca_file);
    http_options.require_client_certificate = true;
  }
  if (!options.operator_client_ca_file.empty()) {
    http_options.client_ca_files.push_back(options.operator_client_ca_file);
  }
  http::Router router;
  attest::RegisterVerifierRoutes(router, *server->registrar_,
                                 *server->appraiser_, *server->nonces_,
                                 [operators](const http::Request& req) {
                                   return operators->IsOperator(req);
                                 });
  absl::StatusOr<std::unique_ptr<http::Server>> https =
      http::Server::Start(std::move(http_options), std::move(router));
  if (!https.ok()) return https.status();
  server->https_ = std::move(*https);
  return server;
}

absl::StatusOr<int64_t> AttestationServer::RecordLogId() {
  absl::MutexLock lock(&log_mu_);
  if (record_log_id_ != 0) return record_log_id_;
  absl::StatusOr<std::optional<std::string>> kept =
      storage_->GetSetting(kRecordLogSetting);
  if (!kept.ok()) return kept.status();
  int64_t log_id = 0;
  if (kept->has_value() && !absl::SimpleAtoi(**kept, &log_id)) {
    return absl::DataLossError("corrupt record log setting");
  }
  if (log_id == 0) {
    absl::StatusOr<int64_t> created = create_log_();
    if (!created.ok()) return created.status();
    log_id = *created;
    absl::Status s =
        storage_->PutSetting(kRecordLogSetting, absl::StrCat(log_id));
    if (!s.ok()) return s;
  }
  record_log_id_ = log_id;
  return log_id;
}

void AttestationServer::Shutdown() { https_.reset(); }

int AttestationServer::port() const { return https_ ? https_->port() : 0; }

AttestationServer::~AttestationServer() { Shutdown(); }

}  // namespace trellis
