#include "logging/grpc_request_log.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "logging/log.h"
#include "trellis_attest.pb.h"
#include "trillian_admin_api.grpc.pb.h"
#include "trillian_admin_api.pb.h"
#include "trillian_log_api.pb.h"
#include "trillian_map_api.pb.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::logging {
namespace {

TEST(SubjectOfTest, NamesTheTreeAndHostARequestConcerns) {
  trillian::QueueLeafRequest queue;
  queue.set_log_id(42);
  EXPECT_EQ(SubjectOf(queue).tree, "42");
  trillian::GetMapLeavesRequest map;
  map.set_map_id(-7);
  EXPECT_EQ(SubjectOf(map).tree, "-7");
  trillian::DeleteTreeRequest remove;
  remove.set_tree_id(9);
  EXPECT_EQ(SubjectOf(remove).tree, "9");
  trillian::UpdateTreeRequest update;
  update.mutable_tree()->set_tree_id(11);
  EXPECT_EQ(SubjectOf(update).tree, "11");
  trellis::IssueNonceRequest nonce;
  nonce.set_host_id(std::string(300, 'h'));
  EXPECT_EQ(SubjectOf(nonce).host, std::string(128, 'h'));
  EXPECT_EQ(SubjectOf(nonce).tree, "");
}

TEST(SubjectOfTest, NothingForRequestsThatNameNone) {
  // A new tree has no id yet; listing names no tree.
  trillian::CreateTreeRequest create;
  create.mutable_tree()->set_display_name("x");
  EXPECT_EQ(SubjectOf(create).tree, "");
  EXPECT_EQ(SubjectOf(trillian::ListTreesRequest()).tree, "");
  EXPECT_EQ(SubjectOf(trillian::ListTreesRequest()).host, "");
}

// A loopback server with `service` and the call log; its port in `port`.
std::unique_ptr<grpc::Server> StartServer(grpc::Service* service,
                                          CallLogOptions call_log, int* port) {
  grpc::ServerBuilder builder;
  builder.RegisterService(service);
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           port);
  call_log.protobuf_services = {"/trillian."};
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(GrpcRequestLogFactory(std::move(call_log)));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  return builder.BuildAndStart();
}

// A server with the call log: Trillian's admin service (every method
// unimplemented) and gRPC's own health service, which hands interceptors a
// raw buffer rather than a protobuf message.
TEST(GrpcRequestLogTest, LogsWhatCallsConcernAndLetsHealthChecksPass) {
  testing::TempDir dir;
  Options options;
  options.level = Level::kDebug;
  options.file = dir.path() + "/log";
  ASSERT_TRUE(Configure(options).ok());
  grpc::EnableDefaultHealthCheckService(true);
  trillian::TrillianAdmin::Service admin;
  std::atomic<int> ended{0};
  CallLogOptions call_log;
  call_log.call_end = [&ended](absl::string_view,
                               grpc::experimental::ServerRpcInfo::Type,
                               grpc::StatusCode, absl::Duration) { ++ended; };
  int port = 0;
  std::unique_ptr<grpc::Server> server =
      StartServer(&admin, std::move(call_log), &port);
  ASSERT_NE(server, nullptr);
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());

  // grpc.health.v1.HealthCheckRequest{} is empty on the wire.
  grpc::GenericStub generic(channel);
  grpc::ClientContext context;
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1), response;
  grpc::Status status;
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", {}, &request,
                    &response, [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mu);
                      status = s;
                      done = true;
                      done_cv.notify_one();
                    });
  {
    std::unique_lock<std::mutex> lock(mu);
    done_cv.wait(lock, [&] { return done; });
  }
  EXPECT_TRUE(status.ok()) << status.error_message();

  auto stub = trillian::TrillianAdmin::NewStub(channel);
  trillian::DeleteTreeRequest remove;
  remove.set_tree_id(5);
  trillian::Tree tree;
  grpc::ClientContext remove_context;
  EXPECT_EQ(stub->DeleteTree(&remove_context, remove, &tree).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  server->Shutdown();
  EXPECT_EQ(ended, 2);
  ASSERT_TRUE(Configure({}).ok());
  const std::string log = ReadFile(dir.path() + "/log").value_or("");
  EXPECT_NE(log.find(" debug grpc: call method=/grpc.health.v1.Health/Check "
                     "code=0 "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find(" debug grpc: call "
                     "method=/trillian.TrillianAdmin/DeleteTree code=12 "
                     "tree=5 "),
            std::string::npos)
      << log;
}

// Refuses every DeleteTree, as a server refuses callers without rights.
class RefusingAdmin : public trillian::TrillianAdmin::Service {
  grpc::Status DeleteTree(grpc::ServerContext*,
                          const trillian::DeleteTreeRequest*,
                          trillian::Tree*) override {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        std::string(1000, 'x'));
  }
};

// Refusals at the default level: a warning each, errors bounded, and a
// flood of them limited, the next line saying how many were left out.
TEST(GrpcRequestLogTest, RefusalsAreWarningsAndAFloodIsLimited) {
  testing::TempDir dir;
  Options options;
  options.file = dir.path() + "/log";
  ASSERT_TRUE(Configure(options).ok());
  RefusingAdmin admin;
  std::atomic<int64_t> now_ns{absl::ToUnixNanos(absl::FromUnixSeconds(1000))};
  CallLogOptions call_log;
  call_log.clock = [&now_ns] { return absl::FromUnixNanos(now_ns.load()); };
  int port = 0;
  std::unique_ptr<grpc::Server> server =
      StartServer(&admin, std::move(call_log), &port);
  ASSERT_NE(server, nullptr);
  auto stub = trillian::TrillianAdmin::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  auto refuse = [&stub](int64_t tree_id) {
    trillian::DeleteTreeRequest request;
    request.set_tree_id(tree_id);
    trillian::Tree tree;
    grpc::ClientContext context;
    return stub->DeleteTree(&context, request, &tree).error_code();
  };
  int refused = 0;
  for (int i = 0; i < 300; ++i) {
    refused += refuse(i + 1) == grpc::StatusCode::PERMISSION_DENIED ? 1 : 0;
  }
  // A second later the limit has refilled 10 lines: the next one says how
  // many were left out.
  now_ns += absl::ToInt64Nanoseconds(absl::Seconds(1));
  refused += refuse(1000) == grpc::StatusCode::PERMISSION_DENIED ? 1 : 0;
  server->Shutdown();
  ASSERT_TRUE(Configure({}).ok());
  EXPECT_EQ(refused, 301);
  const std::string log = ReadFile(dir.path() + "/log").value_or("");
  const std::vector<absl::string_view> lines =
      absl::StrSplit(log, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 101u) << "the burst, then one line";
  EXPECT_NE(
      lines.front().find(" warning grpc: call refused "
                         "method=/trillian.TrillianAdmin/DeleteTree "
                         "code=7 error=\"" +
                         std::string(256, 'x') + "...(+744 bytes)\" tree=1 "),
      absl::string_view::npos)
      << lines.front();
  EXPECT_EQ(lines[99].find("lines_left_out"), absl::string_view::npos);
  EXPECT_NE(lines.back().find(" tree=1000 "), absl::string_view::npos);
  EXPECT_NE(lines.back().find(" lines_left_out=200"), absl::string_view::npos)
      << lines.back();
}

}  // namespace
}  // namespace trellis::logging
