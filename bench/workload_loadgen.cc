// Load generator for a Workload API socket (trellis-agent's, or any SPIFFE
// agent's): --clients threads, each with its own connection, open
// FetchX509SVID streams, read the first response (the caller's SVIDs from
// the agent's cache) and close them, for --duration. Prints first
// responses/s and their latency p50/p99.
//
//   workload_loadgen --socket=/tmp/agent.sock --clients=8 --duration=10s
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/create_channel.h"
#include "spiffe/workload/workload.grpc.pb.h"

ABSL_FLAG(std::string, socket, "", "The Workload API socket.");
ABSL_FLAG(int, clients, 8, "Concurrent client threads (one connection each).");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "How long to load.");

namespace {

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string target = "unix:" + absl::GetFlag(FLAGS_socket);
  const int clients = absl::GetFlag(FLAGS_clients);
  std::atomic<int> failures{0};
  std::vector<std::vector<double>> latencies(clients);
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::GetFlag(FLAGS_duration);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      grpc::ChannelArguments args;
      args.SetInt("workload_loadgen.client", c);  // A connection each.
      auto stub = SpiffeWorkloadAPI::NewStub(grpc::CreateCustomChannel(
          target, grpc::InsecureChannelCredentials(), args));
      while (absl::Now() < end) {
        const absl::Time sent = absl::Now();
        grpc::ClientContext context;
        context.AddMetadata("workload.spiffe.io", "true");
        auto stream = stub->FetchX509SVID(&context, X509SVIDRequest());
        X509SVIDResponse response;
        if (!stream->Read(&response) || response.svids().empty()) {
          ++failures;
        } else {
          latencies[c].push_back(
              absl::ToDoubleMilliseconds(absl::Now() - sent));
        }
        context.TryCancel();
        stream->Finish();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::printf(
      "workload: %.0f first FetchX509SVID responses/s over %.1f s (%zu), "
      "latency ms p50=%.2f p99=%.2f; failed=%d\n",
      all.size() / seconds, seconds, all.size(), Percentile(all, 0.5),
      Percentile(all, 0.99), failures.load());
  return failures.load() == 0 ? 0 : 1;
}
