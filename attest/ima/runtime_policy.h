// Reference values for IMA: Keylime's runtime policy (allowlist) format,
// {"meta": {"version": N}, "digests": {path: [hex, ...]}, "excludes":
// [regex, ...], ...}. A measured file passes if its path is excluded (a
// regex matching at the start of the path, as Python's re.match; RE2
// syntax, so no backreferences or lookaround) or if its
// digest is one of those listed for its path.
#ifndef TRELLIS_ATTEST_IMA_RUNTIME_POLICY_H_
#define TRELLIS_ATTEST_IMA_RUNTIME_POLICY_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "attest/ima/measurement_list.h"
#include "re2/re2.h"

namespace trellis::attest::ima {

class RuntimePolicy {
 public:
  // INVALID_ARGUMENT for malformed JSON, digests that are not 40-128 hex
  // digits, or excludes that are not regular expressions.
  static absl::StatusOr<RuntimePolicy> Parse(const std::string& json_text);

  struct Failure {
    std::string path;
    std::string reason;  // "not in allowlist" or "digest not allowed".
  };
  // The entries that fail the policy (violations fail too: a file was
  // measured while open for writing).
  std::vector<Failure> Evaluate(const std::vector<Entry>& entries) const;
  // One file: null if it passes, else the reason (a Judge for
  // AppraiseAscii). `digest_hex` is lowercase hex.
  const char* Check(absl::string_view path, absl::string_view digest_hex,
                    bool violation) const;

  size_t size() const { return digests_.size(); }

 private:
  // Path -> allowed digests, lowercase hex (as IMA lists write them).
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> digests_;
  std::shared_ptr<const RE2> excludes_;  // Shared: policies are copied.
};

}  // namespace trellis::attest::ima

#endif  // TRELLIS_ATTEST_IMA_RUNTIME_POLICY_H_
