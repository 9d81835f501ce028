#include "policy/rego_sandbox.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "crypto/digest.h"
#include "policy/frames.h"
#include "policy/rego_worker.h"

extern char** environ;

namespace trellis::policy {
namespace {

// A worker's start (exec and static initialisers of a large binary, slower
// under sanitizers) is not charged to the evaluation's timeout.
constexpr absl::Duration kStartTimeout = absl::Seconds(30);

absl::Status Failed(absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("Policy evaluation failed: ", why));
}

// Names and texts, length-prefixed so that no two module lists collide.
std::string DigestOf(const std::vector<RegoModule>& modules) {
  std::string framed;
  for (const RegoModule& module : modules) {
    absl::StrAppend(&framed, module.name.size(), ":", module.name,
                    module.text.size(), ":", module.text);
  }
  return crypto::Digest(crypto::DigestAlgorithm::kSha256, {framed});
}

}  // namespace

// A program the workers evaluate; it keeps its modules to load them into a
// worker that does not hold them (a new one, or one that evicted them).
class SandboxedProgram : public RegoProgram {
 public:
  SandboxedProgram(RegoSandbox* sandbox, const std::vector<RegoModule>& modules)
      : sandbox_(sandbox), digest_(DigestOf(modules)) {
    load_.push_back(kLoadOp);
    load_.push_back(digest_);
    for (const RegoModule& module : modules) {
      load_.push_back(module.name);
      load_.push_back(module.text);
    }
  }

  // The load request, which also checks that the modules parse.
  std::vector<absl::string_view> LoadRequest() const {
    return {load_.begin(), load_.end()};
  }

  absl::StatusOr<std::optional<std::string>> Evaluate(
      absl::string_view query, absl::string_view input_json,
      size_t max_result_bytes) const override {
    const std::string max = std::to_string(max_result_bytes);
    absl::StatusOr<std::vector<std::string>> reply = sandbox_->Call(
        LoadRequest(), {kEvalOp, digest_, query, input_json, max});
    if (!reply.ok()) return reply.status();
    const std::string& kind = reply->front();
    if (kind == kUndefinedReply) return std::nullopt;
    if (kind == kResultReply && reply->size() == 2) return (*reply)[1];
    if (kind == kErrorReply && reply->size() == 2) {
      return absl::InvalidArgumentError((*reply)[1]);
    }
    return absl::InternalError("unexpected reply from the Rego sandbox");
  }

 private:
  RegoSandbox* const sandbox_;
  const std::string digest_;
  std::vector<std::string> load_;
};

RegoSandbox::RegoSandbox(RegoSandboxOptions options)
    : options_(std::move(options)) {
  absl::MutexLock lock(&mu_);
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.push_back(std::make_unique<Worker>());
    idle_.push_back(workers_.back().get());
  }
}

RegoSandbox::~RegoSandbox() {
  absl::MutexLock lock(&mu_);
  for (auto& worker : workers_) {
    if (worker->pid != 0) Stop(*worker, "stopped").IgnoreError();
  }
}

absl::StatusOr<std::unique_ptr<RegoProgram>> RegoSandbox::Compile(
    const std::vector<RegoModule>& modules) {
  auto program = std::make_unique<SandboxedProgram>(this, modules);
  absl::StatusOr<std::vector<std::string>> reply =
      Call({}, program->LoadRequest());
  if (!reply.ok()) return reply.status();
  if (reply->front() == kErrorReply && reply->size() == 2) {
    return absl::InvalidArgumentError((*reply)[1]);
  }
  if (reply->front() != kLoadedReply) {
    return absl::InternalError("unexpected reply from the Rego sandbox");
  }
  return std::unique_ptr<RegoProgram>(std::move(program));
}

std::vector<pid_t> RegoSandbox::WorkerPids() const {
  absl::MutexLock lock(&mu_);
  std::vector<pid_t> pids;
  for (const auto& worker : workers_) {
    if (worker->pid != 0) pids.push_back(worker->pid);
  }
  return pids;
}

RegoSandbox::Worker* RegoSandbox::Acquire() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::vector<Worker*>* idle) { return !idle->empty(); }, &idle_));
  Worker* worker = idle_.back();
  idle_.pop_back();
  return worker;
}

void RegoSandbox::Release(Worker* worker) {
  absl::MutexLock lock(&mu_);
  idle_.push_back(worker);
}

