// Operations end to end, against the real binaries: trellisd's
// configuration file and the programs' --print_config; trellisd's metrics
// as Prometheus's own parser reads them.
#include <httplib.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "merkle/log_root.h"
#include "re2/re2.h"
#include "tests/metrics_scrape.h"
#include "tests/tlog_helpers.h"
#include "tests/trellisd_process.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kTrellisd[] = "cmd/trellisd/trellisd";

std::string WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigFileTest, PrintConfigIsAFileTrellisdReadsBack) {
  CliResult printed = RunProgram(kTrellisd, {"--print_config"});
  ASSERT_EQ(printed.exit_code, 0);
  EXPECT_THAT(printed.out, HasSubstr("\ngrpc_addr = \"127.0.0.1:8090\"\n"));
  EXPECT_THAT(printed.out, HasSubstr("\ncheckpoint_interval = \"1s\"\n"));
  EXPECT_THAT(printed.out, HasSubstr("\nfeature_flags = []\n"));

  TempDir dir;
  const std::string file = WriteFile(dir.path() + "/all.toml", printed.out);
  CliResult reread =
      RunProgram(kTrellisd, {"--config=" + file, "--print_config"});
  ASSERT_EQ(reread.exit_code, 0) << reread.err;
  EXPECT_EQ(reread.out, printed.out);

  // Flags override the file.
  CliResult overridden = RunProgram(
      kTrellisd, {"--config", file, "--batch_size=77", "--print_config"});
  ASSERT_EQ(overridden.exit_code, 0);
  EXPECT_THAT(overridden.out, HasSubstr("\nbatch_size = 77\n"));
}

TEST(ConfigFileTest, MistakesStopTrellisdWithTheLine) {
  TempDir dir;
  struct Case {
    std::string text;
    std::string message;
  } cases[] = {
      {"batch_size = 10\ngrpc_adr = \"127.0.0.1:1\"\n",
       "bad.toml:2: unknown key \"grpc_adr\""},
      {"batch_size = \"ten\"\n", "bad.toml:1: batch_size: expected an integer"},
      {"[gta]\naddr = \"x\"\n", "tables are not used"},
      {"batch_size = \n", "bad.toml:1:"},
  };
  for (const Case& c : cases) {
    const std::string file = WriteFile(dir.path() + "/bad.toml", c.text);
    CliResult result = RunProgram(
        kTrellisd, {"--config=" + file, "--data_dir=" + dir.path() + "/d"});
    EXPECT_EQ(result.exit_code, 2) << c.text;
    EXPECT_THAT(result.err, HasSubstr(c.message)) << c.text;
  }
  CliResult missing =
      RunProgram(kTrellisd, {"--config=" + dir.path() + "/none.toml"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("none.toml"));
}

TEST(ConfigFileTest, TrellisdRunsWithTheFilesSettings) {
  TempDir dir;
  // The file turns the tiles listener off and allows 3 leaves per call; the
  // command line (TrellisdProcess's flags) turns the listener back on.
  const std::string file = WriteFile(dir.path() + "/trellisd.toml",
                                     "tlog_addr = \"\"\n"
                                     "max_leaves_per_request = 3\n");
  TrellisdProcess server(dir.path() + "/data", {"--config=" + file});
  EXPECT_GT(server.tlog_port(), 0);
  TestLog log = CreateLog(server);
  EXPECT_TRUE(Queue(server, log.id, {"a", "b", "c"}).ok());
  grpc::Status refused = Queue(server, log.id, {"d", "e", "f", "g"});
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(server.Stop(), 0);
}

TEST(ConfigFileTest, TrellisTpmAndTrellisAgentPrintTheirConfiguration) {
  CliResult tpm = RunProgram("cmd/trellis-tpm/trellis-tpm", {"--print_config"});
  ASSERT_EQ(tpm.exit_code, 0);
  EXPECT_THAT(tpm.out, HasSubstr("\nlisten = \"127.0.0.1:9002\"\n"));

  TempDir dir;
  const std::string conf = WriteFile(dir.path() + "/agent.conf", R"(
agent {
    trust_domain = "example.org"
    insecure_bootstrap = true
    join_token = "do-not-print-me"
}
)");
  CliResult agent = RunProgram(
      "cmd/trellis-agent/trellis-agent",
      {"run", "-config", conf, "--socket_path=/tmp/x.sock", "--print_config"});
  ASSERT_EQ(agent.exit_code, 0) << agent.err;
  EXPECT_THAT(agent.out, HasSubstr("trust_domain = \"example.org\""));
  EXPECT_THAT(agent.out, HasSubstr("socket_path = \"/tmp/x.sock\""));
  EXPECT_THAT(agent.out, HasSubstr("# join_token is set (not shown)"));
  EXPECT_THAT(agent.out, ::testing::Not(HasSubstr("do-not-print-me")));
}

// Scrapes until `name` with `labels` sums to `want` (the sequencer records
// after its write); the last scrape.
nlohmann::json AwaitMetric(int port, const std::string& name,
                           const std::map<std::string, std::string>& labels,
                           double want) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  nlohmann::json scrape = ScrapeMetrics(port);
  while (MetricSum(scrape, name, labels) != want && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    scrape = ScrapeMetrics(port);
  }
  EXPECT_EQ(MetricSum(scrape, name, labels), want) << name;
  return scrape;
}

