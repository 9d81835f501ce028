// A Trellis log read as C2SP tlog-tiles by independent clients: a real
// trellisd publishes checkpoints under the log's note key and serves tiles
// and entry bundles; tests/peers/tiles-check (transparency-dev/tessera's
// client with formats and merkle, and golang.org/x/mod/sumdb/tlog's
// TileHashReader, built by scripts/build_peers.sh) verifies the notes,
// inclusion and consistency proofs at many sizes, partial tiles included,
// and rebuilds the tree from the bundles.
#include <httplib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "merkle/hasher.h"
#include "tests/tlog_helpers.h"
#include "tests/trellisd_process.h"
#include "tlog/checkpoint.h"
#include "tlog/note.h"
#include "trellis_settings.pb.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

class TlogTilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(PeerBinary("tiles-check").c_str(), X_OK), 0)
        << "run scripts/build_peers.sh";
    data_ = dir_.path() + "/data";
    server_ = std::make_unique<TrellisdProcess>(
        data_, std::vector<std::string>{"--checkpoint_interval=50ms"});
  }

  httplib::Client Http() const {
    httplib::Client client("127.0.0.1", server_->tlog_port());
    client.set_read_timeout(10, 0);
    return client;
  }
  std::string Prefix(int64_t log_id) const { return LogPrefix(log_id); }
  std::string CheckpointAt(int64_t log_id, uint64_t size) {
    return AwaitCheckpoint(server_->tlog_port(), log_id, size);
  }

  TempDir dir_;
  std::string data_;
  std::unique_ptr<TrellisdProcess> server_;
};

TEST_F(TlogTilesTest, GoClientsVerifyCheckpointsProofsAndBundlesAtManySizes) {
  const TestLog log = CreateLog(*server_);
  ASSERT_EQ(log.settings.origin(), absl::StrCat("localhost/trellis/", log.id));
  ASSERT_TRUE(log.settings.entry_bundles());
  const std::string vkey = log.settings.note_verifier_key();

  // Sizes with partial tiles at every level, full tiles and full bundles,
  // and a level-2 node (65,536 leaves).
  std::vector<std::string> checkpoint_files;
  std::string digests;
  int appended = 0;
  for (int size : {1, 5, 256, 300, 1000, 65536, 66000}) {
    std::vector<std::string> batch;
    while (appended < size) {
      batch.push_back(LeafValue(appended));
      digests += merkle::Sha256(batch.back());
      ++appended;
      if (batch.size() == 1000 || appended == size) {
        grpc::Status queued = Queue(*server_, log.id, batch);
        ASSERT_TRUE(queued.ok()) << queued.error_message();
        batch.clear();
      }
    }
    const std::string note = CheckpointAt(log.id, size);
    ASSERT_FALSE(note.empty());
    const std::string file = absl::StrCat(dir_.path(), "/cp-", size);
    ASSERT_TRUE(ReplaceFile(file, note, 0644).ok());
    checkpoint_files.push_back(file);
  }

  std::vector<std::string> args = {
      absl::StrCat("http://127.0.0.1:", server_->tlog_port(), Prefix(log.id)),
      vkey};
  args.insert(args.end(), checkpoint_files.begin(), checkpoint_files.end());
  CliResult checked = RunProgram(PeerBinary("tiles-check"), args);
  ASSERT_EQ(checked.exit_code, 0) << checked.err;
  EXPECT_EQ(
      checked.out,
      absl::StrCat("ok\nentries 66000 ",
                   absl::BytesToHexString(merkle::Sha256(digests)), "\n"));

  // The CLI verifies the same checkpoints against the pinned log key.
  const std::string policy = dir_.path() + "/policy";
  ASSERT_TRUE(
      ReplaceFile(policy, absl::StrCat("log ", vkey, "\nquorum none\n"), 0644)
          .ok());
  CliResult verified =
      RunCli({"verify-checkpoint", checkpoint_files.back(), policy});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;

  // A checkpoint whose root changed after signing is refused.
  std::string forged = ReadFile(checkpoint_files.back()).value();
  const size_t root_line = forged.find('\n', forged.find('\n') + 1) + 1;
  forged[root_line] = forged[root_line] == 'A' ? 'B' : 'A';
  ASSERT_TRUE(ReplaceFile(checkpoint_files.back(), forged, 0644).ok());
  args.back() = checkpoint_files.back();
  EXPECT_EQ(RunProgram(PeerBinary("tiles-check"), args).exit_code, 1);
}

