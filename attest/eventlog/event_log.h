// The TCG PC Client crypto-agile event log (the firmware's measured boot
// log, /sys/kernel/security/tpm0/binary_bios_measurements): a SHA-1 format
// header event carrying the Spec ID Event03 (which digest algorithms follow,
// and their sizes), then TCG_PCR_EVENT2 records, all little-endian. Replay
// extends each event's digest into its PCR as the firmware did; EV_NO_ACTION
// events are not extended, except that a StartupLocality event sets PCR 0's
// starting value and an H-CRTM event starts PCR 0 at locality 4.
#ifndef TRELLIS_ATTEST_EVENTLOG_EVENT_LOG_H_
#define TRELLIS_ATTEST_EVENTLOG_EVENT_LOG_H_

#include <tss2/tss2_tpm2_types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::attest::eventlog {

inline constexpr uint32_t kEvNoAction = 0x3;
inline constexpr uint32_t kEvSeparator = 0x4;
inline constexpr uint32_t kEvEfiHcrtmEvent = 0x80000010;

struct Event {
  uint32_t pcr = 0;
  uint32_t type = 0;
  std::map<TPM2_ALG_ID, std::string> digests;  // By algorithm.
  std::string data;
};

struct EventLog {
  // Algorithm -> digest size, from the Spec ID event.
  std::map<TPM2_ALG_ID, uint16_t> algorithms;
  std::vector<Event> events;  // After the header event.
};

// INVALID_ARGUMENT for a log that is not crypto-agile, truncated, or whose
// events carry digests the header did not announce.
absl::StatusOr<EventLog> Parse(absl::string_view bytes);

// The PCR values of `bank` after replaying the log: every PCR an event
// touched (others are not in the map).
absl::StatusOr<std::map<uint32_t, std::string>> Replay(const EventLog& log,
                                                       TPM2_ALG_ID bank);

// Builds a log (for tests and tools): a header for `banks` and the events.
std::string Serialize(const std::vector<TPM2_ALG_ID>& banks,
                      const std::vector<Event>& events);

}  // namespace trellis::attest::eventlog

#endif  // TRELLIS_ATTEST_EVENTLOG_EVENT_LOG_H_
