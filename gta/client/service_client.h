// A client of a GTA service API (Trellis' --gta_addr, or GTA's own): for
// the host agent (challenge, attest) and the trellis CLI (the resource
// APIs), as one user.
#ifndef TRELLIS_GTA_CLIENT_SERVICE_CLIENT_H_
#define TRELLIS_GTA_CLIENT_SERVICE_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "http/https_client.h"
#include "nlohmann/json.hpp"

namespace httplib {
class SSLClient;
}

namespace trellis::gta::client {

struct ServiceAccount {
  std::string user_id;  // The User-Id header; empty: not sent (register).
  std::string api_key;  // The API-Key header; empty: not sent.
};

class ServiceClient {
 public:
  // INVALID_ARGUMENT for an endpoint URL that is not https://HOST:PORT.
  static absl::StatusOr<std::unique_ptr<ServiceClient>> Create(
      const http::HttpsEndpoint& endpoint, ServiceAccount account);
  ~ServiceClient();

  // `method` (GET, POST, PUT, DELETE) on `path` under
  // /global-trust-authority/service/v1 (with its query), with a JSON `body`
  // (not sent for GET): the reply as JSON (an empty object for an empty
  // reply). The service's own refusals keep their message: INVALID_ARGUMENT
  // (400), UNAUTHENTICATED (401), NOT_FOUND (404), RESOURCE_EXHAUSTED
  // (429); UNAVAILABLE when it cannot be reached or fails.
  absl::StatusOr<nlohmann::ordered_json> Call(const std::string& method,
                                              const std::string& path,
                                              const std::string& body = "");

  // POST /challenge: the nonce (an object, or base64 of one) as sent.
  absl::StatusOr<nlohmann::ordered_json> Challenge(
      const std::vector<std::string>& attester_types);
  // POST /attest with `body`: the first measurement's token.
  absl::StatusOr<std::string> Attest(const std::string& body);

 private:
  ServiceClient(std::unique_ptr<httplib::SSLClient> client,
                ServiceAccount account);

  std::unique_ptr<httplib::SSLClient> client_;
  const ServiceAccount account_;
};

}  // namespace trellis::gta::client

#endif  // TRELLIS_GTA_CLIENT_SERVICE_CLIENT_H_
