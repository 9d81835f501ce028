#include "gta/api/vault_http.h"

#include <openssl/pem.h>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace trellis::gta {
namespace {

using nlohmann::json;

std::string PrivateKeyPem(const EVP_PKEY& key) {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string pem;
  if (bio != nullptr &&
      PEM_write_bio_PrivateKey(bio, const_cast<EVP_PKEY*>(&key), nullptr,
                               nullptr, 0, nullptr, nullptr) == 1) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    pem.assign(data, n);
  }
  BIO_free(bio);
  return pem;
}

json VersionJson(const SigningKey& key) {
  return {{"version", absl::StrCat("v", key.version)},
          {"private_key", PrivateKeyPem(*key.key)},
          {"algorithm", absl::StrCat("rsa_", EVP_PKEY_bits(key.key.get()))},
          {"encoding", "pem"}};
}

void Fail(http::Response& res, int status, const std::string& message) {
  res.status = status;
  res.body = json{{"message", message}}.dump();
}

}  // namespace

void RegisterVaultRoutes(http::Router& router, KeyRing& keys,
                         std::set<std::string> allowed_certificates) {
  auto allowed = [allowed_certificates = std::move(allowed_certificates)](
                     const http::Request& req) {
    return !req.peer_certificate_der.empty() &&
           allowed_certificates.count(req.peer_certificate_der) > 0;
  };
  router.Get("/v1/vault/get_signing_keys",
             [&keys, allowed](const http::Request& req, http::Response& res) {
               if (!allowed(req)) {
                 return Fail(res, 403, "this certificate may not read keys");
               }
               json out = json::object();
               for (const char* name : {kNonceKey, kTokenKey, kRecordKey}) {
                 // Made if none exists yet, so every name has a version.
                 if (!keys.Current(name).ok()) {
                   return Fail(res, 500, "internal error");
                 }
                 json versions = json::array();
                 for (const SigningKey& key : keys.Versions(name)) {
                   versions.push_back(VersionJson(key));
                 }
                 out[name] = std::move(versions);
               }
               res.body = out.dump();
             });
  router.Post("/v1/vault/rotate", [&keys, allowed](const http::Request& req,
                                                   http::Response& res) {
    if (!allowed(req)) {
      return Fail(res, 403, "this certificate may not rotate keys");
    }
    absl::StatusOr<SigningKey> rotated = keys.Rotate(req.QueryParam("key"));
    if (!rotated.ok()) {
      return Fail(res, 400, std::string(rotated.status().message()));
    }
    res.body = json{{"key", rotated->name},
                    {"version", absl::StrCat("v", rotated->version)}}
                   .dump();
  });
}

}  // namespace trellis::gta
