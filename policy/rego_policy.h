// Rego policies evaluated by regorus (a complete Rego engine, the one
// openEuler GTA uses, at the same version) through its C shim, in this
// process: for policies Trellis ships, and inside the sandbox's workers.
// Policies users upload go through RegoSandbox (rego_sandbox.h), because an
// evaluation here can neither be interrupted nor survive a failed
// allocation. A policy is parsed once; evaluations run on engines cloned
// from it, kept in a pool, so concurrent calls neither share state nor
// re-parse.
#ifndef TRELLIS_POLICY_REGO_POLICY_H_
#define TRELLIS_POLICY_REGO_POLICY_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "policy/rego_program.h"

struct TrellisRego;

namespace trellis::policy {

struct RegoModule {
  std::string name;  // Names the module in errors.
  std::string text;
};

class RegoPolicy : public RegoProgram {
 public:
  // Parses `modules`; INVALID_ARGUMENT with the engine's message if one
  // does not parse. Rules are checked at the first evaluation.
  static absl::StatusOr<std::unique_ptr<RegoPolicy>> Compile(
      const std::vector<RegoModule>& modules);
  ~RegoPolicy();
  RegoPolicy(const RegoPolicy&) = delete;
  RegoPolicy& operator=(const RegoPolicy&) = delete;

  absl::StatusOr<std::optional<std::string>> Evaluate(
      absl::string_view query, absl::string_view input_json,
      size_t max_result_bytes = kMaxResultBytes) const override;

 private:
  struct EngineDeleter {
    void operator()(TrellisRego* engine) const;
  };
  using Engine = std::unique_ptr<TrellisRego, EngineDeleter>;
  explicit RegoPolicy(Engine base) : base_(std::move(base)) {}
  // An engine for one evaluation: a pooled one or a new clone.
  absl::StatusOr<Engine> Acquire() const;
  void Release(Engine engine) const;

  const Engine base_;
  mutable absl::Mutex mu_;
  mutable std::vector<Engine> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trellis::policy

#endif  // TRELLIS_POLICY_REGO_POLICY_H_
