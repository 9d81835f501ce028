#include "attest/tpm/pcr_blob.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "attest/tpm/structures.h"

namespace trellis::attest::tpm {
namespace {

constexpr size_t kBanks = 16;         // TPM2_NUM_PCR_BANKS.
constexpr size_t kSelectionSlot = 8;  // TPMS_PCR_SELECTION with padding.
constexpr size_t kSelectionBytes = 4 + kBanks * kSelectionSlot;  // 132.
constexpr size_t kDigestSlots = 8;      // TPML_DIGEST holds 8.
constexpr size_t kDigestSlot = 2 + 64;  // TPM2B_DIGEST.
constexpr size_t kDigestListBytes = 4 + kDigestSlots * kDigestSlot;  // 532.
constexpr int kMaxPcrs = 32;  // pcrSelect[4].

uint32_t Le32(absl::string_view b, size_t at) {
  return static_cast<uint8_t>(b[at]) |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3])) << 24;
}
uint16_t Le16(absl::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) |
                               static_cast<uint8_t>(b[at + 1]) << 8);
}
void PutLe(std::string& out, size_t at, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out[at + i] = static_cast<char>(value >> (8 * i));
}

}  // namespace

std::vector<SelectedPcr> SelectedPcrs(const TPML_PCR_SELECTION& selection) {
  std::vector<SelectedPcr> out;
  for (uint32_t b = 0; b < selection.count && b < kBanks; ++b) {
    const TPMS_PCR_SELECTION& bank = selection.pcrSelections[b];
    for (int pcr = 0; pcr < 8 * bank.sizeofSelect && pcr < kMaxPcrs; ++pcr) {
      if (bank.pcrSelect[pcr / 8] & (1 << (pcr % 8))) {
        out.push_back({bank.hash, pcr});
      }
    }
  }
  return out;
}

std::string DescribeSelection(const TPML_PCR_SELECTION& selection) {
  std::vector<std::string> banks;
  for (uint32_t b = 0; b < selection.count && b < kBanks; ++b) {
    std::vector<int> pcrs;
    for (const SelectedPcr& s : SelectedPcrs(selection)) {
      if (s.bank == selection.pcrSelections[b].hash) pcrs.push_back(s.pcr);
    }
    banks.push_back(absl::StrCat(HashName(selection.pcrSelections[b].hash), ":",
                                 absl::StrJoin(pcrs, ",")));
  }
  return absl::StrJoin(banks, "+");
}

absl::StatusOr<PcrBlob> ParsePcrBlob(absl::string_view bytes) {
  if (bytes.size() < kSelectionBytes + 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("PCR blob of ", bytes.size(), " bytes is too short"));
  }
  PcrBlob blob;
  TPML_PCR_SELECTION& selection = blob.selection;
  selection.count = Le32(bytes, 0);
  if (selection.count > kBanks) {
    return absl::InvalidArgumentError(
        absl::StrCat("PCR blob selects ", selection.count, " banks"));
  }
  for (uint32_t b = 0; b < selection.count; ++b) {
    const size_t at = 4 + b * kSelectionSlot;
    TPMS_PCR_SELECTION& bank = selection.pcrSelections[b];
    bank.hash = Le16(bytes, at);
    bank.sizeofSelect = static_cast<uint8_t>(bytes[at + 2]);
    if (DigestSize(bank.hash) == 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("PCR blob selects unknown bank 0x%x", bank.hash));
    }
    if (bank.sizeofSelect > sizeof(bank.pcrSelect)) {
      return absl::InvalidArgumentError("PCR blob selection too large");
    }
    for (int i = 0; i < bank.sizeofSelect; ++i) {
      bank.pcrSelect[i] = static_cast<uint8_t>(bytes[at + 3 + i]);
    }
    for (uint32_t prior = 0; prior < b; ++prior) {
      if (selection.pcrSelections[prior].hash == bank.hash) {
        return absl::InvalidArgumentError("PCR blob selects a bank twice");
      }
    }
  }
  const std::vector<SelectedPcr> selected = SelectedPcrs(selection);

  const uint32_t lists = Le32(bytes, kSelectionBytes);
  if (bytes.size() != kSelectionBytes + 4 + size_t{lists} * kDigestListBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("PCR blob of ", bytes.size(), " bytes does not hold the ",
                     lists, " digest lists it announces"));
  }
  for (uint32_t l = 0; l < lists; ++l) {
    const size_t at = kSelectionBytes + 4 + l * kDigestListBytes;
    const uint32_t count = Le32(bytes, at);
    if (count > kDigestSlots) {
      return absl::InvalidArgumentError("PCR blob digest list too long");
    }
    for (uint32_t d = 0; d < kDigestSlots; ++d) {
      const size_t slot = at + 4 + d * kDigestSlot;
      const uint16_t size = Le16(bytes, slot);
      if (d >= count) {
        if (size != 0) {
          return absl::InvalidArgumentError(
              "PCR blob has a digest beyond its list's count");
        }
        continue;
      }
      const size_t index = blob.values.size();
      if (index >= selected.size()) {
        return absl::InvalidArgumentError(
            "PCR blob holds more digests than PCRs selected");
      }
      if (size != DigestSize(selected[index].bank)) {
        return absl::InvalidArgumentError(
            absl::StrCat("PCR blob digest of ", size, " bytes for a ",
                         HashName(selected[index].bank), " PCR"));
      }
      blob.values.push_back({selected[index].bank, selected[index].pcr,
                             std::string(bytes.substr(slot + 2, size))});
    }
  }
  if (blob.values.size() != selected.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("PCR blob holds ", blob.values.size(), " digests for ",
                     selected.size(), " selected PCRs"));
  }
  return blob;
}

