// Test support: tpm2-tools as the independent producer of TPM objects and
// quotes, driven against a Swtpm. Every command flushes the transient
// handles it leaves (swtpm has no resource manager).
#ifndef TRELLIS_ATTEST_TESTING_TPM2_TOOLS_H_
#define TRELLIS_ATTEST_TESTING_TPM2_TOOLS_H_

#include <string>

#include "attest/testing/swtpm.h"

namespace trellis::testing {

// An EK and an AK under it, made by tpm2_createek / tpm2_createak; files in
// `dir`: ek.pub, ak.pub (TPM2B_PUBLIC), ak.name, ak.qname, ak.ctx.
struct ToolsAk {
  std::string dir;
  std::string ek_public;  // TPM2B_PUBLIC bytes.
  std::string ak_public;  // TPM2B_PUBLIC bytes.
  std::string ak_name;    // As tpm2_createak reports it.
  std::string ak_qualified_name;
};

// `algorithm` is "ecc" (ECDSA P-256) or "rsa" (RSASSA 2048). Aborts the test
// binary if tpm2-tools fails.
ToolsAk CreateAkWithTools(Swtpm& tpm, const std::string& dir,
                          const std::string& algorithm);

// A quote by `ak` over `pcrs` ("sha256:0,1,16") with qualifying data
// `nonce_hex`: the raw tpm2_quote outputs (message, signature, PCR file).
struct ToolsQuote {
  std::string attest;
  std::string signature;
  std::string pcr_blob;
};
ToolsQuote QuoteWithTools(Swtpm& tpm, const ToolsAk& ak,
                          const std::string& pcrs,
                          const std::string& nonce_hex);

}  // namespace trellis::testing

#endif  // TRELLIS_ATTEST_TESTING_TPM2_TOOLS_H_
