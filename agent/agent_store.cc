#include "agent/agent_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ca/x509.h"
#include "nlohmann/json.hpp"
#include "util/file.h"
#include "util/json_fields.h"

namespace trellis::agent {
namespace {

std::string PemChain(const std::vector<std::string>& certs_der) {
  std::string pem;
  for (const std::string& der : certs_der) {
    pem += ca::DerToPem(der, "CERTIFICATE");
  }
  return pem;
}

}  // namespace

std::string AgentSvid::ChainPem() const { return PemChain(chain_der); }

absl::Status DescribeSvid(AgentSvid& svid) {
  if (svid.chain_der.empty()) {
    return absl::InvalidArgumentError("empty SVID chain");
  }
  absl::StatusOr<ca::CertificateInfo> leaf =
      ca::DescribeCertificate(svid.chain_der.front());
  if (!leaf.ok()) return leaf.status();
  if (leaf->uri_sans.size() != 1 || leaf->is_ca) {
    return absl::InvalidArgumentError("agent certificate is not an X509-SVID");
  }
  svid.spiffe_id = leaf->uri_sans.front();
  svid.not_before = leaf->validity.not_before;
  svid.not_after = leaf->validity.not_after;
  return absl::OkStatus();
}

absl::StatusOr<AgentStore> AgentStore::Open(const std::string& data_dir) {
  if (mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", data_dir, ": ", strerror(errno)));
  }
  return AgentStore(data_dir);
}

absl::StatusOr<std::optional<AgentSvid>> AgentStore::LoadSvid() const {
  absl::StatusOr<std::string> text = ReadFile(SvidPath(), {.no_follow = true});
  if (absl::IsNotFound(text.status())) return std::nullopt;
  if (!text.ok()) return text.status();
  const nlohmann::json stored = nlohmann::json::parse(*text, nullptr, false);
  AgentSvid svid;
  absl::StatusOr<std::string> key = json_fields::String(stored, "key_pem");
  absl::StatusOr<std::string> chain = json_fields::String(stored, "chain_pem");
  absl::StatusOr<std::optional<bool>> reattestable =
      json_fields::OptionalBool(stored, "reattestable");
  if (!key.ok() || !chain.ok() || !reattestable.ok()) {
    return absl::DataLossError(
        absl::StrCat(SvidPath(), " is not an agent SVID file"));
  }
  absl::StatusOr<std::vector<std::string>> certs =
      ca::CertificatesFromPem(*chain);
  if (!certs.ok()) return absl::DataLossError(certs.status().message());
  svid.key_pem = std::move(*key);
  svid.chain_der = std::move(*certs);
  svid.reattestable = reattestable->value_or(false);
  if (absl::Status s = DescribeSvid(svid); !s.ok()) {
    return absl::DataLossError(s.message());
  }
  return svid;
}

absl::Status AgentStore::SaveSvid(const AgentSvid& svid) const {
  const nlohmann::json stored = {{"key_pem", svid.key_pem},
                                 {"chain_pem", svid.ChainPem()},
                                 {"reattestable", svid.reattestable}};
  return ReplaceFile(SvidPath(), stored.dump(), 0600);
}

absl::Status AgentStore::DeleteSvid() const {
  unlink(SnapshotPath().c_str());  // Its SVIDs go with the agent's.
  if (unlink(SvidPath().c_str()) != 0 && errno != ENOENT) {
    return absl::UnavailableError(
        absl::StrCat("cannot delete ", SvidPath(), ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

namespace {

using nlohmann::json;

std::string B64(const std::string& bytes) { return absl::Base64Escape(bytes); }

absl::StatusOr<std::string> FromB64(const json& value) {
  std::string bytes;
  if (!value.is_string() ||
      !absl::Base64Unescape(value.get<std::string>(), &bytes)) {
    return absl::DataLossError("svid cache: not base64");
  }
  return bytes;
}

}  // namespace

absl::Status AgentStore::SaveSnapshot(const Snapshot& snapshot) const {
  json entries = json::array();
  for (const auto& [id, entry] : snapshot.entries) {
    entries.push_back(B64(entry.SerializeAsString()));
  }
  json svids = json::array();
  for (const auto& [id, svid] : snapshot.svids) {
    json chain = json::array();
    for (const std::string& der : svid.chain_der) chain.push_back(B64(der));
    svids.push_back({{"entry_id", svid.entry_id},
                     {"spiffe_id", svid.spiffe_id},
                     {"key", B64(svid.key_der)},
                     {"chain", chain},
                     {"not_before", absl::ToUnixSeconds(svid.not_before)},
                     {"not_after", absl::ToUnixSeconds(svid.not_after)}});
  }
  json federated = json::object();
  for (const auto& [td, bundle] : snapshot.federated) {
    federated[td] = B64(bundle.SerializeAsString());
  }
  const json stored = {{"entries", entries},
                       {"svids", svids},
                       {"bundle", B64(snapshot.bundle.SerializeAsString())},
                       {"federated", federated}};
  return ReplaceFile(SnapshotPath(), stored.dump(), 0600);
}

absl::StatusOr<std::optional<Snapshot>> AgentStore::LoadSnapshot() const {
  absl::StatusOr<std::string> text =
      ReadFile(SnapshotPath(), {.max_bytes = 256 << 20, .no_follow = true});
  if (absl::IsNotFound(text.status())) return std::nullopt;
  if (!text.ok()) return text.status();
  const json stored = json::parse(*text, nullptr, false);
  const json* entries = json_fields::Find(stored, "entries");
  const json* svids = json_fields::Find(stored, "svids");
  const json* federated = json_fields::Find(stored, "federated");
  if (entries == nullptr || !entries->is_array() || svids == nullptr ||
      !svids->is_array() || federated == nullptr || !federated->is_object()) {
    return absl::DataLossError("svid cache is malformed");
  }
  Snapshot snapshot;
  for (const json& encoded : *entries) {
    absl::StatusOr<std::string> bytes = FromB64(encoded);
    spire::api::types::Entry entry;
    if (!bytes.ok() || !entry.ParseFromString(*bytes)) {
      return absl::DataLossError("svid cache: bad entry");
    }
    snapshot.entries[entry.id()] = std::move(entry);
  }
  for (const json& encoded : *svids) {
    absl::StatusOr<std::string> entry_id =
        json_fields::String(encoded, "entry_id");
    absl::StatusOr<std::string> spiffe_id =
        json_fields::String(encoded, "spiffe_id");
    absl::StatusOr<int64_t> not_before =
        json_fields::Integer(encoded, "not_before");
    absl::StatusOr<int64_t> not_after =
        json_fields::Integer(encoded, "not_after");
    absl::StatusOr<std::string> key_der = json_fields::Base64(encoded, "key");
    const json* chain = json_fields::Find(encoded, "chain");
    if (!entry_id.ok() || !spiffe_id.ok() || !not_before.ok() ||
        !not_after.ok() || !key_der.ok() || chain == nullptr ||
        !chain->is_array() || chain->empty()) {
      return absl::DataLossError("svid cache: bad SVID");
    }
    WorkloadSvid svid;
    for (const json& der : *chain) {
      absl::StatusOr<std::string> cert = FromB64(der);
      if (!cert.ok()) return cert.status();
      svid.chain_der.push_back(std::move(*cert));
    }
    svid.entry_id = *entry_id;
    svid.spiffe_id = *spiffe_id;
    svid.key_der = std::move(*key_der);
    svid.not_before = absl::FromUnixSeconds(*not_before);
    svid.not_after = absl::FromUnixSeconds(*not_after);
    snapshot.svids[*entry_id] = std::move(svid);
  }
  absl::StatusOr<std::string> bundle = json_fields::Base64(stored, "bundle");
  if (!bundle.ok() || !snapshot.bundle.ParseFromString(*bundle)) {
    return absl::DataLossError("svid cache: bad bundle");
  }
  for (const auto& [td, encoded] : federated->items()) {
    absl::StatusOr<std::string> bytes = FromB64(encoded);
    if (!bytes.ok() || !snapshot.federated[td].ParseFromString(*bytes)) {
      return absl::DataLossError("svid cache: bad federated bundle");
    }
  }
  return snapshot;
}

absl::StatusOr<std::optional<std::vector<std::string>>> AgentStore::LoadBundle()
    const {
  absl::StatusOr<std::string> pem = ReadFile(BundlePath());
  if (absl::IsNotFound(pem.status())) return std::nullopt;
  if (!pem.ok()) return pem.status();
  absl::StatusOr<std::vector<std::string>> roots =
      ca::CertificatesFromPem(*pem, 1024);
  if (!roots.ok()) return absl::DataLossError(roots.status().message());
  return *roots;
}

absl::Status AgentStore::SaveBundle(
    const std::vector<std::string>& roots_der) const {
  return ReplaceFile(BundlePath(), PemChain(roots_der), 0644);
}

}  // namespace trellis::agent
