#include "quota/quota_manager.h"

#include <cmath>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace trellis::quota {
namespace {

constexpr int kRead = static_cast<int>(Kind::kRead);
constexpr int kWrite = static_cast<int>(Kind::kWrite);

const char* KindName(Kind kind) {
  return kind == Kind::kWrite ? "write" : "read";
}

std::unique_ptr<RateLimiter> BucketsFor(const Limit& limit, size_t max_keys,
                                        const RateLimiter::Clock& clock) {
  if (limit.unlimited()) return nullptr;
  return std::make_unique<RateLimiter>(limit.rate, limit.burst, max_keys,
                                       clock);
}

bool AnyLimit(const QuotaOptions& options) {
  for (const Limit* limit :
       {&options.global_read, &options.global_write, &options.tree_read,
        &options.tree_write, &options.user_read, &options.user_write}) {
    if (!limit->unlimited()) return true;
  }
  for (const auto& [tree_id, limit] : options.tree_write_by_tree.by_tree) {
    if (!limit.unlimited()) return true;
  }
  return false;
}

// Why a charge did not fit `spec_name`'s bucket, and what to do.
std::string Exhausted(const std::string& spec_name, const RateLimiter& buckets,
                      double needed, double available) {
  if (needed > buckets.burst()) {
    return absl::StrCat("quota exhausted: this call costs ", needed,
                        " tokens but ", spec_name, " holds at most ",
                        buckets.burst(), "; send smaller calls");
  }
  const absl::Duration wait =
      absl::Seconds((needed - available) / buckets.rate());
  return absl::StrFormat(
      "quota exhausted: %s holds %.0f of the %.0f tokens this call costs "
      "(it refills at %g a second); retry in %s",
      spec_name, std::floor(available), needed, buckets.rate(),
      absl::FormatDuration(absl::Ceil(wait, absl::Milliseconds(1))));
}

}  // namespace

QuotaManager::QuotaManager(QuotaOptions options, prometheus::Registry* metrics,
                           RateLimiter::Clock clock)
    : options_(std::move(options)),
      enabled_(AnyLimit(options_)),
      metrics_(metrics),
      acquired_(prometheus::BuildCounter()
                    .Name("trellis_quota_acquired_tokens_total")
                    .Help("Quota tokens taken by calls, by quota spec "
                          "(users together as users/read|write).")
                    .Register(metrics_.get())),
      returned_(prometheus::BuildCounter()
                    .Name("trellis_quota_returned_tokens_total")
                    .Help("Quota tokens given back for work not done (failed "
                          "calls, duplicate or refused leaves).")
                    .Register(metrics_.get())),
      refused_(prometheus::BuildCounter()
                   .Name("trellis_quota_refused_requests_total")
                   .Help("Calls refused with RESOURCE_EXHAUSTED, by the quota "
                         "spec they exhausted (counted but let through in "
                         "dry run).")
                   .Register(metrics_.get())) {
  for (int kind : {kRead, kWrite}) {
    const bool write = kind == kWrite;
    global_[kind] = BucketsFor(
        write ? options_.global_write : options_.global_read, 1, clock);
    tree_[kind] = BucketsFor(write ? options_.tree_write : options_.tree_read,
                             /*max_keys=*/100000, clock);
    user_[kind] = BucketsFor(write ? options_.user_write : options_.user_read,
                             options_.max_tracked_users, clock);
  }
  for (const auto& [tree_id, limit] : options_.tree_write_by_tree.by_tree) {
    tree_write_by_tree_[tree_id] = BucketsFor(limit, 1, clock);
  }
}

RateLimiter* QuotaManager::TreeBuckets(Kind kind, int64_t tree_id) {
  if (kind == Kind::kWrite) {
    auto it = tree_write_by_tree_.find(tree_id);
    if (it != tree_write_by_tree_.end()) return it->second.get();
  }
  return tree_[static_cast<int>(kind)].get();
}

std::vector<QuotaManager::Spec> QuotaManager::SpecsOf(const Charge& charge) {
  const int kind = static_cast<int>(charge.kind);
  const char* kind_name = KindName(charge.kind);
  std::vector<Spec> specs;
  if (RateLimiter* users = user_[kind].get()) {
    for (const std::string& user : charge.users) {
      specs.push_back(
          {users, user,
           absl::StrCat("users/", absl::CHexEscape(user), "/", kind_name),
           absl::StrCat("users/", kind_name)});
    }
  }
  if (RateLimiter* tree = TreeBuckets(charge.kind, charge.tree_id)) {
    const std::string name =
        absl::StrCat("trees/", charge.tree_id, "/", kind_name);
    specs.push_back({tree, absl::StrCat(charge.tree_id), name, name});
  }
  if (RateLimiter* global = global_[kind].get()) {
    const std::string name = absl::StrCat("global/", kind_name);
    specs.push_back({global, "global", name, name});
  }
  return specs;
}

absl::Status QuotaManager::Acquire(const Charge& charge) {
  if (!enabled_ || charge.tokens <= 0) return absl::OkStatus();
  // charge_to matters (and is bounded) only when users have quotas.
  const bool users_charged = user_[static_cast<int>(charge.kind)] != nullptr;
  if (users_charged && charge.users.size() > kMaxChargedUsers) {
    return absl::InvalidArgumentError(
        absl::StrCat("charge_to names ", charge.users.size(),
                     " users; at most ", kMaxChargedUsers));
  }
  for (const std::string& user : charge.users) {
    if (users_charged && (user.empty() || user.size() > kMaxUserBytes)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a charge_to user must be 1 to ", kMaxUserBytes, " bytes"));
    }
  }
  const std::vector<Spec> specs = SpecsOf(charge);
  const double tokens = static_cast<double>(charge.tokens);
  std::vector<const Spec*> taken;
  for (const Spec& spec : specs) {
    double available = 0;
    if (spec.buckets->Take(spec.key, tokens, &available)) {
      taken.push_back(&spec);
      continue;
    }
    refused_.Add({{"spec", spec.series}}).Increment();
    if (options_.dry_run) continue;
    for (const Spec* given : taken) given->buckets->Give(given->key, tokens);
    return absl::ResourceExhaustedError(
        Exhausted(spec.name, *spec.buckets, tokens, available));
  }
  for (const Spec* spec : taken) {
    acquired_.Add({{"spec", spec->series}}).Increment(tokens);
  }
  return absl::OkStatus();
}

void QuotaManager::Return(const Charge& charge, int64_t tokens) {
  if (!enabled_ || tokens <= 0) return;
  RateLimiter* global = global_[static_cast<int>(charge.kind)].get();
  if (global == nullptr) return;
  const double returned = static_cast<double>(std::min(tokens, charge.tokens));
  global->Give("global", returned);
  returned_.Add({{"spec", absl::StrCat("global/", KindName(charge.kind))}})
      .Increment(returned);
}

}  // namespace trellis::quota
