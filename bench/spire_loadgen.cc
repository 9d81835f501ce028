// Load generator for trellisd's SPIRE API, as agents use it, over mTLS on
// loopback. Setup goes through the operator socket: a join token and
// --entries entries under it; the generator then attests as an agent (its
// own P-256 key) and calls with its agent X509-SVID.
//
//   spire_loadgen --operator_addr=unix:DATA/operator.sock
//       --spire_addr=127.0.0.1:8081 --mode=x509 --batch=50 --clients=8
//                        BatchNewX509SVID: SVIDs/s issued (and logged),
//                        call latency p50/p99
//   ... --mode=jwt       NewJWTSVID: JWT-SVIDs/s, latency p50/p99
//   ... --mode=sync --entries=10000
//                        SyncAuthorizedEntries as an agent runs it (paged):
//                        seconds per full sync
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ca/testing/csr.h"
#include "ca/testing/spire_channel.h"
#include "ca/x509.h"
#include "crypto/keys.h"
#include "grpcpp/create_channel.h"
#include "spire/api/server/agent/v1/agent.grpc.pb.h"
#include "spire/api/server/entry/v1/entry.grpc.pb.h"
#include "spire/api/server/svid/v1/svid.grpc.pb.h"

ABSL_FLAG(std::string, operator_addr, "", "trellisd's operator socket.");
ABSL_FLAG(std::string, spire_addr, "127.0.0.1:8081", "trellisd's SPIRE API.");
ABSL_FLAG(std::string, trust_domain, "example.org", "The trust domain.");
ABSL_FLAG(std::string, mode, "x509", "x509, jwt or sync.");
ABSL_FLAG(int, entries, 50, "Entries under the agent.");
ABSL_FLAG(int, batch, 50, "x509: CSRs per BatchNewX509SVID call.");
ABSL_FLAG(int, clients, 8, "Concurrent client threads (one channel each).");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "How long to load.");
ABSL_FLAG(int, syncs, 5, "sync: full syncs to time.");
ABSL_FLAG(absl::Duration, settle, absl::ZeroDuration(),
          "Wait this long after creating the entries (upstream SPIRE serves "
          "new entries only after its entry cache reloads, every 5 s).");

