#include "metrics/grpc_metrics.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/exposition.h"

namespace trellis::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kUnary = grpc::experimental::ServerRpcInfo::Type::UNARY;

TEST(GrpcMetricsTest, CountsByMethodAndCodeAndTimesByMethod) {
  auto registry = std::make_shared<prometheus::Registry>();
  GrpcMetrics metrics(*registry);
  metrics.Record("/trillian.TrillianLog/QueueLeaf", kUnary,
                 grpc::StatusCode::OK, absl::Milliseconds(2));
  metrics.Record("/trillian.TrillianLog/QueueLeaf", kUnary,
                 grpc::StatusCode::OK, absl::Milliseconds(30));
  metrics.Record("/trillian.TrillianLog/QueueLeaf", kUnary,
                 grpc::StatusCode::RESOURCE_EXHAUSTED, absl::Microseconds(50));
  const std::string text = TextFormat({registry});
  EXPECT_THAT(text,
              HasSubstr("grpc_server_handled_total{grpc_code=\"OK\","
                        "grpc_method=\"QueueLeaf\",grpc_service="
                        "\"trillian.TrillianLog\",grpc_type=\"unary\"} 2\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "grpc_server_handled_total{grpc_code="
          "\"ResourceExhausted\",grpc_method=\"QueueLeaf\","
          "grpc_service=\"trillian.TrillianLog\",grpc_type=\"unary\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("grpc_server_handling_seconds_count{grpc_method="
                        "\"QueueLeaf\",grpc_service="
                        "\"trillian.TrillianLog\",grpc_type=\"unary\"} 3\n"));
  // 50 us and 2 ms fall at or under 2.5 ms; 30 ms does not.
  EXPECT_THAT(
      text,
      HasSubstr(
          "grpc_server_handling_seconds_bucket{grpc_method="
          "\"QueueLeaf\",grpc_service="
          "\"trillian.TrillianLog\",grpc_type=\"unary\",le=\"0.0025\"} 2\n"));
}

TEST(GrpcMetricsTest, ClientChosenNamesCannotGrowTheSeriesWithoutBound) {
  auto registry = std::make_shared<prometheus::Registry>();
  GrpcMetrics metrics(*registry);
  for (size_t i = 0; i < GrpcMetrics::kMaxMethods + 100; ++i) {
    metrics.Record(absl::StrCat("/x.Y/M", i), kUnary,
                   grpc::StatusCode::UNIMPLEMENTED, absl::ZeroDuration());
  }
  metrics.Record("", kUnary, grpc::StatusCode::UNIMPLEMENTED,
                 absl::ZeroDuration());
  metrics.Record("no-slash", kUnary, grpc::StatusCode::UNIMPLEMENTED,
                 absl::ZeroDuration());
  const std::string text = TextFormat({registry});
  EXPECT_THAT(text, HasSubstr("grpc_method=\"M0\""));
  EXPECT_THAT(text, Not(HasSubstr(absl::StrCat(
                        "grpc_method=\"M", GrpcMetrics::kMaxMethods, "\""))));
  EXPECT_THAT(text,
              HasSubstr("grpc_server_handled_total{grpc_code="
                        "\"Unimplemented\",grpc_method=\"unknown\","
                        "grpc_service=\"unknown\",grpc_type=\"unary\"} 102\n"));
}

TEST(GrpcMetricsTest, CodeNamesAreGoGrpcPrometheusNames) {
  EXPECT_EQ(TypeName(grpc::experimental::ServerRpcInfo::Type::SERVER_STREAMING),
            "server_stream");
  EXPECT_EQ(CodeName(grpc::StatusCode::OK), "OK");
  EXPECT_EQ(CodeName(grpc::StatusCode::INVALID_ARGUMENT), "InvalidArgument");
  EXPECT_EQ(CodeName(grpc::StatusCode::UNAUTHENTICATED), "Unauthenticated");
  EXPECT_EQ(CodeName(static_cast<grpc::StatusCode>(99)), "Unknown");
}

TEST(ExpositionTest, MetricsRouteServesTheTextFormatOfEverySource) {
  auto registry = std::make_shared<prometheus::Registry>();
  GrpcMetrics metrics(*registry);
  metrics.Record("/a.B/C", kUnary, grpc::StatusCode::OK, absl::ZeroDuration());
  auto scraped = std::make_shared<CallbackCollector>([] {
    prometheus::MetricFamily family =
        Family("z_gauge", "A gauge.", prometheus::MetricType::Gauge);
    Sample(family, 7, {{"k", "v"}});
    prometheus::MetricFamily empty =
        Family("empty_total", "No samples.", prometheus::MetricType::Counter);
    return std::vector<prometheus::MetricFamily>{family, empty};
  });
  http::Router router;
  AddMetricsRoute(router, {scraped, registry});
  http::Request request;
  request.method = "GET";
  request.path = "/metrics";
  http::Response response;
  router.Dispatch(request, response);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(response.body,
              HasSubstr("# TYPE z_gauge gauge\nz_gauge{k=\"v\"} 7\n"));
  EXPECT_THAT(response.body, Not(HasSubstr("empty_total")));
  // Sorted by name across sources.
  EXPECT_LT(response.body.find("grpc_server_handled_total"),
            response.body.find("z_gauge"));
}

}  // namespace
}  // namespace trellis::metrics
