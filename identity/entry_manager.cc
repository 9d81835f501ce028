#include "identity/entry_manager.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "crypto/random.h"
#include "spiffe/id.h"

namespace trellis::identity {
namespace {

// Past its expiry (0: none): it authorises nothing and is pruned.
bool Expired(const Entry& entry, int64_t now) {
  return entry.expires_at() != 0 && entry.expires_at() <= now;
}

constexpr size_t kMaxEntryIdBytes = 255;
constexpr size_t kMaxDnsNameBytes = 253;
constexpr size_t kMaxDnsLabelBytes = 63;
constexpr size_t kMaxHintBytes = 1024;
constexpr size_t kMaxSelectors = 64;
constexpr size_t kMaxSelectorBytes = 1024;

absl::Status ValidateEntryId(absl::string_view id) {
  if (id.size() > kMaxEntryIdBytes) {
    return absl::InvalidArgumentError("entry id is longer than 255 bytes");
  }
  for (char c : id) {
    if (!absl::ascii_isgraph(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          "entry id may hold only printable characters without spaces");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDnsName(absl::string_view name) {
  absl::string_view host = name;
  if (absl::ConsumePrefix(&host, "*.") && host.empty()) {
    return absl::InvalidArgumentError("DNS name is only a wildcard");
  }
  if (host.empty() || host.size() > kMaxDnsNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("DNS name \"", name, "\" is empty or too long"));
  }
  for (absl::string_view label : absl::StrSplit(host, '.')) {
    const bool ok =
        !label.empty() && label.size() <= kMaxDnsLabelBytes &&
        label.front() != '-' && label.back() != '-' &&
        std::all_of(label.begin(), label.end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-';
        });
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("DNS name \"", name, "\" is not a valid host name"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSelector(const Selector& selector) {
  if (selector.type().empty() || selector.value().empty()) {
    return absl::InvalidArgumentError("selector type and value are required");
  }
  if (selector.type().find(':') != std::string::npos) {
    return absl::InvalidArgumentError("selector type may not contain ':'");
  }
  if (selector.type().size() + selector.value().size() > kMaxSelectorBytes) {
    return absl::InvalidArgumentError("selector is too long");
  }
  return absl::OkStatus();
}

std::string SelectorString(const Selector& selector) {
  return absl::StrCat(selector.type(), ":", selector.value());
}

// True if every selector of `needed` is among `held`.
bool SelectorsSubset(const google::protobuf::RepeatedPtrField<Selector>& needed,
                     const absl::flat_hash_set<std::string>& held) {
  return std::all_of(needed.begin(), needed.end(), [&](const Selector& s) {
    return held.contains(SelectorString(s));
  });
}

}  // namespace

std::string SpiffeIdString(const spire::api::types::SPIFFEID& id) {
  return absl::StrCat("spiffe://", id.trust_domain(), id.path());
}

EntryManager::EntryManager(storage::IdentityStorage* storage,
                           std::string trust_domain, Clock clock)
    : storage_(storage),
      trust_domain_(std::move(trust_domain)),
      server_id_(absl::StrCat("spiffe://", trust_domain_, "/spire/server")),
      clock_(std::move(clock)) {}

absl::StatusOr<std::unique_ptr<EntryManager>> EntryManager::Create(
    storage::IdentityStorage* storage, std::string trust_domain, Clock clock) {
  auto manager = std::unique_ptr<EntryManager>(
      new EntryManager(storage, std::move(trust_domain), std::move(clock)));
  absl::StatusOr<std::vector<Entry>> stored = storage->ListEntries();
  if (!stored.ok()) return stored.status();
  absl::MutexLock lock(&manager->mu_);
  for (const Entry& entry : *stored) manager->IndexLocked(entry);
  return manager;
}

std::string EntryManager::SimilarityKey(const Entry& entry) {
  std::vector<std::string> selectors;
  for (const Selector& s : entry.selectors()) {
    selectors.push_back(SelectorString(s));
  }
  std::sort(selectors.begin(), selectors.end());
  return absl::StrCat(SpiffeIdString(entry.spiffe_id()), "\n",
                      SpiffeIdString(entry.parent_id()), "\n",
                      absl::StrJoin(selectors, "\n"));
}

absl::Status EntryManager::Validate(const Entry& entry) const {
  if (absl::Status s = ValidateEntryId(entry.id()); !s.ok()) return s;
  for (const auto& [field, id] : {std::pair{"parent_id", &entry.parent_id()},
                                  std::pair{"spiffe_id", &entry.spiffe_id()}}) {
    absl::StatusOr<spiffe::SpiffeId> parsed =
        spiffe::ParseSpiffeId(SpiffeIdString(*id));
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid ", field, ": ", parsed.status().message()));
    }
    if (parsed->trust_domain != trust_domain_) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " is not a member of trust domain ", trust_domain_));
    }
  }
  if (SpiffeIdString(entry.spiffe_id()) == server_id_) {
    return absl::InvalidArgumentError("spiffe_id may not be the server's ID");
  }
  if (entry.selectors().empty()) {
    return absl::InvalidArgumentError("selector list is empty");
  }
  if (static_cast<size_t>(entry.selectors_size()) > kMaxSelectors) {
    return absl::InvalidArgumentError("too many selectors");
  }
  for (const Selector& selector : entry.selectors()) {
    if (absl::Status s = ValidateSelector(selector); !s.ok()) return s;
  }
  if (entry.x509_svid_ttl() < 0 || entry.jwt_svid_ttl() < 0) {
    return absl::InvalidArgumentError("SVID TTLs may not be negative");
  }
  if (entry.expires_at() < 0) {
    return absl::InvalidArgumentError("expires_at may not be negative");
  }
  for (const std::string& name : entry.dns_names()) {
    if (absl::Status s = ValidateDnsName(name); !s.ok()) return s;
  }
  for (const std::string& td : entry.federates_with()) {
    if (absl::StatusOr<std::string> valid = spiffe::ValidateTrustDomain(td);
        !valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid federates_with: ", valid.status().message()));
    }
  }
  if (entry.hint().size() > kMaxHintBytes) {
    return absl::InvalidArgumentError("hint is too long");
  }
  return absl::OkStatus();
}

void EntryManager::IndexLocked(const Entry& entry) {
  by_parent_[SpiffeIdString(entry.parent_id())].push_back(entry.id());
  by_spiffe_id_[SpiffeIdString(entry.spiffe_id())].push_back(entry.id());
  by_similarity_[SimilarityKey(entry)] = entry.id();
  by_id_[entry.id()] = entry;
}

void EntryManager::UnindexLocked(const Entry& entry) {
  std::vector<std::string>& siblings =
      by_parent_[SpiffeIdString(entry.parent_id())];
  siblings.erase(std::remove(siblings.begin(), siblings.end(), entry.id()),
                 siblings.end());
  std::vector<std::string>& namesakes =
      by_spiffe_id_[SpiffeIdString(entry.spiffe_id())];
  namesakes.erase(std::remove(namesakes.begin(), namesakes.end(), entry.id()),
                  namesakes.end());
  by_similarity_.erase(SimilarityKey(entry));
  by_id_.erase(entry.id());
}

std::vector<absl::StatusOr<Entry>> EntryManager::StoreLocked(
    std::vector<Entry> entries,
    absl::FunctionRef<absl::Status(Entry&)> prepare) {
  std::vector<absl::StatusOr<Entry>> results;
  std::vector<Entry> accepted;
  for (Entry& entry : entries) {
    if (absl::Status s = prepare(entry); !s.ok()) {
      results.push_back(s);
      continue;
    }
    results.push_back(entry);
    accepted.push_back(std::move(entry));
  }
  if (absl::Status s = storage_->PutEntries(accepted); !s.ok()) {
    for (auto& result : results) {
      if (result.ok()) result = s;
    }
    return results;
  }
  for (const Entry& entry : accepted) {
    if (auto held = by_id_.find(entry.id()); held != by_id_.end()) {
      const Entry previous = held->second;
      UnindexLocked(previous);
    }
    IndexLocked(entry);
  }
  return results;
}

std::vector<absl::StatusOr<Entry>> EntryManager::Create(
    std::vector<Entry> entries) {
  absl::MutexLock lock(&mu_);
  absl::flat_hash_set<std::string> batch_keys;
  return StoreLocked(
      std::move(entries), [&](Entry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        if (entry.id().empty()) entry.set_id(crypto::RandomUuid());
        for (std::string& td : *entry.mutable_federates_with()) {
          td = spiffe::ValidateTrustDomain(td).value_or(td);
        }
        entry.set_revision_number(0);
        entry.set_created_at(absl::ToUnixSeconds(clock_()));
        if (absl::Status valid = Validate(entry); !valid.ok()) return valid;
        const std::string key = SimilarityKey(entry);
        if (by_id_.contains(entry.id()) || by_similarity_.contains(key) ||
            !batch_keys.insert(key).second) {
          return absl::AlreadyExistsError("similar entry already exists");
        }
        return absl::OkStatus();
      });
}

std::vector<absl::StatusOr<Entry>> EntryManager::Update(
    std::vector<Entry> entries) {
  absl::MutexLock lock(&mu_);
  return StoreLocked(
      std::move(entries), [&](Entry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        auto held = by_id_.find(entry.id());
        if (entry.id().empty() || held == by_id_.end()) {
          return absl::NotFoundError("entry not found");
        }
        entry.set_revision_number(held->second.revision_number() + 1);
        entry.set_created_at(held->second.created_at());
        if (absl::Status valid = Validate(entry); !valid.ok()) return valid;
        auto similar = by_similarity_.find(SimilarityKey(entry));
        if (similar != by_similarity_.end() && similar->second != entry.id()) {
          return absl::AlreadyExistsError("similar entry already exists");
        }
        return absl::OkStatus();
      });
}

absl::StatusOr<size_t> EntryManager::PruneExpired() {
  const int64_t now = absl::ToUnixSeconds(clock_());
  std::vector<std::string> ids;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [id, entry] : by_id_) {
      if (Expired(entry, now)) ids.push_back(id);
    }
  }
  size_t pruned = 0;
  for (const absl::Status& s : Delete(ids)) {
    if (s.ok()) {
      ++pruned;
    } else if (!absl::IsNotFound(s)) {  // Deleted meanwhile: fine.
      return s;
    }
  }
  return pruned;
}

