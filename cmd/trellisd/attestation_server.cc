#include "cmd/trellisd/attestation_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "attest/api/verifier_http.h"
#include "crypto/self_signed.h"
#include "httplib.h"
#include "util/file.h"

namespace trellis {
namespace {

constexpr char kRecordLogSetting[] = "record_log_id";

// The configured certificate, or the self-signed one kept in the data
// directory (made on first start).
absl::StatusOr<std::pair<std::string, std::string>> TlsFiles(
    const AttestationOptions& options, const std::string& data_dir) {
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return absl::InvalidArgumentError(
          "the verifier needs both a TLS certificate and key");
    }
    return std::make_pair(options.tls_cert_file, options.tls_key_file);
  }
  const std::string dir = data_dir + "/verifier-tls";
  const std::string cert = dir + "/cert.pem";
  const std::string key = dir + "/key.pem";
  if (ReadFile(cert).ok() && ReadFile(key).ok())
    return std::make_pair(cert, key);
  mkdir(dir.c_str(), 0700);
  absl::StatusOr<crypto::CertificateAndKey> made =
      crypto::SelfSignedCertificate("trellis verifier");
  if (!made.ok()) return made.status();
  // The key is created 0600 before a byte of it is written; the certificate
  // last, so a crash in between leaves no certificate without its key.
  unlink(key.c_str());
  unlink(cert.c_str());
  if (absl::Status s = WriteNewFile(key, made->private_key_pem); !s.ok()) {
    return s;
  }
  if (absl::Status s = WriteNewFile(cert, made->certificate_pem, 0644);
      !s.ok()) {
    return s;
  }
  return std::make_pair(cert, key);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AttestationServer>> AttestationServer::Start(
    const AttestationOptions& options, const std::string& data_dir,
    storage::rocksdb::Database* db, storage::TreeStorage* trees,
    storage::LogStorage* logs,
    const std::function<absl::StatusOr<int64_t>()>& create_log) {
  auto server = std::unique_ptr<AttestationServer>(new AttestationServer());
  server->storage_ = std::make_unique<storage::rocksdb::RocksAttestStorage>(db);

  server->create_log_ = create_log;
  server->record_log_id_ = options.record_log_id;
  absl::StatusOr<std::unique_ptr<attest::Registrar>> registrar =
      attest::Registrar::Create(server->storage_.get(), options.registrar);
  if (!registrar.ok()) return registrar.status();
  server->registrar_ = std::move(*registrar);
  server->nonces_ =
      std::make_unique<attest::NonceStore>(options.nonce_lifetime);
  server->appraiser_ = std::make_unique<attest::Appraiser>(
      server->registrar_.get(), server->nonces_.get(), server->storage_.get(),
      trees, logs, [self = server.get()] { return self->RecordLogId(); });
  server->grpc_ = std::make_unique<attest::VerifierGrpcService>(
      server->appraiser_.get(), server->nonces_.get());
  if (options.addr.empty()) return server;

  absl::StatusOr<std::pair<std::string, std::string>> tls =
      TlsFiles(options, data_dir);
  if (!tls.ok()) return tls.status();
  const char* client_ca = options.tls_client_ca_file.empty()
                              ? nullptr
                              : options.tls_client_ca_file.c_str();
  server->https_ = std::make_unique<httplib::SSLServer>(
      tls->first.c_str(), tls->second.c_str(), client_ca);
  if (!server->https_->is_valid()) {
    return absl::InvalidArgumentError(
        "cannot load the verifier's TLS certificate, key or client CA");
  }
  attest::RegisterVerifierRoutes(*server->https_, *server->registrar_,
                                 *server->appraiser_, *server->nonces_);
  const std::vector<std::string> parts = absl::StrSplit(options.addr, ':');
  int port = -1;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &port) || port < 0) {
    return absl::InvalidArgumentError("verifier address must be HOST:PORT");
  }
  if (port == 0) {
    port = server->https_->bind_to_any_port(parts[0]);
  } else if (!server->https_->bind_to_port(parts[0], port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.addr));
  }
  server->port_ = port;
  httplib::SSLServer* https = server->https_.get();
  server->thread_ = std::thread([https] { https->listen_after_bind(); });
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

void AttestationServer::Shutdown() {
  if (https_) https_->stop();
  if (thread_.joinable()) thread_.join();
  https_.reset();
}

AttestationServer::~AttestationServer() { Shutdown(); }

}  // namespace trellis
