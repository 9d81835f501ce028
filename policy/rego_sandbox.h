// Untrusted Rego (policies users upload) evaluated in worker processes, so
// that a policy which allocates without bound (numbers.range(0, 1e12)) or
// runs for ever (nested comprehensions) costs one worker, not trellisd:
// regorus aborts the process when an allocation fails and cannot be
// interrupted. Each worker is this same executable re-executed (see
// rego_worker.cc), with an address-space limit; a call that outlives its
// timeout kills its worker. Dead workers are replaced on next use.
#ifndef TRELLIS_POLICY_REGO_SANDBOX_H_
#define TRELLIS_POLICY_REGO_SANDBOX_H_

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "policy/rego_policy.h"
#include "policy/rego_program.h"

namespace trellis::policy {

struct RegoSandboxOptions {
  int workers = 2;
  // One evaluation (or parse) longer than this fails and kills its worker.
  absl::Duration timeout = absl::Seconds(1);
  // The address space a worker may use.
  size_t memory_limit_bytes = size_t{1} << 30;
};

class RegoSandbox {
 public:
  explicit RegoSandbox(RegoSandboxOptions options = {});
  // Stops the workers.
  ~RegoSandbox();
  RegoSandbox(const RegoSandbox&) = delete;
  RegoSandbox& operator=(const RegoSandbox&) = delete;

  // Parses `modules` in a worker; INVALID_ARGUMENT with the engine's
  // message if one does not parse. The program evaluates in the workers and
  // must not outlive the sandbox.
  absl::StatusOr<std::unique_ptr<RegoProgram>> Compile(
      const std::vector<RegoModule>& modules);

  // Process ids of the running workers (for tests and metrics).
  std::vector<pid_t> WorkerPids() const;

 private:
  friend class SandboxedProgram;
  struct Worker {
    // 0: not running. Written by the thread holding the worker, read by
    // WorkerPids().
    std::atomic<pid_t> pid{0};
    int socket = -1;
  };

  // Sends `request` (whose second field is the program's digest) to a
  // worker; if the worker does not hold the program, sends `load` first.
  absl::StatusOr<std::vector<std::string>> Call(
      const std::vector<absl::string_view>& load,
      const std::vector<absl::string_view>& request);
  absl::StatusOr<std::vector<std::string>> CallWorker(
      Worker& worker, const std::vector<absl::string_view>& request);
  absl::Status Spawn(Worker& worker);
  // Kills and reaps `worker`; the status says how it ended.
  absl::Status Stop(Worker& worker, absl::string_view why);
  Worker* Acquire();
  void Release(Worker* worker);

  const RegoSandboxOptions options_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Worker>> workers_ ABSL_GUARDED_BY(mu_);
  std::vector<Worker*> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trellis::policy

#endif  // TRELLIS_POLICY_REGO_SANDBOX_H_
