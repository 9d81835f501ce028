#include "admin/operator_auth.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "absl/strings/match.h"
#include "util/file.h"

namespace trellis::admin {
namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr ParseCertificate(absl::string_view certificate) {
  if (absl::StartsWith(certificate, "-----BEGIN")) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(certificate.data(),
                        static_cast<int>(certificate.size())),
        BIO_free);
    return X509Ptr(
        bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr,
        X509_free);
  }
  const unsigned char* p =
      reinterpret_cast<const unsigned char*>(certificate.data());
  return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(certificate.size())),
                 X509_free);
}

}  // namespace

struct OperatorAuth::Store {
  X509_STORE* store = nullptr;
  ~Store() { X509_STORE_free(store); }
};

absl::StatusOr<std::unique_ptr<OperatorAuth>> OperatorAuth::Create(
    const std::string& ca_file) {
  auto store = std::make_unique<Store>();
  std::string pem;
  if (!ca_file.empty()) {
    absl::StatusOr<std::string> read = ReadFile(ca_file);
    if (!read.ok()) return read.status();
    pem = std::move(*read);
    store->store = X509_STORE_new();
    if (store->store == nullptr ||
        X509_STORE_load_file(store->store, ca_file.c_str()) != 1) {
      return absl::InvalidArgumentError("cannot load operator CAs from " +
                                        ca_file);
    }
  }
  return std::unique_ptr<OperatorAuth>(
      new OperatorAuth(std::move(pem), std::move(store)));
}

OperatorAuth::OperatorAuth(std::string ca_pem, std::unique_ptr<Store> store)
    : ca_pem_(std::move(ca_pem)), store_(std::move(store)) {}

OperatorAuth::~OperatorAuth() = default;

bool OperatorAuth::has_ca() const { return store_->store != nullptr; }

bool OperatorAuth::IsOperatorCertificate(absl::string_view certificate) const {
  if (!has_ca() || certificate.empty()) return false;
  X509Ptr cert = ParseCertificate(certificate);
  if (cert == nullptr) return false;
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(
      X509_STORE_CTX_new(), X509_STORE_CTX_free);
  if (ctx == nullptr ||
      X509_STORE_CTX_init(ctx.get(), store_->store, cert.get(), nullptr) != 1 ||
      X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT) != 1) {
    return false;
  }
  return X509_verify_cert(ctx.get()) == 1;
}

bool OperatorAuth::IsOperator(const http::Request& request) const {
  return request.via_unix_socket ||
         IsOperatorCertificate(request.peer_certificate_der);
}

bool OperatorAuth::IsOperator(const grpc::ServerContext& context) const {
  if (absl::StartsWith(context.peer(), "unix:")) return true;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return false;
  for (const grpc::string_ref& pem :
       auth->FindPropertyValues("x509_pem_cert")) {
    if (IsOperatorCertificate(absl::string_view(pem.data(), pem.size()))) {
      return true;
    }
  }
  return false;
}

}  // namespace trellis::admin