TEST(MetricsTest, PrometheusReadsWhatTheServerDid) {
  TempDir dir;
  TrellisdProcess server(dir.path() + "/data");
  ASSERT_GT(server.metrics_port(), 0);
  TestLog log = CreateLog(server);
  const std::string tree = absl::StrCat(log.id);
  std::vector<std::string> values;
  for (int i = 0; i < 100; ++i) values.push_back(LeafValue(i));
  ASSERT_TRUE(Queue(server, log.id, values).ok());
  EXPECT_EQ(Queue(server, log.id + 1, {"x"}).error_code(),
            grpc::StatusCode::NOT_FOUND);
  AwaitCheckpoint(server.tlog_port(), log.id, 100);
  httplib::Client tiles("127.0.0.1", server.tlog_port());
  ASSERT_EQ(tiles.Get(LogPrefix(log.id) + "tile/0/000.p/100")->status, 200);
  ASSERT_EQ(tiles.Get("/no/such/thing")->status, 404);

  nlohmann::json scrape =
      AwaitMetric(server.metrics_port(), "trellis_log_integrated_leaves_total",
                  {{"tree", tree}}, 100);
  EXPECT_EQ(scrape.value("problems", nlohmann::json()), nlohmann::json::array())
      << "promlint";
  const std::map<std::string, std::string> queue_leaves = {
      {"grpc_service", "trillian.TrillianLog"}, {"grpc_method", "QueueLeaves"}};
  auto with = [](std::map<std::string, std::string> labels,
                 const std::string& key, const std::string& value) {
    labels[key] = value;
    return labels;
  };
  EXPECT_EQ(MetricSum(scrape, "grpc_server_handled_total",
                      with(queue_leaves, "grpc_code", "OK")),
            1);
  EXPECT_EQ(MetricSum(scrape, "grpc_server_handled_total",
                      with(queue_leaves, "grpc_code", "NotFound")),
            1);
  EXPECT_EQ(MetricSum(scrape, "grpc_server_handling_seconds", queue_leaves), 2);
  EXPECT_EQ(
      MetricSum(scrape, "trellis_log_merge_delay_seconds", {{"tree", tree}}),
      100);
  EXPECT_EQ(MetricSum(scrape, "trellis_log_queued_leaves", {{"tree", tree}}),
            0);
  EXPECT_EQ(
      MetricSum(
          scrape, "trellis_http_requests_total",
          {{"listener", "tlog"}, {"code", "404"}, {"route", "unmatched"}}),
      1);
  EXPECT_GE(
      MetricSum(scrape, "trellis_http_requests_total",
                {{"listener", "tlog"}, {"code", "200"}, {"method", "GET"}}),
      2);  // The checkpoint (awaited) and the tile.
  EXPECT_GT(MetricSum(scrape, "trellis_rocksdb_wal_syncs_total"), 0);
  EXPECT_GT(
      MetricSum(scrape, "trellis_rocksdb_memtable_bytes", {{"family", "log"}}),
      0);
  ASSERT_TRUE(scrape["families"].contains("trellis_rocksdb_write_stopped"));
  EXPECT_EQ(scrape["families"]["grpc_server_handled_total"]["type"], "COUNTER");

  EXPECT_EQ(server.Stop(), 0);
}

