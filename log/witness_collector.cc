#include "log/witness_collector.h"

#include <chrono>
#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "httplib.h"
#include "metrics/registry.h"
#include "tlog/note.h"
#include "tlog/witness_protocol.h"

namespace trellis::log {
namespace {

// Replies beyond this are not one cosignature line.
constexpr size_t kMaxReplyBytes = 16 << 10;

struct Reply {
  std::string error;  // Transport failure; the rest is unset then.
  int status = 0;
  std::string content_type;
  std::string body;
  absl::Duration round_trip;  // Connection to the end of the reply.
};

// The outcome label of an attempt that was sent.
std::string OutcomeOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return "cosigned";
    case absl::StatusCode::kAborted:
      return "conflict";  // 409: the witness holds another size.
    case absl::StatusCode::kFailedPrecondition:
      return "refused";  // 422: inconsistent with what it cosigned.
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    default:
      return "error";
  }
}

// One POST, with every phase bounded and the body capped. Runs on its own
// thread and touches only its arguments.
Reply Post(const tlog::SubmissionPrefix& url, std::string body,
           absl::Duration timeout) {
  httplib::Client client(url.origin);
  const int64_t micros = absl::ToInt64Microseconds(timeout);
  client.set_connection_timeout(micros / 1000000, micros % 1000000);
  client.set_read_timeout(micros / 1000000, micros % 1000000);
  client.set_write_timeout(micros / 1000000, micros % 1000000);
  client.enable_server_certificate_verification(true);
  Reply reply;
  httplib::Request request;
  request.method = "POST";
  request.path = url.path + "/add-checkpoint";
  request.body = std::move(body);
  request.set_header("Content-Type", "text/plain");
  request.content_receiver = [&reply](const char* data, size_t length, uint64_t,
                                      uint64_t) {
    reply.body.append(data, length);
    return reply.body.size() <= kMaxReplyBytes;
  };
  httplib::Response response;
  httplib::Error error = httplib::Error::Success;
  if (!client.send(request, response, error)) {
    reply.error = reply.body.size() > kMaxReplyBytes
                      ? "the reply is too long"
                      : httplib::to_string(error);
    return reply;
  }
  reply.status = response.status;
  reply.content_type = response.get_header_value("Content-Type");
  return reply;
}

}  // namespace

WitnessCollector::WitnessCollector(ConsistencyProver prover,
                                   absl::Duration timeout,
                                   prometheus::Registry* metrics)
    : prover_(std::move(prover)),
      timeout_(timeout),
      metrics_(metrics),
      requests_(prometheus::BuildCounter()
                    .Name("trellis_witness_requests_total")
                    .Help("add-checkpoint requests sent to witnesses, by "
                          "witness and outcome (cosigned, conflict: 409, "
                          "refused: 422, timeout, error).")
                    .Register(metrics_.get())),
      round_trips_(prometheus::BuildHistogram()
                       .Name("trellis_witness_round_trip_seconds")
                       .Help("Time from sending add-checkpoint to a "
                             "witness's reply.")
                       .Register(metrics_.get())) {}

struct WitnessCollector::Attempt {
  const tlog::PolicyWitness* witness = nullptr;
  Key key;
  int64_t tree_id = 0;
  const std::string* note = nullptr;
  uint64_t size = 0;
  std::future<Reply> reply;
  uint64_t witness_size = 0;
  absl::Duration round_trip;
  absl::Status failed;  // Set once the attempt is over without a line.
};

absl::Status WitnessCollector::Launch(Attempt& attempt, uint64_t old_size) {
  absl::StatusOr<tlog::SubmissionPrefix> url =
      tlog::ParseSubmissionPrefix(attempt.witness->url);
  if (!url.ok()) return url.status();
  tlog::AddCheckpointRequest request;
  request.old_size = old_size;
  request.checkpoint_note = *attempt.note;
  if (old_size > 0 && old_size < attempt.size) {
    absl::StatusOr<std::vector<std::string>> proof =
        prover_(attempt.tree_id, old_size, attempt.size);
    if (!proof.ok()) return proof.status();
    request.proof = std::move(*proof);
  }
  absl::StatusOr<std::string> body = tlog::FormatAddCheckpointRequest(request);
  if (!body.ok()) return body.status();
  auto open = std::make_shared<std::atomic<bool>>(true);
  {
    absl::MutexLock lock(&mu_);
    auto& slot = open_[attempt.key];
    if (slot != nullptr && slot->load()) {
      return absl::UnavailableError("its previous request is still open");
    }
    slot = open;
  }
  std::packaged_task<Reply()> task([url = *std::move(url),
                                    body = *std::move(body), timeout = timeout_,
                                    open]() mutable {
    const absl::Time start = absl::Now();
    Reply reply = Post(url, std::move(body), timeout);
    reply.round_trip = absl::Now() - start;
    open->store(false);
    return reply;
  });
  attempt.reply = task.get_future();
  std::thread(std::move(task)).detach();
  return absl::OkStatus();
}

