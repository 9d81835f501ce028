#include "gta/policy_manager.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "crypto/digest.h"
#include "crypto/random.h"
#include "gta/policy_evaluation.h"
#include "gta/sealed_storage.h"
#include "gta/signed_content.h"

namespace trellis::gta {
namespace {

absl::Status CheckLength(const std::string& value, size_t min, size_t max,
                         const char* field) {
  if (value.size() < min || value.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be ", min, " to ", max, " characters long"));
  }
  return absl::OkStatus();
}

absl::Status CheckAttesterTypes(const std::vector<std::string>& types) {
  if (types.empty()) {
    return absl::InvalidArgumentError("attester_type must name one type");
  }
  for (const std::string& type : types) {
    if (absl::Status s = CheckLength(type, 1, kMaxNameLength, "attester_type");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

bool HasType(const trellis::GtaPolicy& policy, const std::string& type) {
  return std::find(policy.attester_types().begin(),
                   policy.attester_types().end(),
                   type) != policy.attester_types().end();
}

std::string RegoDigest(const trellis::GtaPolicy& policy) {
  return crypto::Digest(crypto::DigestAlgorithm::kSha256, {policy.rego()});
}

std::string CacheKey(const trellis::GtaPolicy& policy) {
  return absl::StrCat(policy.user_id(), std::string(1, '\0'), policy.id());
}

}  // namespace

absl::Status ValidateUserId(const std::string& user_id) {
  if (user_id.empty() || user_id.size() > kMaxIdLength) {
    return absl::InvalidArgumentError("User-Id must be 1 to 36 characters");
  }
  for (char c : user_id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          "User-Id must not hold control characters");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const policy::RegoProgram>>
PolicyManager::Compile(const std::string& user_id,
                       const std::string& content_type,
                       const std::string& content,
                       const std::vector<std::string>& attester_types,
                       std::string* rego) {
  std::string base64 = content;
  if (content_type == "jwt") {
    // Signed by one of the user's certificates of type policy; the Rego is
    // the payload's "policy" (base64).
    if (content.size() > 2 * kMaxPolicyRegoBytes) {
      return absl::InvalidArgumentError("the signed policy is too large");
    }
    absl::StatusOr<std::vector<trellis::GtaCert>> certs =
        storage_->ListCerts(user_id);
    if (!certs.ok()) return certs.status();
    absl::StatusOr<nlohmann::json> payload =
        VerifySignedContent(content, CertificatesOfType(*certs, "policy"));
    if (!payload.ok()) return payload.status();
    const auto policy = payload->find("policy");
    if (policy == payload->end() || !policy->is_string()) {
      return absl::InvalidArgumentError(
          "the signed policy's payload must hold policy (base64 Rego)");
    }
    base64 = policy->get<std::string>();
  } else if (content_type != "text") {
    return absl::InvalidArgumentError("content_type must be jwt or text");
  }
  // Base64 of at most 500 KiB.
  if (base64.empty() || base64.size() > (kMaxPolicyRegoBytes + 2) / 3 * 4) {
    return absl::InvalidArgumentError(
        "content must be the base64 of 1 byte to 500 KiB of Rego");
  }
  if (!absl::Base64Unescape(base64, rego) || rego->empty()) {
    return absl::InvalidArgumentError("content is not base64");
  }
  if (rego->size() > kMaxPolicyRegoBytes) {
    return absl::InvalidArgumentError("the policy is larger than 500 KiB");
  }
  absl::StatusOr<std::unique_ptr<policy::RegoProgram>> compiled =
      CompileUserPolicy(*sandbox_, *rego, attester_types);
  if (!compiled.ok()) return compiled.status();
  return std::shared_ptr<const policy::RegoProgram>(std::move(*compiled));
}

absl::Status PolicyManager::Record(const trellis::GtaPolicy& policy,
                                   const std::string& action) {
  trellis::GtaChangeRecord record;
  record.set_user_id(policy.user_id());
  record.set_resource("policy");
  record.set_action(action);
  record.set_resource_id(policy.id());
  record.set_version(policy.version());
  record.set_name(policy.name());
  record.set_content_sha256(
      crypto::Digest(crypto::DigestAlgorithm::kSha256, {policy.rego()}));
  absl::StatusOr<std::string> appended = changes_->Append(std::move(record));
  return appended.status();
}

absl::StatusOr<trellis::GtaPolicy> PolicyManager::Add(
    const std::string& user_id, NewPolicy request) {
  if (absl::Status s = ValidateUserId(user_id); !s.ok()) return s;
  if (!request.id.empty()) {
    if (absl::Status s = CheckLength(request.id, 1, kMaxIdLength, "id");
        !s.ok()) {
      return s;
    }
  }
  for (const absl::Status& s :
       {CheckLength(request.name, 1, kMaxNameLength, "name"),
        CheckLength(request.description, 0, kMaxDescriptionLength,
                    "description"),
        CheckAttesterTypes(request.attester_types)}) {
    if (!s.ok()) return s;
  }
  std::string rego;
  absl::StatusOr<std::shared_ptr<const policy::RegoProgram>> compiled =
      Compile(user_id, request.content_type, request.content,
              request.attester_types, &rego);
  if (!compiled.ok()) return compiled.status();

  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::vector<trellis::GtaPolicy>> held =
      storage_->ListPolicies(user_id);
  if (!held.ok()) return held.status();
  if (held->size() >= kMaxPoliciesPerUser) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "a user may hold at most ", kMaxPoliciesPerUser, " policies"));
  }
  if (request.id.empty()) request.id = crypto::RandomUuid();
  for (const trellis::GtaPolicy& policy : *held) {
    if (policy.id() == request.id) {
      return absl::AlreadyExistsError("a policy with this id exists");
    }
    if (policy.name() == request.name) {
      return absl::AlreadyExistsError("a policy with this name exists");
    }
  }
  trellis::GtaPolicy policy;
  policy.set_user_id(user_id);
  policy.set_id(request.id);
  policy.set_name(request.name);
  policy.set_description(request.description);
  for (std::string& type : request.attester_types) {
    policy.add_attester_types(std::move(type));
  }
  policy.set_content_type(request.content_type);
  policy.set_rego(std::move(rego));
  policy.set_is_default(request.is_default);
  policy.set_version(1);
  policy.set_update_time(absl::ToUnixSeconds(clock_()));
  // Logged first: a change is never stored without its record.
  if (absl::Status s = Record(policy, "add"); !s.ok()) return s;
  if (absl::Status s = storage_->PutPolicy(policy); !s.ok()) return s;
  absl::MutexLock cache(&cache_mu_);
  compiled_[CacheKey(policy)] = {RegoDigest(policy), *std::move(compiled)};
  return policy;
}

absl::StatusOr<trellis::GtaPolicy> PolicyManager::Update(
    const std::string& user_id, PolicyChange change) {
  if (absl::Status s = ValidateUserId(user_id); !s.ok()) return s;
  if (absl::Status s = CheckLength(change.id, 1, kMaxIdLength, "id"); !s.ok()) {
    return s;
  }
  if (change.name) {
    if (absl::Status s = CheckLength(*change.name, 1, kMaxNameLength, "name");
        !s.ok()) {
      return s;
    }
  }
  if (change.description) {
    if (absl::Status s = CheckLength(*change.description, 0,
                                     kMaxDescriptionLength, "description");
        !s.ok()) {
      return s;
    }
  }
  if (change.attester_types) {
    if (absl::Status s = CheckAttesterTypes(*change.attester_types); !s.ok()) {
      return s;
    }
  }
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::vector<trellis::GtaPolicy>> held =
      storage_->ListPolicies(user_id);
  if (!held.ok()) return held.status();
  // Checked before the change is logged: a broken row is never updated.
  absl::StatusOr<trellis::GtaPolicy> found =
      FindIntact(*held, change.id, "policy");
  if (!found.ok()) return found.status();
  trellis::GtaPolicy policy = *std::move(found);
  if (change.name && *change.name != policy.name()) {
    for (const trellis::GtaPolicy& other : *held) {
      if (other.name() == *change.name) {
        return absl::AlreadyExistsError("a policy with this name exists");
      }
    }
    policy.set_name(*change.name);
  }
  if (change.description) policy.set_description(*change.description);
  if (change.attester_types) {
    policy.clear_attester_types();
    for (const std::string& type : *change.attester_types) {
      policy.add_attester_types(type);
    }
  }
  if (change.is_default) policy.set_is_default(*change.is_default);
  if (change.content_type && !change.content &&
      *change.content_type != policy.content_type()) {
    return absl::InvalidArgumentError(
        "content_type can only change with new content");
  }
  std::shared_ptr<const policy::RegoProgram> compiled;
  if (change.content || change.content_type || change.attester_types) {
    // New content, or old content for new types: checked again.
    const std::string content_type =
        change.content_type.value_or(policy.content_type());
    std::string rego;
    const std::vector<std::string> types(policy.attester_types().begin(),
                                         policy.attester_types().end());
    // New content is checked as uploaded; the held Rego (its signature was
    // checked at upload) only against the new types.
    absl::StatusOr<std::shared_ptr<const policy::RegoProgram>> recompiled =
        change.content
            ? Compile(user_id, content_type, *change.content, types, &rego)
            : Compile(user_id, "text", absl::Base64Escape(policy.rego()), types,
                      &rego);
    if (!recompiled.ok()) return recompiled.status();
    compiled = *std::move(recompiled);
    policy.set_content_type(content_type);
    policy.set_rego(std::move(rego));
  }
  policy.set_version(policy.version() + 1);
  policy.set_update_time(absl::ToUnixSeconds(clock_()));
  if (absl::Status s = Record(policy, "update"); !s.ok()) return s;
  if (absl::Status s = storage_->PutPolicy(policy); !s.ok()) return s;
  if (compiled != nullptr) {
    absl::MutexLock cache(&cache_mu_);
    compiled_[CacheKey(policy)] = {RegoDigest(policy), std::move(compiled)};
  }
  return policy;
}

absl::StatusOr<std::vector<trellis::GtaPolicy>> PolicyManager::Delete(
    const std::string& user_id, const PolicyDeletion& deletion) {
  if (absl::Status s = ValidateUserId(user_id); !s.ok()) return s;
  if (deletion.delete_type == "id") {
    if (deletion.ids.empty() || deletion.ids.size() > kMaxIdsPerRequest) {
      return absl::InvalidArgumentError("ids must name 1 to 10 policies");
    }
  } else if (deletion.delete_type == "attester_type") {
    if (absl::Status s = CheckLength(deletion.attester_type, 1, kMaxNameLength,
                                     "attester_type");
        !s.ok()) {
      return s;
    }
  } else if (deletion.delete_type != "all") {
    return absl::InvalidArgumentError(
        "delete_type must be id, attester_type or all");
  }
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::vector<trellis::GtaPolicy>> held =
      storage_->ListPolicies(user_id);
  if (!held.ok()) return held.status();
  const std::set<std::string> ids(deletion.ids.begin(), deletion.ids.end());
  std::vector<trellis::GtaPolicy> doomed;
  for (const trellis::GtaPolicy& policy : *held) {
    if (deletion.delete_type == "all" ||
        (deletion.delete_type == "id" && ids.count(policy.id())) ||
        (deletion.delete_type == "attester_type" &&
         HasType(policy, deletion.attester_type))) {
      doomed.push_back(policy);
    }
  }
  std::vector<std::string> doomed_ids;
  for (const trellis::GtaPolicy& policy : doomed) {
    if (absl::Status s = Record(policy, "delete"); !s.ok()) return s;
    doomed_ids.push_back(policy.id());
  }
  if (absl::Status s = storage_->DeletePolicies(user_id, doomed_ids); !s.ok()) {
    return s;
  }
  absl::MutexLock cache(&cache_mu_);
  for (const trellis::GtaPolicy& policy : doomed) {
    compiled_.erase(CacheKey(policy));
  }
  return doomed;
}

absl::StatusOr<std::vector<trellis::GtaPolicy>> PolicyManager::Query(
    const std::string& user_id, const std::vector<std::string>& ids,
    const std::string& attester_type) {
  if (absl::Status s = ValidateUserId(user_id); !s.ok()) return s;
  if (ids.size() > kMaxIdsPerRequest) {
    return absl::InvalidArgumentError("at most 10 ids per query");
  }
  absl::StatusOr<std::vector<trellis::GtaPolicy>> held =
      storage_->ListPolicies(user_id);
  if (!held.ok()) return held.status();
  const std::set<std::string> wanted(ids.begin(), ids.end());
  std::vector<trellis::GtaPolicy> out;
  for (trellis::GtaPolicy& policy : *held) {
    if (!wanted.empty()
            ? wanted.count(policy.id()) > 0
            : attester_type.empty() || HasType(policy, attester_type)) {
      out.push_back(std::move(policy));
    }
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const policy::RegoProgram>>
PolicyManager::Compiled(const trellis::GtaPolicy& policy) {
  {
    absl::MutexLock cache(&cache_mu_);
    auto it = compiled_.find(CacheKey(policy));
    if (it != compiled_.end() && it->second.rego_sha256 == RegoDigest(policy)) {
      return it->second.rego;
    }
  }
  // Compiled after a restart (or after another version was cached).
  absl::StatusOr<std::unique_ptr<policy::RegoProgram>> compiled =
      sandbox_->Compile({{policy.id(), policy.rego()}});
  if (!compiled.ok()) return compiled.status();
  std::shared_ptr<const policy::RegoProgram> shared = std::move(*compiled);
  absl::MutexLock cache(&cache_mu_);
  compiled_[CacheKey(policy)] = {RegoDigest(policy), shared};
  return shared;
}

absl::StatusOr<std::vector<AppliedPolicy>> PolicyManager::ForAttestation(
    const std::string& user_id, const std::string& attester_type,
    const std::vector<std::string>& ids) {
  if (absl::Status s = ValidateUserId(user_id); !s.ok()) return s;
  if (ids.size() > kMaxIdsPerRequest) {
    return absl::InvalidArgumentError("policy_ids holds at most 10 ids");
  }
  absl::StatusOr<std::vector<trellis::GtaPolicy>> held =
      storage_->ListPolicies(user_id);
  if (!held.ok()) return held.status();
  // Any broken row refuses: its is_default, types or id may be what was
  // changed, and skipping a policy could turn a fail into a pass.
  for (const trellis::GtaPolicy& policy : *held) {
    if (absl::Status s = Intact(policy); !s.ok()) return s;
  }
  std::vector<AppliedPolicy> applied;
  if (!ids.empty()) {
    std::vector<std::string> missing;
    for (const std::string& id : ids) {
      auto found = std::find_if(
          held->begin(), held->end(), [&](const trellis::GtaPolicy& p) {
            return p.id() == id && HasType(p, attester_type);
          });
      if (found == held->end()) {
        missing.push_back(id);
      } else {
        applied.push_back({*found, nullptr});
      }
    }
    if (!missing.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Policy not found for ids: [", absl::StrJoin(missing, ", "), "]"));
    }
  } else {
    for (const trellis::GtaPolicy& policy : *held) {
      if (policy.is_default() && HasType(policy, attester_type)) {
        applied.push_back({policy, nullptr});
      }
    }
  }
  for (AppliedPolicy& policy : applied) {
    absl::StatusOr<std::shared_ptr<const policy::RegoProgram>> rego =
        Compiled(policy.policy);
    if (!rego.ok()) return rego.status();
    policy.rego = *std::move(rego);
  }
  return applied;
}

}  // namespace trellis::gta
