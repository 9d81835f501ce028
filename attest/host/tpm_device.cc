#include "attest/host/tpm_device.h"

#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/marshal.h"
#include "attest/tpm/structures.h"

namespace trellis::attest::host {
namespace {

constexpr TPM2_HANDLE kEkCertificateIndex = 0x01c00002;
constexpr TPM2_HANDLE kEccEkCertificateIndex = 0x01c0000a;

absl::Status TpmError(const char* what, TSS2_RC rc) {
  return absl::InternalError(absl::StrCat(what, ": ", Tss2_RC_Decode(rc)));
}

// Frees what ESAPI allocated for an output parameter.
template <typename T>
struct EsysPtr {
  T* p = nullptr;
  ~EsysPtr() { Esys_Free(p); }
  T** out() { return &p; }
  T* operator->() const { return p; }
};

TPM2B_PUBLIC EkTemplate(bool ecc) {
  TPM2B_PUBLIC t{};
  t.publicArea = tpm::DefaultEkTemplate(ecc);
  return t;
}

TPM2B_PUBLIC SrkTemplate() {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.type = TPM2_ALG_ECC;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN |
                       TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA |
                       TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
  p.parameters.eccDetail.symmetric.keyBits.aes = 128;
  p.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
  p.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  return t;
}

// A signing key: restricted (an AK) or not (an application key).
absl::StatusOr<TPM2B_PUBLIC> SigningTemplate(absl::string_view algorithm,
                                             bool restricted) {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN |
                       TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_SIGN_ENCRYPT;
  if (restricted) p.objectAttributes |= TPMA_OBJECT_RESTRICTED;
  if (algorithm == "ecc") {
    p.type = TPM2_ALG_ECC;
    p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
    p.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
    p.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  } else if (algorithm == "rsa") {
    p.type = TPM2_ALG_RSA;
    p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
    p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
    p.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    p.parameters.rsaDetail.keyBits = 2048;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("key algorithm must be ecc or rsa, not ", algorithm));
  }
  return t;
}

TPM2B_DATA ToData(absl::string_view bytes) {
  TPM2B_DATA data{};
  data.size = static_cast<uint16_t>(bytes.size());
  std::memcpy(data.buffer, bytes.data(), bytes.size());
  return data;
}

}  // namespace

// A transient object or session, flushed when it goes out of scope.
class TpmDevice::Handle {
 public:
  Handle(ESYS_CONTEXT* esys, ESYS_TR handle) : esys_(esys), handle_(handle) {}
  Handle(Handle&& other) noexcept
      : esys_(other.esys_),
        handle_(std::exchange(other.handle_, ESYS_TR_NONE)) {}
  Handle& operator=(Handle&&) = delete;
  ~Handle() {
    if (handle_ != ESYS_TR_NONE) Esys_FlushContext(esys_, handle_);
  }
  ESYS_TR get() const { return handle_; }

 private:
  ESYS_CONTEXT* esys_;
  ESYS_TR handle_;
};

absl::StatusOr<std::unique_ptr<TpmDevice>> TpmDevice::Open(
    const std::string& tcti) {
  TSS2_TCTI_CONTEXT* tcti_context = nullptr;
  TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti.c_str(), &tcti_context);
  if (rc != TSS2_RC_SUCCESS) {
    return absl::UnavailableError(absl::StrCat(
        "cannot reach the TPM at \"", tcti, "\": ", Tss2_RC_Decode(rc)));
  }
  ESYS_CONTEXT* esys = nullptr;
  rc = Esys_Initialize(&esys, tcti_context, nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    Tss2_TctiLdr_Finalize(&tcti_context);
    return absl::UnavailableError(
        absl::StrCat("cannot start ESAPI: ", Tss2_RC_Decode(rc)));
  }
  return std::unique_ptr<TpmDevice>(new TpmDevice(tcti_context, esys));
}

TpmDevice::~TpmDevice() {
  Esys_Finalize(&esys_);
  Tss2_TctiLdr_Finalize(&tcti_);
}

