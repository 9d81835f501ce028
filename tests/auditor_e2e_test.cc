// The auditor's side of the CLI against a real trellisd: tree keys pinned
// (--log_public_key, or trust on first use), the last verified root
// remembered per server and log, split views and rollbacks refused with an
// alarm (exit 1), and an unreachable server reported as unusable (exit 2).
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "tests/trellisd_process.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

using nlohmann::json;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Spit(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class AuditorE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<TrellisdProcess>(dir_.path() + "/data");
    addr_ = "--addr=" + server_->address();
    CliResult created = RunCli({addr_, "tree", "create", "--name=audited"});
    ASSERT_EQ(created.exit_code, 0) << created.out;
    tree_id_ = json::parse(created.out)["treeId"].get<std::string>();
    Append({"a", "b", "c"});
  }

  // Appends through a writer with its own state, so that the auditor's
  // state below sees each root for the first time.
  void Append(const std::vector<std::string>& values) {
    std::vector<std::string> args = {
        addr_,    "--state_dir=" + dir_.path() + "/writer",
        "log",    "append",
        tree_id_, "--wait"};
    args.insert(args.end(), values.begin(), values.end());
    CliResult appended = RunCli(args);
    ASSERT_EQ(appended.exit_code, 0) << appended.out;
  }

  // The CLI with the auditor's state directory.
  CliResult Audit(std::vector<std::string> args, const std::string& state) {
    args.insert(args.begin(), {addr_, "--state_dir=" + state});
    return RunCli(args);
  }

  std::string StateFile(const std::string& state, const std::string& id) {
    // EscapeServerName("127.0.0.1:PORT").
    return state + "/logs/127.0.0.1%3A" + std::to_string(server_->port()) +
           "/" + id + ".json";
  }

  std::string TreeKeyDer(const std::string& id) {
    auto admin = server_->AdminStub();
    grpc::ClientContext context;
    trillian::GetTreeRequest request;
    request.set_tree_id(std::stoll(id));
    trillian::Tree tree;
    EXPECT_TRUE(admin->GetTree(&context, request, &tree).ok());
    return tree.public_key().der();
  }

  TempDir dir_;
  std::unique_ptr<TrellisdProcess> server_;
  std::string addr_;
  std::string tree_id_;
};

TEST_F(AuditorE2ETest, PinsOnFirstUseThenEveryRootMustExtendTheLast) {
  const std::string state = dir_.path() + "/auditor";
  const std::string file = StateFile(state, tree_id_);
  CliResult first = Audit({"log", "root", tree_id_}, state);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_TRUE(Contains(first.err, "first use")) << first.err;
  json remembered = json::parse(Slurp(file));
  EXPECT_EQ(remembered["publicKey"], absl::Base64Escape(TreeKeyDer(tree_id_)));
  EXPECT_EQ(remembered["treeSize"], 3);
  EXPECT_EQ(remembered["rootHash"], json::parse(first.out)["rootHash"]);
  struct stat st;
  ASSERT_EQ(stat(state.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // The log grows: the next root is proven to extend the remembered one.
  Append({"d", "e"});
  CliResult second = Audit({"log", "root", tree_id_}, state);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_FALSE(Contains(second.err, "first use")) << second.err;
  EXPECT_EQ(json::parse(second.out)["treeSize"], 5);
  EXPECT_EQ(json::parse(Slurp(file))["treeSize"], 5);

  // Every command that fetches a root goes through the same checks.
  const std::string old_root = dir_.path() + "/root3.json";
  Spit(old_root, first.out);
  Append({"f"});
  EXPECT_EQ(Audit({"log", "prove", tree_id_, "--index=1"}, state).exit_code, 0);
  EXPECT_EQ(json::parse(Slurp(file))["treeSize"], 6);
  EXPECT_EQ(
      Audit({"log", "consistency", tree_id_, "--since=" + old_root}, state)
          .exit_code,
      0);
  CliResult leaves =
      Audit({"log", "leaves", tree_id_, "--start=4", "--count=10"}, state);
  ASSERT_EQ(leaves.exit_code, 0) << leaves.err;
  std::vector<json> lines;
  std::istringstream in(leaves.out);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(json::parse(line));
  }
  ASSERT_EQ(lines.size(), 2u);  // Leaves 4 and 5 of the 6-leaf root.
  EXPECT_EQ(lines[1]["leafIndex"], 5);
  EXPECT_EQ(lines[1]["leafValue"], absl::Base64Escape("f"));
  EXPECT_EQ(lines[1]["proofVerified"], true);

  // Another server name is another identity: pinned afresh.
  CliResult renamed =
      Audit({"log", "root", tree_id_, "--server_name=log.example"}, state);
  ASSERT_EQ(renamed.exit_code, 0) << renamed.err;
  EXPECT_TRUE(Contains(renamed.err, "first use")) << renamed.err;
  EXPECT_TRUE(Exists(state + "/logs/log.example/" + tree_id_ + ".json"));
}

TEST_F(AuditorE2ETest, SplitViewsAndRollbacksAreAlarms) {
  const std::string state = dir_.path() + "/auditor";
  const std::string file = StateFile(state, tree_id_);
  ASSERT_EQ(Audit({"log", "root", tree_id_}, state).exit_code, 0);
  Append({"d"});
  ASSERT_EQ(Audit({"log", "root", tree_id_}, state).exit_code, 0);
  const std::string genuine = Slurp(file);
  const json remembered = json::parse(genuine);
  ASSERT_EQ(remembered["treeSize"], 4);
  const std::string forged_hash = absl::Base64Escape(std::string(32, 'x'));

  // What the server shows must extend what this client verified before; the
  // state file is left as it was, as evidence.
  auto expect_alarm = [&](const json& edited, const std::string& what) {
    Spit(file, edited.dump());
    CliResult r = Audit({"log", "root", tree_id_}, state);
    EXPECT_EQ(r.exit_code, 1) << what;
    EXPECT_TRUE(Contains(r.err, "ALARM")) << r.err;
    EXPECT_TRUE(Contains(r.err, what)) << r.err;
    EXPECT_EQ(Slurp(file), edited.dump());
  };
  json same_size = remembered;  // Same size, another hash.
  same_size["rootHash"] = forged_hash;
  expect_alarm(same_size, "split view");
  json smaller = remembered;  // A root the log's root does not extend.
  smaller["treeSize"] = 3;
  smaller["rootHash"] = forged_hash;
  expect_alarm(smaller, "not an extension");
  json bigger = remembered;  // The log is smaller than it was.
  bigger["treeSize"] = 1000;
  expect_alarm(bigger, "rollback");
  // Every command that fetches a root refuses the same way.
  Spit(file, bigger.dump());
  EXPECT_EQ(Audit({"log", "prove", tree_id_, "--index=0"}, state).exit_code, 1);
  EXPECT_EQ(Audit({"log", "leaves", tree_id_}, state).exit_code, 1);

  // With the genuine state back, the log is accepted again and advances.
  Spit(file, genuine);
  Append({"e"});
  CliResult again = Audit({"log", "root", tree_id_}, state);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json::parse(Slurp(file))["treeSize"], 5);
}

