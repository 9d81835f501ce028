#include "gta/ref_value_manager.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "crypto/digest.h"
#include "crypto/random.h"
#include "gta/policy_manager.h"
#include "gta/sealed_storage.h"
#include "gta/signed_content.h"

namespace trellis::gta {
namespace {

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

absl::Status CheckText(const std::string& value, size_t min, size_t max,
                       const char* field) {
  if (value.size() < min || value.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be ", min, " to ", max, " characters long"));
  }
  return absl::OkStatus();
}

bool IsSha256Hex(const std::string& text) {
  return text.size() == 64 &&
         text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> RefValueManager::Verify(
    const std::string& user_id, const std::string& content) {
  if (content.empty() || content.size() > kMaxRefValueBytes) {
    return Invalid("content must be a signed JWT of at most 10 MiB");
  }
  absl::StatusOr<std::vector<trellis::GtaCert>> certs =
      storage_->ListCerts(user_id);
  if (!certs.ok()) return certs.status();
  absl::StatusOr<nlohmann::json> payload =
      VerifySignedContent(content, CertificatesOfType(*certs, "refvalue"));
  if (!payload.ok()) return payload.status();
  const auto values = payload->find("referenceValues");
  if (values == payload->end() || !values->is_array()) {
    return Invalid("the content must hold a referenceValues list");
  }
  std::vector<std::string> digests;
  for (const nlohmann::json& value : *values) {
    const auto sha256 = value.find("sha256");
    if (!value.is_object() || sha256 == value.end() || !sha256->is_string() ||
        !IsSha256Hex(absl::AsciiStrToLower(sha256->get<std::string>()))) {
      return Invalid("each reference value needs a sha256 hex digest");
    }
    digests.push_back(absl::AsciiStrToLower(sha256->get<std::string>()));
  }
  return digests;
}

absl::Status RefValueManager::Record(const trellis::GtaRefValue& value,
                                     const std::string& action) {
  trellis::GtaChangeRecord record;
  record.set_user_id(value.user_id());
  record.set_resource("ref_value");
  record.set_action(action);
  record.set_resource_id(value.id());
  record.set_version(value.version());
  record.set_name(value.name());
  record.set_content_sha256(
      crypto::Digest(crypto::DigestAlgorithm::kSha256, {value.content()}));
  return changes_->Append(std::move(record)).status();
}

absl::StatusOr<trellis::GtaRefValue> RefValueManager::Add(
    const std::string& user_id, NewRefValue request) {
  if (absl::Status s = ValidateUserId(user_id); !s.ok()) return s;
  for (const absl::Status& s :
       {CheckText(request.name, 1, 255, "name"),
        CheckText(request.description, 0, 512, "description")}) {
    if (!s.ok()) return s;
  }
  if (request.attester_type != "tpm_ima") {
    return Invalid("attester_type must be tpm_ima");
  }
  absl::StatusOr<std::vector<std::string>> digests =
      Verify(user_id, request.content);
  if (!digests.ok()) return digests.status();
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::vector<trellis::GtaRefValue>> held =
      storage_->ListRefValues(user_id);
  if (!held.ok()) return held.status();
  if (held->size() >= kMaxRefValuesPerUser) {
    return absl::ResourceExhaustedError(
        "a user may hold at most 100 reference values");
  }
  for (const trellis::GtaRefValue& other : *held) {
    if (other.name() == request.name) {
      return absl::AlreadyExistsError(
          "a reference value with this name exists");
    }
  }
  trellis::GtaRefValue value;
  value.set_user_id(user_id);
  // A random decimal uint64 id, as GTA's look.
  uint64_t id = 0;
  for (unsigned char byte : crypto::RandomBytes(8)) id = (id << 8) | byte;
  value.set_id(absl::StrCat(id >> 1));
  value.set_name(request.name);
  value.set_description(request.description);
  value.set_attester_type(request.attester_type);
  value.set_content(request.content);
  for (std::string& digest : *digests) value.add_sha256(std::move(digest));
  value.set_is_default(request.is_default);
  value.set_version(1);
  value.set_update_time(absl::ToUnixSeconds(clock_()));
  if (absl::Status s = Record(value, "add"); !s.ok()) return s;
  if (absl::Status s = storage_->PutRefValue(value); !s.ok()) return s;
  return value;
}

absl::StatusOr<trellis::GtaRefValue> RefValueManager::Update(
    const std::string& user_id, RefValueChange change) {
  if (absl::Status s = ValidateUserId(user_id); !s.ok()) return s;
  if (change.name) {
    if (absl::Status s = CheckText(*change.name, 1, 255, "name"); !s.ok()) {
      return s;
    }
  }
  if (change.description) {
    if (absl::Status s = CheckText(*change.description, 0, 512, "description");
        !s.ok()) {
      return s;
    }
  }
  std::optional<std::vector<std::string>> digests;
  if (change.content) {
    absl::StatusOr<std::vector<std::string>> verified =
        Verify(user_id, *change.content);
    if (!verified.ok()) return verified.status();
    digests = *std::move(verified);
  }
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::vector<trellis::GtaRefValue>> held =
      storage_->ListRefValues(user_id);
  if (!held.ok()) return held.status();
  absl::StatusOr<trellis::GtaRefValue> found =
      FindIntact(*held, change.id, "reference value");
  if (!found.ok()) return found.status();
  trellis::GtaRefValue value = *std::move(found);
  if (change.name && *change.name != value.name()) {
    for (const trellis::GtaRefValue& other : *held) {
      if (other.name() == *change.name) {
        return absl::AlreadyExistsError(
            "a reference value with this name exists");
      }
    }
    value.set_name(*change.name);
  }
  if (change.description) value.set_description(*change.description);
  if (change.is_default) value.set_is_default(*change.is_default);
  if (digests) {
    value.set_content(*change.content);
    value.clear_sha256();
    for (std::string& digest : *digests) value.add_sha256(std::move(digest));
  }
  value.set_version(value.version() + 1);
  value.set_update_time(absl::ToUnixSeconds(clock_()));
  if (absl::Status s = Record(value, "update"); !s.ok()) return s;
  if (absl::Status s = storage_->PutRefValue(value); !s.ok()) return s;
  return value;
}

absl::StatusOr<std::vector<trellis::GtaRefValue>> RefValueManager::Delete(
    const std::string& user_id, const std::string& delete_type,
    const std::vector<std::string>& ids, const std::string& attester_type) {
  if (absl::Status s = ValidateUserId(user_id); !s.ok()) return s;
  // "ids" is the API document example's spelling.
  const bool by_id = delete_type == "id" || delete_type == "ids";
  if (by_id && (ids.empty() || ids.size() > 10)) {
    return Invalid("ids must name 1 to 10 reference values");
  }
  if (!by_id && delete_type != "type" && delete_type != "all") {
    return Invalid("delete_type must be id, type or all");
  }
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::vector<trellis::GtaRefValue>> held =
      storage_->ListRefValues(user_id);
  if (!held.ok()) return held.status();
  std::vector<trellis::GtaRefValue> doomed;
  std::vector<std::string> doomed_ids;
  for (const trellis::GtaRefValue& value : *held) {
    if (delete_type == "all" ||
        (by_id && std::find(ids.begin(), ids.end(), value.id()) != ids.end()) ||
        (delete_type == "type" && value.attester_type() == attester_type)) {
      if (absl::Status s = Record(value, "delete"); !s.ok()) return s;
      doomed.push_back(value);
      doomed_ids.push_back(value.id());
    }
  }
  if (absl::Status s = storage_->DeleteRefValues(user_id, doomed_ids);
      !s.ok()) {
    return s;
  }
  return doomed;
}

absl::StatusOr<std::vector<trellis::GtaRefValue>> RefValueManager::Query(
    const std::string& user_id, const std::vector<std::string>& ids,
    const std::string& attester_type) {
  if (absl::Status s = ValidateUserId(user_id); !s.ok()) return s;
  if (ids.size() > 10) return Invalid("at most 10 ids per query");
  absl::StatusOr<std::vector<trellis::GtaRefValue>> held =
      storage_->ListRefValues(user_id);
  if (!held.ok()) return held.status();
  std::vector<trellis::GtaRefValue> out;
  for (trellis::GtaRefValue& value : *held) {
    const bool match =
        !ids.empty()
            ? std::find(ids.begin(), ids.end(), value.id()) != ids.end()
            : attester_type.empty() || value.attester_type() == attester_type;
    if (match) out.push_back(std::move(value));
  }
  return out;
}

absl::StatusOr<std::set<std::string>> RefValueManager::Digests(
    const std::string& user_id) {
  absl::StatusOr<std::vector<trellis::GtaRefValue>> held =
      storage_->ListRefValues(user_id);
  if (!held.ok()) return held.status();
  std::set<std::string> digests;
  for (const trellis::GtaRefValue& value : *held) {
    // A row that failed its integrity check vouches for nothing.
    if (value.valid_code() != 0) continue;
    digests.insert(value.sha256().begin(), value.sha256().end());
  }
  return digests;
}

}  // namespace trellis::gta
