#include "attest/eventlog/event_log.h"

#include "absl/strings/str_cat.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"

namespace trellis::attest::eventlog {
namespace {

constexpr char kSpecIdSignature[16] = "Spec ID Event03";  // With its NUL.
constexpr char kStartupLocality[16] = "StartupLocality";  // With its NUL.
constexpr size_t kMaxEventData = 16 << 20;

class Reader {
 public:
  explicit Reader(absl::string_view b) : b_(b) {}
  bool Has(size_t n) const { return b_.size() - at_ >= n; }
  uint32_t U32() {
    const uint32_t v =
        static_cast<uint8_t>(b_[at_]) |
        static_cast<uint32_t>(static_cast<uint8_t>(b_[at_ + 1])) << 8 |
        static_cast<uint32_t>(static_cast<uint8_t>(b_[at_ + 2])) << 16 |
        static_cast<uint32_t>(static_cast<uint8_t>(b_[at_ + 3])) << 24;
    at_ += 4;
    return v;
  }
  uint16_t U16() {
    const uint16_t v = static_cast<uint16_t>(
        static_cast<uint8_t>(b_[at_]) | static_cast<uint8_t>(b_[at_ + 1]) << 8);
    at_ += 2;
    return v;
  }
  absl::string_view Take(size_t n) {
    absl::string_view v = b_.substr(at_, n);
    at_ += n;
    return v;
  }
  bool done() const { return at_ == b_.size(); }

 private:
  absl::string_view b_;
  size_t at_ = 0;
};

absl::Status Malformed(size_t event, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("event log event ", event, ": ", why));
}

void PutLe(std::string& out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}

}  // namespace

absl::StatusOr<EventLog> Parse(absl::string_view bytes) {
  Reader r(bytes);
  // The header: a SHA-1 format TCG_PCR_EVENT holding the Spec ID event.
  if (!r.Has(32)) return Malformed(0, "truncated header");
  const uint32_t pcr = r.U32();
  const uint32_t type = r.U32();
  const absl::string_view sha1 = r.Take(20);
  const uint32_t size = r.U32();
  if (pcr != 0 || type != kEvNoAction ||
      sha1.find_first_not_of('\0') != absl::string_view::npos) {
    return Malformed(0, "not a crypto-agile log (no Spec ID header)");
  }
  if (!r.Has(size) || size < 29) return Malformed(0, "truncated Spec ID event");
  Reader spec(r.Take(size));
  if (spec.Take(16) != absl::string_view(kSpecIdSignature, 16)) {
    return Malformed(0, "not a Spec ID Event03 header");
  }
  spec.Take(8);  // platformClass, version minor/major, errata, uintnSize.
  const uint32_t count = spec.U32();
  if (count == 0 || count > 16 || !spec.Has(4 * size_t{count} + 1)) {
    return Malformed(0, "bad algorithm list");
  }
  EventLog log;
  for (uint32_t i = 0; i < count; ++i) {
    const TPM2_ALG_ID alg = spec.U16();
    const uint16_t digest_size = spec.U16();
    if (digest_size == 0 || digest_size > 64) {
      return Malformed(0, "bad digest size");
    }
    log.algorithms[alg] = digest_size;
  }
  const uint8_t vendor = static_cast<uint8_t>(spec.Take(1)[0]);
  if (!spec.Has(vendor)) return Malformed(0, "bad vendor info");

  while (!r.done()) {
    const size_t n = log.events.size() + 1;
    if (!r.Has(12)) return Malformed(n, "truncated event");
    Event e;
    e.pcr = r.U32();
    e.type = r.U32();
    const uint32_t digests = r.U32();
    if (e.pcr > 31) return Malformed(n, "bad PCR index");
    if (digests > log.algorithms.size())
      return Malformed(n, "too many digests");
    for (uint32_t d = 0; d < digests; ++d) {
      if (!r.Has(2)) return Malformed(n, "truncated digest");
      const TPM2_ALG_ID alg = r.U16();
      auto it = log.algorithms.find(alg);
      if (it == log.algorithms.end()) {
        return Malformed(n, "digest of an algorithm the header did not list");
      }
      if (!r.Has(it->second)) return Malformed(n, "truncated digest");
      if (!e.digests.emplace(alg, std::string(r.Take(it->second))).second) {
        return Malformed(n, "two digests of one algorithm");
      }
    }
    if (!r.Has(4)) return Malformed(n, "truncated event size");
    const uint32_t data_size = r.U32();
    if (data_size > kMaxEventData || !r.Has(data_size)) {
      return Malformed(n, "truncated event data");
    }
    e.data = std::string(r.Take(data_size));
    log.events.push_back(std::move(e));
  }
  return log;
}

absl::StatusOr<std::map<uint32_t, std::string>> Replay(const EventLog& log,
                                                       TPM2_ALG_ID bank) {
  const size_t size = tpm::DigestSize(bank);
  if (size == 0 || log.algorithms.count(bank) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the log has no ", tpm::HashName(bank), " digests"));
  }
  std::map<uint32_t, std::string> pcrs;
  auto pcr = [&](uint32_t index) -> std::string& {
    return pcrs.try_emplace(index, std::string(size, '\0')).first->second;
  };
  bool hcrtm = false;
  for (size_t i = 0; i < log.events.size(); ++i) {
    const Event& e = log.events[i];
    if (e.type == kEvNoAction) {
      // StartupLocality: PCR 0 starts at 0..0<locality> (unless H-CRTM).
      if (e.pcr == 0 && !hcrtm && e.data.size() >= 17 &&
          absl::string_view(e.data).substr(0, 16) ==
              absl::string_view(kStartupLocality, 16)) {
        pcr(0).back() = e.data[16];
      }
      continue;
    }
    if (e.type == kEvEfiHcrtmEvent && e.pcr == 0) {
      hcrtm = true;
      pcr(0).assign(size, '\0');
      pcr(0).back() = 0x04;
    }
    auto digest = e.digests.find(bank);
    if (digest == e.digests.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "event ", i + 1, " has no ", tpm::HashName(bank), " digest"));
    }
    absl::StatusOr<std::string> next =
        tpm::TpmHash2(bank, pcr(e.pcr), digest->second);
    if (!next.ok()) return next.status();
    pcr(e.pcr) = std::move(*next);
  }
  return pcrs;
}

std::string Serialize(const std::vector<TPM2_ALG_ID>& banks,
                      const std::vector<Event>& events) {
  std::string spec(kSpecIdSignature, 16);
  PutLe(spec, 0, 4);                // platformClass: client.
  spec += std::string{0, 2, 0, 2};  // Version 2.0, errata 0, uintnSize 2.
  PutLe(spec, banks.size(), 4);
  for (TPM2_ALG_ID bank : banks) {
    PutLe(spec, bank, 2);
    PutLe(spec, tpm::DigestSize(bank), 2);
  }
  spec.push_back('\0');  // No vendor info.
  std::string out;
  PutLe(out, 0, 4);
  PutLe(out, kEvNoAction, 4);
  out += std::string(20, '\0');
  PutLe(out, spec.size(), 4);
  out += spec;
  for (const Event& e : events) {
    PutLe(out, e.pcr, 4);
    PutLe(out, e.type, 4);
    PutLe(out, e.digests.size(), 4);
    for (const auto& [alg, digest] : e.digests) {
      PutLe(out, alg, 2);
      out += digest;
    }
    PutLe(out, e.data.size(), 4);
    out += e.data;
  }
  return out;
}

}  // namespace trellis::attest::eventlog
