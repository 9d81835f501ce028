// The verifier's HTTP handlers, in process over real RocksDB storage:
// unusable bodies are 400s, operator routes refuse anyone else, and evidence
// about an unregistered AK is refused without being stored or logged.
#include "attest/api/verifier_http.h"

#include "absl/strings/escaping.h"
#include "attest/tpm/keys.h"
#include "gtest/gtest.h"
#include "log/record_sink.h"
#include "nlohmann/json.hpp"
#include "storage/rocksdb/attest_storage.h"
#include "util/test_util.h"

namespace trellis::attest {
namespace {

using nlohmann::json;

class VerifierHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(*storage::rocksdb::Database::Open({dir_.path()}));
    attest_ = std::make_unique<storage::rocksdb::RocksAttestStorage>(db_.get());
    registrar_ = std::move(*Registrar::Create(attest_.get(), {}));
    appraiser_ = std::make_unique<Appraiser>(
        registrar_.get(), &nonces_, attest_.get(), &records_,
        [this]() -> absl::StatusOr<int64_t> {
          ++record_log_calls_;
          return absl::UnavailableError("no log in this test");
        });
    RegisterVerifierRoutes(
        router_, *registrar_, *appraiser_, nonces_,
        [](const http::Request& req) { return req.via_unix_socket; });
  }

  // Dispatches a request; the reply's status and JSON body.
  std::pair<int, json> Call(const std::string& method, const std::string& path,
                            const std::string& body = "",
                            bool operator_socket = false) {
    http::Request request;
    request.method = method;
    const size_t query = path.find('?');
    request.path = path.substr(0, query);
    if (query != std::string::npos) {
      request.query = http::ParseQuery(path.substr(query + 1));
    }
    request.body = body;
    request.via_unix_socket = operator_socket;
    request.peer_address = operator_socket ? "unix" : "127.0.0.1";
    http::Response response;
    router_.Dispatch(request, response);
    return {response.status, json::parse(response.body, nullptr, false)};
  }

  static json Evidence() {
    return {{"type", "tpm-app-key"},
            {"data",
             {{"nonce", "00ff"},
              {"quote", "rQUOTE:SIG:PCRS"},
              {"hash_alg", "sha256"},
              {"app_key_public", "PEM"},
              {"app_key_certificate", "CERT"},
              {"tpm_ak", absl::Base64Escape("not a registered AK")}}}};
  }

  trellis::testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  // Counts what reaches the log; nothing should in these tests.
  struct CountingSink : log::RecordSink {
    absl::StatusOr<std::vector<std::string>> Append(
        int64_t, const std::vector<std::string>&) override {
      ++appends;
      return absl::UnavailableError("no log in this test");
    }
    int appends = 0;
  } records_;
  std::unique_ptr<storage::rocksdb::RocksAttestStorage> attest_;
  std::unique_ptr<Registrar> registrar_;
  NonceStore nonces_;
  std::unique_ptr<Appraiser> appraiser_;
  int record_log_calls_ = 0;
  http::Router router_;
};

TEST_F(VerifierHttpTest, UnusableBodiesAre400) {
  for (const char* body : {"", "{oops", "[1]", "\"text\"", "null"}) {
    EXPECT_EQ(Call("POST", "/v2.4/verify/evidence", body).first, 400) << body;
    EXPECT_EQ(Call("POST", "/v2.4/registrar/register", body).first, 400);
    EXPECT_EQ(Call("POST", "/v2.4/verify/nonce", body).first, 400);
  }
  json evidence = Evidence();
  evidence["data"]["geolocation"] = json::object();  // Once UB.
  auto [code, reply] = Call("POST", "/v2.4/verify/evidence", evidence.dump());
  EXPECT_EQ(code, 400);
  EXPECT_EQ(reply["code"], 400);  // Keylime's envelope, with the reason.
  EXPECT_TRUE(reply["error"].is_string());
  EXPECT_EQ(Call("POST", "/v2.4/registrar/register",
                 R"({"host_id":"h","ek_public":"@@","ak_public":"AAAA"})")
                .first,
            400);
  EXPECT_EQ(
      Call("POST", "/v2.4/registrar/register", R"({"host_id":"h"})").first,
      400);
  EXPECT_EQ(Call("GET", "/v2.4/policies/default?version=abc").first, 400);
  EXPECT_EQ(Call("POST", "/v2.4/verify/nonce", R"({"host_id":"nobody"})").first,
            404);
  EXPECT_EQ(Call("GET", "/v2.4/nowhere").first, 404);
  EXPECT_EQ(Call("DELETE", "/v2.4/verify/evidence").first, 405);
}

TEST_F(VerifierHttpTest, UnregisteredAkIsRefusedUnstoredAndUnlogged) {
  const json evidence = Evidence();
  auto [code, reply] = Call("POST", "/v2.4/verify/evidence", evidence.dump());
  EXPECT_EQ(code, 422);
  EXPECT_EQ(reply["results"]["failed_check"], "ak_registered");
  EXPECT_FALSE(reply["results"].contains("audit_id"));
  EXPECT_EQ(appraiser_->unregistered_refused(), 1);
  EXPECT_EQ(record_log_calls_, 0);  // The log was never asked for.
  EXPECT_EQ(records_.appends, 0);
  const std::string digest = *tpm::TpmHash(
      TPM2_ALG_SHA256, CanonicalEvidence(*ParseEvidenceRequest(evidence)));
  EXPECT_FALSE(attest_->GetEvidence(digest)->has_value());
}

TEST_F(VerifierHttpTest, OperatorRoutesRefuseEveryoneElse) {
  EXPECT_EQ(Call("PUT", "/v2.4/policies/p", "{}").first, 403);
  auto [code, stored] = Call("PUT", "/v2.4/policies/p", "{}", true);
  EXPECT_EQ(code, 200);
  EXPECT_EQ(stored["results"]["version"], 1);
  EXPECT_EQ(Call("PUT", "/v2.4/policies/p", "{\"require_ima\": 1}", true).first,
            400);
  EXPECT_EQ(Call("GET", "/v2.4/policies/p").first, 200);  // Reads are open.
  EXPECT_EQ(Call("DELETE", "/v2.4/registrar/hosts/web-1").first, 403);
  EXPECT_EQ(Call("DELETE", "/v2.4/registrar/hosts/web-1", "", true).first, 404);
}

}  // namespace
}  // namespace trellis::attest
