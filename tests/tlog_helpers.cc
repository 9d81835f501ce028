#include "tests/tlog_helpers.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "tlog/checkpoint.h"
#include "tlog/note.h"

namespace trellis::testing {

TestLog CreateLog(const TrellisdProcess& server,
                  const trellis::LogSettings* settings) {
  trillian::CreateTreeRequest create;
  create.mutable_tree()->set_tree_type(trillian::LOG);
  if (settings != nullptr) {
    create.mutable_tree()->mutable_storage_settings()->PackFrom(*settings);
  }
  trillian::Tree tree;
  grpc::ClientContext context;
  grpc::Status status = server.AdminStub()->CreateTree(&context, create, &tree);
  EXPECT_TRUE(status.ok()) << status.error_message();
  trillian::InitLogRequest init;
  init.set_log_id(tree.tree_id());
  trillian::InitLogResponse initialised;
  grpc::ClientContext init_context;
  EXPECT_TRUE(
      server.LogStub()->InitLog(&init_context, init, &initialised).ok());
  TestLog log;
  log.id = tree.tree_id();
  EXPECT_TRUE(tree.storage_settings().UnpackTo(&log.settings));
  return log;
}

grpc::Status Queue(const TrellisdProcess& server, int64_t log_id,
                   const std::vector<std::string>& values) {
  trillian::QueueLeavesRequest request;
  request.set_log_id(log_id);
  for (const std::string& value : values) {
    request.add_leaves()->set_leaf_value(value);
  }
  trillian::QueueLeavesResponse response;
  grpc::ClientContext context;
  return server.LogStub()->QueueLeaves(&context, request, &response);
}

std::string LeafValue(int i) {
  return absl::StrCat("leaf-", i, "-", std::string((i * 37) % 1200, 'v'));
}

std::string LogPrefix(int64_t log_id) {
  return absl::StrCat("/logs/", log_id, "/");
}

std::string CurrentCheckpoint(int tlog_port, int64_t log_id) {
  httplib::Client client("127.0.0.1", tlog_port);
  client.set_read_timeout(10, 0);
  httplib::Result got = client.Get(LogPrefix(log_id) + "checkpoint");
  return got && got->status == 200 ? got->body : "";
}

std::string AwaitCheckpoint(int tlog_port, int64_t log_id, uint64_t size,
                            size_t min_signatures) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    const std::string body = CurrentCheckpoint(tlog_port, log_id);
    absl::StatusOr<tlog::Note> note = tlog::ParseNote(body);
    if (note.ok() && note->signatures.size() >= min_signatures) {
      absl::StatusOr<tlog::Checkpoint> checkpoint =
          tlog::ParseCheckpoint(note->text);
      if (checkpoint.ok() && checkpoint->size == size) return body;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  ADD_FAILURE() << "no checkpoint for " << size << " leaves with "
                << min_signatures << " signatures";
  return "";
}

ForkingLog::ForkingLog(const std::string& origin)
    : signer_(*tlog::NoteSigner::Create(origin, [] {
        keyspb::Specification spec;
        spec.mutable_ed25519_params();
        return std::shared_ptr<EVP_PKEY>(crypto::GenerateKey(spec)->release(),
                                         EVP_PKEY_free);
      }())) {}

std::string ForkingLog::vkey() const {
  return tlog::FormatVerifierKey(signer_.verifier_key());
}

std::string ForkingLog::Note(uint64_t size, const std::string& root) const {
  tlog::Checkpoint checkpoint{signer_.verifier_key().name, size, root, {}};
  const std::string text = *tlog::FormatCheckpoint(checkpoint);
  return tlog::FormatNote(text, {*signer_.SignatureLine(text)});
}

}  // namespace trellis::testing
