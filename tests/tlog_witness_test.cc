// Witnessed checkpoints end to end. Real witnesses cosign Trellis logs'
// checkpoints over the C2SP tlog-witness protocol: another trellisd acting
// as a witness, transparency-dev/witness's omniwitness and torchwood's
// litewitness (built from the Go module proxy by scripts/build_peers.sh). A log
// whose witnesses are away holds its checkpoint back (or publishes it, failing
// open); forked checkpoints are refused by all three witnesses and by `trellis
// verify-checkpoint`.
#include <httplib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "merkle/hasher.h"
#include "tests/tlog_helpers.h"
#include "tests/trellisd_process.h"
#include "tlog/checkpoint.h"
#include "tlog/note.h"
#include "tlog/witness_protocol.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

std::string Trimmed(const std::string& path) {
  return std::string(absl::StripAsciiWhitespace(ReadFile(path).value()));
}

void Write(const std::string& path, const std::string& text) {
  ASSERT_TRUE(ReplaceFile(path, text, 0644).ok()) << path;
}

// A trellisd acting as a witness for the logs in `logs_file`.
std::unique_ptr<TrellisdProcess> StartTrellisWitness(
    const std::string& data_dir, const std::string& logs_file) {
  return std::make_unique<TrellisdProcess>(
      data_dir, std::vector<std::string>{"--witness_name=witness.test/trellis",
                                         "--witness_logs=" + logs_file});
}

// omniwitness on a free loopback port, with its state in `dir`.
class Omniwitness {
 public:
  Omniwitness(const std::string& dir, const std::vector<std::string>& log_vkeys)
      : dir_(dir), port_(FreeLoopbackPort()) {
    CliResult keys = RunProgram(
        PeerBinary("generate_keys"),
        {"--origin=witness.test/omni", "--out_priv=" + dir + "/omni.sec",
         "--out_pub=" + dir + "/omni.pub"});
    EXPECT_EQ(keys.exit_code, 0) << keys.err;
    std::string yaml = "Logs:\n";
    for (const std::string& vkey : log_vkeys) {
      const std::string origin = vkey.substr(0, vkey.find('+'));
      absl::StrAppend(&yaml, "  - Origin: ", origin, "\n    PublicKey: ", vkey,
                      "\n");
    }
    Write(dir + "/logs.yaml", yaml);
    process_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{
            PeerBinary("omniwitness"), "--listen=" + url().substr(7),
            "--metrics_listen=", "--private_key_path=" + dir + "/omni.sec",
            "--additional_logs=" + dir + "/logs.yaml",
            "--db_file=" + dir + "/omni.db"},
        "");
    // Ready once it answers (anything) over HTTP.
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      httplib::Client client("127.0.0.1", port_);
      if (client.Post("/add-checkpoint", "", "text/plain")) return;
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "omniwitness did not start";
  }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }
  int port() const { return port_; }
  std::string vkey() const { return Trimmed(dir_ + "/omni.pub"); }

 private:
  std::string dir_;
  int port_;
  std::unique_ptr<ServerProcess> process_;
};

