// `trellis verify-checkpoint --tiles_url`: a checkpoint of another size than
// the one remembered is proven consistent with it from the log's hash tiles
// (built into a proof by the CLI, verified against both signed roots). A
// real trellisd's tiles prove its growth; a log whose key the test holds
// signs a tree that does not extend the remembered one, larger or smaller:
// with tiles that hash to the larger signed root, the CLI calls it a split
// view, and tiles that do not give no verdict.
#include <httplib.h>

#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "merkle/compact_range.h"
#include "merkle/hasher.h"
#include "nlohmann/json.hpp"
#include "tests/tlog_helpers.h"
#include "tests/trellisd_process.h"
#include "tlog/tiles.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

// A tree's hash tiles served on loopback under /tree/, as a tlog-tiles log
// serves them (partial tiles by truncation).
class ServedTree {
 public:
  explicit ServedTree(const std::string& leaf_prefix, int size) {
    merkle::CompactRange range;
    for (int i = 0; i < size; ++i) {
      range.Append(merkle::HashLeaf(leaf_prefix + std::to_string(i)),
                   [&](const merkle::NodeID& id, const std::string& hash) {
                     if (id.level % tlog::kTileHeight != 0) return;
                     tiles_[{id.level / tlog::kTileHeight,
                             id.index / tlog::kTileWidth}] += hash;
                   });
      roots_.push_back(range.Root());
    }
    server_.Get(R"(/tree/(.+))", [this](const httplib::Request& request,
                                        httplib::Response& response) {
      absl::StatusOr<tlog::TileId> id =
          tlog::ParseTilePath(request.matches[1].str());
      auto tile = id.ok() && !id->entries ? tiles_.find({id->level, id->index})
                                          : tiles_.end();
      if (tile == tiles_.end() || tile->second.size() < id->width * 32u) {
        response.status = 404;
        return;
      }
      response.set_content(tile->second.substr(0, id->width * 32),
                           "application/octet-stream");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    EXPECT_GT(port_, 0);
    // Connections wait in the bound socket's backlog until it accepts.
    if (port_ > 0) {
      thread_ = std::thread([this] { server_.listen_after_bind(); });
    }
  }
  ~ServedTree() {
    if (!thread_.joinable()) return;
    // stop() does nothing before the accept loop runs.
    while (!server_.is_running()) std::this_thread::yield();
    server_.stop();
    thread_.join();
  }

  // The root of the first `size` leaves.
  const std::string& Root(int size) const { return roots_[size - 1]; }
  std::string url() const {
    return absl::StrCat("http://127.0.0.1:", port_, "/tree/");
  }

 private:
  std::map<std::pair<int, uint64_t>, std::string> tiles_;
  std::vector<std::string> roots_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

class TlogSplitViewTest : public ::testing::Test {
 protected:
  // `trellis verify-checkpoint` of `note` under `policy`, with the test's
  // own state directory and, if given, --tiles_url.
  CliResult Verify(const std::string& note, const std::string& policy,
                   const std::string& tiles_url = "") {
    const std::string base = dir_.path() + "/verify-" + std::to_string(++n_);
    EXPECT_TRUE(ReplaceFile(base + ".note", note, 0644).ok());
    EXPECT_TRUE(ReplaceFile(base + ".policy", policy, 0644).ok());
    std::vector<std::string> args = {"--state_dir=" + dir_.path() + "/state",
                                     "verify-checkpoint", base + ".note",
                                     base + ".policy"};
    if (!tiles_url.empty())
      args.insert(args.begin(), "--tiles_url=" + tiles_url);
    return RunCli(args);
  }
  // The tree size the CLI proved the checkpoint consistent with (-1: none).
  static int64_t ConsistentWith(const CliResult& result) {
    const nlohmann::json out =
        nlohmann::json::parse(result.out, nullptr, false);
    if (!out.is_object()) return -1;
    return out.value("consistentWithTreeSize", int64_t{-1});
  }

  TempDir dir_;
  int n_ = 0;
};

TEST_F(TlogSplitViewTest, TrellisTilesProveItsGrowth) {
  TrellisdProcess server(dir_.path() + "/data", {"--checkpoint_interval=50ms"});
  const TestLog log = CreateLog(server);
  const std::string policy =
      absl::StrCat("log ", log.settings.note_verifier_key(), "\nquorum none\n");
  const std::string tiles_url =
      absl::StrCat("http://127.0.0.1:", server.tlog_port(), LogPrefix(log.id));
  std::map<int, std::string> notes;
  int size = 0;
  for (int to : {300, 1000, 70000}) {
    std::vector<std::string> values;
    for (; size < to; ++size) {
      values.push_back(LeafValue(size));
      if (values.size() == 10000 || size + 1 == to) {
        ASSERT_TRUE(Queue(server, log.id, values).ok());
        values.clear();
      }
    }
    notes[to] = AwaitCheckpoint(server.tlog_port(), log.id, to);
    ASSERT_FALSE(notes[to].empty());
  }

  CliResult first = Verify(notes[300], policy);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(ConsistentWith(first), -1);
  CliResult grown = Verify(notes[70000], policy, tiles_url);
  ASSERT_EQ(grown.exit_code, 0) << grown.err;
  EXPECT_EQ(ConsistentWith(grown), 300);
  // An older checkpoint is a prefix of the remembered one.
  CliResult older = Verify(notes[1000], policy, tiles_url);
  ASSERT_EQ(older.exit_code, 0) << older.err;
  EXPECT_EQ(ConsistentWith(older), 70000);
  // Another log's tiles do not prove this log's growth.
  const TestLog other = CreateLog(server);
  ASSERT_TRUE(Queue(server, other.id, {"another log"}).ok());
  ASSERT_FALSE(AwaitCheckpoint(server.tlog_port(), other.id, 1).empty());
  CliResult wrong_tiles =
      Verify(notes[1000], policy,
             absl::StrCat("http://127.0.0.1:", server.tlog_port(),
                          LogPrefix(other.id)));
  EXPECT_EQ(wrong_tiles.exit_code, 2) << wrong_tiles.err;
}

TEST_F(TlogSplitViewTest, TreesThatDoNotExtendTheRememberedOneAreSplitViews) {
  const ForkingLog log("example.com/split-view");
  const std::string policy = "log " + log.vkey() + "\nquorum none\n";
  const ServedTree honest("honest ", 1000);
  const ServedTree fork("fork ", 1000);

  ASSERT_EQ(Verify(log.Note(300, honest.Root(300)), policy).exit_code, 0);
  // A larger tree that rewrote the first 300 leaves, with its own tiles.
  CliResult larger =
      Verify(log.Note(1000, fork.Root(1000)), policy, fork.url());
  EXPECT_EQ(larger.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(larger.err, "split view")) << larger.err;
  // Tiles that are not the signed tree's prove nothing either way.
  CliResult mismatched =
      Verify(log.Note(1000, fork.Root(1000)), policy, honest.url());
  EXPECT_EQ(mismatched.exit_code, 2) << mismatched.err;
  EXPECT_TRUE(absl::StrContains(mismatched.err, "another root"))
      << mismatched.err;
  // The honest extension passes and is remembered.
  CliResult extended =
      Verify(log.Note(1000, honest.Root(1000)), policy, honest.url());
  ASSERT_EQ(extended.exit_code, 0) << extended.err;
  EXPECT_EQ(ConsistentWith(extended), 300);
  // A smaller tree that is not a prefix of the remembered 1000, checked
  // against the log's tiles of that size.
  CliResult smaller =
      Verify(log.Note(500, fork.Root(500)), policy, honest.url());
  EXPECT_EQ(smaller.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(smaller.err, "split view")) << smaller.err;
  EXPECT_EQ(Verify(log.Note(500, fork.Root(500)), policy, fork.url()).exit_code,
            2);
  // Without tiles another size is not checked (and says so by omission).
  CliResult unchecked = Verify(log.Note(700, honest.Root(700)), policy);
  ASSERT_EQ(unchecked.exit_code, 0) << unchecked.err;
  EXPECT_EQ(ConsistentWith(unchecked), -1);
  // Tiles that cannot be read give no verdict.
  CliResult offline = Verify(log.Note(800, honest.Root(800)), policy,
                             "http://127.0.0.1:1/tree/");
  EXPECT_EQ(offline.exit_code, 2) << offline.err;
}

}  // namespace
}  // namespace trellis::testing