absl::StatusOr<std::vector<std::string>> RegoSandbox::Call(
    const std::vector<absl::string_view>& load,
    const std::vector<absl::string_view>& request) {
  Worker* worker = Acquire();
  absl::StatusOr<std::vector<std::string>> reply = CallWorker(*worker, request);
  if (reply.ok() && reply->front() == kUnknownReply && !load.empty()) {
    reply = CallWorker(*worker, load);
    if (reply.ok() && reply->front() == kLoadedReply) {
      reply = CallWorker(*worker, request);
    }
  }
  Release(worker);
  return reply;
}

absl::StatusOr<std::vector<std::string>> RegoSandbox::CallWorker(
    Worker& worker, const std::vector<absl::string_view>& request) {
  // A worker that died between calls (killed from outside) is replaced
  // rather than failing an evaluation it never started.
  if (worker.pid != 0 && waitpid(worker.pid, nullptr, WNOHANG) != 0) {
    close(worker.socket);
    worker.pid = 0;
  }
  if (worker.pid == 0) {
    if (absl::Status s = Spawn(worker); !s.ok()) return s;
  }
  if (absl::Status s = WriteFrame(worker.socket, request); !s.ok()) {
    if (absl::IsInvalidArgument(s)) return s;  // Too large: not sent.
    return Stop(worker, "the sandbox worker is gone");
  }
  absl::StatusOr<std::vector<std::string>> reply =
      ReadFrame(worker.socket, absl::Now() + options_.timeout);
  if (absl::IsDeadlineExceeded(reply.status())) {
    Stop(worker, "").IgnoreError();
    return Failed(absl::StrCat("the policy ran longer than ",
                               absl::FormatDuration(options_.timeout)));
  }
  if (!reply.ok() || reply->empty()) {
    return Stop(worker, "");
  }
  return reply;
}

absl::Status RegoSandbox::Spawn(Worker& worker) {
  int sockets[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
    return absl::InternalError(absl::StrCat("socketpair: ", strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The child's end becomes descriptor 3 (dup2 clears close-on-exec); the
  // protocol never shares stdout, which stray output would corrupt.
  posix_spawn_file_actions_adddup2(&actions, sockets[1], kWorkerSocket);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, 2, 1);

  const std::string marker = WorkerEnvironment(getpid(), options_);
  std::vector<char*> env;
  for (char** entry = environ; *entry != nullptr; ++entry)
    env.push_back(*entry);
  env.push_back(const_cast<char*>(marker.c_str()));
  env.push_back(nullptr);
  char name[] = "trellis-rego-worker";
  char* argv[] = {name, nullptr};
  // trellisd blocks SIGTERM and SIGINT in its threads; a worker takes the
  // default dispositions with an empty mask.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, "/proc/self/exe", &actions, &attributes,
                                  argv, env.data());
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  close(sockets[1]);
  if (spawned != 0) {
    close(sockets[0]);
    return absl::InternalError(absl::StrCat(
        "cannot start a Rego sandbox worker: ", strerror(spawned)));
  }
  worker.pid = pid;
  worker.socket = sockets[0];
  absl::StatusOr<std::vector<std::string>> ready =
      ReadFrame(worker.socket, absl::Now() + kStartTimeout);
  if (!ready.ok() || ready->empty() || ready->front() != kReadyReply) {
    Stop(worker, "").IgnoreError();
    return absl::InternalError("a Rego sandbox worker did not start");
  }
  return absl::OkStatus();
}

absl::Status RegoSandbox::Stop(Worker& worker, absl::string_view why) {
  kill(worker.pid, SIGKILL);
  int wait_status = 0;
  const pid_t reaped = waitpid(worker.pid, &wait_status, 0);
  close(worker.socket);
  worker.pid = 0;
  worker.socket = -1;
  if (!why.empty()) return Failed(why);
  // Killed by its own abort or signal before ours: regorus aborts when an
  // allocation fails, which the address-space limit makes happen.
  if (reaped > 0 && WIFSIGNALED(wait_status) &&
      WTERMSIG(wait_status) != SIGKILL) {
    return Failed(absl::StrCat("the policy exhausted the sandbox's memory (",
                               options_.memory_limit_bytes >> 20,
                               " MiB) and its worker stopped"));
  }
  return Failed("the sandbox worker stopped during the evaluation");
}

}  // namespace trellis::policy
