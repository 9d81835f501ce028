#include "http/https_client.h"

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "httplib.h"

namespace trellis::http {

absl::StatusOr<std::unique_ptr<httplib::SSLClient>> NewHttpsClient(
    const HttpsEndpoint& endpoint) {
  absl::string_view rest = endpoint.url;
  const bool https = absl::ConsumePrefix(&rest, "https://");
  absl::ConsumeSuffix(&rest, "/");
  const size_t colon = rest.rfind(':');
  int port = 0;
  if (!https || colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(rest.substr(colon + 1), &port) || port <= 0 ||
      port > 65535) {
    return absl::InvalidArgumentError("URL must be https://HOST:PORT");
  }
  auto client = std::make_unique<httplib::SSLClient>(
      std::string(rest.substr(0, colon)), port, endpoint.client_cert_file,
      endpoint.client_key_file);
  if (!endpoint.ca_file.empty()) {
    client->set_ca_cert_path(endpoint.ca_file.c_str());
  }
  client->enable_server_certificate_verification(true);
  client->set_connection_timeout(10);
  client->set_read_timeout(60);
  return client;
}

}  // namespace trellis::http
