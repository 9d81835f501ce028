#include "attest/verifier/quote_verifier.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"

namespace trellis::attest {
namespace {

TPM2_ALG_ID SignatureHash(const TPMT_SIGNATURE& sig) {
  return sig.sigAlg == TPM2_ALG_ECDSA ? sig.signature.ecdsa.hash
                                      : sig.signature.rsassa.hash;
}

std::string Hex(absl::string_view bytes) {
  return absl::BytesToHexString(bytes);
}

// Keylime's agents put the nonce's text in extraData; tpm2_quote -q puts
// the bytes the hex stands for. Either binds the issued nonce.
bool NonceMatches(absl::string_view extra_data, absl::string_view nonce) {
  return !nonce.empty() &&
         (extra_data == nonce || extra_data == absl::BytesToHexString(nonce));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const EVP_PKEY>> AkKey(const RegisteredAk& ak) {
  if (ak.key != nullptr) return ak.key;
  absl::StatusOr<crypto::PrivateKey> key = tpm::ToOpenSslKey(ak.public_area);
  if (!key.ok()) return key.status();
  return std::shared_ptr<const EVP_PKEY>(key->release(), EVP_PKEY_free);
}

QuoteVerification VerifyQuote(const keylime::Quote& quote,
                              const RegisteredAk& ak,
                              const QuoteExpectation& expect) {
  QuoteVerification v;
  Checks& checks = v.checks;
  absl::StatusOr<TPMS_ATTEST> attest = tpm::ParseAttest(quote.attest);
  absl::StatusOr<TPMT_SIGNATURE> signature =
      tpm::ParseSignature(quote.signature);
  absl::StatusOr<tpm::PcrBlob> pcrs = tpm::ParsePcrBlob(quote.pcr_blob);
  if (!attest.ok() || !signature.ok() || !pcrs.ok()) {
    const absl::Status& why = !attest.ok()      ? attest.status()
                              : !signature.ok() ? signature.status()
                                                : pcrs.status();
    checks.Add(kQuoteFormatValid, false, std::string(why.message()));
    return v;
  }
  if (attest->type != TPM2_ST_ATTEST_QUOTE) {
    checks.Add(kQuoteFormatValid, false, "attestation is not a quote");
    return v;
  }
  checks.Add(kQuoteFormatValid, true);
  v.attest = *attest;
  v.pcrs = *pcrs;
  v.clock = {attest->clockInfo.clock, attest->clockInfo.resetCount,
             attest->clockInfo.restartCount};

  const absl::Status ak_ok = tpm::CheckAttestationKey(ak.public_area);
  checks.Add(kAkValid, ak_ok.ok(), std::string(ak_ok.message()));

  const TPM2_ALG_ID hash = SignatureHash(*signature);
  checks.Add(kHashAlgValid, hash == expect.hash,
             hash == expect.hash
                 ? ""
                 : absl::StrCat("quote signed with ", tpm::HashName(hash),
                                ", expected ", tpm::HashName(expect.hash)));

  absl::Status sig_ok = absl::OkStatus();
  absl::StatusOr<std::shared_ptr<const EVP_PKEY>> key = AkKey(ak);
  if (!key.ok()) {
    sig_ok = key.status();
  } else {
    sig_ok = tpm::VerifyTpmSignature(**key, *signature, quote.attest, hash);
  }
  checks.Add(kQuoteSignatureValid, sig_ok.ok(), std::string(sig_ok.message()));

  const absl::string_view extra = tpm::View(attest->extraData);
  const bool nonce_ok = NonceMatches(extra, expect.nonce);
  checks.Add(kNonceValid, nonce_ok,
             nonce_ok ? ""
                      : absl::StrCat("quote carries nonce ", Hex(extra),
                                     ", expected ", Hex(expect.nonce)));

  const absl::string_view signer = tpm::View(attest->qualifiedSigner);
  const bool signer_ok = signer == ak.qualified_name;
  checks.Add(kQualifiedSignerValid, signer_ok,
             signer_ok ? ""
                       : absl::StrCat("quote signed by ", Hex(signer),
                                      ", the registered AK is ",
                                      Hex(ak.qualified_name)));

  const TPML_PCR_SELECTION& signed_selection = attest->attested.quote.pcrSelect;
  const bool selection_ok =
      tpm::SelectedPcrs(signed_selection) == tpm::SelectedPcrs(pcrs->selection);
  checks.Add(kPcrSelectionValid, selection_ok,
             selection_ok
                 ? ""
                 : absl::StrCat("quote signs PCRs ",
                                tpm::DescribeSelection(signed_selection),
                                ", the PCR values claim ",
                                tpm::DescribeSelection(pcrs->selection)));

  std::string concatenated;
  for (const tpm::PcrValue& value : pcrs->values) concatenated += value.digest;
  absl::StatusOr<std::string> digest = tpm::TpmHash(hash, concatenated);
  const absl::string_view quoted = tpm::View(attest->attested.quote.pcrDigest);
  const bool digest_ok = digest.ok() && *digest == quoted;
  checks.Add(
      kPcrDigestValid, digest_ok,
      digest_ok ? "" : "the PCR values do not hash to the quoted PCR digest");

  const bool safe = attest->clockInfo.safe == TPM2_YES;
  checks.Add(kClockSafe, safe,
             safe ? "" : "the TPM clock may have been set back (safe = 0)");

  const bool monotonic = !expect.previous.has_value() ||
                         tpm::ClockAdvanced(*expect.previous, v.clock);
  checks.Add(kClockMonotonic, monotonic,
             monotonic
                 ? ""
                 : absl::StrCat("TPM clock went backwards: clock ",
                                v.clock.clock, " reset ", v.clock.reset_count,
                                " restart ", v.clock.restart_count, " after ",
                                expect.previous->clock, "/",
                                expect.previous->reset_count, "/",
                                expect.previous->restart_count));
  return v;
}

}  // namespace trellis::attest
