#include "tests/spire_operator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ca/x509.h"
#include "gtest/gtest.h"
#include "tests/trellisd_process.h"
#include "util/file.h"

namespace trellis::testing {

namespace agent_v1 = spire::api::server::agent::v1;
namespace entry_v1 = spire::api::server::entry::v1;
namespace bundle_v1 = spire::api::server::bundle::v1;

std::string CreateToken(agent_v1::Agent::Stub& agents) {
  grpc::ClientContext context;
  agent_v1::CreateJoinTokenRequest request;
  request.set_ttl(600);
  spire::api::types::JoinToken token;
  const grpc::Status s = agents.CreateJoinToken(&context, request, &token);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return token.value();
}

spire::api::types::Entry MakeEntry(const std::string& trust_domain,
                                   const std::string& parent_path,
                                   const std::string& path,
                                   const std::string& selector) {
  spire::api::types::Entry entry;
  entry.mutable_parent_id()->set_trust_domain(trust_domain);
  entry.mutable_parent_id()->set_path(parent_path);
  entry.mutable_spiffe_id()->set_trust_domain(trust_domain);
  entry.mutable_spiffe_id()->set_path(path);
  const size_t colon = selector.find(':');
  spire::api::types::Selector* s = entry.add_selectors();
  s->set_type(selector.substr(0, colon));
  s->set_value(selector.substr(colon + 1));
  return entry;
}

void CreateEntries(entry_v1::Entry::Stub& entries,
                   const std::string& trust_domain,
                   const std::string& parent_path, const std::string& prefix,
                   int count, const std::string& selector) {
  for (int start = 0; start < count; start += 500) {
    entry_v1::BatchCreateEntryRequest request;
    for (int i = start; i < std::min(count, start + 500); ++i) {
      *request.add_entries() =
          MakeEntry(trust_domain, parent_path,
                    absl::StrCat("/workload/", prefix, "/", i), selector);
    }
    grpc::ClientContext context;
    entry_v1::BatchCreateEntryResponse response;
    ASSERT_TRUE(entries.BatchCreateEntry(&context, request, &response).ok());
    for (const auto& result : response.results()) {
      ASSERT_EQ(result.status().code(), 0) << result.status().message();
    }
  }
}

std::string WriteBundle(bundle_v1::Bundle::Stub& bundles,
                        const std::string& trust_domain,
                        const std::string& path) {
  grpc::ClientContext context;
  spire::api::types::Bundle bundle;
  EXPECT_TRUE(bundles.GetBundle(&context, {}, &bundle).ok());
  EXPECT_EQ(bundle.trust_domain(), trust_domain);
  std::string pem;
  for (const auto& authority : bundle.x509_authorities()) {
    pem += ca::DerToPem(authority.asn1(), "CERTIFICATE");
  }
  EXPECT_TRUE(ReplaceFile(path, pem, 0644).ok());
  return path;
}

nlohmann::json VerifySvidWhenLogged(const std::string& operator_address,
                                    const std::string& cert_path,
                                    const std::string& bundle_path) {
  const std::vector<std::string> verify = {"--addr=" + operator_address, "svid",
                                           "verify", cert_path,
                                           "--bundle=" + bundle_path};
  CliResult verified;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while ((verified = RunCli(verify)).exit_code != 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  if (verified.exit_code != 0) return nullptr;
  return nlohmann::json::parse(verified.out.substr(0, verified.out.rfind("OK")),
                               nullptr, false);
}

}  // namespace trellis::testing