// torchwood's litewitness on a free loopback port: its key in an
// ssh-agent, its state in SQLite, its logs set with witnessctl.
class Litewitness {
 public:
  Litewitness(const std::string& dir, const std::vector<std::string>& log_vkeys)
      : port_(FreeLoopbackPort()) {
    const std::string key = dir + "/lite.key";
    const std::string db = dir + "/lite.db";
    CliResult made = RunProgram("/usr/bin/ssh-keygen",
                                {"-q", "-t", "ed25519", "-N", "", "-f", key});
    EXPECT_EQ(made.exit_code, 0) << made.err;
    // A short path: socket paths are limited to about 100 bytes.
    char agent_dir[] = "/tmp/trellis-lite-XXXXXX";
    if (mkdtemp(agent_dir) == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << strerror(errno);
      return;
    }
    agent_dir_ = agent_dir;
    const std::string socket = agent_dir_ + "/agent";
    agent_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"/usr/bin/ssh-agent", "-D", "-a", socket}, "");
    // The key goes in once the agent listens.
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    CliResult added;
    do {
      added = RunProgram("/usr/bin/env",
                         {"SSH_AUTH_SOCK=" + socket, "/usr/bin/ssh-add", key});
      if (added.exit_code == 0) break;
      absl::SleepFor(absl::Milliseconds(20));
    } while (absl::Now() < deadline);
    if (added.exit_code != 0) {
      ADD_FAILURE() << "ssh-add: " << added.err;
      return;
    }
    CliResult listed = RunProgram("/usr/bin/ssh-keygen",
                                  {"-l", "-E", "sha256", "-f", key + ".pub"});
    const std::vector<std::string> fields = absl::StrSplit(listed.out, ' ');
    EXPECT_GE(fields.size(), 2u) << listed.out;
    for (const std::string& vkey : log_vkeys) {
      const std::string origin = vkey.substr(0, vkey.find('+'));
      EXPECT_EQ(RunProgram(PeerBinary("witnessctl"),
                           {"add-log", "-db", db, "-origin", origin})
                    .exit_code,
                0);
      EXPECT_EQ(
          RunProgram(PeerBinary("witnessctl"),
                     {"add-key", "-db", db, "-origin", origin, "-key", vkey})
              .exit_code,
          0);
    }
    process_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{
            PeerBinary("litewitness"), "-db", db, "-name", "witness.test/lite",
            "-key", fields.size() > 1 ? fields[1] : "", "-ssh-agent", socket,
            "-listen", url().substr(7)},
        "");
    // Ready once its home page names its verifier key.
    while (absl::Now() < deadline) {
      if (process_->WaitForExit(absl::ZeroDuration()).has_value()) {
        ADD_FAILURE() << "litewitness exited at start";
        return;
      }
      httplib::Client client("127.0.0.1", port_);
      httplib::Result home = client.Get("/");
      const size_t at =
          home ? home->body.find("witness.test/lite+") : std::string::npos;
      if (at != std::string::npos) {
        vkey_ =
            home->body.substr(at, home->body.find_first_of("\n <", at) - at);
        return;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "litewitness did not start";
  }
  ~Litewitness() {
    process_.reset();
    agent_.reset();
    std::error_code ignored;
    if (!agent_dir_.empty()) std::filesystem::remove_all(agent_dir_, ignored);
  }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }
  int port() const { return port_; }
  const std::string& vkey() const { return vkey_; }

 private:
  int port_;
  std::string agent_dir_;
  std::string vkey_;
  std::unique_ptr<ServerProcess> agent_;
  std::unique_ptr<ServerProcess> process_;
};

// A cosignature key no witness here holds.
std::string ForeignWitnessVkey() {
  keyspb::Specification spec;
  spec.mutable_ed25519_params();
  auto signer = tlog::NoteSigner::Create(
      "witness.test/foreign",
      std::shared_ptr<EVP_PKEY>(crypto::GenerateKey(spec)->release(),
                                EVP_PKEY_free),
      tlog::kCosignatureV1KeyType);
  return tlog::FormatVerifierKey(signer->verifier_key());
}

class TlogWitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* peer :
         {"omniwitness", "generate_keys", "litewitness", "witnessctl"}) {
      ASSERT_EQ(access(PeerBinary(peer).c_str(), X_OK), 0)
          << "run scripts/build_peers.sh";
    }
    for (const char* tool :
         {"/usr/bin/ssh-keygen", "/usr/bin/ssh-agent", "/usr/bin/ssh-add"}) {
      ASSERT_EQ(access(tool, X_OK), 0) << tool << ": run scripts/setup.sh";
    }
    log_server_ = std::make_unique<TrellisdProcess>(
        dir_.path() + "/log",
        std::vector<std::string>{"--checkpoint_interval=50ms",
                                 "--witness_timeout=2s"});
  }

  // Sets the log's witness policy with the CLI.
  void SetPolicy(int64_t log_id, const std::string& policy,
                 bool fail_open = false) {
    const std::string file = dir_.path() + "/policy-" + std::to_string(++n_);
    Write(file, policy);
    std::vector<std::string> args = {"--addr=" + log_server_->address(), "tree",
                                     "update", std::to_string(log_id),
                                     "--witness_policy=" + file};
    if (fail_open) args.push_back("--witness_fail_open");
    CliResult updated = RunCli(args);
    ASSERT_EQ(updated.exit_code, 0) << updated.err;
  }

  // `trellis verify-checkpoint` of `note` against `policy`.
  CliResult VerifyCheckpoint(const std::string& note,
                             const std::string& policy) {
    const std::string base = dir_.path() + "/verify-" + std::to_string(++n_);
    Write(base + ".note", note);
    Write(base + ".policy", policy);
    return RunCli({"verify-checkpoint", base + ".note", base + ".policy"});
  }

  void Grow(const TestLog& log, int to) {
    std::vector<std::string> values;
    for (; size_ < to; ++size_) values.push_back(LeafValue(size_));
    ASSERT_TRUE(Queue(*log_server_, log.id, values).ok());
  }

  TempDir dir_;
  std::unique_ptr<TrellisdProcess> log_server_;
  int size_ = 0;
  int n_ = 0;
};