// Metric names in `text`: what Prometheus queries and docs name (histogram
// series suffixes dropped).
std::set<std::string> MetricNames(const std::string& text) {
  static const RE2 kName("((?:grpc_server|trellis)_[a-z0-9_]+)");
  std::set<std::string> names;
  re2::StringPiece input(text);
  std::string name;
  while (RE2::FindAndConsume(&input, kName, &name)) {
    for (absl::string_view suffix : {"_bucket", "_count", "_sum"}) {
      if (absl::EndsWith(name, suffix)) {
        name = name.substr(0, name.size() - suffix.size());
      }
    }
    names.insert(name);
  }
  return names;
}

TEST(MetricsTest, ReadmeDocumentsEveryMetricAndTheDashboardUsesOnlyThose) {
  absl::StatusOr<std::string> readme = ReadFile("README.md");
  ASSERT_TRUE(readme.ok());
  const size_t table = readme->find("| metric | labels | what |");
  ASSERT_NE(table, std::string::npos);
  const std::set<std::string> documented =
      MetricNames(readme->substr(table, readme->find("\n\n", table) - table));

  // Everything a busy trellisd exposes is documented.
  TempDir dir;
  TrellisdProcess server(dir.path() + "/data");
  TestLog log = CreateLog(server);
  ASSERT_TRUE(Queue(server, log.id, {"a"}).ok());
  AwaitCheckpoint(server.tlog_port(), log.id, 1);
  const nlohmann::json scrape = AwaitMetric(
      server.metrics_port(), "trellis_log_integrated_leaves_total", {}, 1);
  for (const auto& [name, family] : scrape["families"].items()) {
    EXPECT_TRUE(documented.count(name)) << name << " is not in README.md";
  }

  // The dashboard queries only documented metrics.
  absl::StatusOr<std::string> dashboard_text =
      ReadFile("docs/grafana/trellis.json");
  ASSERT_TRUE(dashboard_text.ok());
  const nlohmann::json dashboard =
      nlohmann::json::parse(*dashboard_text, nullptr, false);
  ASSERT_TRUE(dashboard.is_object());
  size_t queries = 0;
  for (const nlohmann::json& panel :
       dashboard.value("panels", nlohmann::json::array())) {
    for (const nlohmann::json& target :
         panel.value("targets", nlohmann::json::array())) {
      const std::string expr = target.value("expr", "");
      ASSERT_FALSE(expr.empty()) << panel.value("title", "");
      ++queries;
      for (const std::string& name : MetricNames(expr)) {
        EXPECT_TRUE(documented.count(name))
            << name << " in \"" << panel.value("title", "") << "\"";
      }
    }
  }
  EXPECT_GE(queries, 19u);
}

TEST(MetricsTest, QueueDepthShowsLeavesTheSequencerHasNotTaken) {
  TempDir dir;
  // After its first pass the sequencer sleeps for an hour (no full batch).
  TrellisdProcess server(dir.path() + "/data",
                         {"--sequencer_interval=1h", "--batch_size=1000"});
  TestLog log = CreateLog(server);
  ASSERT_TRUE(Queue(server, log.id, {"a", "b", "c"}).ok());
  nlohmann::json scrape = ScrapeMetrics(server.metrics_port());
  EXPECT_EQ(MetricSum(scrape, "trellis_log_queued_leaves",
                      {{"tree", absl::StrCat(log.id)}}),
            3);
  EXPECT_GT(MetricSum(scrape, "trellis_log_queued_bytes",
                      {{"tree", absl::StrCat(log.id)}}),
            0);
  EXPECT_EQ(MetricSum(scrape, "trellis_log_integrated_leaves_total"), 0);
}

TEST(MetricsTest, ListenerIsLoopbackByDefaultAndServesOnlyMetrics) {
  CliResult printed = RunProgram(kTrellisd, {"--print_config"});
  EXPECT_THAT(printed.out, HasSubstr("\nmetrics_addr = \"127.0.0.1:8092\"\n"));
  TempDir dir;
  TrellisdProcess server(dir.path() + "/data");
  httplib::Client client("127.0.0.1", server.metrics_port());
  EXPECT_EQ(client.Get("/")->status, 404);
  EXPECT_EQ(client.Post("/metrics", "x", "text/plain")->status, 405);
}