absl::StatusOr<TpmDevice::Handle> TpmDevice::CreatePrimary(
    ESYS_TR hierarchy, const TPM2B_PUBLIC& templ, const char* what) {
  const TPM2B_SENSITIVE_CREATE sensitive{};
  const TPM2B_DATA outside{};
  const TPML_PCR_SELECTION creation_pcrs{};
  ESYS_TR handle = ESYS_TR_NONE;
  const TSS2_RC rc = Esys_CreatePrimary(
      esys_, hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
      &sensitive, &templ, &outside, &creation_pcrs, &handle, nullptr, nullptr,
      nullptr, nullptr);
  if (rc != TSS2_RC_SUCCESS) return TpmError(what, rc);
  return Handle(esys_, handle);
}

absl::StatusOr<TpmDevice::Handle> TpmDevice::CreateEk() {
  return CreatePrimary(ESYS_TR_RH_ENDORSEMENT, EkTemplate(ecc_ek_),
                       "creating the EK");
}

absl::StatusOr<TpmDevice::Handle> TpmDevice::CreateSrk() {
  return CreatePrimary(ESYS_TR_RH_OWNER, SrkTemplate(), "creating the SRK");
}

// The EK has no password: using it needs PolicySecret(TPM_RH_ENDORSEMENT).
absl::StatusOr<TpmDevice::Handle> TpmDevice::EkPolicySession() {
  const TPMT_SYM_DEF symmetric{.algorithm = TPM2_ALG_NULL};
  ESYS_TR session = ESYS_TR_NONE;
  TSS2_RC rc =
      Esys_StartAuthSession(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                            ESYS_TR_NONE, ESYS_TR_NONE, nullptr, TPM2_SE_POLICY,
                            &symmetric, TPM2_ALG_SHA256, &session);
  if (rc != TSS2_RC_SUCCESS) return TpmError("starting a policy session", rc);
  Handle handle(esys_, session);
  EsysPtr<TPM2B_TIMEOUT> timeout;
  EsysPtr<TPMT_TK_AUTH> ticket;
  rc = Esys_PolicySecret(esys_, ESYS_TR_RH_ENDORSEMENT, session,
                         ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, nullptr,
                         nullptr, nullptr, 0, timeout.out(), ticket.out());
  if (rc != TSS2_RC_SUCCESS) return TpmError("PolicySecret", rc);
  return handle;
}

absl::StatusOr<TpmDevice::Handle> TpmDevice::LoadAk(const KeyBlob& key) {
  // swtpm holds three transient objects: the EK is flushed once the AK is
  // loaded under it.
  absl::StatusOr<Handle> ek = CreateEk();
  if (!ek.ok()) return ek.status();
  return LoadUnderEk(*ek, key);
}

absl::StatusOr<TpmDevice::Handle> TpmDevice::Load(const Handle& parent,
                                                  ESYS_TR session,
                                                  const KeyBlob& key) {
  absl::StatusOr<TPM2B_PUBLIC> pub = tpm::TssUnmarshal<TPM2B_PUBLIC>(
      Tss2_MU_TPM2B_PUBLIC_Unmarshal, key.public_area, "TPM2B_PUBLIC");
  if (!pub.ok()) return pub.status();
  absl::StatusOr<TPM2B_PRIVATE> priv = tpm::TssUnmarshal<TPM2B_PRIVATE>(
      Tss2_MU_TPM2B_PRIVATE_Unmarshal, key.private_area, "TPM2B_PRIVATE");
  if (!priv.ok()) return priv.status();
  ESYS_TR handle = ESYS_TR_NONE;
  const TSS2_RC rc = Esys_Load(esys_, parent.get(), session, ESYS_TR_NONE,
                               ESYS_TR_NONE, &*priv, &*pub, &handle);
  if (rc != TSS2_RC_SUCCESS) return TpmError("loading the key", rc);
  return Handle(esys_, handle);
}

absl::StatusOr<TpmDevice::Handle> TpmDevice::LoadUnderEk(const Handle& ek,
                                                         const KeyBlob& key) {
  absl::StatusOr<Handle> session = EkPolicySession();
  if (!session.ok()) return session.status();
  return Load(ek, session->get(), key);
}

