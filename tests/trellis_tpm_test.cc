// trellis-tpm, the real binary, against a real software TPM: its quotes
// verify in Trellis and with tpm2_checkquote, its app key certificates bind
// the app key to the AK, and its HTTP API answers the delegated
// certification endpoint with the design's codes.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "attest/keylime/app_key_certificate.h"
#include "attest/keylime/quote.h"
#include "attest/testing/swtpm.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "attest/verifier/quote_verifier.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/metrics_scrape.h"
#include "tests/trellisd_process.h"
#include "util/file.h"

namespace trellis::testing {
namespace {

using nlohmann::json;

constexpr char kTrellisTpm[] = "cmd/trellis-tpm/trellis-tpm";
constexpr char kNonce[] =
    "a010d512540d60c18ec1d3942978ff4453f465ce64eddfdd232facfe670a0d2b";

class TrellisTpmTest : public ::testing::Test {
 protected:
  CliResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--tcti=" + tpm_.tcti(),
                               "--work_dir=" + work_.path() + "/agent"});
    return RunProgram(kTrellisTpm, args);
  }
  json RunJson(std::vector<std::string> args) {
    CliResult r = Run(std::move(args));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return json::parse(r.out, nullptr, false);
  }
  attest::RegisteredAk Registered(const json& keys) {
    std::string ek, ak;
    absl::Base64Unescape(keys["ek_public"].get<std::string>(), &ek);
    absl::Base64Unescape(keys["ak_public"].get<std::string>(), &ak);
    attest::RegisteredAk registered;
    registered.public_area = *attest::tpm::ParsePublic(ak);
    registered.qualified_name = *attest::tpm::AkQualifiedName(
        *attest::tpm::ParsePublic(ek), registered.public_area);
    return registered;
  }

  Swtpm tpm_;
  TempDir work_;
};