TEST_F(TlogTilesTest, HttpHeadersLimitsAndRefusals) {
  const TestLog log = CreateLog(*server_);
  std::vector<std::string> values;
  for (int i = 0; i < 300; ++i) values.push_back(LeafValue(i));
  ASSERT_TRUE(Queue(*server_, log.id, values).ok());
  ASSERT_FALSE(CheckpointAt(log.id, 300).empty());
  httplib::Client client = Http();
  const std::string prefix = Prefix(log.id);

  httplib::Result checkpoint = client.Get(prefix + "checkpoint");
  ASSERT_TRUE(checkpoint);
  EXPECT_EQ(checkpoint->get_header_value("Cache-Control"), "no-cache");
  EXPECT_EQ(checkpoint->get_header_value("Access-Control-Allow-Origin"), "*");
  EXPECT_TRUE(absl::StartsWith(checkpoint->get_header_value("Content-Type"),
                               "text/plain"));

  httplib::Result full = client.Get(prefix + "tile/0/000");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 200);
  EXPECT_EQ(full->body.size(), 256u * 32);
  EXPECT_TRUE(
      absl::StrContains(full->get_header_value("Cache-Control"), "immutable"));
  EXPECT_EQ(full->get_header_value("Access-Control-Allow-Origin"), "*");
  httplib::Result partial = client.Get(prefix + "tile/0/001.p/44");
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->status, 200);
  EXPECT_EQ(partial->body.size(), 44u * 32);
  // Truncations of the partial tile for smaller sizes are served too.
  httplib::Result smaller = client.Get(prefix + "tile/0/001.p/3");
  ASSERT_TRUE(smaller);
  EXPECT_EQ(smaller->body, partial->body.substr(0, 3 * 32));
  httplib::Result level1 = client.Get(prefix + "tile/1/000.p/1");
  ASSERT_TRUE(level1);
  EXPECT_EQ(level1->status, 200);
  EXPECT_EQ(level1->body.size(), 32u);

  // Bundles: plain, and gzip when asked for.
  httplib::Result bundle = client.Get(prefix + "tile/entries/001.p/44");
  ASSERT_TRUE(bundle);
  EXPECT_EQ(bundle->status, 200);
  EXPECT_EQ(bundle->get_header_value("Content-Encoding"), "");
  std::string expected;
  for (int i = 256; i < 300; ++i) {
    const std::string value = LeafValue(i);
    expected += static_cast<char>(value.size() >> 8);
    expected += static_cast<char>(value.size() & 0xff);
    expected += value;
  }
  EXPECT_EQ(bundle->body, expected);
  httplib::Result gzipped =
      client.Get(prefix + "tile/entries/000", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(gzipped);
  EXPECT_EQ(gzipped->status, 200);
  EXPECT_EQ(gzipped->get_header_value("Content-Encoding"), "gzip");
  // httplib inflates it, as browsers and Go's client do.
  EXPECT_EQ(gzipped->body.substr(0, 2 + LeafValue(0).size()),
            std::string("\0\x07", 2) + LeafValue(0));

  // Beyond the checkpoint, malformed, or not a served log: 404.
  for (const std::string& path :
       {prefix + "tile/0/001", prefix + "tile/0/001.p/45",
        prefix + "tile/0/002.p/1", prefix + "tile/1/000",
        prefix + "tile/2/000.p/1", prefix + "tile/entries/001",
        prefix + "tile/0/01", prefix + "tile/0/x000/001",
        prefix + "tile/0/000.p/256", prefix + "tile/0/000.p/0",
        prefix + "tile/64/000", std::string("/logs/12345/checkpoint"),
        std::string("/logs/0/checkpoint"), std::string("/logs/x/checkpoint")}) {
    httplib::Result refused = client.Get(path);
    ASSERT_TRUE(refused) << path;
    EXPECT_EQ(refused->status, 404) << path;
  }

  // A leaf too long for a bundle is refused by this log, and accepted by
  // one created without entry bundles, which then serves none.
  grpc::Status too_long = Queue(*server_, log.id, {std::string(65536, 'x')});
  EXPECT_EQ(too_long.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(too_long.error_message(), "65535"));
  EXPECT_TRUE(Queue(*server_, log.id, {std::string(65535, 'x')}).ok());
  trellis::LogSettings unbundled;
  unbundled.set_origin("example.com/unbundled");
  const TestLog big = CreateLog(*server_, &unbundled);
  EXPECT_EQ(big.settings.origin(), "example.com/unbundled");
  ASSERT_TRUE(Queue(*server_, big.id, {std::string(70000, 'y')}).ok());
  ASSERT_FALSE(CheckpointAt(big.id, 1).empty());
  httplib::Result no_bundles =
      client.Get(Prefix(big.id) + "tile/entries/000.p/1");
  ASSERT_TRUE(no_bundles);
  EXPECT_EQ(no_bundles->status, 404);
  httplib::Result tile = client.Get(Prefix(big.id) + "tile/0/000.p/1");
  ASSERT_TRUE(tile);
  EXPECT_EQ(tile->status, 200);
}

TEST_F(TlogTilesTest, CheckpointsSurviveARestartAndStayPublished) {
  const TestLog log = CreateLog(*server_);
  ASSERT_TRUE(Queue(*server_, log.id, {"a", "b", "c"}).ok());
  const std::string before = CheckpointAt(log.id, 3);
  ASSERT_FALSE(before.empty());
  server_->Kill();  // A crash: nothing flushed on the way out.
  server_ = std::make_unique<TrellisdProcess>(
      data_, std::vector<std::string>{"--checkpoint_interval=1h"});
  // Served at once, the same note (log/checkpoint_publisher_test shows a
  // restarted publisher serves the stored one without signing).
  httplib::Client client = Http();
  httplib::Result after = client.Get(Prefix(log.id) + "checkpoint");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(after->body, before);
}

}  // namespace
}  // namespace trellis::testing