absl::StatusOr<std::string> TpmDevice::EkPublic() {
  absl::StatusOr<Handle> ek = CreateEk();
  if (!ek.ok()) return ek.status();
  EsysPtr<TPM2B_PUBLIC> pub;
  const TSS2_RC rc =
      Esys_ReadPublic(esys_, ek->get(), ESYS_TR_NONE, ESYS_TR_NONE,
                      ESYS_TR_NONE, pub.out(), nullptr, nullptr);
  if (rc != TSS2_RC_SUCCESS) return TpmError("reading the EK", rc);
  return tpm::TssMarshal(Tss2_MU_TPM2B_PUBLIC_Marshal, *pub.p);
}

absl::StatusOr<std::string> TpmDevice::EkCertificate() {
  ESYS_TR index = ESYS_TR_NONE;
  TSS2_RC rc = Esys_TR_FromTPMPublic(
      esys_, ecc_ek_ ? kEccEkCertificateIndex : kEkCertificateIndex,
      ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &index);
  if (rc != TSS2_RC_SUCCESS) {
    return absl::NotFoundError("the TPM holds no EK certificate");
  }
  EsysPtr<TPM2B_NV_PUBLIC> nv_public;
  rc = Esys_NV_ReadPublic(esys_, index, ESYS_TR_NONE, ESYS_TR_NONE,
                          ESYS_TR_NONE, nv_public.out(), nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    Esys_TR_Close(esys_, &index);
    return TpmError("reading the EK certificate index", rc);
  }
  const uint16_t size = nv_public->nvPublic.dataSize;
  std::string cert;
  while (cert.size() < size) {
    const uint16_t chunk =
        static_cast<uint16_t>(std::min<size_t>(512, size - cert.size()));
    EsysPtr<TPM2B_MAX_NV_BUFFER> data;
    rc = Esys_NV_Read(esys_, ESYS_TR_RH_OWNER, index, ESYS_TR_PASSWORD,
                      ESYS_TR_NONE, ESYS_TR_NONE, chunk,
                      static_cast<uint16_t>(cert.size()), data.out());
    if (rc != TSS2_RC_SUCCESS) {
      Esys_TR_Close(esys_, &index);
      return TpmError("reading the EK certificate", rc);
    }
    cert.append(reinterpret_cast<const char*>(data->buffer), data->size);
  }
  Esys_TR_Close(esys_, &index);
  return cert;
}

absl::StatusOr<KeyBlob> TpmDevice::CreateChild(const Handle& parent,
                                               ESYS_TR session,
                                               const TPM2B_PUBLIC& templ,
                                               const char* what,
                                               Creation* creation) {
  const TPM2B_SENSITIVE_CREATE sensitive{};
  const TPM2B_DATA outside{};
  const TPML_PCR_SELECTION creation_pcrs{};
  EsysPtr<TPM2B_PRIVATE> priv;
  EsysPtr<TPM2B_PUBLIC> pub;
  EsysPtr<TPM2B_CREATION_DATA> creation_data;
  EsysPtr<TPM2B_DIGEST> creation_hash;
  EsysPtr<TPMT_TK_CREATION> creation_ticket;
  const TSS2_RC rc = Esys_Create(
      esys_, parent.get(), session, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
      &templ, &outside, &creation_pcrs, priv.out(), pub.out(),
      creation_data.out(), creation_hash.out(), creation_ticket.out());
  if (rc != TSS2_RC_SUCCESS) return TpmError(what, rc);
  if (creation != nullptr) {
    creation->data = tpm::TssMarshal(Tss2_MU_TPMS_CREATION_DATA_Marshal,
                                     creation_data->creationData);
    creation->hash = *creation_hash.p;
    creation->ticket = *creation_ticket.p;
  }
  return KeyBlob{tpm::TssMarshal(Tss2_MU_TPM2B_PUBLIC_Marshal, *pub.p),
                 tpm::TssMarshal(Tss2_MU_TPM2B_PRIVATE_Marshal, *priv.p)};
}

