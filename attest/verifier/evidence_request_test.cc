#include "attest/verifier/evidence_request.h"

#include "gtest/gtest.h"

namespace trellis::attest {
namespace {

using nlohmann::json;

json ValidRequest() {
  return json::parse(R"({
    "type": "tpm-app-key",
    "data": {
      "nonce": "00ff", "quote": "rQUOTE:SIG:PCRS", "hash_alg": "sha256",
      "app_key_public": "PEM", "app_key_certificate": "CERT",
      "tpm_ak": "AK", "tpm_ek": "EK",
      "geolocation": {"country": "DE", "latitude": 52.5, "longitude": 13.4},
      "gpu_metrics": {"status": "healthy", "utilization_pct": 12.5,
                      "memory_mb": 4096}
    },
    "metadata": {"source": "agent", "submission_type": "push"}
  })");
}

absl::StatusCode Code(const json& body) {
  return ParseEvidenceRequest(body).status().code();
}

TEST(EvidenceRequestTest, ParsesEveryField) {
  absl::StatusOr<EvidenceRequest> r = ParseEvidenceRequest(ValidRequest());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->nonce, "00ff");
  EXPECT_EQ(r->tpm_ek, "EK");
  ASSERT_TRUE(r->geolocation.has_value());
  EXPECT_EQ(r->geolocation->country, "DE");
  EXPECT_EQ(r->geolocation->canonical, CanonicalGeolocation("DE", 52.5, 13.4));
  ASSERT_TRUE(r->gpu_metrics.has_value());
  EXPECT_EQ(r->gpu_metrics->memory_mb, 4096);
  EXPECT_EQ(r->source, "agent");
}

// Each of these once reached nlohmann's const operator[] on a missing key.
TEST(EvidenceRequestTest, IncompleteClaimObjectsAreRefused) {
  for (const char* claim : {"geolocation", "gpu_metrics"}) {
    json body = ValidRequest();
    body["data"][claim] = json::object();
    EXPECT_EQ(Code(body), absl::StatusCode::kInvalidArgument) << claim;
  }
  for (const char* member : {"country", "latitude", "longitude"}) {
    json body = ValidRequest();
    body["data"]["geolocation"].erase(member);
    EXPECT_EQ(Code(body), absl::StatusCode::kInvalidArgument) << member;
  }
  for (const char* member : {"status", "utilization_pct", "memory_mb"}) {
    json body = ValidRequest();
    body["data"]["gpu_metrics"].erase(member);
    EXPECT_EQ(Code(body), absl::StatusCode::kInvalidArgument) << member;
  }
  json body = ValidRequest();
  body["data"]["gpu_metrics"]["memory_mb"] = 1.5;
  EXPECT_EQ(Code(body), absl::StatusCode::kInvalidArgument);
  body = ValidRequest();
  body["data"]["geolocation"] = json::array({1, 2});
  EXPECT_EQ(Code(body), absl::StatusCode::kInvalidArgument);
}

TEST(EvidenceRequestTest, RequiredFieldsAndTypes) {
  for (const char* field : {"nonce", "quote", "hash_alg", "app_key_public",
                            "app_key_certificate", "tpm_ak"}) {
    json missing = ValidRequest();
    missing["data"].erase(field);
    EXPECT_EQ(Code(missing), absl::StatusCode::kInvalidArgument) << field;
    json mistyped = ValidRequest();
    mistyped["data"][field] = 7;
    EXPECT_EQ(Code(mistyped), absl::StatusCode::kInvalidArgument) << field;
  }
  json body = ValidRequest();
  body["data"]["tpm_ek"] = json::object();
  EXPECT_EQ(Code(body), absl::StatusCode::kInvalidArgument);
  body = ValidRequest();
  body["data"]["nonce"] = "xyz";
  EXPECT_EQ(Code(body), absl::StatusCode::kInvalidArgument);
  body = ValidRequest();
  body["data"]["hash_alg"] = "md5";
  EXPECT_EQ(Code(body), absl::StatusCode::kInvalidArgument);
  body = ValidRequest();
  body["type"] = "other";
  EXPECT_EQ(Code(body), absl::StatusCode::kInvalidArgument);
  body = ValidRequest();
  body["data"] = "text";
  EXPECT_EQ(Code(body), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code(json::array()), absl::StatusCode::kInvalidArgument);
}

TEST(EvidenceRequestTest, OutOfRangeClaimsAreRefused) {
  for (auto [member, value] : {std::pair<const char*, json>{"latitude", 91},
                               {"longitude", -181},
                               {"country", std::string(101, 'x')}}) {
    json body = ValidRequest();
    body["data"]["geolocation"][member] = value;
    EXPECT_EQ(Code(body), absl::StatusCode::kInvalidArgument) << member;
  }
  for (auto [member, value] : {std::pair<const char*, json>{"status", "odd"},
                               {"utilization_pct", 101},
                               {"memory_mb", -1}}) {
    json body = ValidRequest();
    body["data"]["gpu_metrics"][member] = value;
    EXPECT_EQ(Code(body), absl::StatusCode::kInvalidArgument) << member;
  }
}

TEST(EvidenceRequestTest, MistypedMetadataIsIgnored) {
  json body = ValidRequest();
  body["metadata"] = {{"source", 3}};
  absl::StatusOr<EvidenceRequest> r = ParseEvidenceRequest(body);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->source, "");
}

TEST(EvidenceRequestTest, CanonicalEvidenceIsStable) {
  json reordered = ValidRequest();
  reordered["data"]["nonce"] = "00FF";
  EXPECT_EQ(CanonicalEvidence(*ParseEvidenceRequest(ValidRequest())),
            CanonicalEvidence(*ParseEvidenceRequest(reordered)));
}

}  // namespace
}  // namespace trellis::attest
