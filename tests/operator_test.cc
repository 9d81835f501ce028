// Operators are not attestors, against a real trellisd: with an operator CA,
// tree writes, policy writes and host removal need an operator certificate
// (or the operator socket); reads and attestation stay open; plaintext gRPC
// off loopback is refused without --insecure.
#include <signal.h>

#include <cstdlib>
#include <string>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/trellisd_process.h"
#include "trellis_attest.grpc.pb.h"
#include "trillian_admin_api.grpc.pb.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

class OperatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);  // A refused handshake closes on the client.
    d_ = dir_.path();
    // A server certificate for 127.0.0.1, an operator CA with an operator's
    // certificate, and another CA with a stranger's.
    const std::string ec =
        " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    const std::string commands =
        "cd " + d_ + " && openssl req -x509" + ec +
        " -subj /CN=server -addext subjectAltName=IP:127.0.0.1 -days 1"
        " -keyout server.key -out server.pem"
        " && openssl req -x509" +
        ec +
        " -subj /CN=operators -days 1 -keyout op-ca.key -out op-ca.pem"
        " && openssl req" +
        ec +
        " -subj /CN=alice -keyout op.key -out op.csr"
        " && openssl x509 -req -in op.csr -CA op-ca.pem -CAkey op-ca.key"
        " -CAcreateserial -days 1 -out op.pem"
        " && openssl req -x509" +
        ec +
        " -subj /CN=strangers -days 1 -keyout other-ca.key -out other-ca.pem"
        " && openssl req" +
        ec +
        " -subj /CN=mallory -keyout other.key -out other.csr"
        " && openssl x509 -req -in other.csr -CA other-ca.pem"
        " -CAkey other-ca.key -CAcreateserial -days 1 -out other.pem";
    ASSERT_EQ(std::system((commands + " 2>/dev/null").c_str()), 0);
    server_ = std::make_unique<TrellisdProcess>(
        d_ + "/data",
        std::vector<std::string>{"--tls_cert=" + d_ + "/server.pem",
                                 "--tls_key=" + d_ + "/server.key",
                                 "--operator_client_ca=" + d_ + "/op-ca.pem",
                                 "--log_file=" + d_ + "/trellisd.log"});
  }

  // A TLS channel to the gRPC port, as `identity` ("" for none).
  std::shared_ptr<grpc::Channel> Tls(const std::string& identity) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = *ReadFile(d_ + "/server.pem");
    if (!identity.empty()) {
      ssl.pem_cert_chain = *ReadFile(d_ + "/" + identity + ".pem");
      ssl.pem_private_key = *ReadFile(d_ + "/" + identity + ".key");
    }
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                               grpc::SslCredentials(ssl));
  }

  grpc::StatusCode CreateTree(const std::shared_ptr<grpc::Channel>& channel) {
    auto admin = trillian::TrillianAdmin::NewStub(channel);
    trillian::CreateTreeRequest request;
    request.mutable_tree()->set_tree_type(trillian::LOG);
    trillian::Tree tree;
    grpc::ClientContext context;
    return admin->CreateTree(&context, request, &tree).error_code();
  }

  grpc::StatusCode PutPolicy(const std::shared_ptr<grpc::Channel>& channel) {
    auto verifier = trellis::AttestationVerifier::NewStub(channel);
    trellis::PutPolicyRequest request;
    request.set_id("p");
    request.set_policy_json("{}");
    trellis::Policy policy;
    grpc::ClientContext context;
    return verifier->PutPolicy(&context, request, &policy).error_code();
  }

  int HttpsPutPolicy(const std::string& identity) {
    std::unique_ptr<httplib::SSLClient> client =
        identity.empty()
            ? std::make_unique<httplib::SSLClient>("127.0.0.1",
                                                   server_->verifier_port())
            : std::make_unique<httplib::SSLClient>(
                  "127.0.0.1", server_->verifier_port(),
                  d_ + "/" + identity + ".pem", d_ + "/" + identity + ".key");
    client->set_ca_cert_path(server_->verifier_ca_file().c_str());
    client->enable_server_certificate_verification(true);
    httplib::Result res =
        client->Put("/v2.4/policies/p", "{}", "application/json");
    return res ? res->status : -1;
  }

  TempDir dir_;
  std::string d_;
  std::unique_ptr<TrellisdProcess> server_;
};

// At the default level, a refused call is one warning naming the tree it
// concerns; calls that succeed, or fail on the caller's input, write none.
TEST_F(OperatorTest, RefusalsAreLoggedWithTheTreeTheyConcern) {
  auto admin = trillian::TrillianAdmin::NewStub(Tls(""));
  trillian::DeleteTreeRequest request;
  request.set_tree_id(4242);
  trillian::Tree tree;
  grpc::ClientContext context;
  EXPECT_EQ(admin->DeleteTree(&context, request, &tree).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  trillian::GetTreeRequest get;
  get.set_tree_id(4243);
  grpc::ClientContext get_context;
  EXPECT_EQ(admin->GetTree(&get_context, get, &tree).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(server_->Stop(), 0);
  const std::string text = ReadFile(d_ + "/trellisd.log").value_or("");
  EXPECT_NE(text.find(" warning grpc: call refused "
                      "method=/trillian.TrillianAdmin/DeleteTree code=7 "
                      "error=\"tree writes need an operator"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(" tree=4242 "), std::string::npos) << text;
  EXPECT_EQ(text.find("tree=4243"), std::string::npos) << text;
  EXPECT_EQ(text.find("/trillian.TrillianAdmin/GetTree"), std::string::npos)
      << text;
}

TEST_F(OperatorTest, TreeWritesNeedAnOperatorOnceAnOperatorCaIsSet) {
  EXPECT_EQ(CreateTree(Tls("")), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CreateTree(Tls("op")), grpc::StatusCode::OK);
  EXPECT_EQ(CreateTree(grpc::CreateChannel(server_->operator_address(),
                                           grpc::InsecureChannelCredentials())),
            grpc::StatusCode::OK);
  // Reads stay open to anyone who reaches the port.
  auto admin = trillian::TrillianAdmin::NewStub(Tls(""));
  trillian::ListTreesRequest list;
  trillian::ListTreesResponse trees;
  grpc::ClientContext context;
  ASSERT_TRUE(admin->ListTrees(&context, list, &trees).ok());
  EXPECT_EQ(trees.tree_size(), 2);
  // A certificate from another CA does not get through the handshake.
  EXPECT_NE(CreateTree(Tls("other")), grpc::StatusCode::OK);
}

TEST_F(OperatorTest, PolicyWritesNeedAnOperator) {
  EXPECT_EQ(PutPolicy(Tls("")), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(PutPolicy(Tls("op")), grpc::StatusCode::OK);
  EXPECT_EQ(HttpsPutPolicy(""), 403);
  EXPECT_EQ(HttpsPutPolicy("other"), -1);  // Unknown CA: handshake refused.
  EXPECT_EQ(HttpsPutPolicy("op"), 200);
}

TEST(InsecureTest, PlaintextOffLoopbackIsRefusedWithoutInsecure) {
  TempDir dir;
  CliResult refused =
      RunProgram("cmd/trellisd/trellisd",
                 {"--data_dir=" + dir.path() + "/data", "--grpc_addr=0.0.0.0:0",
                  "--verifier_addr=", "--tlog_addr=",
                  "--operator_socket=" + dir.path() + "/op.sock"});
  EXPECT_EQ(refused.exit_code, 1);  // Says so on stderr.
}

}  // namespace
}  // namespace trellis::testing