std::vector<absl::Status> EntryManager::Delete(
    const std::vector<std::string>& ids) {
  std::vector<absl::Status> results;
  absl::MutexLock lock(&mu_);
  for (const std::string& id : ids) {
    auto held = by_id_.find(id);
    if (held == by_id_.end()) {
      results.push_back(absl::NotFoundError("entry not found"));
      continue;
    }
    absl::Status s = storage_->DeleteEntry(id);
    if (s.ok()) UnindexLocked(held->second);
    results.push_back(s);
  }
  return results;
}

absl::StatusOr<Entry> EntryManager::Get(const std::string& id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return absl::NotFoundError("entry not found");
  return it->second;
}

std::vector<Entry> EntryManager::List() const {
  std::vector<Entry> out;
  {
    absl::ReaderMutexLock lock(&mu_);
    out.reserve(by_id_.size());
    for (const auto& [id, entry] : by_id_) out.push_back(entry);
  }
  std::sort(out.begin(), out.end(),
            [](const Entry& a, const Entry& b) { return a.id() < b.id(); });
  return out;
}

size_t EntryManager::Count() const {
  absl::ReaderMutexLock lock(&mu_);
  return by_id_.size();
}

std::vector<Entry> EntryManager::AuthorizedEntries(
    const std::string& agent_id,
    const std::vector<Selector>& agent_selectors) const {
  absl::flat_hash_set<std::string> held;
  for (const Selector& s : agent_selectors) held.insert(SelectorString(s));
  // An entry past its expiry authorises nothing, nor do its descendants
  // through it.
  const int64_t now = absl::ToUnixSeconds(clock_());
  const auto expired = [now](const Entry& entry) {
    return Expired(entry, now);
  };
  absl::ReaderMutexLock lock(&mu_);
  // Breadth-first over parent -> children, from the agent and from the
  // SPIFFE IDs of node aliases that match it.
  std::deque<std::string> parents = {agent_id};
  auto aliases = by_parent_.find(server_id_);
  if (aliases != by_parent_.end()) {
    for (const std::string& id : aliases->second) {
      const Entry& alias = by_id_.at(id);
      if (!expired(alias) && SelectorsSubset(alias.selectors(), held)) {
        parents.push_back(SpiffeIdString(alias.spiffe_id()));
      }
    }
  }
  absl::flat_hash_set<std::string> visited_parents;
  absl::flat_hash_set<std::string> seen;
  std::vector<Entry> out;
  while (!parents.empty()) {
    const std::string parent = std::move(parents.front());
    parents.pop_front();
    if (!visited_parents.insert(parent).second) continue;
    auto children = by_parent_.find(parent);
    if (children == by_parent_.end()) continue;
    for (const std::string& id : children->second) {
      if (!seen.insert(id).second) continue;
      const Entry& entry = by_id_.at(id);
      if (expired(entry)) continue;
      out.push_back(entry);
      parents.push_back(SpiffeIdString(entry.spiffe_id()));
    }
  }
  return out;
}