absl::StatusOr<KeyBlob> TpmDevice::CreateAk(absl::string_view algorithm) {
  absl::StatusOr<TPM2B_PUBLIC> templ = SigningTemplate(algorithm, true);
  if (!templ.ok()) return templ.status();
  absl::StatusOr<Handle> ek = CreateEk();
  if (!ek.ok()) return ek.status();
  absl::StatusOr<Handle> session = EkPolicySession();
  if (!session.ok()) return session.status();
  return CreateChild(*ek, session->get(), *templ, "creating the AK");
}

absl::StatusOr<TpmDevice::CertifiedAk> TpmDevice::CreateCertifiedAk() {
  absl::StatusOr<TPM2B_PUBLIC> templ = SigningTemplate("rsa", true);
  if (!templ.ok()) return templ.status();
  CertifiedAk out;
  Creation creation;
  {
    absl::StatusOr<Handle> ek = CreateEk();
    if (!ek.ok()) return ek.status();
    absl::StatusOr<Handle> session = EkPolicySession();
    if (!session.ok()) return session.status();
    absl::StatusOr<KeyBlob> key =
        CreateChild(*ek, session->get(), *templ, "creating the AK", &creation);
    if (!key.ok()) return key.status();
    out.key = std::move(*key);
  }
  out.creation_data = std::move(creation.data);
  absl::StatusOr<Handle> ak = LoadAk(out.key);
  if (!ak.ok()) return ak.status();
  const TPM2B_DATA no_qualifying_data{};
  const TPMT_SIG_SCHEME scheme{.scheme = TPM2_ALG_NULL};
  EsysPtr<TPM2B_ATTEST> certified;
  EsysPtr<TPMT_SIGNATURE> signature;
  const TSS2_RC rc = Esys_CertifyCreation(
      esys_, ak->get(), ak->get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
      &no_qualifying_data, &creation.hash, &scheme, &creation.ticket,
      certified.out(), signature.out());
  if (rc != TSS2_RC_SUCCESS) return TpmError("TPM2_CertifyCreation", rc);
  out.certification = SignedAttestation{
      std::string(reinterpret_cast<const char*>(certified->attestationData),
                  certified->size),
      tpm::MarshalSignature(*signature.p)};
  return out;
}

absl::StatusOr<QuoteOutput> TpmDevice::Quote(const KeyBlob& ak,
                                             absl::string_view qualifying_data,
                                             const TPML_PCR_SELECTION& pcrs) {
  if (qualifying_data.size() > sizeof(TPM2B_DATA::buffer)) {
    return absl::InvalidArgumentError("qualifying data longer than 64 bytes");
  }
  absl::StatusOr<Handle> key = LoadAk(ak);
  if (!key.ok()) return key.status();
  const TPM2B_DATA qualifying = ToData(qualifying_data);
  const TPMT_SIG_SCHEME scheme{.scheme = TPM2_ALG_NULL};
  // A PCR may be extended between the quote and the read: read again until
  // the values hash to the quoted digest.
  for (int attempt = 0; attempt < 5; ++attempt) {
    EsysPtr<TPM2B_ATTEST> quoted;
    EsysPtr<TPMT_SIGNATURE> signature;
    const TSS2_RC rc = Esys_Quote(
        esys_, key->get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
        &qualifying, &scheme, &pcrs, quoted.out(), signature.out());
    if (rc != TSS2_RC_SUCCESS) return TpmError("TPM2_Quote", rc);
    QuoteOutput out;
    out.signed_quote.attest.assign(
        reinterpret_cast<const char*>(quoted->attestationData), quoted->size);
    out.signed_quote.signature = tpm::MarshalSignature(*signature.p);
    absl::StatusOr<std::vector<tpm::PcrValue>> values = ReadPcrs(pcrs);
    if (!values.ok()) return values.status();
    out.pcrs = std::move(*values);
    absl::StatusOr<TPMS_ATTEST> attest =
        tpm::ParseAttest(out.signed_quote.attest);
    if (!attest.ok()) return attest.status();
    const TPM2_ALG_ID hash = signature->sigAlg == TPM2_ALG_ECDSA
                                 ? signature->signature.ecdsa.hash
                                 : signature->signature.rsassa.hash;
    std::string concatenated;
    for (const tpm::PcrValue& v : out.pcrs) concatenated += v.digest;
    absl::StatusOr<std::string> digest = tpm::TpmHash(hash, concatenated);
    if (digest.ok() && *digest == tpm::View(attest->attested.quote.pcrDigest)) {
      return out;
    }
  }
  return absl::AbortedError("PCRs kept changing while quoting");
}

