#include "attest/verifier/appraiser.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "attest/verifier/appraisal.h"
#include "attest/verifier/policy.h"
#include "attest/verifier/quote_verifier.h"

namespace trellis::attest {
namespace {

using nlohmann::json;

}  // namespace

absl::StatusOr<std::shared_ptr<const Policy>> Appraiser::PolicyFor(
    const trellis::HostRegistration& host) {
  const std::string id =
      host.policy_id().empty() ? kDefaultPolicyId : host.policy_id();
  {
    absl::MutexLock lock(&policies_mu_);
    if (auto it = latest_policies_.find(id); it != latest_policies_.end()) {
      return it->second;
    }
  }
  absl::StatusOr<Policy> loaded = LoadPolicy(id, -1);
  if (!loaded.ok()) return loaded.status();
  auto policy = std::make_shared<const Policy>(std::move(*loaded));
  absl::MutexLock lock(&policies_mu_);
  // A PutPolicy meanwhile has put a newer version: keep that one.
  return latest_policies_.try_emplace(id, std::move(policy)).first->second;
}

absl::StatusOr<Policy> Appraiser::LoadPolicy(const std::string& id,
                                             int64_t version) {
  absl::StatusOr<std::optional<storage::AttestStorage::StoredPolicy>> stored =
      evidence_->GetPolicy(id, version);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    if (id == kDefaultPolicyId && version <= 0) {
      return ParsePolicy(id, 0, kBuiltinPolicyText);  // Nothing stored yet.
    }
    return absl::NotFoundError(
        absl::StrCat("no policy ", id, version >= 0 ? " at that version" : ""));
  }
  return ParsePolicy(id, (*stored)->version, (*stored)->text);
}

absl::StatusOr<int64_t> Appraiser::PutPolicy(const std::string& id,
                                             const std::string& text) {
  if (id.empty() || id.size() > 128 ||
      id.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          std::string::npos) {
    return absl::InvalidArgumentError(
        "policy id must be 1-128 characters of [A-Za-z0-9._-]");
  }
  absl::StatusOr<Policy> parsed = ParsePolicy(id, 0, text);
  if (!parsed.ok()) return parsed.status();
  absl::MutexLock lock(&policies_mu_);  // Versions in the order cached.
  absl::StatusOr<int64_t> version = evidence_->PutPolicy(id, text);
  if (!version.ok()) return version.status();
  parsed->version = *version;
  latest_policies_[id] = std::make_shared<const Policy>(std::move(*parsed));
  return version;
}

absl::StatusOr<std::string> Appraiser::Evidence(const std::string& digest) {
  absl::StatusOr<std::optional<std::string>> evidence =
      evidence_->GetEvidence(digest);
  if (!evidence.ok()) return evidence.status();
  if (!evidence->has_value()) return absl::NotFoundError("no such evidence");
  return **evidence;
}

absl::StatusOr<std::string> Appraiser::IssueNonce(const std::string& host_id) {
  absl::StatusOr<std::optional<trellis::HostRegistration>> host =
      evidence_->GetHost(host_id);
  if (!host.ok()) return host.status();
  if (!host->has_value()) {
    return absl::NotFoundError(absl::StrCat("no host ", host_id));
  }
  if (!(*host)->active()) {
    return absl::FailedPreconditionError(
        "the host's AK registration was never activated");
  }
  return nonces_->Issue(host_id);
}

Appraiser::Appraiser(Registrar* registrar, NonceStore* nonces,
                     storage::AttestStorage* evidence, log::RecordSink* records,
                     RecordLogProvider record_log,
                     prometheus::Registry* metrics)
    : registrar_(registrar),
      nonces_(nonces),
      evidence_(evidence),
      records_(records),
      record_log_(std::move(record_log)),
      metrics_(metrics),
      verdict_count_(prometheus::BuildCounter()
                         .Name("trellis_attestation_verdicts_total")
                         .Help("Attestation verdicts, by host integrity status "
                               "(refused: evidence of an unregistered or "
                               "inactive AK, not logged).")
                         .Register(metrics_.get())),
      check_count_(prometheus::BuildCounter()
                       .Name("trellis_attestation_checks_total")
                       .Help("Checks of attestation verdicts, by check and "
                             "outcome (passed or failed).")
                       .Register(metrics_.get())) {}

Verdict Appraiser::Refuse(Verdict verdict, std::string why) {
  unregistered_refused_.fetch_add(1, std::memory_order_relaxed);
  verdict.checks.Add(kAkRegistered, false, std::move(why));
  verdict.verified = false;
  verdict.host_integrity_status = IntegrityName(Integrity::kFailed);
  verdict.attested_claims = {{"host_integrity_status", "failed"}};
  verdict.timestamp = absl::ToUnixSeconds(absl::Now());
  return verdict;
}

absl::StatusOr<Verdict> Appraiser::Appraise(const EvidenceRequest& request) {
  absl::StatusOr<Verdict> verdict = Decide(request);
  if (!verdict.ok()) return verdict;
  // Refused evidence (unregistered AK) is not logged: "refused", not its
  // integrity status.
  verdict_count_
      .Add({{"status", verdict->audit_id.empty()
                           ? std::string("refused")
                           : verdict->host_integrity_status}})
      .Increment();
  for (const CheckResult& check : verdict->checks.results()) {
    check_count_
        .Add({{"check", check.name},
              {"outcome", check.passed ? "passed" : "failed"}})
        .Increment();
  }
  return verdict;
}

