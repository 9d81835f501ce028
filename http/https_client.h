// HTTPS clients of Trellis' own services (the verifier, the GTA service):
// one place that turns an https://HOST:PORT endpoint into a verifying
// client with bounded timeouts.
#ifndef TRELLIS_HTTP_HTTPS_CLIENT_H_
#define TRELLIS_HTTP_HTTPS_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace httplib {
class SSLClient;
}

namespace trellis::http {

struct HttpsEndpoint {
  std::string url;      // https://HOST:PORT
  std::string ca_file;  // PEM that signed (or is) the server's certificate;
                        // empty: the system's CAs.
  std::string client_cert_file;  // mTLS, optional.
  std::string client_key_file;
};

// A client that verifies the server's certificate; INVALID_ARGUMENT for a
// URL that is not https://HOST:PORT.
absl::StatusOr<std::unique_ptr<httplib::SSLClient>> NewHttpsClient(
    const HttpsEndpoint& endpoint);

}  // namespace trellis::http

#endif  // TRELLIS_HTTP_HTTPS_CLIENT_H_
