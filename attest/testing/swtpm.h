// Test support: a real software TPM (swtpm) on loopback, one per test, with
// its state in a temporary directory, stopped by its PID.
#ifndef TRELLIS_ATTEST_TESTING_SWTPM_H_
#define TRELLIS_ATTEST_TESTING_SWTPM_H_

#include <sys/types.h>

#include <string>

#include "util/test_util.h"

namespace trellis::testing {

// The PEM certificates of swtpm's local CA (root and issuer), which sign the
// EK certificates of Swtpm(true).
std::string LocalCaBundle();

class Swtpm {
 public:
  // Starts swtpm (TPM 2.0, already started up) on free loopback ports and
  // waits until it accepts connections. With `ek_certificate`, swtpm_setup
  // first manufactures the TPM with an EK certificate from swtpm's local CA
  // (see LocalCaBundle). Aborts the test binary on failure.
  explicit Swtpm(bool ek_certificate = false);
  ~Swtpm();  // Stop()s.
  Swtpm(const Swtpm&) = delete;
  Swtpm& operator=(const Swtpm&) = delete;

  // The tpm2-tss TCTI configuration string, e.g. for trellis-tpm --tcti.
  std::string tcti() const;
  int port() const { return port_; }
  const std::string& state_dir() const { return state_.path(); }

  // Stops the TPM (a TPM that went away); idempotent.
  void Stop();

  // Runs a shell command with TPM2TOOLS_TCTI pointing at this TPM (for
  // tpm2-tools); returns its exit code and fills `output` with its stdout.
  int RunTools(const std::string& command, std::string* output = nullptr);

 private:
  TempDir state_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace trellis::testing

#endif  // TRELLIS_ATTEST_TESTING_SWTPM_H_
