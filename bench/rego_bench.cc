// Rego policy evaluation speed (regorus): GTA's example tpm_boot policy
// (tests/testdata/rego/tpm_boot.rego) on an input with a 17-event boot log
// and 8 PCRs, one thread and two, in process (policy/rego_policy) and in
// the sandbox's worker processes as users' policies run
// (policy/rego_sandbox, two workers); parsing the same input as JSON with
// nlohmann::json in the same run is the baseline (every evaluation parses
// its input once).
//
//   bazel run -c opt //bench:rego_bench -- --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "policy/rego_policy.h"
#include "policy/rego_sandbox.h"
#include "util/file.h"

namespace trellis::policy {
namespace {

// A tpm_boot policy input as GTA builds it: 17 events, PCRs 0-7.
std::string BootInput() {
  nlohmann::json events = nlohmann::json::array();
  for (int i = 0; i < 17; ++i) {
    nlohmann::json event = {
        {"event_number", i + 1},
        {"pcr_index", i % 8},
        {"event_type",
         i == 9 ? "EV_EFI_VARIABLE_DRIVER_CONFIG" : "EV_EFI_ACTION"},
        {"digest", {{"hash_id", "sha256"}, {"digest", std::string(64, 'a')}}},
        {"event", nlohmann::json::object()}};
    if (i == 9) {
      event["event"] = {
          {"variable_name", "8be4df61-93ca-11d2-aa0d-00e098032b8c"},
          {"unicode_name", "SecureBoot"},
          {"variable_data", {{"enabled", "Yes"}}}};
    }
    events.push_back(event);
  }
  nlohmann::json pcrs = nlohmann::json::array();
  for (int i = 0; i < 8; ++i) {
    pcrs.push_back({{"pcr_index", i}, {"pcr_value", std::string(64, '0' + i)}});
  }
  return nlohmann::json{
      {"evidence",
       {{"logs",
         {{{"log_type", "TcgEventLog"},
           {"log_status", "replay_success"},
           {"ref_value_match_status", "ignore"},
           {"log_data", events}}}},
        {"pcrs", {{"hash_alg", "sha256"}, {"pcr_values", pcrs}}}}}}
      .dump();
}

std::vector<RegoModule> ExampleModules() {
  return {
      {"tpm_boot.rego", ReadFile("tests/testdata/rego/tpm_boot.rego").value()}};
}

const RegoProgram& InProcessPolicy() {
  static const RegoProgram* policy =
      RegoPolicy::Compile(ExampleModules()).value().release();
  return *policy;
}

const RegoProgram& SandboxedPolicy() {
  static RegoSandbox* sandbox = new RegoSandbox();
  static const RegoProgram* policy =
      sandbox->Compile(ExampleModules()).value().release();
  return *policy;
}

void Evaluate(benchmark::State& state, const RegoProgram& policy) {
  const std::string input = BootInput();
  for (auto _ : state) {
    auto result = policy.Evaluate("data.verification.result", input);
    if (!result.ok() || !result->has_value() ||
        nlohmann::json::parse(**result).value("policy_matched", false) !=
            true) {
      state.SkipWithError("unexpected result");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_EvaluateExamplePolicy(benchmark::State& state) {
  Evaluate(state, InProcessPolicy());
}
BENCHMARK(BM_EvaluateExamplePolicy)->Threads(1)->Threads(2)->UseRealTime();

void BM_EvaluateExamplePolicySandboxed(benchmark::State& state) {
  Evaluate(state, SandboxedPolicy());
}
BENCHMARK(BM_EvaluateExamplePolicySandboxed)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

void BM_ParseInputJsonBaseline(benchmark::State& state) {
  const std::string input = BootInput();
  for (auto _ : state) {
    benchmark::DoNotOptimize(nlohmann::json::parse(input));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseInputJsonBaseline);

}  // namespace
}  // namespace trellis::policy

BENCHMARK_MAIN();