absl::StatusOr<KeyBlob> TpmDevice::CreateAppKey() {
  absl::StatusOr<TPM2B_PUBLIC> templ = SigningTemplate("ecc", false);
  if (!templ.ok()) return templ.status();
  absl::StatusOr<Handle> srk = CreateSrk();
  if (!srk.ok()) return srk.status();
  return CreateChild(*srk, ESYS_TR_PASSWORD, *templ, "creating the app key");
}

absl::StatusOr<SignedAttestation> TpmDevice::Certify(
    const KeyBlob& app_key, const KeyBlob& ak,
    absl::string_view qualifying_data) {
  if (qualifying_data.size() > sizeof(TPM2B_DATA::buffer)) {
    return absl::InvalidArgumentError("qualifying data longer than 64 bytes");
  }
  absl::StatusOr<Handle> app = [&]() -> absl::StatusOr<Handle> {
    absl::StatusOr<Handle> srk = CreateSrk();
    if (!srk.ok()) return srk.status();
    return Load(*srk, ESYS_TR_PASSWORD, app_key);
  }();  // The SRK is flushed: the app key stays loaded without it.
  if (!app.ok()) return app.status();
  absl::StatusOr<Handle> signer = LoadAk(ak);
  if (!signer.ok()) return signer.status();
  const TPM2B_DATA qualifying = ToData(qualifying_data);
  const TPMT_SIG_SCHEME scheme{.scheme = TPM2_ALG_NULL};
  EsysPtr<TPM2B_ATTEST> certified;
  EsysPtr<TPMT_SIGNATURE> signature;
  const TSS2_RC rc = Esys_Certify(
      esys_, app->get(), signer->get(), ESYS_TR_PASSWORD, ESYS_TR_PASSWORD,
      ESYS_TR_NONE, &qualifying, &scheme, certified.out(), signature.out());
  if (rc != TSS2_RC_SUCCESS) return TpmError("TPM2_Certify", rc);
  return SignedAttestation{
      std::string(reinterpret_cast<const char*>(certified->attestationData),
                  certified->size),
      tpm::MarshalSignature(*signature.p)};
}

absl::StatusOr<std::string> TpmDevice::ActivateCredential(
    const KeyBlob& ak, absl::string_view credential, absl::string_view secret) {
  absl::StatusOr<TPM2B_ID_OBJECT> blob = tpm::TssUnmarshal<TPM2B_ID_OBJECT>(
      Tss2_MU_TPM2B_ID_OBJECT_Unmarshal, credential, "TPM2B_ID_OBJECT");
  if (!blob.ok()) return blob.status();
  absl::StatusOr<TPM2B_ENCRYPTED_SECRET> seed =
      tpm::TssUnmarshal<TPM2B_ENCRYPTED_SECRET>(
          Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal, secret,
          "TPM2B_ENCRYPTED_SECRET");
  if (!seed.ok()) return seed.status();
  absl::StatusOr<Handle> ek = CreateEk();
  if (!ek.ok()) return ek.status();
  absl::StatusOr<Handle> key = LoadUnderEk(*ek, ak);
  if (!key.ok()) return key.status();
  absl::StatusOr<Handle> session = EkPolicySession();
  if (!session.ok()) return session.status();
  EsysPtr<TPM2B_DIGEST> released;
  const TSS2_RC rc = Esys_ActivateCredential(
      esys_, key->get(), ek->get(), ESYS_TR_PASSWORD, session->get(),
      ESYS_TR_NONE, &*blob, &*seed, released.out());
  if (rc != TSS2_RC_SUCCESS) return TpmError("TPM2_ActivateCredential", rc);
  return std::string(reinterpret_cast<const char*>(released->buffer),
                     released->size);
}