TEST(LogsTest, JsonLinesOnePerRequestAtDebugAndNoSecrets) {
  TempDir dir;
  const std::string log_file = dir.path() + "/trellisd.log";
  const std::string kek = std::string(
      "8f3a1c5e7b9d2f4a6c8e0b1d3f5a7c9e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a");
  const std::string kek_file = WriteFile(dir.path() + "/kek", kek);
  auto server = std::make_unique<TrellisdProcess>(
      dir.path() + "/data",
      std::vector<std::string>{"--log_level=debug", "--log_format=json",
                               "--log_file=" + log_file,
                               "--key_encryption_key_file=" + kek_file});
  TestLog log = CreateLog(*server);
  ASSERT_TRUE(Queue(*server, log.id, {"a", "b"}).ok());
  AwaitCheckpoint(server->tlog_port(), log.id, 2);
  CliResult token = RunCli({"--addr=" + server->operator_address(), "spire",
                            "token", "generate", "--ttl=60"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  std::string token_value;
  ASSERT_TRUE(RE2::PartialMatch(token.out, "Token: (\\S+)", &token_value));
  EXPECT_EQ(server->Stop(), 0);
  server.reset();

  absl::StatusOr<std::string> text = ReadFile(log_file);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find(token_value), std::string::npos) << "join token logged";
  EXPECT_EQ(text->find(kek), std::string::npos) << "key-encryption key logged";
  EXPECT_EQ(text->find("PRIVATE KEY"), std::string::npos);
  int lines = 0, queue_calls = 0, tile_requests = 0, serving = 0;
  for (absl::string_view line :
       absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    ++lines;
    const nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(parsed.is_object()) << line;
    for (const char* key : {"time", "level", "component", "msg"}) {
      EXPECT_TRUE(parsed.contains(key)) << key << " in " << line;
    }
    if (parsed.value("msg", "") == "serving") ++serving;
    if (parsed.value("component", "") == "grpc" &&
        parsed.value("method", "") == "/trillian.TrillianLog/QueueLeaves") {
      EXPECT_EQ(parsed.value("level", ""), "debug");
      EXPECT_EQ(parsed.value("code", ""), "0");
      EXPECT_TRUE(parsed.contains("duration_ms"));
      ++queue_calls;
    }
    if (parsed.value("component", "") == "http" &&
        parsed.value("listener", "") == "tlog" &&
        parsed.value("status", "") == "200") {
      ++tile_requests;
    }
  }
  EXPECT_EQ(serving, 1);
  EXPECT_EQ(queue_calls, 1);
  EXPECT_GE(tile_requests, 1);  // The awaited checkpoint.
  EXPECT_GT(lines, 5);
}

TEST(LogsTest, InfoLevelWritesNoRequestLines) {
  TempDir dir;
  const std::string log_file = dir.path() + "/trellisd.log";
  TrellisdProcess server(dir.path() + "/data", {"--log_file=" + log_file});
  TestLog log = CreateLog(server);
  ASSERT_TRUE(Queue(server, log.id, {"a"}).ok());
  EXPECT_EQ(server.Stop(), 0);
  absl::StatusOr<std::string> text = ReadFile(log_file);
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr(" info trellisd: serving "));
  EXPECT_THAT(*text, ::testing::Not(HasSubstr(" debug ")));
  CliResult bad = RunProgram(kTrellisd, {"--log_level=chatty"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("use debug, info, warning or error"));
}

// The latest signed root's size served by `server` for `log_id`.
uint64_t ServedSize(const TrellisdProcess& server, int64_t log_id) {
  trillian::GetLatestSignedLogRootRequest request;
  request.set_log_id(log_id);
  trillian::GetLatestSignedLogRootResponse response;
  grpc::ClientContext context;
  EXPECT_TRUE(server.LogStub()
                  ->GetLatestSignedLogRoot(&context, request, &response)
                  .ok());
  absl::StatusOr<merkle::LogRootV1> root =
      merkle::ParseLogRoot(response.signed_log_root().log_root());
  return root.ok() ? root->tree_size : 0;
}

TEST(BackupTest, OnlineBackupRestoresToTheSignedStateAndServes) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  auto server = std::make_unique<TrellisdProcess>(data);
  const std::string op = "--addr=" + server->operator_address();
  TestLog log = CreateLog(*server);
  std::vector<std::string> values;
  for (int i = 0; i < 500; ++i) values.push_back(LeafValue(i));
  ASSERT_TRUE(Queue(*server, log.id, values).ok());
  AwaitCheckpoint(server->tlog_port(), log.id, 500);
  // The map's signed roots go to a log of their own.
  TestLog history = CreateLog(*server);
  CliResult map = RunCli({op, "tree", "create", "--type=MAP",
                          "--history_log=" + absl::StrCat(history.id)});
  ASSERT_EQ(map.exit_code, 0) << map.err;
  const std::string map_id =
      nlohmann::json::parse(map.out)["treeId"].get<std::string>();
  ASSERT_EQ(RunCli({op, "map", "set", map_id}, "alice=1\nbob=2\n").exit_code,
            0);

  // A running server's directory is not checked (its files change).
  CliResult busy = RunCli({"admin", "verify", data});
  EXPECT_EQ(busy.exit_code, 2);
  EXPECT_THAT(busy.err, HasSubstr("open in a running trellisd"));

  // Operators only: not over the plain TCP port.
  const std::string backup = dir.path() + "/backup";
  CliResult refused =
      RunCli({"--addr=" + server->address(), "admin", "backup", backup});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_THAT(refused.err, HasSubstr("operators only"));
  CliResult backed_up = RunCli({op, "admin", "backup", backup});
  ASSERT_EQ(backed_up.exit_code, 0) << backed_up.err;
  const nlohmann::json summary = nlohmann::json::parse(backed_up.out);
  EXPECT_EQ(summary["directory"], backup);
  EXPECT_GT(summary["bytes"].get<uint64_t>(), 0u);
  std::map<std::string, nlohmann::json> trees;
  for (const nlohmann::json& tree : summary["trees"]) {
    trees[tree["treeId"].get<std::string>()] = tree;
  }
  EXPECT_EQ(trees[absl::StrCat(log.id)]["size"], 500);
  EXPECT_EQ(trees[map_id]["treeType"], "MAP");
  EXPECT_EQ(trees[map_id]["size"], 1);  // Revision 1.
  EXPECT_EQ(RunCli({op, "admin", "backup", backup}).exit_code, 1)
      << "a second backup into the same directory";

  // Written after the backup: not in it.
  ASSERT_TRUE(Queue(*server, log.id, {"after the backup"}).ok());
  AwaitCheckpoint(server->tlog_port(), log.id, 501);
  EXPECT_EQ(server->Stop(), 0);
  server.reset();

  const std::string restored = dir.path() + "/restored";
  CliResult restore = RunCli({"admin", "restore", backup, restored});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  const nlohmann::json report = nlohmann::json::parse(restore.out);
  EXPECT_EQ(report["verified"], true);
  for (const nlohmann::json& tree : report["trees"]) {
    EXPECT_EQ(tree["verified"], true) << tree.dump();
    if (tree["treeId"] == absl::StrCat(log.id)) {
      EXPECT_EQ(tree["size"], 500);
      EXPECT_EQ(tree["rootRecomputed"], true);
      EXPECT_EQ(tree["rootHash"], trees[absl::StrCat(log.id)]["rootHash"]);
    }
  }
  // The live directory verifies at its own size.
  CliResult live = RunCli({"admin", "verify", data});
  ASSERT_EQ(live.exit_code, 0) << live.err;
  const nlohmann::json live_trees = nlohmann::json::parse(live.out)["trees"];
  EXPECT_TRUE(std::any_of(live_trees.begin(), live_trees.end(),
                          [&](const nlohmann::json& tree) {
                            return tree["treeId"] == absl::StrCat(log.id) &&
                                   tree["size"] == 501;
                          }))
      << live.out;

  // The restored directory serves the backed-up state and takes writes.
  TrellisdProcess from_backup(restored);
  EXPECT_EQ(ServedSize(from_backup, log.id), 500u);
  ASSERT_TRUE(Queue(from_backup, log.id, {"after the restore"}).ok());
  AwaitCheckpoint(from_backup.tlog_port(), log.id, 501);
  EXPECT_EQ(from_backup.Stop(), 0);

  EXPECT_EQ(RunCli({"admin", "restore", backup, restored}).exit_code, 2)
      << "restoring over an existing directory";
  EXPECT_EQ(RunCli({"admin", "verify", dir.path() + "/nothing"}).exit_code, 2);
}

