// Load generator for a running trellisd, over gRPC on loopback.
//
//   loadgen --addr=127.0.0.1:8090 --mode=queue --clients=8 --batch=1000
//           --duration=20s [--rate=50000]
//                                   QueueLeaves load: leaves/s acknowledged
//                                   and integrated, merge delay p50/p99
//   loadgen --mode=leaf --clients=4 --inflight=128
//                                   one leaf per QueueLeaf call,
//                                   asynchronous (many single-entry
//                                   writers): leaves/s acknowledged
//   loadgen --mode=map_fill --total=1000000 --batch=50000
//                                   builds a map of --total leaves, then
//                                   times --revisions revisions of 10,000
//                                   new leaves
//   loadgen --mode=map_write --tree_id=ID --total=N [--revisions=R]
//                                   the same timed revisions into a map
//                                   holding keys 0..N-1
//   loadgen --mode=map_proofs --tree_id=ID --total=N [--revision=R]
//                                   GetLeafByRevision load on keys 0..N-1
//   loadgen --mode=proofs --tree_id=ID --clients=2 --inflight=16
//                                   GetInclusionProof load, asynchronous;
//                                   every 256th proof re-fetched with its
//                                   leaf and verified: proofs/s
//   loadgen --mode=roots --tree_id=ID --clients=2 --inflight=16
//                                   GetLatestSignedLogRoot load the same
//                                   way: the cheapest read, the baseline
//                                   for proofs/s
//
// Merge delay is the time from sending a QueueLeaves batch to the first
// signed root whose size covers it. The sequencer integrates in queue order,
// so a batch is covered once the tree holds (start size + leaves
// acknowledged up to and including that batch); a poller samples the signed
// root every --poll_interval.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/create_channel.h"
#include "map/hasher.h"
#include "map/map_root.h"
#include "map/verifier.h"
#include "merkle/hasher.h"
#include "merkle/log_root.h"
#include "merkle/verifier.h"
#include "trillian_admin_api.grpc.pb.h"
#include "trillian_log_api.grpc.pb.h"
#include "trillian_map_api.grpc.pb.h"

ABSL_FLAG(std::string, addr, "127.0.0.1:8090", "trellisd address.");
ABSL_FLAG(std::string, mode, "queue",
          "queue, leaf, proofs, roots, map_fill, map_write or map_proofs.");