absl::StatusOr<std::string> SerializePcrBlob(
    const std::vector<PcrValue>& values) {
  TPML_PCR_SELECTION selection{};
  for (size_t i = 0; i < values.size(); ++i) {
    const PcrValue& v = values[i];
    if (v.pcr < 0 || v.pcr >= kPcrCount ||
        v.digest.size() != DigestSize(v.bank)) {
      return absl::InvalidArgumentError("bad PCR value");
    }
    if (i == 0 || values[i - 1].bank != v.bank) {
      if (selection.count == kBanks) {
        return absl::InvalidArgumentError("too many banks");
      }
      selection.pcrSelections[selection.count++] = {v.bank, kPcrCount / 8, {}};
    } else if (values[i - 1].pcr >= v.pcr) {
      return absl::InvalidArgumentError("PCRs not in ascending order");
    }
    selection.pcrSelections[selection.count - 1].pcrSelect[v.pcr / 8] |=
        1 << (v.pcr % 8);
  }
  const size_t lists = (values.size() + kDigestSlots - 1) / kDigestSlots;
  std::string out(kSelectionBytes + 4 + lists * kDigestListBytes, '\0');
  PutLe(out, 0, selection.count, 4);
  for (uint32_t b = 0; b < selection.count; ++b) {
    const size_t at = 4 + b * kSelectionSlot;
    const TPMS_PCR_SELECTION& bank = selection.pcrSelections[b];
    PutLe(out, at, bank.hash, 2);
    out[at + 2] = static_cast<char>(bank.sizeofSelect);
    for (int i = 0; i < 4; ++i)
      out[at + 3 + i] = static_cast<char>(bank.pcrSelect[i]);
  }
  PutLe(out, kSelectionBytes, static_cast<uint32_t>(lists), 4);
  for (size_t i = 0; i < values.size(); ++i) {
    const size_t list =
        kSelectionBytes + 4 + (i / kDigestSlots) * kDigestListBytes;
    const size_t remaining = values.size() - (i / kDigestSlots) * kDigestSlots;
    PutLe(out, list, static_cast<uint32_t>(std::min(remaining, kDigestSlots)),
          4);
    const size_t slot = list + 4 + (i % kDigestSlots) * kDigestSlot;
    PutLe(out, slot, static_cast<uint32_t>(values[i].digest.size()), 2);
    out.replace(slot + 2, values[i].digest.size(), values[i].digest);
  }
  return out;
}

}  // namespace trellis::attest::tpm
