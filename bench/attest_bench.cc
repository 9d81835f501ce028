// Server-side attestation verification speed, in process, on evidence a
// real software TPM made: the quote (signature, PCR digest, selection,
// qualified signer) with a 2,000-entry IMA list replayed into PCR 10 and
// checked against an allowlist, with and without the app key certificate;
// OpenSSL's raw ECDSA P-256 and RSA-2048 verification in the same run as
// baselines.
//
//   attest_bench [--benchmark_min_time=2]
#include <benchmark/benchmark.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "attest/host/tpm_device.h"
#include "attest/ima/measurement_list.h"
#include "attest/keylime/app_key_certificate.h"
#include "attest/keylime/quote.h"
#include "attest/testing/swtpm.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "attest/verifier/appraisal.h"
#include "nlohmann/json.hpp"

namespace trellis::attest {
namespace {

constexpr int kImaEntries = 2000;

struct Fixture {
  EvidenceRequest with_ima;
  RegisteredAk ak;
  Policy policy;
};

// Evidence from a software TPM: `algorithm` AK, a 2,000-entry IMA list
// extended into PCR 10 (batch-extended: the list is what the TPM saw).
std::unique_ptr<Fixture> MakeFixture(trellis::testing::Swtpm& tpm,
                                     const char* algorithm) {
  auto device = *host::TpmDevice::Open(tpm.tcti());
  auto f = std::make_unique<Fixture>();
  const std::string ek = *device->EkPublic();
  const host::KeyBlob ak = *device->CreateAk(algorithm);
  f->ak.public_area = *tpm::ParsePublic(ak.public_area);
  f->ak.qualified_name =
      *tpm::AkQualifiedName(*tpm::ParsePublic(ek), f->ak.public_area);
  f->ak.key = *AkKey(f->ak);  // As the verifier caches it per host.
  std::string list;
  nlohmann::json digests = nlohmann::json::object();
  std::vector<ima::Entry> entries;
  for (int i = 0; i < kImaEntries; ++i) {
    const std::string path = absl::StrCat("/usr/lib/component/file-", i, ".so");
    const std::string digest =
        *tpm::TpmHash(TPM2_ALG_SHA256, absl::StrCat("contents ", i));
    entries.push_back(ima::MakeImaNgEntry(path, digest));
    list += ima::FormatAscii(entries.back()) + "\n";
    digests[path] = {absl::BytesToHexString(digest)};
  }
  // PCR 10 as the kernel would leave it: extended once with the replay's
  // running value is not possible, so extend each entry (done once).
  for (const ima::Entry& e : entries) {
    device->ExtendPcr(10, *tpm::TpmHash(TPM2_ALG_SHA256, e.template_data))
        .IgnoreError();
  }
  const std::string nonce(32, '\x17');
  auto quote = *device->Quote(ak, nonce,
                              *host::ParsePcrList("sha256:0,1,2,3,4,5,6,7,10"));
  const host::KeyBlob app = *device->CreateAppKey();
  auto certified = *device->Certify(app, ak, nonce);
  const std::string app_pem = *tpm::ToPem(*tpm::ParsePublic(app.public_area));
  EvidenceRequest& r = f->with_ima;
  r.type = "tpm-app-key";
  r.nonce = absl::BytesToHexString(nonce);
  r.quote = keylime::FormatQuote({quote.signed_quote.attest,
                                  quote.signed_quote.signature,
                                  *tpm::SerializePcrBlob(quote.pcrs)});
  r.hash_alg = "sha256";
  r.app_key_public = app_pem;
  r.app_key_certificate = keylime::EncodeAppKeyCertificate(
      {app_pem, app.public_area, certified.attest, certified.signature});
  r.ima_measurement_list = list;
  f->policy = *ParsePolicy(
      "bench", 1,
      nlohmann::json{{"ima", {{"digests", digests}, {"excludes", {"/tmp/.*"}}}},
                     {"require_ima", true}}
          .dump());
  Appraisal check = AppraiseEvidence(r, f->ak, std::nullopt, f->policy);
  if (!check.verified) {
    std::fprintf(stderr, "bench evidence does not verify: %s\n",
                 check.checks.first_failure()->name.c_str());
    std::abort();
  }
  return f;
}

Fixture* g_ecc = nullptr;
Fixture* g_rsa = nullptr;

void BM_AppraiseQuoteAndIma(benchmark::State& state, Fixture** fixture) {
  const Fixture& f = **fixture;
  for (auto _ : state) {
    // The quote and the IMA list, as the target counts them: the
    // app key certificate's own signature is benchmarked below.
    EvidenceRequest r = f.with_ima;
    r.app_key_certificate.clear();
    Appraisal a = AppraiseEvidence(r, f.ak, std::nullopt, f.policy);
    benchmark::DoNotOptimize(a);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_AppraiseFullEvidence(benchmark::State& state, Fixture** fixture) {
  const Fixture& f = **fixture;
  for (auto _ : state) {
    Appraisal a = AppraiseEvidence(f.with_ima, f.ak, std::nullopt, f.policy);
    if (!a.verified) state.SkipWithError("evidence did not verify");
    benchmark::DoNotOptimize(a);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_AppraiseQuoteAndIma, ecdsa_p256, &g_ecc)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_AppraiseQuoteAndIma, rsa_2048, &g_rsa)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_AppraiseFullEvidence, ecdsa_p256, &g_ecc)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_AppraiseFullEvidence, rsa_2048, &g_rsa)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

// Baselines: OpenSSL verifying one signature over a SHA-256 digest.
void BM_OpenSslVerify(benchmark::State& state, int type) {
  EVP_PKEY* key = type == EVP_PKEY_EC ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
  const unsigned char digest[32] = {1, 2, 3};
  unsigned char sig[512];
  size_t sig_len = sizeof(sig);
  EVP_PKEY_CTX* sign = EVP_PKEY_CTX_new(key, nullptr);
  EVP_PKEY_sign_init(sign);
  EVP_PKEY_CTX_set_signature_md(sign, EVP_sha256());
  EVP_PKEY_sign(sign, sig, &sig_len, digest, sizeof(digest));
  EVP_PKEY_CTX_free(sign);
  for (auto _ : state) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
    EVP_PKEY_verify_init(ctx);
    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256());
    if (EVP_PKEY_verify(ctx, sig, sig_len, digest, sizeof(digest)) != 1) {
      state.SkipWithError("verify failed");
    }
    EVP_PKEY_CTX_free(ctx);
  }
  state.SetItemsProcessed(state.iterations());
  EVP_PKEY_free(key);
}
BENCHMARK_CAPTURE(BM_OpenSslVerify, ecdsa_p256, EVP_PKEY_EC)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_OpenSslVerify, rsa_2048, EVP_PKEY_RSA)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

// The IMA list alone: parse, replay, allowlist.
void BM_ImaListOnly(benchmark::State& state) {
  const Fixture& f = *g_ecc;
  for (auto _ : state) {
    auto entries = ima::ParseAscii(f.with_ima.ima_measurement_list);
    auto value = ima::Replay(*entries, TPM2_ALG_SHA256);
    auto failures = f.policy.ima->Evaluate(*entries);
    benchmark::DoNotOptimize(value);
    benchmark::DoNotOptimize(failures);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ImaListOnly);

}  // namespace
}  // namespace trellis::attest

int main(int argc, char** argv) {
  setenv("TSS2_LOG", "all+NONE", 1);
  benchmark::Initialize(&argc, argv);
  trellis::testing::Swtpm ecc_tpm, rsa_tpm;
  auto ecc = trellis::attest::MakeFixture(ecc_tpm, "ecc");
  auto rsa = trellis::attest::MakeFixture(rsa_tpm, "rsa");
  trellis::attest::g_ecc = ecc.get();
  trellis::attest::g_rsa = rsa.get();
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