TEST_F(TlogWitnessTest, ATrellisWitnessCosignsAndTheLogWaitsForIt) {
  const TestLog log = CreateLog(*log_server_);
  const std::string log_vkey = log.settings.note_verifier_key();
  Write(dir_.path() + "/witnessed", "log " + log_vkey + "\n");
  auto witness =
      StartTrellisWitness(dir_.path() + "/witness", dir_.path() + "/witnessed");
  const std::string witness_vkey =
      Trimmed(dir_.path() + "/witness/witness.vkey");
  const std::string witness_line =
      absl::StrCat("witness w1 ", witness_vkey,
                   " http://127.0.0.1:", witness->tlog_port(), "\n");
  SetPolicy(log.id, witness_line + "quorum w1\n");
  const std::string full_policy =
      absl::StrCat("log ", log_vkey, "\n", witness_line, "quorum w1\n");
  const int port = log_server_->tlog_port();

  // Cosigned from the first size, then through a consistency proof.
  Grow(log, 5);
  std::string note = AwaitCheckpoint(port, log.id, 5, 2);
  CliResult verified = VerifyCheckpoint(note, full_policy);
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_TRUE(absl::StrContains(verified.out, "\"w1\"")) << verified.out;
  Grow(log, 300);
  note = AwaitCheckpoint(port, log.id, 300, 2);
  EXPECT_EQ(VerifyCheckpoint(note, full_policy).exit_code, 0);

  // A C2SP tlog-proof of a leaf under the cosigned checkpoint, verified
  // offline against the log key and the witness quorum.
  CliResult proved =
      RunCli({"--addr=" + log_server_->address(), "log", "prove",
              std::to_string(log.id), "--index=123", "--format=tlog-proof",
              absl::StrCat("--tlog_url=http://127.0.0.1:", port)});
  ASSERT_EQ(proved.exit_code, 0) << proved.err;
  EXPECT_TRUE(absl::StartsWith(proved.out, "c2sp.org/tlog-proof@v1\nextra "));
  EXPECT_TRUE(absl::EndsWith(proved.out, note)) << proved.out;
  const std::string proof_file = dir_.path() + "/leaf.tlog-proof";
  const std::string policy_file = dir_.path() + "/full.policy";
  Write(proof_file, proved.out);
  Write(policy_file, full_policy);
  CliResult checked =
      RunCli({"verify-proof", proof_file, "--policy=" + policy_file});
  ASSERT_EQ(checked.exit_code, 0) << checked.err << checked.out;
  EXPECT_TRUE(
      absl::StrContains(checked.out, absl::Base64Escape(LeafValue(123))))
      << checked.out;
  // Another leaf, a changed proof hash, or a quorum the proof lacks: 1.
  Write(dir_.path() + "/other.leaf", LeafValue(124));
  EXPECT_EQ(RunCli({"verify-proof", proof_file, "--policy=" + policy_file,
                    "--leaf=" + dir_.path() + "/other.leaf"})
                .exit_code,
            1);
  std::string tampered = proved.out;
  const size_t hash_line = tampered.find("\n", tampered.find("index ")) + 1;
  tampered[hash_line] = tampered[hash_line] == 'A' ? 'B' : 'A';
  Write(proof_file + ".tampered", tampered);
  EXPECT_EQ(RunCli({"verify-proof", proof_file + ".tampered",
                    "--policy=" + policy_file})
                .exit_code,
            1);
  Write(policy_file + ".strict",
        absl::StrCat(full_policy.substr(0, full_policy.find("quorum")),
                     "witness w2 ", ForeignWitnessVkey(),
                     "\ngroup both all w1 w2\nquorum both\n"));
  EXPECT_EQ(RunCli({"verify-proof", proof_file,
                    "--policy=" + policy_file + ".strict"})
                .exit_code,
            1);

  // Without its witness the log publishes nothing new...
  witness->Kill();
  Grow(log, 310);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    trillian::GetLatestSignedLogRootRequest request;
    request.set_log_id(log.id);
    trillian::GetLatestSignedLogRootResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(log_server_->LogStub()
                    ->GetLatestSignedLogRoot(&context, request, &response)
                    .ok());
    if (absl::StrContains(response.signed_log_root().log_root(),
                          std::string("\0\0\0\0\0\0\x01\x36", 8))) {
      break;  // LogRootV1 with tree_size 310.
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  // ...for many publishing intervals (a bounded wait for a non-event).
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(CurrentCheckpoint(port, log.id), note);
  // ...until the witness is back; its state survived its restart.
  witness =
      StartTrellisWitness(dir_.path() + "/witness", dir_.path() + "/witnessed");
  ASSERT_EQ(Trimmed(dir_.path() + "/witness/witness.vkey"), witness_vkey);
  SetPolicy(log.id, absl::StrCat("witness w1 ", witness_vkey,
                                 " http://127.0.0.1:", witness->tlog_port(),
                                 "\nquorum w1\n"));
  note = AwaitCheckpoint(port, log.id, 310, 2);
  EXPECT_EQ(VerifyCheckpoint(note, full_policy).exit_code, 0);

  // Failing open, the log publishes without it.
  SetPolicy(log.id,
            absl::StrCat("witness w1 ", witness_vkey, " http://127.0.0.1:",
                         witness->tlog_port(), "\nquorum w1\n"),
            /*fail_open=*/true);
  witness->Kill();
  Grow(log, 320);
  note = AwaitCheckpoint(port, log.id, 320, 1);
  EXPECT_EQ(tlog::ParseNote(note)->signatures.size(), 1u);
  EXPECT_EQ(VerifyCheckpoint(note, full_policy).exit_code, 1);
}

// omniwitness and litewitness both cosign: the log waits for both (a
// quorum of all), and the CLI checks each cosignature.
TEST_F(TlogWitnessTest, OmniwitnessAndLitewitnessCosignTrellisCheckpoints) {
  const TestLog log = CreateLog(*log_server_);
  const std::string log_vkey = log.settings.note_verifier_key();
  Omniwitness omni(dir_.path(), {log_vkey});
  Litewitness lite(dir_.path(), {log_vkey});
  const std::string witness_lines = absl::StrCat(
      "witness omni ", omni.vkey(), " ", omni.url(), "\nwitness lite ",
      lite.vkey(), " ", lite.url(), "\ngroup both all omni lite\n");
  SetPolicy(log.id, witness_lines + "quorum both\n");
  const std::string full_policy =
      absl::StrCat("log ", log_vkey, "\n", witness_lines, "quorum both\n");
  const int port = log_server_->tlog_port();
  for (int size : {3, 256, 700}) {
    Grow(log, size);
    const std::string note = AwaitCheckpoint(port, log.id, size, 3);
    CliResult verified = VerifyCheckpoint(note, full_policy);
    EXPECT_EQ(verified.exit_code, 0) << size << verified.err;
    EXPECT_TRUE(absl::StrContains(verified.out, "\"omni\"")) << verified.out;
    EXPECT_TRUE(absl::StrContains(verified.out, "\"lite\"")) << verified.out;
  }
}

httplib::Result AddCheckpoint(int port, uint64_t old_size,
                              const std::string& note) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  tlog::AddCheckpointRequest request{old_size, {}, note};
  return client.Post("/add-checkpoint",
                     *tlog::FormatAddCheckpointRequest(request), "text/plain");
}