absl::Status TpmDevice::ExtendPcr(int pcr, absl::string_view digest) {
  if (pcr < 0 || pcr >= tpm::kPcrCount ||
      digest.size() != TPM2_SHA256_DIGEST_SIZE) {
    return absl::InvalidArgumentError("extend needs PCR 0..23 and 32 bytes");
  }
  TPML_DIGEST_VALUES values{};
  values.count = 1;
  values.digests[0].hashAlg = TPM2_ALG_SHA256;
  std::memcpy(values.digests[0].digest.sha256, digest.data(),
              TPM2_SHA256_DIGEST_SIZE);
  const TSS2_RC rc =
      Esys_PCR_Extend(esys_, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                      ESYS_TR_NONE, &values);
  if (rc != TSS2_RC_SUCCESS) return TpmError("TPM2_PCR_Extend", rc);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<tpm::PcrValue>> TpmDevice::ReadPcrs(
    const TPML_PCR_SELECTION& pcrs) {
  // TPM2_PCR_Read returns at most 8 digests a call: ask again for the rest.
  std::map<std::pair<TPM2_ALG_ID, int>, std::string> read;
  TPML_PCR_SELECTION remaining = pcrs;
  for (int round = 0; round < 64; ++round) {
    if (tpm::SelectedPcrs(remaining).empty()) break;
    EsysPtr<TPML_PCR_SELECTION> selection_out;
    EsysPtr<TPML_DIGEST> values;
    UINT32 update_counter = 0;
    const TSS2_RC rc = Esys_PCR_Read(esys_, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, &remaining, &update_counter,
                                     selection_out.out(), values.out());
    if (rc != TSS2_RC_SUCCESS) return TpmError("TPM2_PCR_Read", rc);
    const std::vector<tpm::SelectedPcr> got =
        tpm::SelectedPcrs(*selection_out.p);
    if (got.empty() || got.size() != values->count) {
      return absl::InternalError("TPM2_PCR_Read returned no PCRs");
    }
    for (size_t i = 0; i < got.size(); ++i) {
      read[{got[i].bank, got[i].pcr}] =
          std::string(reinterpret_cast<const char*>(values->digests[i].buffer),
                      values->digests[i].size);
      for (uint32_t b = 0; b < remaining.count; ++b) {
        TPMS_PCR_SELECTION& bank = remaining.pcrSelections[b];
        if (bank.hash == got[i].bank) {
          bank.pcrSelect[got[i].pcr / 8] &= ~(1 << (got[i].pcr % 8));
        }
      }
    }
  }
  std::vector<tpm::PcrValue> out;
  for (const tpm::SelectedPcr& s : tpm::SelectedPcrs(pcrs)) {
    auto it = read.find({s.bank, s.pcr});
    if (it == read.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the TPM has no ", tpm::HashName(s.bank), " PCR ", s.pcr));
    }
    out.push_back({s.bank, s.pcr, it->second});
  }
  return out;
}

absl::StatusOr<TPML_PCR_SELECTION> ParsePcrList(absl::string_view list) {
  TPML_PCR_SELECTION selection{};
  for (absl::string_view bank : absl::StrSplit(list, '+')) {
    const std::vector<absl::string_view> parts = absl::StrSplit(bank, ':');
    if (parts.size() != 2 || selection.count == TPM2_NUM_PCR_BANKS) {
      return absl::InvalidArgumentError(
          absl::StrCat("PCR list \"", list, "\" is not like sha256:0,1,16"));
    }
    absl::StatusOr<TPM2_ALG_ID> hash = tpm::HashFromName(parts[0]);
    if (!hash.ok()) return hash.status();
    TPMS_PCR_SELECTION& s = selection.pcrSelections[selection.count++];
    s.hash = *hash;
    s.sizeofSelect = tpm::kPcrCount / 8;
    for (absl::string_view number : absl::StrSplit(parts[1], ',')) {
      int pcr = -1;
      if (!absl::SimpleAtoi(number, &pcr) || pcr < 0 || pcr >= tpm::kPcrCount) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad PCR number \"", number, "\""));
      }
      s.pcrSelect[pcr / 8] |= 1 << (pcr % 8);
    }
  }
  return selection;
}

}  // namespace trellis::attest::host
