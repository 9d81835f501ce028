#include "attest/testing/tpm2_tools.h"

#include <cstdio>
#include <cstdlib>

#include "util/file.h"

namespace trellis::testing {
namespace {

void Run(Swtpm& tpm, const std::string& command) {
  std::string output;
  if (tpm.RunTools(command + " && tpm2_flushcontext -t", &output) != 0) {
    std::fprintf(stderr, "tpm2-tools failed: %s\n%s\n", command.c_str(),
                 output.c_str());
    std::abort();
  }
}

std::string Read(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) {
    std::fprintf(stderr, "missing %s\n", path.c_str());
    std::abort();
  }
  return *bytes;
}

}  // namespace

ToolsAk CreateAkWithTools(Swtpm& tpm, const std::string& dir,
                          const std::string& algorithm) {
  const std::string scheme = algorithm == "rsa" ? "rsassa" : "ecdsa";
  Run(tpm, "cd " + dir + " && tpm2_createek -c ek.ctx -G rsa -u ek.pub");
  Run(tpm, "cd " + dir + " && tpm2_createak -C ek.ctx -c ak.ctx -G " +
               algorithm + " -g sha256 -s " + scheme +
               " -u ak.pub -n ak.name -q ak.qname -r ak.priv");
  ToolsAk ak;
  ak.dir = dir;
  ak.ek_public = Read(dir + "/ek.pub");
  ak.ak_public = Read(dir + "/ak.pub");
  ak.ak_name = Read(dir + "/ak.name");
  ak.ak_qualified_name = Read(dir + "/ak.qname");
  return ak;
}

ToolsQuote QuoteWithTools(Swtpm& tpm, const ToolsAk& ak,
                          const std::string& pcrs,
                          const std::string& nonce_hex) {
  Run(tpm, "cd " + ak.dir + " && tpm2_quote -c ak.ctx -l " + pcrs + " -q " +
               nonce_hex +
               " -m quote.msg -s quote.sig -o quote.pcrs -g sha256 >/dev/null");
  return {Read(ak.dir + "/quote.msg"), Read(ak.dir + "/quote.sig"),
          Read(ak.dir + "/quote.pcrs")};
}

}  // namespace trellis::testing
