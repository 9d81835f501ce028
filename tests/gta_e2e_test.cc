// The GTA service API of a real trellisd over HTTPS: challenge nonces and
// the policy lifecycle with GTA's limits, status codes and error bodies,
// User-Id scoping, every change in the "trellis-gta" log, and policies that
// survive a restart.
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "merkle/log_root.h"
#include "nlohmann/json.hpp"
#include "tests/trellisd_process.h"
#include "trellis_gta.pb.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

using nlohmann::json;

constexpr char kPrefix[] = "/global-trust-authority/service/v1";

// The API document's example policy (section 3.4.1), as uploaded.
constexpr char kDocumentPolicyRego[] = R"(package verification

is_log_valid = valid {
    some i
    logs := input.evidence.logs
    logs[i].log_type == "ImaLog"
    valid := logs[i].is_log_valid
}

pcr_present {
    all := {x | x := [10][_] }
    measured := {pcr.pcr_index | pcr := input.evidence.pcrs.pcr_values[_]}
    all_pcrs_subset := all - measured
    count(all_pcrs_subset) == 0
}

default attestation_valid = false
attestation_valid {
    is_log_valid == true
    pcr_present
}

result = {
    "policy_matched": attestation_valid,
    "custom_data": {
        "hash_alg": input.evidence.pcrs.hash_alg
    }
}
)";

class GtaTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  void Start() {
    trellisd_ = std::make_unique<TrellisdProcess>(dir_.path() + "/trellisd");
    client_ = std::make_unique<httplib::SSLClient>("127.0.0.1",
                                                   trellisd_->gta_port());
    client_->set_ca_cert_path(trellisd_->gta_ca_file().c_str());
    client_->enable_server_certificate_verification(true);
  }

  struct Reply {
    int status = 0;
    json body;
  };
  Reply Call(const std::string& method, const std::string& path,
             const std::string& body, const std::string& user = "alice") {
    httplib::Headers headers;
    if (!user.empty()) headers.emplace("User-Id", user);
    const std::string url = absl::StrCat(kPrefix, path);
    httplib::Result r =
        method == "GET" ? client_->Get(url.c_str(), headers)
        : method == "POST"
            ? client_->Post(url.c_str(), headers, body, "application/json")
        : method == "PUT"
            ? client_->Put(url.c_str(), headers, body, "application/json")
            : client_->Delete(url.c_str(), headers, body, "application/json");
    Reply reply;
    if (!r) return reply;
    reply.status = r->status;
    reply.body = json::parse(r->body, nullptr, false);
    return reply;
  }

  json NewPolicy(const std::string& name) {
    return {{"name", name},
            {"description", "from the API document"},
            {"attester_type", {"tpm_ima"}},
            {"content_type", "text"},
            {"content", absl::Base64Escape(kDocumentPolicyRego)},
            {"is_default", true}};
  }

  TempDir dir_;
  std::unique_ptr<TrellisdProcess> trellisd_;
  std::unique_ptr<httplib::SSLClient> client_;
};