absl::StatusOr<Entry> EntryManager::AuthorizedEntry(
    const std::string& agent_id, const std::vector<Selector>& agent_selectors,
    const std::string& entry_id) const {
  const absl::Status not_authorized =
      absl::NotFoundError("entry not found or not authorized");
  const int64_t now = absl::ToUnixSeconds(clock_());
  absl::ReaderMutexLock lock(&mu_);
  auto found = by_id_.find(entry_id);
  if (found == by_id_.end() || Expired(found->second, now)) {
    return not_authorized;
  }
  // AuthorizedEntries walks down from the agent and from matching node
  // aliases; this walks up: is the entry's parent a SPIFFE ID that walk
  // visits? Iteratively, as parent chains may be long.
  absl::flat_hash_set<std::string> held;
  for (const Selector& s : agent_selectors) held.insert(SelectorString(s));
  absl::flat_hash_set<std::string> visited;
  std::vector<std::string> parents = {
      SpiffeIdString(found->second.parent_id())};
  while (!parents.empty()) {
    const std::string parent = std::move(parents.back());
    parents.pop_back();
    if (parent == agent_id) return found->second;
    auto namesakes = by_spiffe_id_.find(parent);
    if (namesakes == by_spiffe_id_.end()) continue;
    for (const std::string& id : namesakes->second) {
      const Entry& via = by_id_.at(id);
      if (Expired(via, now)) continue;
      const std::string grandparent = SpiffeIdString(via.parent_id());
      if (grandparent == server_id_ && SelectorsSubset(via.selectors(), held)) {
        return found->second;  // A node alias the agent matches.
      }
      if (visited.insert(id).second) parents.push_back(grandparent);
    }
  }
  return not_authorized;
}

absl::StatusOr<Entry> EntryManager::DownstreamEntry(
    const std::string& spiffe_id) const {
  const int64_t now = absl::ToUnixSeconds(clock_());
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [id, entry] : by_id_) {
    if (entry.downstream() && SpiffeIdString(entry.spiffe_id()) == spiffe_id &&
        !Expired(entry, now)) {
      return entry;
    }
  }
  return absl::PermissionDeniedError(
      "caller is not a downstream server (no downstream entry for its ID)");
}

}  // namespace trellis::identity