namespace trellis::bench {
namespace {

namespace agent_v1 = spire::api::server::agent::v1;
namespace entry_v1 = spire::api::server::entry::v1;
namespace svid_v1 = spire::api::server::svid::v1;

[[noreturn]] void Die(const std::string& what, const grpc::Status& s) {
  std::fprintf(stderr, "spire_loadgen: %s: %s\n", what.c_str(),
               s.error_message().c_str());
  std::exit(1);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

std::shared_ptr<grpc::Channel> SpireChannel(const std::string& key_pem,
                                            const std::string& cert_pem,
                                            int index) {
  return ca::testing::SpireChannel(absl::GetFlag(FLAGS_spire_addr), key_pem,
                                   cert_pem, index);
}

struct Agent {
  std::string key_pem;
  std::string cert_pem;
  std::vector<std::string> entry_ids;
};

Agent Setup() {
  auto op = grpc::CreateChannel(absl::GetFlag(FLAGS_operator_addr),
                                grpc::InsecureChannelCredentials());
  const std::string td = absl::GetFlag(FLAGS_trust_domain);
  grpc::ClientContext token_context;
  agent_v1::CreateJoinTokenRequest token_request;
  token_request.set_ttl(600);
  spire::api::types::JoinToken token;
  grpc::Status s = agent_v1::Agent::NewStub(op)->CreateJoinToken(
      &token_context, token_request, &token);
  if (!s.ok()) Die("CreateJoinToken", s);

  Agent agent;
  auto entries = entry_v1::Entry::NewStub(op);
  const int total = absl::GetFlag(FLAGS_entries);
  for (int start = 0; start < total; start += 500) {
    entry_v1::BatchCreateEntryRequest request;
    for (int i = start; i < std::min(total, start + 500); ++i) {
      spire::api::types::Entry* entry = request.add_entries();
      entry->mutable_parent_id()->set_trust_domain(td);
      entry->mutable_parent_id()->set_path("/spire/agent/join_token/" +
                                           token.value());
      entry->mutable_spiffe_id()->set_trust_domain(td);
      entry->mutable_spiffe_id()->set_path(absl::StrCat("/load/", i));
      spire::api::types::Selector* selector = entry->add_selectors();
      selector->set_type("unix");
      selector->set_value(absl::StrCat("uid:", i));
    }
    grpc::ClientContext context;
    entry_v1::BatchCreateEntryResponse response;
    s = entries->BatchCreateEntry(&context, request, &response);
    if (!s.ok()) Die("BatchCreateEntry", s);
    for (const auto& result : response.results()) {
      agent.entry_ids.push_back(result.entry().id());
    }
  }

  crypto::PrivateKey key = ca::testing::NewP256Key();
  agent.key_pem = ca::DerToPem(*crypto::MarshalPrivateKey(*key), "PRIVATE KEY");
  auto stub = agent_v1::Agent::NewStub(SpireChannel("", "", -1));
  grpc::ClientContext context;
  auto stream = stub->AttestAgent(&context);
  agent_v1::AttestAgentRequest request;
  request.mutable_params()->mutable_data()->set_type("join_token");
  request.mutable_params()->mutable_data()->set_payload(token.value());
  request.mutable_params()->mutable_params()->set_csr(
      ca::testing::MakeCsr(key.get()));
  stream->Write(request);
  stream->WritesDone();
  agent_v1::AttestAgentResponse response;
  if (!stream->Read(&response)) Die("AttestAgent", stream->Finish());
  for (const std::string& der : response.result().svid().cert_chain()) {
    agent.cert_pem += ca::DerToPem(der, "CERTIFICATE");
  }
  stream->Finish();
  return agent;
}

// Runs `call` (returning how many SVIDs one call made) from --clients
// threads for --duration; prints the rate and call latencies.
template <typename Call>
void Load(const Agent& agent, const char* what, Call call) {
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  std::atomic<int64_t> issued{0};
  std::atomic<int> failures{0};
  std::vector<std::vector<double>> latencies(absl::GetFlag(FLAGS_clients));
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int c = 0; c < absl::GetFlag(FLAGS_clients); ++c) {
    threads.emplace_back([&, c] {
      auto channel = SpireChannel(agent.key_pem, agent.cert_pem, c);
      while (absl::Now() - start < duration) {
        const absl::Time t0 = absl::Now();
        const int made = call(channel, c);
        if (made < 0) {
          ++failures;
          continue;
        }
        latencies[c].push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
        issued += made;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::printf(
      "%s: %.0f/s over %.1f s (%lld issued), call latency ms "
      "p50=%.1f p99=%.1f; failed calls=%d\n",
      what, issued.load() / seconds, seconds,
      static_cast<long long>(issued.load()), Percentile(all, 0.5),
      Percentile(all, 0.99), failures.load());
}

void X509(const Agent& agent) {
  const int batch = absl::GetFlag(FLAGS_batch);
  // CSRs made once: each call still gets freshly signed certificates.
  crypto::PrivateKey key = ca::testing::NewP256Key();
  const std::string csr = ca::testing::MakeCsr(key.get());
  Load(agent, "x509",
       [&](const std::shared_ptr<grpc::Channel>& channel, int client) {
         svid_v1::BatchNewX509SVIDRequest request;
         for (int i = 0; i < batch; ++i) {
           svid_v1::NewX509SVIDParams* params = request.add_params();
           params->set_entry_id(
               agent.entry_ids[(client * batch + i) % agent.entry_ids.size()]);
           params->set_csr(csr);
         }
         grpc::ClientContext context;
         svid_v1::BatchNewX509SVIDResponse response;
         if (!svid_v1::SVID::NewStub(channel)
                  ->BatchNewX509SVID(&context, request, &response)
                  .ok()) {
           return -1;
         }
         int made = 0;
         for (const auto& result : response.results()) {
           made += result.status().code() == 0;
         }
         return made;
       });
}

void Jwt(const Agent& agent) {
  Load(agent, "jwt",
       [&](const std::shared_ptr<grpc::Channel>& channel, int client) {
         svid_v1::NewJWTSVIDRequest request;
         request.set_entry_id(agent.entry_ids[client % agent.entry_ids.size()]);
         request.add_audience("bench");
         grpc::ClientContext context;
         svid_v1::NewJWTSVIDResponse response;
         return svid_v1::SVID::NewStub(channel)
                        ->NewJWTSVID(&context, request, &response)
                        .ok()
                    ? 1
                    : -1;
       });
}

// One full sync as spire-agent runs it: revisions in pages, then the
// entries by id in pages of the page size.
void Sync(const Agent& agent) {
  auto channel = SpireChannel(agent.key_pem, agent.cert_pem, 0);
  std::vector<double> seconds;
  for (int run = 0; run < absl::GetFlag(FLAGS_syncs); ++run) {
    const absl::Time t0 = absl::Now();
    grpc::ClientContext context;
    auto stream =
        entry_v1::Entry::NewStub(channel)->SyncAuthorizedEntries(&context);
    entry_v1::SyncAuthorizedEntriesRequest first;
    first.mutable_output_mask()->set_revision_number(true);
    stream->Write(first);
    std::vector<std::string> ids;
    size_t entries = 0;
    entry_v1::SyncAuthorizedEntriesResponse response;
    while (stream->Read(&response)) {
      entries += response.entries_size();
      for (const auto& revision : response.entry_revisions()) {
        ids.push_back(revision.id());
      }
      if (!response.more()) break;
    }
    const size_t page = 500;
    for (size_t start = 0; start < ids.size(); start += page) {
      entry_v1::SyncAuthorizedEntriesRequest request;
      for (size_t i = start; i < std::min(ids.size(), start + page); ++i) {
        request.add_ids(ids[i]);
      }
      stream->Write(request);
      while (stream->Read(&response)) {
        entries += response.entries_size();
        if (!response.more()) break;
      }
    }
    stream->WritesDone();
    stream->Finish();
    seconds.push_back(absl::ToDoubleSeconds(absl::Now() - t0));
    if (entries != agent.entry_ids.size()) {
      std::fprintf(stderr, "spire_loadgen: synced %zu of %zu entries\n",
                   entries, agent.entry_ids.size());
      std::exit(1);
    }
  }
  std::printf("sync: %zu entries, full sync s p50=%.3f max=%.3f\n",
              agent.entry_ids.size(), Percentile(seconds, 0.5),
              Percentile(seconds, 1.0));
}

}  // namespace
}  // namespace trellis::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const trellis::bench::Agent agent = trellis::bench::Setup();
  absl::SleepFor(absl::GetFlag(FLAGS_settle));
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "x509") {
    trellis::bench::X509(agent);
  } else if (mode == "jwt") {
    trellis::bench::Jwt(agent);
  } else if (mode == "sync") {
    trellis::bench::Sync(agent);
  } else {
    std::fprintf(stderr, "spire_loadgen: unknown --mode %s\n", mode.c_str());
    return 2;
  }
  return 0;
}
