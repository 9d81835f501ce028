// Appraisal policies: what, beyond the quote and the app key, a host's
// evidence must show, and how failures are judged. A policy is JSON,
// stored versioned by id; every verdict names the id, version and digest of
// the policy that decided it.
//   {
//     "ima": {Keylime runtime policy},  // allowlist + excludes for IMA
//     "require_ima": false,             // evidence must carry an IMA list
//     "require_measured_boot": false,   // ... and a boot event log
//     "pcr_values": {"sha256": {"0": "<hex>", ...}},  // golden values
//     "geolocation_pcr": 15,            // where hosts bind their location
//     "accept_partial": false           // integrity failures still verify
//   }
// Core checks (identity, freshness, quote, app key) failing is FAILED;
// only integrity checks (IMA, boot log, golden PCRs) failing is PARTIAL.
#ifndef TRELLIS_ATTEST_VERIFIER_POLICY_H_
#define TRELLIS_ATTEST_VERIFIER_POLICY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "attest/ima/runtime_policy.h"
#include "attest/verifier/checks.h"

namespace trellis::attest {

inline constexpr char kDefaultPolicyId[] = "default";
// Used while no policy "default" is stored: version 0, all checks.
inline constexpr char kBuiltinPolicyText[] = "{}";

inline constexpr char kEventLogValid[] = "event_log_valid";
inline constexpr char kImaPcrValid[] = "ima_pcr_valid";
inline constexpr char kImaAllowlistValid[] = "ima_allowlist_valid";
inline constexpr char kPcrValuesValid[] = "pcr_values_valid";

struct Policy {
  std::string id = kDefaultPolicyId;
  int64_t version = 0;
  std::string text = kBuiltinPolicyText;
  std::string digest;  // SHA-256 of text.

  std::optional<ima::RuntimePolicy> ima;
  bool require_ima = false;
  bool require_measured_boot = false;
  std::map<int, std::string> pcr_values;  // SHA-256 bank.
  int geolocation_pcr = 15;
  bool accept_partial = false;
};

// INVALID_ARGUMENT, saying what, for anything malformed.
absl::StatusOr<Policy> ParsePolicy(const std::string& id, int64_t version,
                                   const std::string& text);

enum class Integrity { kPassedAllChecks, kPartial, kFailed };
const char* IntegrityName(Integrity integrity);  // "PASSED_ALL_CHECKS", ...

// The decision: PASSED_ALL_CHECKS if every check passed, PARTIAL if only
// integrity checks failed, FAILED otherwise.
Integrity Decide(const Checks& checks);
// Whether `integrity` is a verified attestation under `policy`.
bool Verified(Integrity integrity, const Policy& policy);

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_VERIFIER_POLICY_H_
