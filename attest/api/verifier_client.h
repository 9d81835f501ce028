// A client of trellisd's verifier HTTPS API (attest/api/verifier_http.h):
// for hosts registering and auditors replaying. Replies are Keylime
// envelopes; this returns their "results".
#ifndef TRELLIS_ATTEST_API_VERIFIER_CLIENT_H_
#define TRELLIS_ATTEST_API_VERIFIER_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "http/https_client.h"
#include "nlohmann/json.hpp"

namespace httplib {
class SSLClient;
}

namespace trellis::attest {

using VerifierEndpoint = http::HttpsEndpoint;

class VerifierClient {
 public:
  // INVALID_ARGUMENT for a URL that is not https://HOST:PORT.
  static absl::StatusOr<std::unique_ptr<VerifierClient>> Create(
      const VerifierEndpoint& endpoint);
  ~VerifierClient();

  // The reply's results; UNAVAILABLE if unreachable or busy (HTTP 502, 503,
  // 504), FAILED_PRECONDITION with the verifier's error for any other status
  // but 200.
  absl::StatusOr<nlohmann::json> Post(const std::string& path,
                                      const nlohmann::json& body);
  absl::StatusOr<nlohmann::json> Get(const std::string& path);

  // A reply whatever its HTTP status, for callers that read refusals'
  // results too (a failed verification's 422 lists every check).
  struct Reply {
    int status = 0;
    nlohmann::json results;  // Null if the reply had none.
    std::string error;       // The envelope's "error", if any.
  };
  // UNAVAILABLE if unreachable or busy (HTTP 502, 503, 504).
  absl::StatusOr<Reply> Exchange(const std::string& path,
                                 const nlohmann::json& body);

 private:
  explicit VerifierClient(std::unique_ptr<httplib::SSLClient> client);
  std::unique_ptr<httplib::SSLClient> client_;
};

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_API_VERIFIER_CLIENT_H_