ABSL_FLAG(int64_t, tree_id, 0, "Tree to use; 0 creates a new LOG tree.");
ABSL_FLAG(int, clients, 8, "Concurrent client threads (one channel each).");
ABSL_FLAG(int, batch, 1000, "Leaves per QueueLeaves call.");
ABSL_FLAG(int, leaf_bytes, 100, "Bytes per leaf value.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(20), "How long to load.");
ABSL_FLAG(int64_t, total, 0, "queue: stop after this many leaves (0: none).");
ABSL_FLAG(int64_t, rate, 0,
          "queue: offered load in leaves/s across all clients, sent on a "
          "fixed schedule (0: as fast as the server answers).");
ABSL_FLAG(int, inflight, 16,
          "proofs, roots, leaf: asynchronous calls each client keeps "
          "outstanding.");
ABSL_FLAG(int, revisions, 3,
          "map_fill / map_write: timed revisions of 10,000 new leaves.");
ABSL_FLAG(int64_t, revision, -1, "map_proofs: revision to read (-1: latest).");
ABSL_FLAG(absl::Duration, poll_interval, absl::Milliseconds(2),
          "queue: how often to sample the signed root.");

namespace {

using Clock = absl::Time;

std::shared_ptr<grpc::Channel> NewChannel() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  // Separate TCP connections per client, like separate attestors.
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  return grpc::CreateCustomChannel(absl::GetFlag(FLAGS_addr),
                                   grpc::InsecureChannelCredentials(), args);
}

trellis::merkle::LogRootV1 Latest(trillian::TrillianLog::Stub& log,
                                  int64_t id) {
  grpc::ClientContext context;
  trillian::GetLatestSignedLogRootRequest request;
  request.set_log_id(id);
  trillian::GetLatestSignedLogRootResponse response;
  grpc::Status s = log.GetLatestSignedLogRoot(&context, request, &response);
  if (!s.ok()) {
    std::fprintf(stderr, "GetLatestSignedLogRoot: %s\n",
                 s.error_message().c_str());
    std::exit(1);
  }
  return *trellis::merkle::ParseLogRoot(response.signed_log_root().log_root());
}

int64_t CreateTree() {
  auto admin = trillian::TrillianAdmin::NewStub(NewChannel());
  auto log = trillian::TrillianLog::NewStub(NewChannel());
  grpc::ClientContext c1, c2;
  trillian::CreateTreeRequest create;
  create.mutable_tree()->set_tree_type(trillian::LOG);
  trillian::Tree tree;
  if (!admin->CreateTree(&c1, create, &tree).ok()) std::exit(1);
  trillian::InitLogRequest init;
  init.set_log_id(tree.tree_id());
  trillian::InitLogResponse init_response;
  if (!log->InitLog(&c2, init, &init_response).ok()) std::exit(1);
  return tree.tree_id();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

int QueueMode(int64_t tree_id) {
  auto poll_stub = trillian::TrillianLog::NewStub(NewChannel());
  const uint64_t base = Latest(*poll_stub, tree_id).tree_size;
  const int batch = absl::GetFlag(FLAGS_batch);
  const int64_t total = absl::GetFlag(FLAGS_total);

  struct Ack {
    Clock sent;
    uint64_t covered_at;  // Tree size that includes this batch.
  };
  std::mutex mu;
  std::vector<Ack> acks;
  uint64_t acked = 0;
  std::atomic<int64_t> budget{total > 0 ? total : INT64_MAX};
  std::atomic<int> failures{0};

  const Clock start = absl::Now();
  const Clock deadline = start + absl::GetFlag(FLAGS_duration);
  std::vector<std::thread> clients;
  for (int c = 0; c < absl::GetFlag(FLAGS_clients); ++c) {
    clients.emplace_back([&, c] {
      auto log = trillian::TrillianLog::NewStub(NewChannel());
      std::string pad(std::max(0, absl::GetFlag(FLAGS_leaf_bytes) - 24), '.');
      // With --rate, each client sends on its own fixed schedule (open loop):
      // a slow server makes batches late, it does not lower the offer.
      const int64_t rate = absl::GetFlag(FLAGS_rate);
      const absl::Duration period =
          rate > 0
              ? absl::Seconds(1) * absl::GetFlag(FLAGS_clients) * batch / rate
              : absl::ZeroDuration();
      Clock next_send = start + period * c / absl::GetFlag(FLAGS_clients);
      for (uint64_t n = 0; absl::Now() < deadline; ++n) {
        if (budget.fetch_sub(batch) <= 0) break;
        if (rate > 0) {
          absl::SleepFor(next_send - absl::Now());
          next_send += period;
        }
        trillian::QueueLeavesRequest request;
        request.set_log_id(tree_id);
        for (int i = 0; i < batch; ++i) {
          request.add_leaves()->set_leaf_value(absl::StrCat(
              c, "/", n, "/", i, "/", absl::ToUnixNanos(start), pad));
        }
        grpc::ClientContext context;
        trillian::QueueLeavesResponse response;
        // Delay counts from when the batch was due, so a late send is not
        // hidden (no coordinated omission).
        const Clock sent = rate > 0 ? next_send - period : absl::Now();
        if (!log->QueueLeaves(&context, request, &response).ok()) {
          ++failures;
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        acked += batch;
        acks.push_back({sent, base + acked});
      }
    });
  }

  // Sample (time, size) of signed roots until everything acked is covered.
  std::vector<std::pair<Clock, uint64_t>> samples;
  std::atomic<bool> clients_done{false};
  std::thread poller([&] {
    const Clock give_up = deadline + absl::Seconds(120);
    for (;;) {
      const uint64_t size = Latest(*poll_stub, tree_id).tree_size;
      const Clock now = absl::Now();
      samples.emplace_back(now, size);
      uint64_t target;
      {
        std::lock_guard<std::mutex> lock(mu);
        target = base + acked;
      }
      if ((clients_done && size >= target) || now > give_up) break;
      absl::SleepFor(absl::GetFlag(FLAGS_poll_interval));
    }
  });
  for (auto& t : clients) t.join();
  const Clock load_end = absl::Now();
  clients_done = true;
  poller.join();

  std::vector<double> delays_ms;
  size_t next_sample = 0;
  for (const Ack& ack : acks) {  // Acks are in covered_at order.
    while (next_sample < samples.size() &&
           samples[next_sample].second < ack.covered_at) {
      ++next_sample;
    }
    if (next_sample == samples.size()) break;
    delays_ms.push_back(
        absl::ToDoubleMilliseconds(samples[next_sample].first - ack.sent));
  }
  const uint64_t final_size = samples.back().second;
  const double load_s = absl::ToDoubleSeconds(load_end - start);
  const double integrate_s =
      absl::ToDoubleSeconds(samples.back().first - start);
  std::printf(
      "queue: clients=%d batch=%d acked=%llu in %.2fs -> %.0f leaves/s "
      "acknowledged; integrated %llu in %.2fs -> %.0f leaves/s; merge delay "
      "ms p50=%.1f p99=%.1f max=%.1f; failed calls=%d\n",
      absl::GetFlag(FLAGS_clients), batch,
      static_cast<unsigned long long>(acked), load_s, acked / load_s,
      static_cast<unsigned long long>(final_size - base), integrate_s,
      (final_size - base) / integrate_s, Percentile(delays_ms, 0.5),
      Percentile(delays_ms, 0.99), Percentile(delays_ms, 1.0), failures.load());
  return final_size - base >= acked ? 0 : 1;
}

// What an asynchronous load achieved.
struct AsyncLoad {
  uint64_t served = 0;
  int failures = 0;
  double seconds = 0;
};

// Keeps --inflight asynchronous calls outstanding on each of --clients
// threads (one connection each) until --duration has passed: a light
// client, so that the figure is the server's. For each call, `start(stub,
// rng, context, request, cq)` fills the request and starts the call;
// `check(stub, request, response, sample)` says whether an answer is right
// (`sample` is true for every 256th, which may be checked more deeply).
template <typename Stub, typename Request, typename Response, typename Start,
          typename Check>
AsyncLoad RunAsyncLoad(std::function<std::unique_ptr<Stub>()> new_stub,
                       Start start, Check check) {
  struct Call {
    grpc::ClientContext context;
    Request request;
    Response response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> rpc;
  };
  std::atomic<uint64_t> served{0};
  std::atomic<int> failures{0};
  const Clock begin = absl::Now();
  const Clock deadline = begin + absl::GetFlag(FLAGS_duration);
  std::vector<std::thread> clients;
  for (int c = 0; c < absl::GetFlag(FLAGS_clients); ++c) {
    clients.emplace_back([&, c] {
      std::unique_ptr<Stub> stub = new_stub();
      grpc::CompletionQueue cq;
      std::mt19937_64 rng(c);
      auto launch = [&] {
        auto* call = new Call;
        call->rpc = start(*stub, rng, &call->context, call->request, &cq);
        call->rpc->Finish(&call->response, &call->status, call);
      };
      int outstanding = 0;
      for (; outstanding < absl::GetFlag(FLAGS_inflight); ++outstanding) {
        launch();
      }
      uint64_t done = 0;
      void* tag;
      bool ok;
      while (outstanding > 0 && cq.Next(&tag, &ok)) {
        std::unique_ptr<Call> call(static_cast<Call*>(tag));
        --outstanding;
        const bool sample = ++done % 256 == 0;
        if (ok && call->status.ok() &&
            check(*stub, call->request, call->response, sample)) {
          ++served;
        } else {
          ++failures;
        }
        if (absl::Now() < deadline) {
          launch();
          ++outstanding;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  return {served.load(), failures.load(),
          absl::ToDoubleSeconds(absl::Now() - begin)};
}

// Checks one proof end to end (leaf, proof, root), so that the figure is for
// correct proofs.
bool VerifySample(trillian::TrillianLog::Stub& log, int64_t tree_id,
                  const trellis::merkle::LogRootV1& root, int64_t index) {
  trillian::GetEntryAndProofRequest request;
  request.set_log_id(tree_id);
  request.set_leaf_index(index);
  request.set_tree_size(root.tree_size);
  grpc::ClientContext context;
  trillian::GetEntryAndProofResponse response;
  if (!log.GetEntryAndProof(&context, request, &response).ok()) return false;
  std::vector<std::string> proof(response.proof().hashes().begin(),
                                 response.proof().hashes().end());
  return trellis::merkle::VerifyInclusion(
             index, root.tree_size,
             trellis::merkle::HashLeaf(response.leaf().leaf_value()), proof,
             root.root_hash)
      .ok();
}

int ProofsMode(int64_t tree_id) {
  auto stub = trillian::TrillianLog::NewStub(NewChannel());
  const trellis::merkle::LogRootV1 root = Latest(*stub, tree_id);
  if (root.tree_size == 0) {
    std::fprintf(stderr, "tree %lld is empty\n",
                 static_cast<long long>(tree_id));
    return 1;
  }
  const AsyncLoad load = RunAsyncLoad<trillian::TrillianLog::Stub,
                                      trillian::GetInclusionProofRequest,
                                      trillian::GetInclusionProofResponse>(
      [] { return trillian::TrillianLog::NewStub(NewChannel()); },
      [&](trillian::TrillianLog::Stub& log, std::mt19937_64& rng,
          grpc::ClientContext* context,
          trillian::GetInclusionProofRequest& request,
          grpc::CompletionQueue* cq) {
        request.set_log_id(tree_id);
        request.set_leaf_index(rng() % root.tree_size);
        request.set_tree_size(root.tree_size);
        return log.AsyncGetInclusionProof(context, request, cq);
      },
      [&](trillian::TrillianLog::Stub& log,
          const trillian::GetInclusionProofRequest& request,
          const trillian::GetInclusionProofResponse& response, bool sample) {
        return !response.proof().hashes().empty() &&
               (!sample ||
                VerifySample(log, tree_id, root, request.leaf_index()));
      });
  std::printf(
      "proofs: clients=%d inflight=%d tree_size=%llu served=%llu in %.2fs -> "
      "%.0f inclusion proofs/s; failures=%d\n",
      absl::GetFlag(FLAGS_clients), absl::GetFlag(FLAGS_inflight),
      static_cast<unsigned long long>(root.tree_size),
      static_cast<unsigned long long>(load.served), load.seconds,
      load.served / load.seconds, load.failures);
  return load.failures == 0 ? 0 : 1;
}

// The same load with the cheapest read call (one cached signed root, no
// storage): what the RPC path alone allows, as a baseline for ProofsMode.
int RootsMode(int64_t tree_id) {
  const AsyncLoad load = RunAsyncLoad<trillian::TrillianLog::Stub,
                                      trillian::GetLatestSignedLogRootRequest,
                                      trillian::GetLatestSignedLogRootResponse>(
      [] { return trillian::TrillianLog::NewStub(NewChannel()); },
      [&](trillian::TrillianLog::Stub& log, std::mt19937_64&,
          grpc::ClientContext* context,
          trillian::GetLatestSignedLogRootRequest& request,
          grpc::CompletionQueue* cq) {
        request.set_log_id(tree_id);
        return log.AsyncGetLatestSignedLogRoot(context, request, cq);
      },
      [](trillian::TrillianLog::Stub&,
         const trillian::GetLatestSignedLogRootRequest&,
         const trillian::GetLatestSignedLogRootResponse& response,
         bool) { return !response.signed_log_root().log_root().empty(); });
  std::printf(
      "roots: clients=%d inflight=%d served=%llu in %.2fs -> %.0f signed "
      "roots/s; failures=%d\n",
      absl::GetFlag(FLAGS_clients), absl::GetFlag(FLAGS_inflight),
      static_cast<unsigned long long>(load.served), load.seconds,
      load.served / load.seconds, load.failures);
  return load.failures == 0 ? 0 : 1;
}

// One leaf per QueueLeaf call, --inflight calls outstanding on each client:
// many single-entry writers (as Tessera's hammer runs), with a light client.
// Counts a call once its own leaf is echoed back as queued, then waits for
// the signed root to cover every leaf queued.
int LeafMode(int64_t tree_id) {
  auto poll_stub = trillian::TrillianLog::NewStub(NewChannel());
  const uint64_t base = Latest(*poll_stub, tree_id).tree_size;
  const std::string pad(std::max(0, absl::GetFlag(FLAGS_leaf_bytes) - 24), '.');
  const int64_t nonce = absl::ToUnixNanos(absl::Now());
  std::atomic<uint64_t> next{0};
  const AsyncLoad load =
      RunAsyncLoad<trillian::TrillianLog::Stub, trillian::QueueLeafRequest,
                   trillian::QueueLeafResponse>(
          [] { return trillian::TrillianLog::NewStub(NewChannel()); },
          [&](trillian::TrillianLog::Stub& log, std::mt19937_64&,
              grpc::ClientContext* context, trillian::QueueLeafRequest& request,
              grpc::CompletionQueue* cq) {
            request.set_log_id(tree_id);
            request.mutable_leaf()->set_leaf_value(
                absl::StrCat(next++, "/", nonce, pad));
            return log.AsyncQueueLeaf(context, request, cq);
          },
          [](trillian::TrillianLog::Stub&,
             const trillian::QueueLeafRequest& request,
             const trillian::QueueLeafResponse& response, bool) {
            return response.queued_leaf().status().code() == 0 &&
                   response.queued_leaf().leaf().leaf_value() ==
                       request.leaf().leaf_value();
          });
  const Clock give_up = absl::Now() + absl::Seconds(120);
  uint64_t size = base;
  while (size < base + load.served && absl::Now() < give_up) {
    absl::SleepFor(absl::GetFlag(FLAGS_poll_interval));
    size = Latest(*poll_stub, tree_id).tree_size;
  }
  std::printf(
      "leaf: clients=%d inflight=%d queued=%llu in %.2fs -> %.0f leaves/s "
      "acknowledged, one per call; integrated %llu; failures=%d\n",
      absl::GetFlag(FLAGS_clients), absl::GetFlag(FLAGS_inflight),
      static_cast<unsigned long long>(load.served), load.seconds,
      load.served / load.seconds, static_cast<unsigned long long>(size - base),
      load.failures);
  return load.failures == 0 && size >= base + load.served ? 0 : 1;
}

std::string MapKey(int64_t i) {
  return trellis::merkle::Sha256("loadgen-key-" + std::to_string(i));
}

// Writes keys [from, to) as one revision; returns the seconds it took.
double WriteMapRevision(trillian::TrillianMapWrite::Stub& map_write,
                        int64_t tree_id, int64_t from, int64_t to) {
  trillian::WriteMapLeavesRequest request;
  request.set_map_id(tree_id);
  for (int64_t i = from; i < to; ++i) {
    trillian::MapLeaf* leaf = request.add_leaves();
    leaf->set_index(MapKey(i));
    leaf->set_leaf_value("value-" + std::to_string(i));
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::minutes(5));
  trillian::WriteMapLeavesResponse response;
  const Clock start = absl::Now();
  grpc::Status s = map_write.WriteLeaves(&context, request, &response);
  if (!s.ok()) {
    std::fprintf(stderr, "WriteLeaves: %s\n", s.error_message().c_str());
    std::exit(1);
  }
  return absl::ToDoubleSeconds(absl::Now() - start);
}

// --revisions revisions of 10,000 new keys each into a map holding keys
// 0 .. size-1: each revision's time and the median.
void TimeMapRevisions(trillian::TrillianMapWrite::Stub& map_write,
                      int64_t tree_id, int64_t size) {
  std::vector<double> times;
  for (int r = 0; r < absl::GetFlag(FLAGS_revisions); ++r, size += 10000) {
    times.push_back(WriteMapRevision(map_write, tree_id, size, size + 10000));
    std::printf("map_write: revision of 10,000 new leaves into %lld: %.3fs\n",
                static_cast<long long>(size), times.back());
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  std::printf(
      "map_write: median of %zu revisions of 10,000 new leaves: %.3fs over "
      "gRPC (%.0f leaf updates/s, durable)\n",
      times.size(), median, 10000 / median);
}

int MapFillMode() {
  auto admin = trillian::TrillianAdmin::NewStub(NewChannel());
  auto map_write = trillian::TrillianMapWrite::NewStub(NewChannel());
  auto map = trillian::TrillianMap::NewStub(NewChannel());
  grpc::ClientContext c1, c2;
  trillian::CreateTreeRequest create;
  create.mutable_tree()->set_tree_type(trillian::MAP);
  trillian::Tree tree;
  if (!admin->CreateTree(&c1, create, &tree).ok()) return 1;
  trillian::InitMapRequest init;
  init.set_map_id(tree.tree_id());
  trillian::InitMapResponse init_response;
  if (!map->InitMap(&c2, init, &init_response).ok()) return 1;
  std::printf("tree_id=%lld\n", static_cast<long long>(tree.tree_id()));
  const int64_t total = absl::GetFlag(FLAGS_total);
  const int batch = absl::GetFlag(FLAGS_batch);
  const Clock start = absl::Now();
  for (int64_t i = 0; i < total; i += batch) {
    WriteMapRevision(*map_write, tree.tree_id(), i, std::min(total, i + batch));
  }
  const double fill = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("map_fill: %lld leaves in %.1fs (%.0f leaves/s) over gRPC\n",
              static_cast<long long>(total), fill, total / fill);
  TimeMapRevisions(*map_write, tree.tree_id(), total);
  return 0;
}

int MapProofsMode(int64_t tree_id) {
  const int64_t total = absl::GetFlag(FLAGS_total);
  const int64_t revision = absl::GetFlag(FLAGS_revision);
  auto admin = trillian::TrillianAdmin::NewStub(NewChannel());
  trillian::GetTreeRequest get_tree;
  get_tree.set_tree_id(tree_id);
  trillian::Tree tree;
  {
    grpc::ClientContext context;
    if (!admin->GetTree(&context, get_tree, &tree).ok() || total <= 0) return 1;
  }
  auto hasher = trellis::map::NewMapHasher(tree.hash_strategy());
  int64_t at = revision;
  if (at < 0) {
    auto map = trillian::TrillianMap::NewStub(NewChannel());
    grpc::ClientContext context;
    trillian::GetSignedMapRootRequest request;
    request.set_map_id(tree_id);
    trillian::GetSignedMapRootResponse response;
    if (!map->GetSignedMapRoot(&context, request, &response).ok()) return 1;
    at = trellis::map::ParseMapRoot(response.map_root().map_root())->revision;
  }
  const AsyncLoad load = RunAsyncLoad<trillian::TrillianMap::Stub,
                                      trillian::GetMapLeafByRevisionRequest,
                                      trillian::GetMapLeafResponse>(
      [] { return trillian::TrillianMap::NewStub(NewChannel()); },
      [&](trillian::TrillianMap::Stub& map, std::mt19937_64& rng,
          grpc::ClientContext* context,
          trillian::GetMapLeafByRevisionRequest& request,
          grpc::CompletionQueue* cq) {
        request.set_map_id(tree_id);
        request.set_index(MapKey(rng() % total));
        request.set_revision(at);
        return map.AsyncGetLeafByRevision(context, request, cq);
      },
      [&](trillian::TrillianMap::Stub&,
          const trillian::GetMapLeafByRevisionRequest&,
          const trillian::GetMapLeafResponse& response, bool sample) {
        if (!sample) return true;
        const auto& inclusion = response.map_leaf_inclusion();
        std::vector<std::string> proof(inclusion.inclusion().begin(),
                                       inclusion.inclusion().end());
        auto root = trellis::map::ParseMapRoot(response.map_root().map_root());
        return root.ok() &&
               trellis::map::VerifyMapInclusion(
                   **hasher, tree_id, inclusion.leaf(), proof, root->root_hash)
                   .ok();
      });
  std::printf(
      "map_proofs: revision=%lld clients=%d inflight=%d served=%llu in %.2fs "
      "-> %.0f map inclusion proofs/s; failures=%d\n",
      static_cast<long long>(at), absl::GetFlag(FLAGS_clients),
      absl::GetFlag(FLAGS_inflight),
      static_cast<unsigned long long>(load.served), load.seconds,
      load.served / load.seconds, load.failures);
  return load.failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "map_fill") return MapFillMode();
  int64_t tree_id = absl::GetFlag(FLAGS_tree_id);
  if (mode == "map_proofs") return MapProofsMode(tree_id);
  if (mode == "map_write") {
    TimeMapRevisions(*trillian::TrillianMapWrite::NewStub(NewChannel()),
                     tree_id, absl::GetFlag(FLAGS_total));
    return 0;
  }
  if (tree_id == 0) tree_id = CreateTree();
  std::printf("tree_id=%lld\n", static_cast<long long>(tree_id));
  if (mode == "queue") return QueueMode(tree_id);
  if (mode == "leaf") return LeafMode(tree_id);
  if (mode == "proofs") return ProofsMode(tree_id);
  if (mode == "roots") return RootsMode(tree_id);
  std::fprintf(stderr, "unknown --mode\n");
  return 2;
}
