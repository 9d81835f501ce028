// A TPM's clock as a quote reports it (TPMS_CLOCK_INFO), and the order in
// which a verifier accepts successive readings.
#ifndef TRELLIS_ATTEST_TPM_CLOCK_H_
#define TRELLIS_ATTEST_TPM_CLOCK_H_

#include <cstdint>

namespace trellis::attest::tpm {

struct TpmClock {
  uint64_t clock = 0;  // Milliseconds the TPM has been powered.
  uint32_t reset_count = 0;
  uint32_t restart_count = 0;
};

// True if `after` is a later reading of the same TPM than `before`: neither
// counter went back, and within one reset and restart the clock grew. A
// reset or restart may start the clock lower (it is saved to NV lazily).
inline bool ClockAdvanced(const TpmClock& before, const TpmClock& after) {
  if (after.reset_count < before.reset_count ||
      after.restart_count < before.restart_count) {
    return false;
  }
  if (after.reset_count == before.reset_count &&
      after.restart_count == before.restart_count) {
    return after.clock > before.clock;
  }
  return true;
}

}  // namespace trellis::attest::tpm

#endif  // TRELLIS_ATTEST_TPM_CLOCK_H_
