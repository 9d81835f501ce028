#include "identity/api/entry_service.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "identity/api/convert.h"
#include "util/grpc_status.h"

namespace trellis::identity::api {

namespace entry_v1 = spire::api::server::entry::v1;
using spire::api::types::SelectorMatch;

namespace {

grpc::Status TooMany() {
  return grpc::Status(
      grpc::StatusCode::INVALID_ARGUMENT,
      absl::StrCat("at most ", kMaxEntryBatch, " entries per batch"));
}

bool SelectorsMatch(const Entry& entry, const SelectorMatch& match) {
  absl::flat_hash_set<std::string> have, want;
  for (const Selector& s : entry.selectors()) {
    have.insert(absl::StrCat(s.type(), ":", s.value()));
  }
  for (const Selector& s : match.selectors()) {
    want.insert(absl::StrCat(s.type(), ":", s.value()));
  }
  const auto all_in = [](const absl::flat_hash_set<std::string>& a,
                         const absl::flat_hash_set<std::string>& b) {
    return std::all_of(a.begin(), a.end(),
                       [&](const std::string& x) { return b.contains(x); });
  };
  switch (match.match()) {
    case SelectorMatch::MATCH_EXACT:
      return have == want;
    case SelectorMatch::MATCH_SUBSET:
      return all_in(have, want);
    case SelectorMatch::MATCH_SUPERSET:
      return all_in(want, have);
    case SelectorMatch::MATCH_ANY:
      return std::any_of(want.begin(), want.end(), [&](const std::string& x) {
        return have.contains(x);
      });
    default:
      return false;
  }
}

// ListEntries and CountEntries have filters of the same shape.
template <typename Filter>
bool Matches(const Entry& entry, const Filter& filter) {
  if (filter.has_by_spiffe_id() && SpiffeIdString(filter.by_spiffe_id()) !=
                                       SpiffeIdString(entry.spiffe_id())) {
    return false;
  }
  if (filter.has_by_parent_id() && SpiffeIdString(filter.by_parent_id()) !=
                                       SpiffeIdString(entry.parent_id())) {
    return false;
  }
  if (filter.has_by_selectors() &&
      !SelectorsMatch(entry, filter.by_selectors())) {
    return false;
  }
  if (filter.has_by_hint() && filter.by_hint().value() != entry.hint()) {
    return false;
  }
  if (filter.has_by_downstream() &&
      filter.by_downstream().value() != entry.downstream()) {
    return false;
  }
  if (filter.has_by_federates_with()) {
    const auto& wanted = filter.by_federates_with().trust_domains();
    const bool any =
        std::any_of(wanted.begin(), wanted.end(), [&](const std::string& td) {
          return std::find(entry.federates_with().begin(),
                           entry.federates_with().end(),
                           td) != entry.federates_with().end();
        });
    if (!any) return false;
  }
  return true;
}

// Applies the fields `mask` names from `update` onto `held`.
Entry MergeMasked(Entry held, const Entry& update,
                  const spire::api::types::EntryMask& mask) {
  if (mask.spiffe_id()) *held.mutable_spiffe_id() = update.spiffe_id();
  if (mask.parent_id()) *held.mutable_parent_id() = update.parent_id();
  if (mask.selectors()) *held.mutable_selectors() = update.selectors();
  if (mask.x509_svid_ttl()) held.set_x509_svid_ttl(update.x509_svid_ttl());
  if (mask.federates_with()) {
    *held.mutable_federates_with() = update.federates_with();
  }
  if (mask.admin()) held.set_admin(update.admin());
  if (mask.downstream()) held.set_downstream(update.downstream());
  if (mask.expires_at()) held.set_expires_at(update.expires_at());
  if (mask.dns_names()) *held.mutable_dns_names() = update.dns_names();
  if (mask.store_svid()) held.set_store_svid(update.store_svid());
  if (mask.jwt_svid_ttl()) held.set_jwt_svid_ttl(update.jwt_svid_ttl());
  if (mask.hint()) held.set_hint(update.hint());
  return held;
}

}  // namespace

grpc::Status EntryService::CountEntries(
    grpc::ServerContext* context, const entry_v1::CountEntriesRequest* request,
    entry_v1::CountEntriesResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  int32_t count = 0;
  for (const Entry& entry : entries_->List()) {
    if (Matches(entry, request->filter())) ++count;
  }
  response->set_count(count);
  return grpc::Status::OK;
}

grpc::Status EntryService::ListEntries(
    grpc::ServerContext* context, const entry_v1::ListEntriesRequest* request,
    entry_v1::ListEntriesResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  if (request->page_size() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "page_size may not be negative");
  }
  // Entries come ordered by id; the page token is the last id returned.
  const size_t page = request->page_size() == 0
                          ? std::numeric_limits<size_t>::max()
                          : static_cast<size_t>(request->page_size());
  for (const Entry& entry : entries_->List()) {
    if (!request->page_token().empty() && entry.id() <= request->page_token()) {
      continue;
    }
    if (!Matches(entry, request->filter())) continue;
    if (static_cast<size_t>(response->entries_size()) == page) {
      response->set_next_page_token(
          response->entries(response->entries_size() - 1).id());
      break;
    }
    *response->add_entries() = entry;
  }
  return grpc::Status::OK;
}

grpc::Status EntryService::GetEntry(grpc::ServerContext* context,
                                    const entry_v1::GetEntryRequest* request,
                                    spire::api::types::Entry* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  if (request->id().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "missing ID");
  }
  absl::StatusOr<Entry> entry = entries_->Get(request->id());
  if (!entry.ok()) return ToGrpc(entry.status());
  *response = *entry;
  return grpc::Status::OK;
}