TEST_F(GtaTest, ChallengeGivesSignedNonces) {
  Reply r = Call(
      "POST", "/challenge",
      json{{"agent_version", "1.0"}, {"attester_type", {"tpm_boot"}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["service_version"], "1.0");
  const json& nonce = r.body["nonce"];
  EXPECT_TRUE(nonce["iat"].is_number_integer());
  EXPECT_LE(
      std::abs(nonce["iat"].get<int64_t>() - absl::ToUnixSeconds(absl::Now())),
      5);
  std::string value, signature;
  ASSERT_TRUE(absl::Base64Unescape(nonce["value"].get<std::string>(), &value));
  EXPECT_EQ(value.size(), 64u);
  ASSERT_TRUE(
      absl::Base64Unescape(nonce["signature"].get<std::string>(), &signature));
  EXPECT_EQ(signature.size(), 384u);  // RSA-3072.
  // Each challenge gets its own value.
  Reply again =
      Call("POST", "/challenge", json{{"attester_type", {"tpm_ima"}}}.dump());
  ASSERT_EQ(again.status, 200);
  EXPECT_NE(again.body["nonce"]["value"], nonce["value"]);

  r = Call("POST", "/challenge", json{{"attester_type", {"virt_cca"}}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["message"], "Required plugins not found");
  EXPECT_EQ(r.body["service_version"], "1.0");
  EXPECT_EQ(Call("POST", "/challenge",
                 json{{"attester_type", {"tpm_boot"}}}.dump(), "")
                .status,
            400);
  EXPECT_EQ(Call("POST", "/challenge", "{not json").status, 400);
  EXPECT_EQ(
      Call("POST", "/challenge", json{{"attester_type", "tpm_boot"}}.dump())
          .status,
      400);
}

TEST_F(GtaTest, PolicyLifecycleWithLimitsScopingAndLog) {
  Reply added = Call("POST", "/policy", NewPolicy("ima-policy").dump());
  ASSERT_EQ(added.status, 200) << added.body.dump();
  const std::string id = added.body["policy"]["id"];
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(added.body["policy"]["version"], 1);

  Reply full = Call("GET", "/policy?ids=" + id, "");
  ASSERT_EQ(full.status, 200);
  ASSERT_EQ(full.body["policies"].size(), 1u);
  const json& policy = full.body["policies"][0];
  EXPECT_EQ(policy["content"], kDocumentPolicyRego);
  EXPECT_EQ(policy["attester_type"], json({"tpm_ima"}));
  EXPECT_EQ(policy["is_default"], true);
  EXPECT_EQ(policy["valid_code"], 0);
  Reply summaries = Call("GET", "/policy?attester_type=tpm_ima", "");
  ASSERT_EQ(summaries.status, 200);
  ASSERT_EQ(summaries.body["policies"].size(), 1u);
  EXPECT_FALSE(summaries.body["policies"][0].contains("content"));
  EXPECT_TRUE(Call("GET", "/policy?attester_type=tpm_boot", "")
                  .body["policies"]
                  .empty());

  // Bad input: 400 with a message, nothing stored.
  json bad = NewPolicy("ima-policy");  // Name taken.
  EXPECT_EQ(Call("POST", "/policy", bad.dump()).status, 400);
  bad = NewPolicy(std::string(256, 'n'));
  EXPECT_EQ(Call("POST", "/policy", bad.dump()).status, 400);
  bad = NewPolicy("broken");
  bad["content"] = absl::Base64Escape("package verification\nresult := {");
  Reply broken = Call("POST", "/policy", bad.dump());
  EXPECT_EQ(broken.status, 400);
  EXPECT_EQ(broken.body["message"].get<std::string>().rfind(
                "Failed to compile policy", 0),
            0u)
      << broken.body.dump();
  bad = NewPolicy("not-base64");
  bad["content"] = "%%%";
  EXPECT_EQ(Call("POST", "/policy", bad.dump()).status, 400);
  bad = NewPolicy("typed");
  bad["attester_type"] = "tpm_ima";
  EXPECT_EQ(Call("POST", "/policy", bad.dump()).status, 400);
  EXPECT_EQ(Call("POST", "/policy", "[]").status, 400);
  EXPECT_EQ(Call("POST", "/policy", NewPolicy("x").dump(), "").status, 400);
  EXPECT_EQ(Call("POST", "/policy", NewPolicy("x").dump(), std::string(37, 'u'))
                .status,
            400);
  EXPECT_EQ(Call("GET", "/policy", "").body["policies"].size(), 1u);

  // Another user sees none of it.
  EXPECT_TRUE(
      Call("GET", "/policy?ids=" + id, "", "bob").body["policies"].empty());
  EXPECT_EQ(
      Call("PUT", "/policy", json{{"id", id}, {"name", "mine"}}.dump(), "bob")
          .status,
      404);

  Reply updated =
      Call("PUT", "/policy", json{{"id", id}, {"name", "renamed"}}.dump());
  ASSERT_EQ(updated.status, 200) << updated.body.dump();
  EXPECT_EQ(updated.body["policy"]["version"], 2);
  EXPECT_EQ(updated.body["policy"]["name"], "renamed");
  EXPECT_EQ(Call("PUT", "/policy", json{{"id", "nope"}}.dump()).status, 404);

  // Policies survive a restart.
  EXPECT_EQ(trellisd_->Stop(), 0);
  Start();
  Reply kept = Call("GET", "/policy?ids=" + id, "");
  ASSERT_EQ(kept.status, 200);
  ASSERT_EQ(kept.body["policies"].size(), 1u);
  EXPECT_EQ(kept.body["policies"][0]["version"], 2);

  EXPECT_EQ(
      Call("DELETE", "/policy", json{{"delete_type", "ids"}}.dump()).status,
      400);
  EXPECT_EQ(Call("DELETE", "/policy",
                 json{{"delete_type", "id"}, {"ids", {id}}}.dump())
                .status,
            200);
  EXPECT_TRUE(Call("GET", "/policy?ids=" + id, "").body["policies"].empty());

  // The log holds add, update and delete, in order, once integrated.
  auto admin = trellisd_->AdminStub();
  grpc::ClientContext list_context;
  trillian::ListTreesResponse trees;
  ASSERT_TRUE(admin->ListTrees(&list_context, {}, &trees).ok());
  int64_t log_id = 0;
  for (const auto& tree : trees.tree()) {
    if (tree.display_name() == "trellis-gta") log_id = tree.tree_id();
  }
  ASSERT_NE(log_id, 0);
  auto log = trellisd_->LogStub();
  trillian::GetLeavesByRangeResponse leaves;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    trillian::GetLeavesByRangeRequest range;
    range.set_log_id(log_id);
    range.set_start_index(0);
    range.set_count(10);
    leaves.Clear();
    if (log->GetLeavesByRange(&context, range, &leaves).ok() &&
        leaves.leaves_size() == 3) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(leaves.leaves_size(), 3);
  std::vector<std::string> actions;
  for (const auto& leaf : leaves.leaves()) {
    trellis::GtaChangeRecord record;
    ASSERT_TRUE(record.ParseFromString(leaf.leaf_value()));
    EXPECT_EQ(record.type(), "trellis.gta.change.v1");
    EXPECT_EQ(record.user_id(), "alice");
    EXPECT_EQ(record.resource_id(), id);
    actions.push_back(record.action());
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"add", "update", "delete"}));
}

}  // namespace
}  // namespace trellis::testing
