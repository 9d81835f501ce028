// The GTA attestation pipeline in process, on GTA's own sample evidence (a
// real tpm_boot quote, 8 PCRs and a 17-event boot log, gta/testdata):
// parse, quote checks (RSA-2048 signature, PCR digest), log replay into the
// policy input, one Rego policy (tests/testdata/rego/tpm_boot.rego), the
// export policy, and the PS256 token (RSA-3072), each alone and together,
// on one thread and two. Baselines from the same run: OpenSSL's raw
// RSA-2048 PKCS#1 verify and RSA-3072 PSS sign.
//
//   bazel run -c opt //bench:gta_bench -- --benchmark_min_time=2
//       [--token_key_bits=2048|3072|4096] [--token_key_primes=2|3]
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/escaping.h"
#include "crypto/keys.h"
#include "crypto/rsa_pss.h"
#include "gta/key_ring.h"
#include "gta/policy_evaluation.h"
#include "gta/token_issuer.h"
#include "gta/tpm_evidence.h"
#include "nlohmann/json.hpp"
#include "openssl/pem.h"
#include "openssl/x509.h"
#include "storage/rocksdb/gta_storage.h"
#include "util/file.h"
#include "util/test_util.h"

ABSL_FLAG(int, token_key_primes, trellis::gta::TokenKeyShape().primes,
          "Prime factors of the token key.");
ABSL_FLAG(int, token_key_bits, trellis::gta::kDefaultKeyBits,
          "RSA size of the token key.");

namespace trellis::gta {
namespace {

using nlohmann::json;

struct Fixture {
  json evidence;
  std::shared_ptr<EVP_PKEY> ak;
  policy::RegoSandbox sandbox;
  std::unique_ptr<policy::RegoProgram> user_policy;
  std::unique_ptr<policy::RegoPolicy> export_policy;
  testing::TempDir dir;
  std::unique_ptr<storage::rocksdb::Database> db;
  std::unique_ptr<storage::rocksdb::RocksGtaStorage> storage;
  std::unique_ptr<KeyRing> keys;
  std::unique_ptr<TokenIssuer> tokens;
  // The reference signer: two-prime RSA-3072, GTA's TSK.
  crypto::PrivateKey two_prime_3072;
};

Fixture& F() {
  static Fixture* f = [] {
    auto* f = new Fixture();
    f->evidence = json::parse(
        ReadFile("gta/testdata/tpm_boot_sample.json").value())["evidence"];
    const std::string pem = f->evidence["ak_cert"];
    BIO* bio = BIO_new_mem_buf(pem.data(), pem.size());
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    f->ak.reset(X509_get_pubkey(cert), EVP_PKEY_free);
    X509_free(cert);
    f->user_policy =
        CompileUserPolicy(f->sandbox,
                          ReadFile("tests/testdata/rego/tpm_boot.rego").value(),
                          {kTpmBoot})
            .value();
    f->export_policy = policy::RegoPolicy::Compile(
                           {{"export", ExportPolicyText(kTpmBoot).value()}})
                           .value();
    f->db =
        std::move(storage::rocksdb::Database::Open({f->dir.path()}).value());
    f->storage =
        std::make_unique<storage::rocksdb::RocksGtaStorage>(f->db.get());
    crypto::KeyWrapping plain{
        [](absl::string_view, absl::string_view der) {
          return absl::StatusOr<std::string>(std::string(der));
        },
        [](absl::string_view, absl::string_view w) {
          return absl::StatusOr<std::string>(std::string(w));
        }};
    f->keys = KeyRing::Open(f->storage.get(), plain, absl::Hours(1), absl::Now,
                            {absl::GetFlag(FLAGS_token_key_bits),
                             absl::GetFlag(FLAGS_token_key_primes)})
                  .value();
    f->tokens = TokenIssuer::Create(f->keys.get(), {}).value();
    f->two_prime_3072 = crypto::GenerateRsaKey(3072, 2).value();
    return f;
  }();
  return *f;
}

// One attestation without the network, the nonce and the log write.
bool Attest(Fixture& f) {
  absl::StatusOr<TpmEvidence> evidence = ParseTpmEvidence(f.evidence);
  if (!evidence.ok() || !VerifyQuote(*evidence, *f.ak, std::nullopt).ok()) {
    return false;
  }
  absl::StatusOr<json> log = BootLogInput(*evidence);
  if (!log.ok()) return false;
  const std::string input =
      PolicyInput(*evidence, json::array({*std::move(log)})).dump();
  absl::StatusOr<PolicyVerdict> verdict =
      EvaluateUserPolicy(*f.user_policy, input);
  absl::StatusOr<ExportedEvidence> exported =
      EvaluateExportPolicy(*f.export_policy, input);
  if (!verdict.ok() || !exported.ok()) return false;
  json claims = {{"status", verdict->matched ? "pass" : "fail"},
                 {"tpm_boot", exported->annotated_evidence}};
  return f.tokens->Issue(std::move(claims)).ok();
}

void BM_AttestPipeline(benchmark::State& state) {
  Fixture& f = F();
  for (auto _ : state) {
    if (!Attest(f)) {
      state.SkipWithError("attestation failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AttestPipeline)->Threads(1)->Threads(2)->UseRealTime();

void BM_ParseAndVerifyQuote(benchmark::State& state) {
  Fixture& f = F();
  for (auto _ : state) {
    absl::StatusOr<TpmEvidence> evidence = ParseTpmEvidence(f.evidence);
    benchmark::DoNotOptimize(VerifyQuote(*evidence, *f.ak, std::nullopt));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseAndVerifyQuote);

void BM_BootLogReplay(benchmark::State& state) {
  Fixture& f = F();
  const TpmEvidence evidence = ParseTpmEvidence(f.evidence).value();
  for (auto _ : state) {
    benchmark::DoNotOptimize(BootLogInput(evidence));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BootLogReplay);

void BM_PoliciesUserAndExport(benchmark::State& state) {
  Fixture& f = F();
  const TpmEvidence evidence = ParseTpmEvidence(f.evidence).value();
  const std::string input =
      PolicyInput(evidence, json::array({BootLogInput(evidence).value()}))
          .dump();
  for (auto _ : state) {
    benchmark::DoNotOptimize(EvaluateUserPolicy(*f.user_policy, input));
    benchmark::DoNotOptimize(EvaluateExportPolicy(*f.export_policy, input));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PoliciesUserAndExport);

void BM_TokenSignPs256(benchmark::State& state) {
  Fixture& f = F();
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.tokens->Issue({{"status", "pass"}}));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TokenSignPs256);

// Baselines: the raw public-key operations the pipeline cannot avoid.
void BM_BaselineRsa3072PssSign(benchmark::State& state) {
  Fixture& f = F();
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto::SignRsaPss(
        *f.two_prime_3072, crypto::PssHash::kSha256, "claims"));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BaselineRsa3072PssSign);

}  // namespace
}  // namespace trellis::gta

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  absl::ParseCommandLine(argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