grpc::Status EntryService::BatchCreateEntry(
    grpc::ServerContext* context,
    const entry_v1::BatchCreateEntryRequest* request,
    entry_v1::BatchCreateEntryResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  if (static_cast<size_t>(request->entries_size()) > kMaxEntryBatch) {
    return TooMany();
  }
  std::vector<absl::StatusOr<Entry>> results =
      entries_->Create({request->entries().begin(), request->entries().end()});
  for (absl::StatusOr<Entry>& result : results) {
    auto* out = response->add_results();
    *out->mutable_status() = ToApiStatus(result.status());
    if (result.ok()) *out->mutable_entry() = std::move(*result);
  }
  return grpc::Status::OK;
}

grpc::Status EntryService::BatchUpdateEntry(
    grpc::ServerContext* context,
    const entry_v1::BatchUpdateEntryRequest* request,
    entry_v1::BatchUpdateEntryResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  if (static_cast<size_t>(request->entries_size()) > kMaxEntryBatch) {
    return TooMany();
  }
  std::vector<Entry> updates;
  for (const Entry& update : request->entries()) {
    absl::StatusOr<Entry> held = entries_->Get(update.id());
    updates.push_back(request->has_input_mask() && held.ok()
                          ? MergeMasked(*held, update, request->input_mask())
                          : update);
  }
  std::vector<absl::StatusOr<Entry>> results =
      entries_->Update(std::move(updates));
  for (absl::StatusOr<Entry>& result : results) {
    auto* out = response->add_results();
    *out->mutable_status() = ToApiStatus(result.status());
    if (result.ok()) *out->mutable_entry() = std::move(*result);
  }
  return grpc::Status::OK;
}

grpc::Status EntryService::BatchDeleteEntry(
    grpc::ServerContext* context,
    const entry_v1::BatchDeleteEntryRequest* request,
    entry_v1::BatchDeleteEntryResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  if (static_cast<size_t>(request->ids_size()) > kMaxEntryBatch) {
    return TooMany();
  }
  const std::vector<std::string> ids(request->ids().begin(),
                                     request->ids().end());
  std::vector<absl::Status> results = entries_->Delete(ids);
  for (size_t i = 0; i < ids.size(); ++i) {
    auto* out = response->add_results();
    *out->mutable_status() = ToApiStatus(results[i]);
    out->set_id(ids[i]);
  }
  return grpc::Status::OK;
}

absl::StatusOr<std::vector<Entry>> EntryService::AuthorizedFor(
    const grpc::ServerContext& context) const {
  absl::StatusOr<trellis::AttestedAgent> agent =
      RequireAgent(authority_, context);
  if (!agent.ok()) return agent.status();
  std::vector<Entry> entries = entries_->AuthorizedEntries(
      agent->spiffe_id(),
      {agent->selectors().begin(), agent->selectors().end()});
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.id() < b.id(); });
  return entries;
}

grpc::Status EntryService::GetAuthorizedEntries(
    grpc::ServerContext* context, const entry_v1::GetAuthorizedEntriesRequest*,
    entry_v1::GetAuthorizedEntriesResponse* response) {
  absl::StatusOr<std::vector<Entry>> entries = AuthorizedFor(*context);
  if (!entries.ok()) return ToGrpc(entries.status());
  for (Entry& entry : *entries) *response->add_entries() = std::move(entry);
  return grpc::Status::OK;
}

grpc::Status EntryService::SyncAuthorizedEntries(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<entry_v1::SyncAuthorizedEntriesResponse,
                             entry_v1::SyncAuthorizedEntriesRequest>* stream) {
  entry_v1::SyncAuthorizedEntriesRequest request;
  if (!stream->Read(&request)) return grpc::Status::OK;
  if (!request.ids().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "the first request may not ask for entries by id");
  }
  if (request.has_output_mask() && !request.output_mask().revision_number()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "output mask must include revision_number");
  }
  absl::StatusOr<std::vector<Entry>> entries = AuthorizedFor(*context);
  if (!entries.ok()) return ToGrpc(entries.status());

  // Few entries: all of them in one response, no revisions.
  if (entries->size() <= kSyncPageSize) {
    entry_v1::SyncAuthorizedEntriesResponse response;
    for (Entry& entry : *entries) *response.add_entries() = std::move(entry);
    stream->Write(response);
    return grpc::Status::OK;
  }
  // Otherwise revisions in pages; the agent then asks for what it lacks.
  for (size_t start = 0; start < entries->size(); start += kSyncPageSize) {
    entry_v1::SyncAuthorizedEntriesResponse response;
    const size_t end = std::min(entries->size(), start + kSyncPageSize);
    for (size_t i = start; i < end; ++i) {
      entry_v1::EntryRevision* revision = response.add_entry_revisions();
      revision->set_id((*entries)[i].id());
      revision->set_revision_number((*entries)[i].revision_number());
      revision->set_created_at((*entries)[i].created_at());
    }
    response.set_more(end < entries->size());
    if (!stream->Write(response)) return grpc::Status::OK;
  }
  absl::flat_hash_map<std::string, const Entry*> by_id;
  for (const Entry& entry : *entries) by_id.emplace(entry.id(), &entry);
  while (stream->Read(&request)) {
    if (static_cast<size_t>(request.ids_size()) > kSyncPageSize) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "too many ids in one request");
    }
    entry_v1::SyncAuthorizedEntriesResponse response;
    for (const std::string& id : request.ids()) {
      auto it = by_id.find(id);
      if (it != by_id.end()) *response.add_entries() = *it->second;
    }
    response.set_more(false);
    if (!stream->Write(response)) break;
  }
  return grpc::Status::OK;
}

}  // namespace trellis::identity::api
