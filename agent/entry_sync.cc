#include "agent/entry_sync.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "spiffe/id.h"
#include "spire/api/server/entry/v1/entry.grpc.pb.h"
#include "util/grpc_status.h"

namespace trellis::agent {
namespace {

namespace entry_v1 = spire::api::server::entry::v1;
using spire::api::types::Entry;

constexpr absl::Duration kSyncTimeout = absl::Seconds(30);

// What spire-agent checks before it uses an entry.
bool Usable(const Entry& entry) {
  if (entry.id().empty() || entry.selectors().empty()) return false;
  for (const spire::api::types::Selector& s : entry.selectors()) {
    if (s.type().empty() || s.value().empty() ||
        s.type().find(':') != std::string::npos) {
      return false;
    }
  }
  return spiffe::ParseSpiffeId(absl::StrCat("spiffe://",
                                            entry.spiffe_id().trust_domain(),
                                            entry.spiffe_id().path()))
      .ok();
}

void Keep(Entries& out, const Entry& entry) {
  if (Usable(entry)) out[entry.id()] = entry;
}

}  // namespace

absl::StatusOr<Entries> SyncEntries(
    const std::shared_ptr<grpc::Channel>& channel, const Entries& cached) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kSyncTimeout));
  auto stream =
      entry_v1::Entry::NewStub(channel)->SyncAuthorizedEntries(&context);
  entry_v1::SyncAuthorizedEntriesRequest first;
  spire::api::types::EntryMask* mask = first.mutable_output_mask();
  using Setter = void (spire::api::types::EntryMask::*)(bool);
  for (Setter field : {&spire::api::types::EntryMask::set_spiffe_id,
                       &spire::api::types::EntryMask::set_parent_id,
                       &spire::api::types::EntryMask::set_selectors,
                       &spire::api::types::EntryMask::set_federates_with,
                       &spire::api::types::EntryMask::set_admin,
                       &spire::api::types::EntryMask::set_downstream,
                       &spire::api::types::EntryMask::set_revision_number,
                       &spire::api::types::EntryMask::set_store_svid,
                       &spire::api::types::EntryMask::set_hint,
                       &spire::api::types::EntryMask::set_created_at,
                       &spire::api::types::EntryMask::set_x509_svid_ttl,
                       &spire::api::types::EntryMask::set_jwt_svid_ttl,
                       &spire::api::types::EntryMask::set_expires_at,
                       &spire::api::types::EntryMask::set_dns_names}) {
    (mask->*field)(true);
  }
  if (!stream->Write(first)) return FromGrpc(stream->Finish());

  Entries out;
  entry_v1::SyncAuthorizedEntriesResponse response;
  if (!stream->Read(&response)) return FromGrpc(stream->Finish());
  if (response.entry_revisions().empty()) {
    // The complete set in one answer.
    for (const Entry& entry : response.entries()) Keep(out, entry);
    context.TryCancel();
    stream->Finish();
    return out;
  }
  const size_t page_size = response.entry_revisions_size();
  std::vector<std::string> wanted;
  for (;;) {
    if (!response.entries().empty()) {
      context.TryCancel();
      stream->Finish();
      return absl::InternalError("a revision page carried entries");
    }
    for (const entry_v1::EntryRevision& revision : response.entry_revisions()) {
      if (revision.id().empty() || revision.revision_number() < 0) continue;
      auto held = cached.find(revision.id());
      const bool fresh =
          held != cached.end() &&
          held->second.revision_number() == revision.revision_number() &&
          (revision.created_at() == 0 ||
           held->second.created_at() == revision.created_at());
      if (fresh) {
        out[revision.id()] = held->second;
      } else {
        wanted.push_back(revision.id());
      }
    }
    if (!response.more()) break;
    if (!stream->Read(&response)) return FromGrpc(stream->Finish());
  }
  std::sort(wanted.begin(), wanted.end());
  for (size_t start = 0; start < wanted.size(); start += page_size) {
    entry_v1::SyncAuthorizedEntriesRequest ask;
    for (size_t i = start; i < std::min(wanted.size(), start + page_size);
         ++i) {
      ask.add_ids(wanted[i]);
    }
    if (!stream->Write(ask)) return FromGrpc(stream->Finish());
    do {
      if (!stream->Read(&response)) return FromGrpc(stream->Finish());
      if (!response.entry_revisions().empty()) {
        context.TryCancel();
        stream->Finish();
        return absl::InternalError("an entry page carried revisions");
      }
      for (const Entry& entry : response.entries()) Keep(out, entry);
    } while (response.more());
  }
  context.TryCancel();
  stream->Finish();
  return out;
}

}  // namespace trellis::agent