// QueueLeaves of `count` leaves (distinct per call) charged to `users`.
grpc::Status QueueCharged(const TrellisdProcess& server, int64_t log_id,
                          int count, const std::vector<std::string>& users) {
  static int next = 0;
  trillian::QueueLeavesRequest request;
  request.set_log_id(log_id);
  for (int i = 0; i < count; ++i) {
    request.add_leaves()->set_leaf_value(absl::StrCat("quota leaf ", next++));
  }
  for (const std::string& user : users) {
    request.mutable_charge_to()->add_user(user);
  }
  trillian::QueueLeavesResponse response;
  grpc::ClientContext context;
  return server.LogStub()->QueueLeaves(&context, request, &response);
}

TEST(QuotaTest, WritesBeyondATreesOrAUsersQuotaAreRefusedAndCounted) {
  TempDir dir;
  // Rates of one leaf an hour: nothing refills during the test. InitLog
  // takes a token of its tree (as in Trillian), leaving 5.
  auto server = std::make_unique<TrellisdProcess>(
      dir.path() + "/data",
      std::vector<std::string>{"--quota_tree_write=0.0003:6",
                               "--quota_user_write=0.0003:3",
                               "--quota_user_read=0.0003:2"});
  TestLog first = CreateLog(*server);
  TestLog second = CreateLog(*server);
  ASSERT_TRUE(QueueCharged(*server, first.id, 5, {}).ok());
  grpc::Status tree_out = QueueCharged(*server, first.id, 1, {});
  EXPECT_EQ(tree_out.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(tree_out.error_message(),
              HasSubstr(absl::StrCat("trees/", first.id,
                                     "/write holds 0 of "
                                     "the 1 tokens")));
  // Each tree has its own quota; each user too.
  ASSERT_TRUE(QueueCharged(*server, second.id, 3, {"alice"}).ok());
  grpc::Status user_out = QueueCharged(*server, second.id, 1, {"alice"});
  EXPECT_EQ(user_out.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(user_out.error_message(), HasSubstr("users/alice/write"));
  EXPECT_TRUE(QueueCharged(*server, second.id, 2, {"bob"}).ok());
  grpc::Status too_big = QueueCharged(*server, second.id, 7, {});
  EXPECT_THAT(too_big.error_message(), HasSubstr("send smaller calls"));
  EXPECT_EQ(
      QueueCharged(*server, second.id, 1, std::vector<std::string>(9, "u"))
          .error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  // Reads have quotas of their own: two roots for carol, then none.
  for (int i = 0; i < 3; ++i) {
    trillian::GetLatestSignedLogRootRequest request;
    request.set_log_id(first.id);
    request.mutable_charge_to()->add_user("carol");
    trillian::GetLatestSignedLogRootResponse response;
    grpc::ClientContext context;
    EXPECT_EQ(
        server->LogStub()
            ->GetLatestSignedLogRoot(&context, request, &response)
            .error_code(),
        i < 2 ? grpc::StatusCode::OK : grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  {
    trillian::GetLatestSignedLogRootRequest request;
    request.set_log_id(first.id);
    trillian::GetLatestSignedLogRootResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(server->LogStub()
                    ->GetLatestSignedLogRoot(&context, request, &response)
                    .ok())
        << "a read charged to nobody has no user quota";
  }

  // A made-up tree is not charged: NOT_FOUND, and no series of its own.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(QueueCharged(*server, 4242, 1, {}).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }

  const nlohmann::json scrape = ScrapeMetrics(server->metrics_port());
  EXPECT_EQ(
      scrape["families"]["trellis_quota_acquired_tokens_total"].dump().find(
          "trees/4242/"),
      std::string::npos);
  EXPECT_EQ(MetricSum(scrape, "trellis_quota_refused_requests_total",
                      {{"spec", absl::StrCat("trees/", first.id, "/write")}}),
            1);
  EXPECT_EQ(MetricSum(scrape, "trellis_quota_refused_requests_total",
                      {{"spec", "users/write"}}),
            1);
  EXPECT_EQ(MetricSum(scrape, "trellis_quota_acquired_tokens_total",
                      {{"spec", absl::StrCat("trees/", second.id, "/write")}}),
            6);  // InitLog, alice's 3, bob's 2.
  EXPECT_EQ(MetricSum(scrape, "grpc_server_handled_total",
                      {{"grpc_method", "QueueLeaves"},
                       {"grpc_code", "ResourceExhausted"}}),
            3);

  // A per-tree limit replaces the default: the first log is unlimited
  // after a restart, the second still is not.
  EXPECT_EQ(server->Stop(), 0);
  server = std::make_unique<TrellisdProcess>(
      dir.path() + "/data",
      std::vector<std::string>{
          "--quota_tree_write=0.0003:6",
          absl::StrCat("--quota_tree_write_by_tree=", first.id, "=0")});
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(QueueCharged(*server, first.id, 100, {}).ok());
  }
  EXPECT_TRUE(QueueCharged(*server, second.id, 6, {}).ok());
  EXPECT_EQ(QueueCharged(*server, second.id, 1, {}).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(server->Stop(), 0);

  CliResult bad = RunProgram(kTrellisd, {"--quota_tree_write=fast"});
  EXPECT_EQ(bad.exit_code, 1);  // Abseil's, for any bad flag value.
  EXPECT_THAT(bad.err, HasSubstr("is not RATE or RATE:BURST"));
}

// The CLI for people: tables, progress, and errors that say what to do.
TEST(CliTest, TablesProgressAndHelpfulErrors) {
  TempDir dir;
  TrellisdProcess server(dir.path() + "/data");
  const std::string op = "--addr=" + server.operator_address();
  CliResult created = RunCli({op, "tree", "create", "--name=people"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string id =
      nlohmann::json::parse(created.out)["treeId"].get<std::string>();

  CliResult table = RunCli({op, "--output=table", "tree", "list"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, ::testing::ContainsRegex(
                             "TREEID +TREETYPE +TREESTATE +DISPLAYNAME"));
  EXPECT_THAT(table.out,
              ::testing::ContainsRegex(id + " +LOG +ACTIVE +people"));

  // 3000 stdin lines: a progress line for the queueing, one for the wait.
  std::string lines;
  for (int i = 0; i < 3000; ++i) lines += absl::StrCat("line ", i, "\n");
  CliResult appended =
      RunCli({op, "--progress=always", "log", "append", id, "--wait"}, lines);
  ASSERT_EQ(appended.exit_code, 0) << appended.err;
  EXPECT_EQ(nlohmann::json::parse(appended.out)["queued"], 3000);
  EXPECT_THAT(appended.err,
              HasSubstr("append: [########################] 100% 3000/3000 "
                        "leaves in "));
  EXPECT_THAT(appended.err,
              HasSubstr("integrate: [########################] 100% "
                        "3000/3000 leaves in "));
  // Not on a terminal and not asked: no progress lines.
  CliResult quiet = RunCli({op, "log", "append", id, "x"});
  EXPECT_EQ(quiet.err, "");

  CliResult unreachable = RunCli({"--addr=127.0.0.1:1", "tree", "list"});
  EXPECT_EQ(unreachable.exit_code, 2);
  EXPECT_THAT(unreachable.err, HasSubstr("(UNAVAILABLE)"));
  EXPECT_THAT(unreachable.err,
              HasSubstr("cannot reach trellisd at 127.0.0.1:1. Is it running"));
  CliResult not_operator = RunCli({"--addr=" + server.address(), "admin",
                                   "backup", dir.path() + "/backup"});
  EXPECT_EQ(not_operator.exit_code, 1);
  EXPECT_THAT(not_operator.err, HasSubstr("(PERMISSION_DENIED)"));
  EXPECT_THAT(not_operator.err, HasSubstr("this needs an operator"));
  CliResult typo = RunCli({op, "tre", "list"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_THAT(typo.err, HasSubstr("unknown command \"tre\"; did you mean "
                                  "\"tree\"?"));
  CliResult verb = RunCli({op, "log", "apend", id});
  EXPECT_EQ(verb.exit_code, 2);
  EXPECT_THAT(verb.err, HasSubstr("did you mean \"append\"?"));
  CliResult bad_output = RunCli({op, "--output=yaml", "tree", "list"});
  EXPECT_EQ(bad_output.exit_code, 2);
  EXPECT_THAT(bad_output.err, HasSubstr("use auto, json or table"));
  CliResult help = RunCli({"help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("trellis admin backup DIR"));
}

}  // namespace
}  // namespace trellis::testing
