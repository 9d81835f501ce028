#include "crypto/digest.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "crypto/sha256_shani.h"

namespace trellis::crypto {
namespace {

class ThreadDigest {
 public:
  explicit ThreadDigest(const char* name)
      : md_(EVP_MD_fetch(nullptr, name, nullptr)), ctx_(EVP_MD_CTX_new()) {
    if (md_ == nullptr || ctx_ == nullptr) std::abort();
  }
  ~ThreadDigest() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }

  std::string Digest(std::initializer_list<absl::string_view> parts) {
    std::string out(EVP_MD_get_size(md_), '\0');
    unsigned int len = 0;
    bool ok = EVP_DigestInit_ex(ctx_, md_, nullptr) == 1;
    for (absl::string_view part : parts) {
      ok = ok && EVP_DigestUpdate(ctx_, part.data(), part.size()) == 1;
    }
    ok = ok &&
         EVP_DigestFinal_ex(ctx_, reinterpret_cast<unsigned char*>(out.data()),
                            &len) == 1;
    if (!ok) std::abort();  // Only fails on allocation failure.
    return out;
  }

 private:
  EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

}  // namespace

std::string Digest(DigestAlgorithm algorithm,
                   std::initializer_list<absl::string_view> parts) {
  if (algorithm == DigestAlgorithm::kSha512_256) {
    thread_local ThreadDigest sha512_256("SHA2-512/256");
    return sha512_256.Digest(parts);
  }
  if (CpuHasShaExtensions()) {
    std::string out(32, '\0');
    Sha256ShaNi(parts, reinterpret_cast<uint8_t*>(out.data()));
    return out;
  }
  thread_local ThreadDigest sha256("SHA2-256");
  return sha256.Digest(parts);
}

}  // namespace trellis::crypto
