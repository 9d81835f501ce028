#include "policy/rego_worker.h"

#include <errno.h>
#include <linux/close_range.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <list>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "policy/frames.h"
#include "policy/rego_policy.h"

namespace trellis::policy {
namespace {

constexpr char kWorkerVariable[] = "TRELLIS_REGO_WORKER";
// Programs a worker keeps parsed; past this it forgets one, and the sandbox
// loads it again when it is next used.
constexpr size_t kMaxPrograms = 256;

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TRELLIS_REGO_WORKER_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TRELLIS_REGO_WORKER_UNDER_ASAN 1
#endif

void LimitMemory(size_t bytes) {
#ifndef TRELLIS_REGO_WORKER_UNDER_ASAN
  // ASan reserves terabytes of shadow address space up front; there its
  // allocator's own limits stop the runaway allocation instead.
  const rlimit limit = {bytes, bytes};
  setrlimit(RLIMIT_AS, &limit);
#else
  (void)bytes;
#endif
}

std::vector<std::string> Reply(const RegoPolicy* policy,
                               const std::vector<std::string>& request) {
  size_t max_result_bytes = 0;
  if (request.size() != 5 || !absl::SimpleAtoi(request[4], &max_result_bytes)) {
    return {kErrorReply, "malformed evaluation request"};
  }
  absl::StatusOr<std::optional<std::string>> result =
      policy->Evaluate(request[2], request[3], max_result_bytes);
  if (!result.ok())
    return {kErrorReply, std::string(result.status().message())};
  if (!result->has_value()) return {kUndefinedReply};
  return {kResultReply, **result};
}

// The programs a worker holds, the least recently used forgotten first.
class Programs {
 public:
  RegoPolicy* Find(const std::string& digest) {
    auto found = programs_.find(digest);
    if (found == programs_.end()) return nullptr;
    recency_.splice(recency_.begin(), recency_, found->second.used);
    return found->second.policy.get();
  }
  void Add(const std::string& digest, std::unique_ptr<RegoPolicy> policy) {
    if (Find(digest) != nullptr) return;
    if (programs_.size() >= kMaxPrograms) {
      programs_.erase(recency_.back());
      recency_.pop_back();
    }
    recency_.push_front(digest);
    programs_[digest] = {std::move(policy), recency_.begin()};
  }

 private:
  struct Entry {
    std::unique_ptr<RegoPolicy> policy;
    std::list<std::string>::iterator used;
  };
  std::map<std::string, Entry> programs_;
  std::list<std::string> recency_;  // Most recently used first.
};

// Serves requests on kWorkerSocket until the sandbox closes it.
int Serve() {
  Programs programs;
  auto send = [](const std::vector<std::string>& fields) {
    std::vector<absl::string_view> views(fields.begin(), fields.end());
    return WriteFrame(kWorkerSocket, views).ok();
  };
  if (!send({kReadyReply})) return 1;
  while (true) {
    absl::StatusOr<std::vector<std::string>> request = ReadFrame(kWorkerSocket);
    if (!request.ok()) return 0;  // The sandbox went away.
    if (request->size() < 2) return 1;
    const std::string& op = (*request)[0];
    const std::string& digest = (*request)[1];
    std::vector<std::string> reply;
    if (op == kEvalOp) {
      RegoPolicy* found = programs.Find(digest);
      reply = found == nullptr ? std::vector<std::string>{kUnknownReply}
                               : Reply(found, *request);
    } else if (op == kLoadOp && request->size() % 2 == 0) {
      std::vector<RegoModule> modules;
      for (size_t i = 2; i < request->size(); i += 2) {
        modules.push_back({(*request)[i], (*request)[i + 1]});
      }
      absl::StatusOr<std::unique_ptr<RegoPolicy>> policy =
          RegoPolicy::Compile(modules);
      if (policy.ok()) {
        programs.Add(digest, *std::move(policy));
        reply = {kLoadedReply};
      } else {
        reply = {kErrorReply, std::string(policy.status().message())};
      }
    } else {
      return 1;
    }
    if (!send(reply)) return 0;
  }
}

// Becomes a worker, before main(), if this process was started as one.
[[maybe_unused]] const bool kBecameWorker = [] {
  const char* spec = getenv(kWorkerVariable);
  if (spec == nullptr) return false;
  std::vector<absl::string_view> parts = absl::StrSplit(spec, ':');
  pid_t parent = 0;
  size_t memory = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &parent) ||
      !absl::SimpleAtoi(parts[1], &memory)) {
    _exit(2);
  }
  if (getppid() != parent) _exit(0);
  // Descriptors trellisd opened without close-on-exec in the instant of the
  // spawn (an accepted connection) must not live on in the worker.
  if (close_range(kWorkerSocket + 1, ~0U, 0) != 0) {
    for (int fd = kWorkerSocket + 1; fd < 65536; ++fd) close(fd);
  }
  // Dies with trellisd, even mid-evaluation: trellisd's end of the socket
  // closes when it exits or is killed. (PR_SET_PDEATHSIG would follow the
  // spawning thread, not the process.)
  std::thread([] {
    pollfd hangup = {kWorkerSocket, POLLRDHUP, 0};
    while (poll(&hangup, 1, -1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }).detach();
  LimitMemory(memory);
  _exit(Serve());
  return true;
}();

}  // namespace

std::string WorkerEnvironment(pid_t parent, const RegoSandboxOptions& options) {
  return absl::StrCat(kWorkerVariable, "=", parent, ":",
                      options.memory_limit_bytes);
}

}  // namespace trellis::policy
