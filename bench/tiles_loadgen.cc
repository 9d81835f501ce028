// HTTP load against a trellisd log's C2SP tlog-tiles endpoint: each client
// thread holds one keep-alive connection and fetches random full tiles of
// the latest checkpoint (level-0 hash tiles, entry bundles, level-1 tiles
// in 6:3:1) for --duration; prints tile requests/s. Every response's size
// is checked (8,192 bytes for a hash tile, non-empty for a bundle).
//
//   tiles_loadgen --tlog_addr=127.0.0.1:8091 --tree_id=ID --clients=4
#include <httplib.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tlog/checkpoint.h"
#include "tlog/note.h"
#include "tlog/tiles.h"

ABSL_FLAG(std::string, tlog_addr, "127.0.0.1:8091",
          "trellisd's tiles listener.");
ABSL_FLAG(int64_t, tree_id, 0, "The log.");
ABSL_FLAG(int, clients, 4, "Client threads, one keep-alive connection each.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "How long to load.");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string addr = absl::GetFlag(FLAGS_tlog_addr);
  const std::vector<std::string> host_port = absl::StrSplit(addr, ':');
  int port = 0;
  if (host_port.size() != 2 || !absl::SimpleAtoi(host_port[1], &port)) {
    std::fprintf(stderr, "--tlog_addr is HOST:PORT\n");
    return 2;
  }
  const std::string prefix =
      absl::StrCat("/logs/", absl::GetFlag(FLAGS_tree_id), "/");
  httplib::Client probe(host_port[0], port);
  httplib::Result got = probe.Get(prefix + "checkpoint");
  if (!got || got->status != 200) {
    std::fprintf(stderr, "no checkpoint at %s%scheckpoint\n", addr.c_str(),
                 prefix.c_str());
    return 1;
  }
  auto note = trellis::tlog::ParseNote(got->body);
  auto checkpoint =
      note.ok() ? trellis::tlog::ParseCheckpoint(note->text) : note.status();
  if (!checkpoint.ok()) {
    std::fprintf(stderr, "bad checkpoint\n");
    return 1;
  }
  const uint64_t full0 = checkpoint->size / 256;
  const uint64_t full1 = checkpoint->size / 65536;
  if (full0 == 0) {
    std::fprintf(stderr, "the log has no full tile yet\n");
    return 1;
  }

  std::atomic<uint64_t> served{0};
  std::atomic<uint64_t> failures{0};
  const absl::Time begin = absl::Now();
  const absl::Time deadline = begin + absl::GetFlag(FLAGS_duration);
  std::vector<std::thread> threads;
  for (int c = 0; c < absl::GetFlag(FLAGS_clients); ++c) {
    threads.emplace_back([&, c] {
      httplib::Client client(host_port[0], port);
      client.set_keep_alive(true);
      std::mt19937_64 rng(c + 1);
      uint64_t mine = 0;
      while (absl::Now() < deadline) {
        trellis::tlog::TileId id;
        const uint64_t pick = rng() % 10;
        if (pick < 9 || full1 == 0) {
          id.index = rng() % full0;
          id.entries = pick >= 6;
        } else {
          id.level = 1;
          id.index = rng() % full1;
        }
        httplib::Result tile =
            client.Get(prefix + *trellis::tlog::TilePath(id));
        const bool ok =
            tile && tile->status == 200 &&
            (id.entries ? !tile->body.empty() : tile->body.size() == 256 * 32);
        if (ok) {
          ++mine;
        } else {
          ++failures;
        }
      }
      served += mine;
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - begin);
  std::printf(
      "tiles: clients=%d tree_size=%llu served=%llu in %.2fs -> %.0f tile "
      "requests/s; failures=%llu\n",
      absl::GetFlag(FLAGS_clients),
      static_cast<unsigned long long>(checkpoint->size),
      static_cast<unsigned long long>(served.load()), seconds,
      served.load() / seconds,
      static_cast<unsigned long long>(failures.load()));
  return failures == 0 ? 0 : 1;
}