TEST_F(TrellisTpmTest, QuotesVerifyInTrellisAndWithTpm2Checkquote) {
  const json keys = RunJson({"create-ek-ak"});
  ASSERT_TRUE(keys.is_object());
  const attest::RegisteredAk ak = Registered(keys);
  EXPECT_EQ(absl::BytesToHexString(ak.qualified_name),
            keys["ak_qualified_name"].get<std::string>());

  CliResult quote = Run({"generate-quote", std::string("--nonce=") + kNonce,
                         "--pcrs=sha256:0,1,2,3,10,16"});
  ASSERT_EQ(quote.exit_code, 0) << quote.out;
  absl::StatusOr<attest::keylime::Quote> parsed =
      attest::keylime::ParseQuote(quote.out.substr(0, quote.out.size() - 1));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  attest::QuoteExpectation expect;
  expect.nonce = absl::HexStringToBytes(kNonce);
  attest::QuoteVerification v = attest::VerifyQuote(*parsed, ak, expect);
  for (const attest::CheckResult& r : v.checks.results()) {
    EXPECT_TRUE(r.passed) << r.name << ": " << r.detail;
  }

  const std::string d = work_.path();
  std::ofstream(d + "/q.msg", std::ios::binary) << parsed->attest;
  std::ofstream(d + "/q.sig", std::ios::binary) << parsed->signature;
  std::ofstream(d + "/q.pcrs", std::ios::binary) << parsed->pcr_blob;
  std::ofstream(d + "/ak.pem") << keys["ak_public_pem"].get<std::string>();
  std::string out;
  EXPECT_EQ(tpm_.RunTools(absl::StrCat("cd ", d,
                                       " && tpm2_checkquote -u ak.pem -m "
                                       "q.msg -s q.sig -f q.pcrs -g sha256 -q ",
                                       kNonce),
                          &out),
            0)
      << out;

  // Bad input: a clear message and exit 1 or 2, never a crash.
  EXPECT_EQ(Run({"generate-quote", "--nonce=xyz"}).exit_code, 1);
  EXPECT_EQ(Run({"generate-quote", "--nonce=00", "--pcrs=sha256:99"}).exit_code,
            1);
  EXPECT_EQ(Run({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(RunProgram(kTrellisTpm,
                       {"--tcti=swtpm:host=127.0.0.1,port=1", "create-ek-ak"})
                .exit_code,
            1);
}

TEST_F(TrellisTpmTest, QuoteBeforeAnAkIsRefused) {
  CliResult r = Run({"generate-quote", "--nonce=00"});
  EXPECT_EQ(r.exit_code, 1);
}

TEST_F(TrellisTpmTest, AppKeyCertificateBindsTheAppKeyToTheAk) {
  const json keys = RunJson({"create-ek-ak", "--algorithm=rsa"});
  const attest::RegisteredAk ak = Registered(keys);
  const json app = RunJson({"generate-app-key"});
  CliResult cert = Run({"certify-app-key", "--nonce=00ff"});
  ASSERT_EQ(cert.exit_code, 0) << cert.out;
  absl::StatusOr<attest::keylime::AppKeyCertificate> decoded =
      attest::keylime::DecodeAppKeyCertificate(
          cert.out.substr(0, cert.out.size() - 1));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->app_key_public, app["app_key_public"].get<std::string>());
  absl::StatusOr<TPMS_ATTEST> attest =
      attest::tpm::ParseAttest(decoded->certify_data);
  ASSERT_TRUE(attest.ok());
  EXPECT_EQ(attest->type, TPM2_ST_ATTEST_CERTIFY);
  EXPECT_EQ(attest::tpm::View(attest->attested.certify.name),
            *attest::tpm::ObjectName(
                *attest::tpm::ParsePublic(decoded->app_key_tpm_public)));
  EXPECT_EQ(attest::tpm::View(attest->qualifiedSigner), ak.qualified_name);
  EXPECT_EQ(attest::tpm::View(attest->extraData), std::string("\x00\xff", 2));
  auto key = attest::tpm::ToOpenSslKey(ak.public_area);
  EXPECT_TRUE(attest::tpm::VerifyTpmSignature(
                  **key, *attest::tpm::ParseSignature(decoded->signature),
                  decoded->certify_data, TPM2_ALG_SHA256)
                  .ok());
}

TEST_F(TrellisTpmTest, ServesDelegatedCertification) {
  const json keys = RunJson({"create-ek-ak"});
  const json app = RunJson({"generate-app-key"});
  const std::string port_file = work_.path() + "/agent.port";
  ServerProcess server({kTrellisTpm, "--tcti=" + tpm_.tcti(),
                        "--work_dir=" + work_.path() + "/agent", "serve",
                        "--listen=127.0.0.1:0", "--port_file=" + port_file},
                       port_file);
  httplib::Client client("127.0.0.1", server.port());
  const std::string path = "/v2.2/delegated_certification/certify_app_key";
  json request = {{"api_version", "v1"},
                  {"command", "certify_app_key"},
                  {"app_key_public", app["app_key_public"]},
                  {"app_key_context_path", app["app_key_context"]}};
  auto res = client.Post(path, request.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  json body = json::parse(res->body, nullptr, false);
  EXPECT_EQ(body["result"], "SUCCESS");
  EXPECT_TRUE(attest::keylime::DecodeAppKeyCertificate(
                  body["app_key_certificate"].get<std::string>())
                  .ok());

  auto status_of = [&](const json& r) {
    auto res = client.Post(path, r.dump(), "application/json");
    return res ? res->status : -1;
  };
  json bad = request;
  bad["command"] = "delete_everything";
  EXPECT_EQ(status_of(bad), 400);
  bad = request;
  bad.erase("app_key_public");
  EXPECT_EQ(status_of(bad), 400);
  bad = request;
  bad["app_key_context_path"] = "/etc/passwd";
  EXPECT_EQ(status_of(bad), 400);
  bad = request;
  bad["app_key_public"] = keys["ak_public_pem"];  // Not the app key.
  EXPECT_EQ(status_of(bad), 400);
  auto garbage = client.Post(path, "{not json", "application/json");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 400);

  // Quotes over HTTP.
  auto quote = client.Post("/generate-quote", json{{"nonce", kNonce}}.dump(),
                           "application/json");
  ASSERT_TRUE(quote);
  EXPECT_EQ(quote->status, 200) << quote->body;
  EXPECT_TRUE(attest::keylime::ParseQuote(
                  json::parse(quote->body)["quote"].get<std::string>())
                  .ok());

  // The TPM gone: a server error, not a crash.
  tpm_.Stop();
  EXPECT_EQ(status_of(request), 500);
  EXPECT_EQ(server.Stop(), 0);
}

TEST_F(TrellisTpmTest, ServesOnAUnixSocket) {
  RunJson({"create-ek-ak"});
  const json app = RunJson({"generate-app-key"});
  const std::string port_file = work_.path() + "/agent.port";
  // Socket paths are short (108 bytes): not under the test's deep tmpdir.
  char dir[] = "/tmp/trellis-sock-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string socket = std::string(dir) + "/agent.sock";
  ServerProcess server(
      {kTrellisTpm, "--tcti=" + tpm_.tcti(),
       "--work_dir=" + work_.path() + "/agent", "serve", "--listen=127.0.0.1:0",
       "--unix=" + socket, "--port_file=" + port_file, "--log_level=debug",
       "--log_format=json", "--log_file=" + work_.path() + "/serve.log",
       "--metrics_addr=127.0.0.1:0",
       "--metrics_port_file=" + work_.path() + "/metrics.port"},
      port_file);
  struct stat st;
  ASSERT_EQ(stat(socket.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string body = json{
      {"command", "certify_app_key"},
      {"app_key_public", app["app_key_public"]},
      {"app_key_context_path",
       app["app_key_context"]}}.dump();
  std::ofstream(work_.path() + "/req.json") << body;
  // curl as the client: the plugin's users speak HTTP over the socket.
  const std::string out = work_.path() + "/resp.json";
  const std::string command =
      "curl -s -o " + out + " -w '%{http_code}' --unix-socket " + socket +
      " -H 'Content-Type: application/json' --data @" + work_.path() +
      "/req.json http://localhost/v2.2/delegated_certification/certify_app_key";
  FILE* pipe = popen(command.c_str(), "r");
  char code[8] = {};
  ASSERT_NE(pipe, nullptr);
  ASSERT_NE(fgets(code, sizeof(code), pipe), nullptr);
  pclose(pipe);
  EXPECT_STREQ(code, "200");
  std::ifstream in(out);
  const json reply = json::parse(in, nullptr, false);
  EXPECT_EQ(reply["result"], "SUCCESS");
  // Counted on its metrics listener by route pattern and status.
  const nlohmann::json scrape = ScrapeMetrics(
      std::stoi(ReadFile(work_.path() + "/metrics.port").value_or("0")));
  EXPECT_EQ(scrape["problems"], nlohmann::json::array());
  EXPECT_EQ(
      MetricSum(scrape, "trellis_http_requests_total",
                {{"listener", "agent"},
                 {"route", "/v2.2/delegated_certification/certify_app_key"},
                 {"code", "200"}}),
      1);
  EXPECT_EQ(server.Stop(), 0);
  EXPECT_NE(stat(socket.c_str(), &st), 0);  // Removed on shutdown.
  rmdir(dir);
  // Its log: JSON lines, one per request at debug.
  std::ifstream log(work_.path() + "/serve.log");
  int serving = 0, certify_requests = 0, stopped = 0;
  for (std::string line; std::getline(log, line);) {
    const json parsed = json::parse(line, nullptr, false);
    ASSERT_TRUE(parsed.is_object()) << line;
    if (parsed.value("msg", "") == "serving") ++serving;
    if (parsed.value("msg", "") == "stopped") ++stopped;
    if (parsed.value("component", "") == "http" &&
        parsed.value("route", "") ==
            "/v2.2/delegated_certification/certify_app_key" &&
        parsed.value("status", "") == "200") {
      ++certify_requests;
    }
  }
  EXPECT_EQ(serving, 2);  // The socket and the port.
  EXPECT_EQ(certify_requests, 1);
  EXPECT_EQ(stopped, 1);
}

TEST_F(TrellisTpmTest, DelegatedCertificationCanBeTurnedOff) {
  RunJson({"create-ek-ak"});
  const json app = RunJson({"generate-app-key"});
  const std::string port_file = work_.path() + "/agent.port";
  ServerProcess server(
      {kTrellisTpm, "--tcti=" + tpm_.tcti(),
       "--work_dir=" + work_.path() + "/agent", "serve", "--listen=127.0.0.1:0",
       "--port_file=" + port_file, "--delegated_certification=false"},
      port_file);
  httplib::Client client("127.0.0.1", server.port());
  auto res = client.Post("/v2.2/delegated_certification/certify_app_key",
                         json{{"command", "certify_app_key"},
                              {"app_key_public", app["app_key_public"]},
                              {"app_key_context_path", app["app_key_context"]}}
                             .dump(),
                         "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
}

}  // namespace
}  // namespace trellis::testing
