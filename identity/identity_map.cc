#include "identity/identity_map.h"

#include <cstdio>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "crypto/digest.h"
#include "identity/issuance_log.h"
#include "logging/log.h"
#include "trellis_identity.pb.h"

namespace trellis::identity {
namespace {

// Whether `record` rests on a verdict in this server's attestation log (a
// remote verifier's verdicts are in its own log, which the map does not
// follow).
bool HasLocalVerdict(const trellis::IssuanceRecord& record) {
  return !record.attestation_audit_id().empty() &&
         record.attestation_verifier().empty();
}

constexpr char kMapSetting[] = "identity_map_id";
// The issuance log size the map covers.
constexpr char kSyncedSetting[] = "identity_map_synced";
// Most issuance records one map revision takes in (bounds a pass's memory;
// the next pass goes on from there).
constexpr int64_t kMaxRecordsPerPass = 100000;

absl::StatusOr<int64_t> IntSetting(storage::IdentityStorage* settings,
                                   const char* name) {
  absl::StatusOr<std::optional<std::string>> kept = settings->GetSetting(name);
  if (!kept.ok()) return kept.status();
  int64_t value = 0;
  if (kept->has_value() && !absl::SimpleAtoi(**kept, &value)) {
    return absl::DataLossError(absl::StrCat("setting ", name, " is corrupt"));
  }
  return value;
}

}  // namespace

std::string IdentityMapIndex(const std::string& spiffe_id) {
  return crypto::Digest(crypto::DigestAlgorithm::kSha256, {spiffe_id});
}

IdentityMap::IdentityMap(storage::IdentityStorage* settings,
                         log::LogManager* logs, map::MapManager* maps,
                         IssuanceLogId issuance_log, MapCreator create_map)
    : settings_(settings),
      logs_(logs),
      maps_(maps),
      issuance_log_(std::move(issuance_log)),
      create_map_(std::move(create_map)) {}

IdentityMap::~IdentityMap() { Stop(); }

absl::StatusOr<int64_t> IdentityMap::MapId() {
  return IntSetting(settings_, kMapSetting);
}

absl::StatusOr<int64_t> IdentityMap::MapIdOrCreate() {
  absl::StatusOr<int64_t> kept = MapId();
  if (!kept.ok() || *kept != 0) return kept;
  absl::StatusOr<int64_t> created = create_map_();
  if (!created.ok()) return created.status();
  if (absl::Status s =
          settings_->PutSetting(kMapSetting, absl::StrCat(*created));
      !s.ok()) {
    return s;
  }
  return created;
}

absl::StatusOr<absl::flat_hash_map<std::string, std::string>>
IdentityMap::Verdicts(const std::vector<trellis::IssuanceRecord>& records) {
  // Audit ids (hex leaf hashes) per attestation log.
  absl::flat_hash_map<int64_t, std::vector<std::string>> wanted;
  for (const trellis::IssuanceRecord& record : records) {
    if (!HasLocalVerdict(record)) continue;
    wanted[record.attestation_log_id()].push_back(
        absl::HexStringToBytes(record.attestation_audit_id()));
  }
  absl::flat_hash_map<std::string, std::string> verdicts;
  for (auto& [log_id, hashes] : wanted) {
    for (size_t start = 0; start < hashes.size(); start += 1000) {
      google::protobuf::RepeatedPtrField<std::string> chunk(
          hashes.begin() + start,
          hashes.begin() + std::min(hashes.size(), start + 1000));
      auto found = logs_->LeavesByHash(log_id, chunk, false);
      if (!found.ok()) return found.status();
      for (const trillian::LogLeaf& leaf :
           found->value.value_or(std::vector<trillian::LogLeaf>{})) {
        verdicts[absl::BytesToHexString(leaf.merkle_leaf_hash())] =
            leaf.leaf_value();
      }
    }
  }
  for (const trellis::IssuanceRecord& record : records) {
    if (HasLocalVerdict(record) &&
        !verdicts.contains(record.attestation_audit_id())) {
      // Verdicts are logged before the issuances resting on them, but in
      // another tree: wait for its integration rather than map without it.
      return absl::UnavailableError(absl::StrCat(
          "verdict ", record.attestation_audit_id(), " is not integrated yet"));
    }
  }
  return verdicts;
}

absl::StatusOr<int64_t> IdentityMap::Sync() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<int64_t> log_id = issuance_log_();
  if (!log_id.ok()) return log_id.status();
  if (*log_id == 0) return 0;
  absl::StatusOr<int64_t> synced = IntSetting(settings_, kSyncedSetting);
  if (!synced.ok()) return synced.status();