absl::StatusOr<std::string> WitnessCollector::Interpret(Attempt& attempt) {
  const Reply reply = attempt.reply.get();
  attempt.round_trip = reply.round_trip;
  const std::string& url = attempt.witness->url;
  if (!reply.error.empty()) {
    return absl::UnavailableError(
        absl::StrCat("POST ", url, "/add-checkpoint: ", reply.error));
  }
  switch (reply.status) {
    case 200:
      break;
    case 409: {
      const absl::string_view type = absl::StripAsciiWhitespace(
          absl::string_view(reply.content_type)
              .substr(0, reply.content_type.find(';')));
      if (type != tlog::kTlogSizeContentType) {
        return absl::UnavailableError("409 without a text/x.tlog.size body");
      }
      absl::StatusOr<uint64_t> known = tlog::ParseTlogSize(reply.body);
      if (!known.ok()) return known.status();
      attempt.witness_size = *known;
      return absl::AbortedError(absl::StrCat("the witness has ", *known));
    }
    case 422:
      return absl::FailedPreconditionError(absl::StrCat(
          "422: the witness refuses this checkpoint as inconsistent with "
          "what it cosigned (a fork?): ",
          absl::StripAsciiWhitespace(reply.body.substr(0, 200))));
    default:
      return absl::UnavailableError(
          absl::StrCat(reply.status, ": ",
                       absl::StripAsciiWhitespace(reply.body.substr(0, 200))));
  }
  // The first line that verifies under this witness's key; one per witness
  // (notes hold at most 100 signatures).
  const tlog::NoteVerifierKey& key = attempt.witness->key;
  for (absl::string_view line : absl::StrSplit(reply.body, '\n')) {
    if (line.empty()) continue;
    const std::string with_newline = absl::StrCat(line, "\n");
    absl::StatusOr<tlog::Note> cosigned =
        tlog::ParseNote(absl::StrCat(*attempt.note, with_newline));
    if (cosigned.ok() && cosigned->signatures.back().name == key.name &&
        cosigned->signatures.back().id == key.id &&
        tlog::VerifyNote(*cosigned, {key}).ok()) {
      return with_newline;
    }
  }
  return absl::UnavailableError("no cosignature that verifies");
}

Cosignatures WitnessCollector::Collect(int64_t tree_id,
                                       const tlog::WitnessPolicy& policy,
                                       const std::string& note, uint64_t size) {
  std::vector<Attempt> attempts;
  for (const tlog::PolicyWitness& witness : policy.witnesses()) {
    if (witness.url.empty()) continue;  // Cosigns by other means, if at all.
    Attempt& attempt = attempts.emplace_back();
    attempt.witness = &witness;
    attempt.key = Key(tree_id, witness.name);
    attempt.tree_id = tree_id;
    attempt.note = &note;
    attempt.size = size;
  }
  // Round one from the size each witness last cosigned; round two, for the
  // 409s, from the size they named.
  Cosignatures out;
  for (int round = 0; round < 2; ++round) {
    std::vector<Attempt*> launched;
    for (Attempt& attempt : attempts) {
      if (round == 1 && !absl::IsAborted(attempt.failed)) continue;
      uint64_t old_size = attempt.witness_size;
      if (round == 0) {
        absl::MutexLock lock(&mu_);
        auto it = sizes_.find(attempt.key);
        old_size = it == sizes_.end() || it->second > size ? 0 : it->second;
      } else if (old_size > size) {
        attempt.failed = absl::FailedPreconditionError(
            absl::StrCat("the witness has cosigned ", old_size,
                         " leaves, more than this log has"));
        continue;
      }
      attempt.failed = Launch(attempt, old_size);
      if (attempt.failed.ok()) launched.push_back(&attempt);
    }
    const auto deadline =
        std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(timeout_);
    for (Attempt* attempt : launched) {
      const prometheus::Labels witness = {{"witness", attempt->witness->name}};
      if (attempt->reply.wait_until(deadline) != std::future_status::ready) {
        attempt->failed = absl::DeadlineExceededError(
            absl::StrCat("no answer within ", absl::FormatDuration(timeout_)));
        requests_
            .Add({{"witness", attempt->witness->name},
                  {"outcome", OutcomeOf(attempt->failed)}})
            .Increment();
        continue;
      }
      absl::StatusOr<std::string> line = Interpret(*attempt);
      requests_
          .Add({{"witness", attempt->witness->name},
                {"outcome", OutcomeOf(line.status())}})
          .Increment();
      round_trips_.Add(witness, metrics::LatencyBuckets())
          .Observe(absl::ToDoubleSeconds(attempt->round_trip));
      if (!line.ok()) {
        attempt->failed = line.status();
        continue;
      }
      out.lines.push_back(*line);
      out.witnesses.insert(attempt->witness->name);
      absl::MutexLock lock(&mu_);
      sizes_[attempt->key] = size;
    }
  }
  for (const Attempt& attempt : attempts) {
    if (!attempt.failed.ok()) {
      out.failures.push_back(
          absl::StrCat(attempt.witness->name, ": ", attempt.failed.message()));
    }
  }
  return out;
}

}  // namespace trellis::log
