// The appraisal of "tpm-app-key" evidence (the Unified-Identity design's
// POST /v2.4/verify/evidence): identifies the host by its registered AK,
// spends the nonce issued to it, verifies the quote and the app key
// certificate, decides, and appends the verdict, pass or fail, to the
// attestation log before answering. The evidence is kept by its digest so
// the appraisal can be re-run offline. Front-ends (HTTP, gRPC) translate.
#ifndef TRELLIS_ATTEST_VERIFIER_APPRAISER_H_
#define TRELLIS_ATTEST_VERIFIER_APPRAISER_H_

#include <openssl/evp.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "attest/registrar/registrar.h"
#include "attest/verifier/checks.h"
#include "attest/verifier/evidence_request.h"
#include "attest/verifier/nonce_store.h"
#include "attest/verifier/policy.h"
#include "log/record_sink.h"
#include "metrics/registry.h"
#include "nlohmann/json.hpp"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "storage/attest_storage.h"
#include "trellis_attest.pb.h"
#include "util/lru_cache.h"

namespace trellis::attest {

inline constexpr char kAkRegistered[] = "ak_registered";
inline constexpr char kNonceFresh[] = "nonce_fresh";
inline constexpr char kVerifierVersion[] = "trellis-verifier/1";

struct Verdict {
  Checks checks;
  bool verified = false;
  std::string host_integrity_status;  // PASSED_ALL_CHECKS, PARTIAL, FAILED.
  nlohmann::json attested_claims;
  // Hex Merkle leaf hash of the record; empty when the evidence was refused
  // unlogged (its AK is not registered and active).
  std::string audit_id;
  int64_t audit_log_id = 0;  // The log tree holding the record.
  int64_t timestamp = 0;     // Unix seconds.
  trellis::AttestationRecord record;
};

// The log tree verdicts go to (made on first use by whoever provides it).
using RecordLogProvider = std::function<absl::StatusOr<int64_t>()>;

class Appraiser {
 public:
  // Verdicts go to `records` (the log `record_log` names).
  // Counts verdicts and checks (trellis_attestation_*) into `metrics` if
  // given.
  Appraiser(Registrar* registrar, NonceStore* nonces,
            storage::AttestStorage* evidence, log::RecordSink* records,
            RecordLogProvider record_log,
            prometheus::Registry* metrics = nullptr);

  // A nonce for an activated host: NOT_FOUND / FAILED_PRECONDITION otherwise.
  absl::StatusOr<std::string> IssueNonce(const std::string& host_id);

  // A verdict, verified or not; an error only for an unusable request
  // (INVALID_ARGUMENT) or when the verdict could not be stored and logged.
  // Evidence whose AK is not registered and active gets a failed verdict
  // (ak_registered) without being stored or logged.
  absl::StatusOr<Verdict> Appraise(const EvidenceRequest& request);

  // How many evidence requests were refused unlogged for an unregistered or
  // inactive AK.
  int64_t unregistered_refused() const {
    return unregistered_refused_.load(std::memory_order_relaxed);
  }

  // Stores a new version of policy `id`; INVALID_ARGUMENT if malformed.
  absl::StatusOr<int64_t> PutPolicy(const std::string& id,
                                    const std::string& text);
  // A policy at `version` (latest if < 0); "default" exists from the start
  // (version 0: no requirements beyond the core checks).
  absl::StatusOr<Policy> LoadPolicy(const std::string& id, int64_t version);

  // Stored evidence by its SHA-256 (for replays); NOT_FOUND if unknown.
  absl::StatusOr<std::string> Evidence(const std::string& digest);
  // The log tree holding the verdicts.
  absl::StatusOr<int64_t> RecordLogId() { return record_log_(); }

 private:
  // The host's policy at its latest version, parsed once (this process is
  // the only writer of policies, through PutPolicy).
  absl::StatusOr<std::shared_ptr<const Policy>> PolicyFor(
      const trellis::HostRegistration& host);

  // Appraise without counting.
  absl::StatusOr<Verdict> Decide(const EvidenceRequest& request);

  // The unlogged verdict for evidence of an unknown or inactive AK.
  Verdict Refuse(Verdict verdict, std::string why);

  Registrar* const registrar_;
  NonceStore* const nonces_;
  storage::AttestStorage* const evidence_;
  log::RecordSink* const records_;
  const RecordLogProvider record_log_;
  metrics::RegistryOrOwn metrics_;
  prometheus::Family<prometheus::Counter>& verdict_count_;
  prometheus::Family<prometheus::Counter>& check_count_;
  // Hosts' AKs as OpenSSL keys, by AK Name (registrations change AK Names,
  // so entries never go stale).
  struct CachedKey {
    std::shared_ptr<const EVP_PKEY> key;
  };
  LruCache<CachedKey> ak_keys_{4 << 20};
  std::atomic<int64_t> unregistered_refused_{0};
  absl::Mutex policies_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const Policy>>
      latest_policies_ ABSL_GUARDED_BY(policies_mu_);
};

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_VERIFIER_APPRAISER_H_
