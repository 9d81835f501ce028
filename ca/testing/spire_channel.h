// A gRPC channel to a SPIRE server port as an agent opens one: TLS, the
// server not authenticated (tests and load generators on loopback look at
// authorisation, not at server authentication), and the agent's SVID as the
// client certificate once it has one.
#ifndef TRELLIS_CA_TESTING_SPIRE_CHANNEL_H_
#define TRELLIS_CA_TESTING_SPIRE_CHANNEL_H_

#include <memory>
#include <string>

#include "grpcpp/channel.h"

namespace trellis::ca::testing {

// `key_pem` / `cert_chain_pem` empty: no client certificate. Channels with
// different `index` values never share a connection.
std::shared_ptr<grpc::Channel> SpireChannel(
    const std::string& address, const std::string& key_pem = "",
    const std::string& cert_chain_pem = "", int index = -1);

}  // namespace trellis::ca::testing

#endif  // TRELLIS_CA_TESTING_SPIRE_CHANNEL_H_