TEST_F(TlogWitnessTest, WitnessesAndTheCliRefuseAFork) {
  const ForkingLog log;
  const std::string root = merkle::HashLeaf("honest");
  const std::string fork = merkle::HashLeaf("forked");
  const std::string honest = log.Note(1, root);
  const std::string forked = log.Note(1, fork);

  Write(dir_.path() + "/witnessed", "log " + log.vkey() + "\n");
  auto trellis_witness =
      StartTrellisWitness(dir_.path() + "/witness", dir_.path() + "/witnessed");
  Omniwitness omni(dir_.path(), {log.vkey()});
  Litewitness lite(dir_.path(), {log.vkey()});
  const std::string trellis_vkey =
      Trimmed(dir_.path() + "/witness/witness.vkey");

  const std::pair<int, std::string> witnesses[] = {
      {trellis_witness->tlog_port(), trellis_vkey},
      {omni.port(), omni.vkey()},
      {lite.port(), lite.vkey()}};
  for (const auto& [port, vkey] : witnesses) {
    httplib::Result cosigned = AddCheckpoint(port, 0, honest);
    ASSERT_TRUE(cosigned);
    EXPECT_EQ(cosigned->status, 200) << port << cosigned->body;
    // The answer is that witness's cosignature of the honest checkpoint.
    EXPECT_EQ(VerifyCheckpoint(honest + cosigned->body,
                               absl::StrCat("log ", log.vkey(), "\nwitness w ",
                                            vkey, "\nquorum w\n"))
                  .exit_code,
              0)
        << port;
    httplib::Result refused = AddCheckpoint(port, 1, forked);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 422) << port << refused->body;
    // The old size must be the witness's: 409 saying which.
    httplib::Result conflict = AddCheckpoint(port, 0, forked);
    ASSERT_TRUE(conflict);
    EXPECT_EQ(conflict->status, 409) << port;
    EXPECT_EQ(conflict->get_header_value("Content-Type"),
              tlog::kTlogSizeContentType);
    EXPECT_EQ(conflict->body, "1\n");
  }
  // Trellis' other answers: an unknown log, another key under the log's
  // name, a forged signature, malformed.
  httplib::Result unknown =
      AddCheckpoint(trellis_witness->tlog_port(), 0,
                    ForkingLog("example.com/unknown").Note(1, root));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  httplib::Result impostor = AddCheckpoint(trellis_witness->tlog_port(), 1,
                                           ForkingLog().Note(1, root));
  ASSERT_TRUE(impostor);
  EXPECT_EQ(impostor->status, 403);
  // Another base64 letter in the signature: still well formed, but not the
  // log's signature. (A flipped bit could turn '+' or '/' into a character
  // outside base64: malformed, 400.)
  std::string bad_signature = honest;
  char& letter = bad_signature[bad_signature.size() - 5];
  letter = letter == 'A' ? 'B' : 'A';
  httplib::Result forged =
      AddCheckpoint(trellis_witness->tlog_port(), 1, bad_signature);
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 403);
  httplib::Client client("127.0.0.1", trellis_witness->tlog_port());
  httplib::Result malformed = client.Post("/add-checkpoint", "old x\n", "");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);

  // The CLI: the fork lacks the quorum; with no quorum required it is a
  // split view against the remembered honest checkpoint.
  const std::string policy = absl::StrCat("log ", log.vkey(), "\nwitness w ",
                                          trellis_vkey, "\nquorum w\n");
  httplib::Result cosigned =
      AddCheckpoint(trellis_witness->tlog_port(), 1, honest);
  ASSERT_TRUE(cosigned);
  ASSERT_EQ(cosigned->status, 200);
  EXPECT_EQ(VerifyCheckpoint(honest + cosigned->body, policy).exit_code, 0);
  EXPECT_EQ(VerifyCheckpoint(forked, policy).exit_code, 1);
  CliResult split = VerifyCheckpoint(
      forked, absl::StrCat("log ", log.vkey(), "\nquorum none\n"));
  EXPECT_EQ(split.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(split.err, "split view")) << split.err;
}

}  // namespace
}  // namespace trellis::testing