absl::StatusOr<Verdict> Appraiser::Decide(const EvidenceRequest& request) {
  Verdict verdict;
  Checks& checks = verdict.checks;
  const std::string nonce = absl::HexStringToBytes(request.nonce);
  trellis::AttestationRecord& record = verdict.record;

  // Only evidence about a registered, activated AK is stored and logged:
  // anything else is refused and counted, so strangers can fill neither
  // the disk nor the log.
  std::string ak_public;
  std::optional<trellis::HostRegistration> host;
  std::optional<trellis::TpmClockState> quote_clock;
  if (!absl::Base64Unescape(request.tpm_ak, &ak_public)) {
    return Refuse(std::move(verdict), "tpm_ak is not base64");
  }
  absl::StatusOr<trellis::HostRegistration> found =
      registrar_->ActiveHostForAk(ak_public);
  if (absl::IsInternal(found.status()) || absl::IsDataLoss(found.status())) {
    return found.status();
  }
  if (!found.ok()) {
    return Refuse(std::move(verdict), std::string(found.status().message()));
  }
  host = std::move(*found);
  checks.Add(kAkRegistered, true);
  if (!request.tpm_ek.empty()) {
    std::string ek;
    if (!absl::Base64Unescape(request.tpm_ek, &ek) || ek != host->ek_public()) {
      checks.Add(kAkRegistered, false,
                 "tpm_ek is not the EK the AK was registered with");
    }
  }

  // Keep the evidence before judging it: a logged verdict must be
  // re-runnable.
  const std::string evidence = CanonicalEvidence(request);
  absl::StatusOr<std::string> evidence_digest =
      tpm::TpmHash(TPM2_ALG_SHA256, evidence);
  if (!evidence_digest.ok()) return evidence_digest.status();
  if (absl::Status s = evidence_->PutEvidence(*evidence_digest, evidence);
      !s.ok()) {
    return s;
  }

  absl::StatusOr<std::shared_ptr<const Policy>> policy = PolicyFor(*host);
  if (!policy.ok()) return policy.status();
  const absl::Status fresh = nonces_->Consume(nonce, host->host_id());
  checks.Add(kNonceFresh, fresh.ok(), std::string(fresh.message()));
  RegisteredAk ak;
  ak.public_area = *tpm::ParsePublic(host->ak_public());
  ak.qualified_name = host->ak_qualified_name();
  if (auto cached = ak_keys_.Get(host->ak_name())) {
    ak.key = cached->key;
  } else if (absl::StatusOr<std::shared_ptr<const EVP_PKEY>> key = AkKey(ak);
             key.ok()) {
    ak.key = *key;
    ak_keys_.Put(host->ak_name(), std::make_shared<CachedKey>(CachedKey{*key}),
                 1024,
                 /*replace=*/false);
  }
  std::optional<TpmClock> previous;
  if (host->has_last_clock()) {
    previous =
        TpmClock{host->last_clock().clock(), host->last_clock().reset_count(),
                 host->last_clock().restart_count()};
  }
  Appraisal appraisal =
      AppraiseEvidence(request, ak, previous, **policy, checks);
  checks = appraisal.checks;
  record.set_attest_digest(appraisal.attest_digest);
  if (appraisal.clock.has_value()) {
    quote_clock.emplace();
    quote_clock->set_clock(appraisal.clock->clock);
    quote_clock->set_reset_count(appraisal.clock->reset_count);
    quote_clock->set_restart_count(appraisal.clock->restart_count);
  }
  verdict.verified = appraisal.verified;
  verdict.host_integrity_status = IntegrityName(appraisal.integrity);
  verdict.attested_claims = std::move(appraisal.claims);

  const absl::Time now = absl::Now();
  verdict.timestamp = absl::ToUnixSeconds(now);

  record.set_type("trellis.attestation.v1");
  record.set_time_unix_nanos(absl::ToUnixNanos(now));
  record.set_host_id(host->host_id());
  record.set_ak_name(host->ak_name());
  record.set_evidence_digest(*evidence_digest);
  record.set_nonce(nonce);
  record.set_policy_id((*policy)->id);
  record.set_policy_version((*policy)->version);
  record.set_policy_digest((*policy)->digest);
  record.set_reference_values_version(0);
  record.set_verifier_version(kVerifierVersion);
  for (const CheckResult& r : checks.results()) {
    trellis::CheckOutcome* outcome = record.add_checks();
    outcome->set_name(r.name);
    outcome->set_passed(r.passed);
    outcome->set_detail(r.detail);
  }
  record.set_verified(verdict.verified);
  record.set_host_integrity_status(verdict.host_integrity_status);
  record.set_attested_claims_json(verdict.attested_claims.dump());

  const std::string bytes = log::SerializeRecord(record);
  absl::StatusOr<int64_t> log_id = record_log_();
  if (!log_id.ok()) return log_id.status();
  absl::StatusOr<std::vector<std::string>> hashes =
      records_->Append(*log_id, {bytes});
  if (!hashes.ok()) return hashes.status();
  verdict.audit_id = absl::BytesToHexString((*hashes)[0]);
  verdict.audit_log_id = *log_id;
  // Only an accepted quote moves the host's clock forward.
  if (verdict.verified && quote_clock.has_value()) {
    if (absl::Status s = registrar_->RecordClock(host->host_id(), *quote_clock);
        !s.ok()) {
      return s;
    }
  }
  return verdict;
}

}  // namespace trellis::attest
