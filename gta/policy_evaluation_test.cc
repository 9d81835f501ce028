#include "gta/policy_evaluation.h"

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "policy/rego_policy.h"

namespace trellis::gta {
namespace {

// The API document's policy example (section 3.4.1, base64 as uploaded):
// written for the older input with is_log_valid and attestation_valid.
constexpr char kDocumentPolicy[] =
    "cGFja2FnZSB2ZXJpZmljYXRpb24KCiMgRXh0cmFjdCBpc19sb2dfdmFsaWQgZnJvbSBmaXJzdC"
    "B0cG1faW1hIGxvZwppc19sb2dfdmFsaWQgPSB2YWxpZCB7CiAgICBzb21lIGkKICAgIGxvZ3Mg"
    "Oj0gaW5wdXQuZXZpZGVuY2UubG9ncwogICAgbG9nc1tpXS5sb2dfdHlwZSA9PSAiSW1hTG9nIg"
    "ogICAgdmFsaWQgOj0gbG9nc1tpXS5pc19sb2dfdmFsaWQKfQoKIyBDaGVjayBpZiBwY3JzIDEw"
    "IGlzIHByZXNlbnQgaW4gYW55IGhhc2ggYWxnb3JpdGhtIChzaGExLCBzaGEyNTYsIHNoYTM4NC"
    "wgc2hhNTEyKQpwY3JfcHJlc2VudCB7CiAgICBhbGwgOj0ge3ggfCB4IDo9IFsxMF1bX10gfQog"
    "ICAgbWVhc3VyZWQgOj0ge3Bjci5wY3JfaW5kZXggfCBwY3IgOj0gaW5wdXQuZXZpZGVuY2UucG"
    "Nycy5wY3JfdmFsdWVzW19dfQogICAgYWxsX3BjcnNfc3Vic2V0IDo9IGFsbCAtIG1lYXN1cmVk"
    "CiAgICBjb3VudChhbGxfcGNyc19zdWJzZXQpID09IDAKfQoKIyBBdHRlc3RhdGlvbiB2YWxpZC"
    "BpZiBhbGwgY29uZGl0aW9ucyBtZXQKZGVmYXVsdCBhdHRlc3RhdGlvbl92YWxpZCA9IGZhbHNl"
    "CmF0dGVzdGF0aW9uX3ZhbGlkIHsKICAgIGlzX2xvZ192YWxpZCA9PSB0cnVlCiAgICBwY3JfcH"
    "Jlc2VudAp9CgojIE91dHB1dCByZXN1bHQKcmVzdWx0ID0gewogICAgInBvbGljeV9tYXRjaGVk"
    "IjogYXR0ZXN0YXRpb25fdmFsaWQsCiAgICAiY3VzdG9tX2RhdGEiOiB7CiAgICAgICAgImhhc2"
    "hfYWxnIjogaW5wdXQuZXZpZGVuY2UucGNycy5oYXNoX2FsZwogICAgfQp9";

policy::RegoSandbox& Sandbox() {
  static policy::RegoSandbox* sandbox = new policy::RegoSandbox();
  return *sandbox;
}

std::string Decoded(const char* base64) {
  std::string out;
  EXPECT_TRUE(absl::Base64Unescape(base64, &out));
  return out;
}

TEST(PolicyEvaluationTest, TheDocumentsPolicyRunsUnchanged) {
  auto policy =
      CompileUserPolicy(Sandbox(), Decoded(kDocumentPolicy), {kTpmIma});
  ASSERT_TRUE(policy.ok()) << policy.status();
  auto verdict = EvaluateUserPolicy(**policy, *SampleInput(kTpmIma));
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_TRUE(verdict->matched);
  EXPECT_EQ(verdict->custom_data, nlohmann::json({{"hash_alg", "sha256"}}));
  // Without PCR 10 it does not match.
  nlohmann::json input = nlohmann::json::parse(*SampleInput(kTpmIma));
  input["evidence"]["pcrs"]["pcr_values"][0]["pcr_index"] = 11;
  verdict = EvaluateUserPolicy(**policy, input.dump());
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_FALSE(verdict->matched);
}

TEST(PolicyEvaluationTest, ResultsMustSayWhetherThePolicyMatched) {
  // attestation_valid (the document's name) is accepted too.
  auto policy = CompileUserPolicy(
      Sandbox(),
      "package verification\nresult := {\"attestation_valid\": true}\n",
      {kTpmBoot});
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(EvaluateUserPolicy(**policy, "{}")->matched);

  auto no_verdict = CompileUserPolicy(
      Sandbox(), "package verification\nresult := {\"status\": \"pass\"}\n",
      {kTpmBoot});
  EXPECT_EQ(no_verdict.status().code(), absl::StatusCode::kInvalidArgument);
  auto not_bool = CompileUserPolicy(
      Sandbox(),
      "package verification\nresult := {\"policy_matched\": \"yes\"}\n",
      {kTpmBoot});
  EXPECT_EQ(not_bool.status().code(), absl::StatusCode::kInvalidArgument);
  auto broken = CompileUserPolicy(
      Sandbox(), "package verification\nresult := {", {kTpmBoot});
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(broken.status().message().find("Failed to compile policy"),
            std::string::npos);
  auto unknown_type = CompileUserPolicy(
      Sandbox(), "package verification\nresult := {\"policy_matched\": true}\n",
      {"virt_cca"});
  EXPECT_EQ(unknown_type.status().code(), absl::StatusCode::kInvalidArgument);

  // Undefined on real evidence: an error, as GTA.
  auto conditional = CompileUserPolicy(
      Sandbox(),
      "package verification\nresult := {\"policy_matched\": true} { "
      "input.evidence.logs[0].log_status == \"replay_success\" }\n",
      {kTpmBoot});
  ASSERT_TRUE(conditional.ok()) << conditional.status();
  auto undefined = EvaluateUserPolicy(**conditional, R"({"evidence":{}})");
  EXPECT_EQ(undefined.status().message(),
            "Policy evaluation returned no results");
}

TEST(PolicyEvaluationTest, StatusCombinesTheVerdicts) {
  EXPECT_EQ(AttestationStatus({}), "unknown");
  EXPECT_EQ(AttestationStatus({{true, nullptr}, {true, nullptr}}), "pass");
  EXPECT_EQ(AttestationStatus({{true, nullptr}, {false, nullptr}}), "fail");
}

TEST(PolicyEvaluationTest, ExportPoliciesAnnotateTheEvidence) {
  for (const char* type : {kTpmBoot, kTpmIma}) {
    SCOPED_TRACE(type);
    auto policy =
        policy::RegoPolicy::Compile({{"export.rego", *ExportPolicyText(type)}});
    ASSERT_TRUE(policy.ok()) << policy.status();
    auto exported = EvaluateExportPolicy(**policy, *SampleInput(type));
    ASSERT_TRUE(exported.ok()) << exported.status();
    EXPECT_EQ(exported->trustworthiness_vector["executables"], 2);
    if (std::string(type) == kTpmBoot) {
      EXPECT_EQ(exported->annotated_evidence["secure_boot"], "enabled");
      EXPECT_EQ(exported->annotated_evidence["pcrs"].size(), 8u);
    } else {
      EXPECT_EQ(exported->annotated_evidence["measured_files"], 2);
      EXPECT_EQ(exported->annotated_evidence["unmatched_files"], 0);
    }
  }
  // A failed replay shows.
  auto boot = policy::RegoPolicy::Compile(
      {{"export.rego", *ExportPolicyText(kTpmBoot)}});
  nlohmann::json input = nlohmann::json::parse(*SampleInput(kTpmBoot));
  input["evidence"]["logs"][0]["log_status"] = "replay_failure";
  auto exported = EvaluateExportPolicy(**boot, input.dump());
  ASSERT_TRUE(exported.ok()) << exported.status();
  EXPECT_EQ(exported->trustworthiness_vector["executables"], 33);
  EXPECT_EQ(exported->annotated_evidence["log_status"], "replay_failure");
  EXPECT_EQ(ExportPolicyText("virt_cca").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace trellis::gta
