// The named checks of an appraisal. Each check's name appears in the
// verifier API's verification_details, in 422 errors and in the logged
// record, so they are part of Trellis' contract.
#ifndef TRELLIS_ATTEST_VERIFIER_CHECKS_H_
#define TRELLIS_ATTEST_VERIFIER_CHECKS_H_

#include <string>
#include <vector>

namespace trellis::attest {

inline constexpr char kQuoteFormatValid[] = "quote_format_valid";
inline constexpr char kAkValid[] = "ak_valid";
inline constexpr char kHashAlgValid[] = "hash_alg_valid";
inline constexpr char kQuoteSignatureValid[] = "quote_signature_valid";
inline constexpr char kNonceValid[] = "nonce_valid";
inline constexpr char kQualifiedSignerValid[] = "qualified_signer_valid";
inline constexpr char kPcrSelectionValid[] = "pcr_selection_valid";
inline constexpr char kPcrDigestValid[] = "pcr_digest_valid";
inline constexpr char kClockSafe[] = "clock_safe";
inline constexpr char kClockMonotonic[] = "clock_monotonic";
inline constexpr char kAppKeyCertificateValid[] = "app_key_certificate_valid";
inline constexpr char kAppKeyPublicMatchesCert[] =
    "app_key_public_matches_cert";

struct CheckResult {
  std::string name;
  bool passed = false;
  std::string detail;  // Why it failed; empty when it passed.
};

// The outcome of a series of checks, in the order they ran.
class Checks {
 public:
  void Add(std::string name, bool passed, std::string detail = "") {
    results_.push_back({std::move(name), passed, std::move(detail)});
  }
  void Append(const Checks& other) {
    results_.insert(results_.end(), other.results_.begin(),
                    other.results_.end());
  }
  bool passed() const {
    for (const CheckResult& r : results_) {
      if (!r.passed) return false;
    }
    return !results_.empty();
  }
  // The first failed check, or null.
  const CheckResult* first_failure() const {
    for (const CheckResult& r : results_) {
      if (!r.passed) return &r;
    }
    return nullptr;
  }
  // The named check, or null if it did not run.
  const CheckResult* Find(const std::string& name) const {
    for (const CheckResult& r : results_) {
      if (r.name == name) return &r;
    }
    return nullptr;
  }
  const std::vector<CheckResult>& results() const { return results_; }

 private:
  std::vector<CheckResult> results_;
};

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_VERIFIER_CHECKS_H_