TEST_F(AuditorE2ETest, PinnedKeysAreEnforced) {
  // The tree's key as DER and PEM, and another key.
  const std::string der = TreeKeyDer(tree_id_);
  auto key = crypto::ParsePublicKey(der);
  ASSERT_TRUE(key.ok()) << key.status();
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio, key->get()), 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  const std::string pem(data, len);
  BIO_free(bio);
  auto other = crypto::GenerateKey(keyspb::Specification());
  ASSERT_TRUE(other.ok());
  const std::string other_der = *crypto::MarshalPublicKey(**other);
  Spit(dir_.path() + "/key.der", der);
  Spit(dir_.path() + "/key.pem", pem);
  Spit(dir_.path() + "/other.der", other_der);

  // The right key, in either encoding: no trust on first use needed.
  for (const char* name : {"key.der", "key.pem"}) {
    const std::string state = dir_.path() + "/state-" + name;
    CliResult r = Audit({"log", "root", tree_id_,
                         "--log_public_key=" + dir_.path() + "/" + name},
                        state);
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_FALSE(Contains(r.err, "first use")) << r.err;
    EXPECT_EQ(json::parse(Slurp(StateFile(state, tree_id_)))["publicKey"],
              absl::Base64Escape(der));
  }

  // Another key: the server's roots are refused, nothing is pinned.
  const std::string state = dir_.path() + "/auditor";
  const std::string other_flag =
      "--log_public_key=" + dir_.path() + "/other.der";
  EXPECT_EQ(Audit({"log", "root", tree_id_, other_flag}, state).exit_code, 1);
  EXPECT_FALSE(Exists(StateFile(state, tree_id_)));

  // A key pinned earlier that the server no longer has.
  ASSERT_EQ(Audit({"log", "root", tree_id_}, state).exit_code, 0);
  json pinned = json::parse(Slurp(StateFile(state, tree_id_)));
  pinned["publicKey"] = absl::Base64Escape(other_der);
  Spit(StateFile(state, tree_id_), pinned.dump());
  CliResult refused = Audit({"log", "root", tree_id_}, state);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(Contains(refused.err, "not the pinned key")) << refused.err;

  // Maps pin their key the same way.
  CliResult map = RunCli({addr_, "tree", "create", "--type=MAP"});
  ASSERT_EQ(map.exit_code, 0) << map.out;
  const std::string map_id = json::parse(map.out)["treeId"].get<std::string>();
  CliResult first = Audit({"map", "root", map_id}, state);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_TRUE(Contains(first.err, "first use")) << first.err;
  EXPECT_TRUE(Exists(StateFile(state, map_id)));
  CliResult second = Audit({"map", "get", map_id, "alice"}, state);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_FALSE(Contains(second.err, "first use")) << second.err;
  EXPECT_EQ(Audit({"map", "root", map_id, other_flag}, state).exit_code, 1);
}

TEST_F(AuditorE2ETest, TransportErrorsAreUnusableNotInvalid) {
  const std::string state = dir_.path() + "/auditor";
  for (const std::string& addr :
       {std::string("127.0.0.1:1"), "unix:" + dir_.path() + "/no.sock"}) {
    CliResult r = RunCli({"--addr=" + addr, "--state_dir=" + state,
                          "--timeout=10s", "log", "root", tree_id_});
    EXPECT_EQ(r.exit_code, 2) << addr << ": " << r.err;
  }
  // A definite "no" from a reachable server stays invalid.
  EXPECT_EQ(Audit({"log", "root", "12345"}, state).exit_code, 1);
}

}  // namespace
}  // namespace trellis::testing