  // The latest issuance per SPIFFE ID among the leaves integrated since.
  absl::flat_hash_map<std::string, trellis::IdentityMapValue> latest;
  int64_t position = *synced;
  while (position - *synced < kMaxRecordsPerPass) {
    auto leaves = logs_->LeavesByRange(*log_id, position, kMaxRecordsPerPass);
    if (!leaves.ok()) return leaves.status();
    if (!leaves->value.has_value() || leaves->value->empty()) break;
    for (const trillian::LogLeaf& leaf : *leaves->value) {
      trellis::IdentityMapValue value;
      if (!value.mutable_record()->ParseFromString(leaf.leaf_value()) ||
          value.record().type() != kIssuanceRecordType) {
        return absl::DataLossError(absl::StrCat(
            "issuance log leaf ", leaf.leaf_index(), " is not a record"));
      }
      value.set_issuance_log_id(*log_id);
      value.set_leaf_index(leaf.leaf_index());
      value.set_leaf_hash(leaf.merkle_leaf_hash());
      latest[IdentityMapIndex(value.record().spiffe_id())] = std::move(value);
      position = leaf.leaf_index() + 1;
    }
  }
  if (latest.empty()) return position;

  std::vector<trellis::IssuanceRecord> records;
  records.reserve(latest.size());
  for (const auto& [index, value] : latest) records.push_back(value.record());
  absl::StatusOr<absl::flat_hash_map<std::string, std::string>> verdicts =
      Verdicts(records);
  if (!verdicts.ok()) return verdicts.status();
  google::protobuf::RepeatedPtrField<trillian::MapLeaf> leaves;
  for (auto& [index, value] : latest) {
    if (auto verdict = verdicts->find(value.record().attestation_audit_id());
        verdict != verdicts->end()) {
      value.set_verdict_leaf(verdict->second);
    }
    trillian::MapLeaf* leaf = leaves.Add();
    leaf->set_index(index);
    leaf->set_leaf_value(SerializeRecord(value));
  }
  absl::StatusOr<int64_t> map_id = MapIdOrCreate();
  if (!map_id.ok()) return map_id.status();
  absl::StatusOr<trillian::SignedMapRoot> written = maps_->Write(
      *map_id, leaves,
      absl::StrCat("issuance log ", *log_id, " size ", position), 0);
  if (!written.ok()) return written.status();
  // After the revision: a crash in between redoes this pass (same values).
  if (absl::Status s =
          settings_->PutSetting(kSyncedSetting, absl::StrCat(position));
      !s.ok()) {
    return s;
  }
  return position;
}

void IdentityMap::Start(absl::Duration interval) {
  thread_ = std::thread([this, interval] {
    absl::MutexLock lock(&stop_mu_);
    while (!stopping_) {
      stop_mu_.Unlock();
      absl::StatusOr<int64_t> synced = Sync();
      if (!synced.ok() && !absl::IsUnavailable(synced.status())) {
        logging::Error("identity-map", "sync failed",
                       {{"error", synced.status().ToString()}});
      }
      stop_mu_.Lock();
      stop_mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval);
    }
  });
}

void IdentityMap::Stop() {
  {
    absl::MutexLock lock(&stop_mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace trellis::identity
