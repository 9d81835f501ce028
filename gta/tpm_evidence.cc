#include "gta/tpm_evidence.h"

#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "attest/eventlog/event_log.h"
#include "attest/ima/measurement_list.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "crypto/digest.h"
#include "util/json_fields.h"

namespace trellis::gta {
namespace {

using nlohmann::json;

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

// TCG PC Client event type names.
const char* EventTypeName(uint32_t type) {
  static const std::map<uint32_t, const char*> kNames = {
      {0x0, "EV_PREBOOT_CERT"},
      {0x1, "EV_POST_CODE"},
      {0x2, "EV_UNUSED"},
      {0x3, "EV_NO_ACTION"},
      {0x4, "EV_SEPARATOR"},
      {0x5, "EV_ACTION"},
      {0x6, "EV_EVENT_TAG"},
      {0x7, "EV_S_CRTM_CONTENTS"},
      {0x8, "EV_S_CRTM_VERSION"},
      {0x9, "EV_CPU_MICROCODE"},
      {0xA, "EV_PLATFORM_CONFIG_FLAGS"},
      {0xB, "EV_TABLE_OF_DEVICES"},
      {0xC, "EV_COMPACT_HASH"},
      {0xD, "EV_IPL"},
      {0xE, "EV_IPL_PARTITION_DATA"},
      {0xF, "EV_NONHOST_CODE"},
      {0x10, "EV_NONHOST_CONFIG"},
      {0x11, "EV_NONHOST_INFO"},
      {0x12, "EV_OMIT_BOOT_DEVICE_EVENTS"},
      {0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
      {0x80000002, "EV_EFI_VARIABLE_BOOT"},
      {0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION"},
      {0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER"},
      {0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER"},
      {0x80000006, "EV_EFI_GPT_EVENT"},
      {0x80000007, "EV_EFI_ACTION"},
      {0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB"},
      {0x80000009, "EV_EFI_HANDOFF_TABLES"},
      {0x8000000A, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"},
      {0x8000000B, "EV_EFI_HANDOFF_TABLES2"},
      {0x8000000C, "EV_EFI_VARIABLE_BOOT2"},
      {0x80000010, "EV_EFI_HCRTM_EVENT"},
      {0x800000E0, "EV_EFI_VARIABLE_AUTHORITY"},
      {0x800000E1, "EV_EFI_SPDM_FIRMWARE_BLOB"},
      {0x800000E2, "EV_EFI_SPDM_FIRMWARE_CONFIG"},
  };
  auto it = kNames.find(type);
  return it == kNames.end() ? "EV_UNKNOWN" : it->second;
}

// Events whose digest must be the hash of their data (as GTA requires).
bool DigestIsHashOfData(uint32_t type) {
  return type == 0x4 || type == 0x8 || type == 0x80000001 || type == 0x80000007;
}

uint64_t Le64(absl::string_view b, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

// UEFI_VARIABLE_DATA: VariableName (GUID), UnicodeNameLength and
// VariableDataLength (UINT64 each), the UTF-16 name, the data.
std::optional<json> UefiVariable(absl::string_view data) {
  if (data.size() < 32) return std::nullopt;
  const uint64_t name_chars = Le64(data, 16);
  const uint64_t data_bytes = Le64(data, 24);
  if (name_chars > 1024 || data_bytes > data.size() ||
      32 + 2 * name_chars + data_bytes > data.size()) {
    return std::nullopt;
  }
  const auto* g = reinterpret_cast<const uint8_t*>(data.data());
  char guid[37];
  std::snprintf(
      guid, sizeof(guid),
      "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
      g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11],
      g[12], g[13], g[14], g[15]);
  std::string name;
  for (uint64_t i = 0; i < name_chars; ++i) {
    const uint16_t c = static_cast<uint8_t>(data[32 + 2 * i]) |
                       (static_cast<uint8_t>(data[33 + 2 * i]) << 8);
    name.push_back(c < 0x80 ? static_cast<char>(c) : '?');
  }
  const absl::string_view value = data.substr(32 + 2 * name_chars, data_bytes);
  json variable_data;
  if (name == "SecureBoot" && value.size() == 1) {
    variable_data = {{"enabled", value[0] == 1 ? "Yes" : "No"}};
  } else {
    variable_data = {{"data", absl::BytesToHexString(value)}};
  }
  return json{{"variable_name", guid},
              {"unicode_name", name},
              {"variable_data", variable_data}};
}

bool Printable(absl::string_view data) {
  if (data.empty()) return false;
  for (char c : data) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

json EventBody(uint32_t type, absl::string_view data) {
  if (type == 0x80000001 || type == 0x80000002 || type == 0x800000E0 ||
      type == 0x8000000C) {
    if (std::optional<json> variable = UefiVariable(data)) return *variable;
  }
  if (Printable(data)) return {{"string", std::string(data)}};
  return {{"data", absl::BytesToHexString(data)}};
}

// `text` if it is valid UTF-8, else with each byte outside printable ASCII
// (and the backslash) written as \xNN: JSON needs UTF-8, and the kernel
// prints file names as raw bytes.
std::string Utf8OrEscaped(const std::string& text) {
  try {
    (void)json(text).dump();
    return text;
  } catch (const json::exception&) {
  }
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<TpmEvidence> ParseTpmEvidence(const json& evidence) {
  if (!evidence.is_object()) return Invalid("evidence must be an object");
  TpmEvidence out;
  if (const json* certs = json_fields::Find(evidence, "ak_certs")) {
    if (!certs->is_array() || certs->empty() || certs->size() > kMaxAkCerts) {
      return Invalid("ak_certs must hold 1 to 10 certificates");
    }
    for (const json& cert : *certs) {
      absl::StatusOr<std::string> pem = json_fields::String(cert, "cert_data");
      if (!pem.ok()) return pem.status();
      out.ak_cert_pems.push_back(*pem);
    }
  } else {
    absl::StatusOr<std::string> pem = json_fields::String(evidence, "ak_cert");
    if (!pem.ok()) return Invalid("Missing required fields: ak_certs");
    out.ak_cert_pems.push_back(*pem);
  }
  const json* quote = json_fields::Find(evidence, "quote");
  if (quote == nullptr) return Invalid("Missing required fields: quote");
  absl::StatusOr<std::string> quote_data =
      json_fields::Base64(*quote, "quote_data");
  if (!quote_data.ok()) return quote_data.status();
  absl::StatusOr<std::string> signature =
      json_fields::Base64(*quote, "signature");
  if (!signature.ok()) return signature.status();
  out.quote_data = std::move(*quote_data);
  out.signature = std::move(*signature);

  const json* pcrs = json_fields::Find(evidence, "pcrs");
  if (pcrs == nullptr) return Invalid("Missing required fields: pcrs");
  absl::StatusOr<std::string> hash_alg = json_fields::String(*pcrs, "hash_alg");
  if (!hash_alg.ok()) return hash_alg.status();
  absl::StatusOr<TPM2_ALG_ID> bank = attest::tpm::HashFromName(*hash_alg);
  if (!bank.ok()) return Invalid("pcrs.hash_alg is not a known hash");
  out.hash_alg = *hash_alg;
  out.bank = *bank;
  const json* values = json_fields::Find(*pcrs, "pcr_values");
  if (values == nullptr || !values->is_array() || values->empty() ||
      values->size() > 24) {
    return Invalid("pcrs.pcr_values must hold 1 to 24 PCRs");
  }
  for (const json& value : *values) {
    absl::StatusOr<int64_t> index = json_fields::Integer(value, "pcr_index");
    absl::StatusOr<std::string> hex = json_fields::String(value, "pcr_value");
    if (!index.ok() || !hex.ok() || *index < 0 || *index > 23) {
      return Invalid("each PCR needs pcr_index 0..23 and a pcr_value");
    }
    const bool is_hex =
        hex->size() % 2 == 0 &&
        hex->find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
    std::string bytes = is_hex ? absl::HexStringToBytes(*hex) : "";
    if (!is_hex || bytes.size() != attest::tpm::DigestSize(out.bank)) {
      return Invalid(absl::StrCat("pcr_value of PCR ", *index, " is not a ",
                                  out.hash_alg, " digest"));
    }
    if (!out.pcrs.emplace(*index, std::move(bytes)).second) {
      return Invalid(absl::StrCat("PCR ", *index, " is reported twice"));
    }
  }
  if (const json* logs = json_fields::Find(evidence, "logs")) {
    if (!logs->is_array() || logs->size() > 4) {
      return Invalid("logs must be a list of at most 4 logs");
    }
    for (const json& log : *logs) {
      absl::StatusOr<std::string> type = json_fields::String(log, "log_type");
      absl::StatusOr<std::string> data = json_fields::Base64(log, "log_data");
      if (!type.ok()) return type.status();
      if (!data.ok()) return data.status();
      if (data->size() > kMaxLogBytes) return Invalid("a log is too large");
      out.logs.push_back({*type, std::move(*data)});
    }
  }
  return out;
}

std::optional<std::string> ExpectedExtraData(
    const std::optional<std::string>& nonce_bytes,
    const std::optional<std::string>& attester_data_json) {
  if (!nonce_bytes.has_value() && !attester_data_json.has_value()) {
    return std::nullopt;
  }
  std::string input = nonce_bytes.value_or("");
  if (attester_data_json.has_value()) {
    absl::StrAppend(&input, absl::Base64Escape(*attester_data_json));
  }
  return crypto::Digest(crypto::DigestAlgorithm::kSha256, {input});
}

absl::Status VerifyQuote(const TpmEvidence& evidence, const EVP_PKEY& ak,
                         const std::optional<std::string>& expected_extra) {
  absl::StatusOr<TPMT_SIGNATURE> signature =
      attest::tpm::ParseSignature(evidence.signature);
  if (!signature.ok()) return Invalid("the quote signature does not parse");
  const TPM2_ALG_ID hash = signature->sigAlg == TPM2_ALG_ECDSA
                               ? signature->signature.ecdsa.hash
                               : signature->signature.rsassa.hash;
  if (!attest::tpm::VerifyTpmSignature(ak, *signature, evidence.quote_data,
                                       hash)
           .ok()) {
    return Invalid("the quote signature does not verify with the AK");
  }
  absl::StatusOr<TPMS_ATTEST> attest =
      attest::tpm::ParseAttest(evidence.quote_data);
  if (!attest.ok() || attest->type != TPM2_ST_ATTEST_QUOTE) {
    return Invalid("quote_data is not a TPM quote");
  }
  if (expected_extra.has_value() &&
      attest::tpm::View(attest->extraData) != *expected_extra) {
    return Invalid("the quote is not bound to this nonce and attester_data");
  }
  const TPML_PCR_SELECTION& selection = attest->attested.quote.pcrSelect;
  std::set<uint32_t> selected;
  for (uint32_t i = 0; i < selection.count; ++i) {
    const TPMS_PCR_SELECTION& bank = selection.pcrSelections[i];
    for (uint32_t byte = 0; byte < bank.sizeofSelect; ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        if ((bank.pcrSelect[byte] >> bit) & 1) {
          if (bank.hash != evidence.bank) {
            return Invalid("the quote selects PCRs of another bank");
          }
          selected.insert(byte * 8 + bit);
        }
      }
    }
  }
  std::set<uint32_t> reported;
  std::string concatenated;
  for (const auto& [index, value] : evidence.pcrs) {
    reported.insert(index);
    concatenated += value;
  }
  if (selected != reported) {
    return Invalid("the quote's PCR selection is not the reported PCRs");
  }
  absl::StatusOr<std::string> digest = attest::tpm::TpmHash(hash, concatenated);
  if (!digest.ok() ||
      *digest != attest::tpm::View(attest->attested.quote.pcrDigest)) {
    return Invalid("the reported PCR values are not the quoted ones");
  }
  return absl::OkStatus();
}

absl::StatusOr<json> BootLogInput(const TpmEvidence& evidence) {
  const TpmLog* log = nullptr;
  if (!evidence.logs.empty()) log = &evidence.logs.front();
  if (log == nullptr) {
    return json{{"log_type", "TcgEventLog"},
                {"log_status", "no_log"},
                {"ref_value_match_status", "ignore"},
                {"is_log_valid", false},
                {"log_data", json::array()}};
  }
  if (log->type != "TcgEventLog") {
    return Invalid("a tpm_boot log must be a TcgEventLog");
  }
  absl::StatusOr<attest::eventlog::EventLog> parsed =
      attest::eventlog::Parse(log->data);
  if (!parsed.ok()) return Invalid(parsed.status().message());
  if (!parsed->algorithms.count(evidence.bank)) {
    return Invalid("the event log has no digests of the reported bank");
  }
  json events = json::array();
  int number = 0;
  for (const attest::eventlog::Event& event : parsed->events) {
    ++number;
    auto digest = event.digests.find(evidence.bank);
    if (digest == event.digests.end()) {
      return Invalid(absl::StrCat("event ", number, " lacks a ",
                                  evidence.hash_alg, " digest"));
    }
    if (DigestIsHashOfData(event.type)) {
      absl::StatusOr<std::string> expected =
          attest::tpm::TpmHash(evidence.bank, event.data);
      if (!expected.ok() || *expected != digest->second) {
        return Invalid(absl::StrCat("event ", number, " (",
                                    EventTypeName(event.type),
                                    ") has a digest that is not its data's"));
      }
    }
    events.push_back({{"event_number", number},
                      {"pcr_index", event.pcr},
                      {"event_type", EventTypeName(event.type)},
                      {"digest",
                       {{"hash_id", evidence.hash_alg},
                        {"digest", absl::BytesToHexString(digest->second)}}},
                      {"event", EventBody(event.type, event.data)}});
  }
  absl::StatusOr<std::map<uint32_t, std::string>> replayed =
      attest::eventlog::Replay(*parsed, evidence.bank);
  if (!replayed.ok()) return Invalid(replayed.status().message());
  bool replay_success = true;
  for (const auto& [index, value] : evidence.pcrs) {
    auto it = replayed->find(index);
    if (it == replayed->end() || it->second != value) replay_success = false;
  }
  return json{
      {"log_type", "TcgEventLog"},
      {"log_status", replay_success ? "replay_success" : "replay_failure"},
      {"ref_value_match_status", "ignore"},
      {"is_log_valid", replay_success},
      {"log_data", std::move(events)}};
}

absl::StatusOr<json> ImaLogInput(
    const TpmEvidence& evidence,
    const std::set<std::string>& reference_sha256) {
  if (evidence.logs.empty() || evidence.logs.front().type != "ImaLog") {
    return Invalid("a tpm_ima evidence needs an ImaLog");
  }
  auto quoted = evidence.pcrs.find(10);
  if (quoted == evidence.pcrs.end()) {
    return Invalid("tpm_ima evidence must report PCR 10");
  }
  absl::StatusOr<std::vector<attest::ima::Entry>> entries =
      attest::ima::ParseAscii(evidence.logs.front().data);
  if (!entries.ok()) return Invalid(entries.status().message());
  if (entries->size() > kMaxImaEntries) {
    return Invalid("the IMA log holds more than 100,000 entries");
  }
  absl::StatusOr<size_t> prefix = attest::ima::MatchingPrefix(
      *entries, evidence.bank, quoted->second, /*pcr=*/10);
  const bool replayed = prefix.ok();
  const size_t count = replayed ? *prefix : entries->size();
  bool all_matched = true;
  json logs = json::array();
  for (size_t i = 0; i < count; ++i) {
    const attest::ima::Entry& entry = (*entries)[i];
    const std::string digest = absl::BytesToHexString(entry.file_digest);
    const bool exempt = entry.violation || entry.path == "boot_aggregate";
    const bool matched = exempt || (entry.digest_algorithm == "sha256" &&
                                    reference_sha256.count(digest) > 0);
    all_matched = all_matched && matched;
    logs.push_back(
        {{"pcr_index", entry.pcr},
         {"template_hash", absl::BytesToHexString(entry.template_hash)},
         {"template_name", entry.template_name},
         {"file_hash_alg", entry.digest_algorithm},
         {"file_hash", digest},
         {"file_path", Utf8OrEscaped(entry.path)},
         {"ref_value_matched", matched}});
  }
  return json{{"log_type", "ImaLog"},
              {"log_status", replayed ? "replay_success" : "replay_failure"},
              {"is_log_valid", replayed},
              {"ref_value_match_status", !replayed     ? "ignore"
                                         : all_matched ? "matched"
                                                       : "unmatched"},
              {"log_data", {{"logs", std::move(logs)}}}};
}

json PolicyInput(const TpmEvidence& evidence, json logs) {
  json pcr_values = json::array();
  for (const auto& [index, value] : evidence.pcrs) {
    pcr_values.push_back(
        {{"pcr_index", index}, {"pcr_value", absl::BytesToHexString(value)}});
  }
  return {{"evidence",
           {{"logs", std::move(logs)},
            {"pcrs",
             {{"hash_alg", evidence.hash_alg},
              {"pcr_values", std::move(pcr_values)}}}}}};
}

}  // namespace trellis::gta
