#include "agent/agent_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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
  if (unlink(SvidPath().c_str()) != 0 && errno != ENOENT) {
    return absl::UnavailableError(
        absl::StrCat("cannot delete ", SvidPath(), ": ", strerror(errno)));
  }
  return absl::OkStatus();
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
