#include "log/hasher.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace trellis::log {
namespace {

// One digest context per thread, reused, with the algorithm fetched from the
// provider once: with OpenSSL 3, EVP_sha256() is looked up again on every
// init, which more than doubles the cost of hashing 33..65 bytes.
class ThreadDigest {
 public:
  ThreadDigest()
      : md_(EVP_MD_fetch(nullptr, "SHA2-256", nullptr)),
        ctx_(EVP_MD_CTX_new()) {
    if (md_ == nullptr || ctx_ == nullptr) std::abort();
  }
  ~ThreadDigest() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }

  std::string Digest(absl::string_view a, absl::string_view b = {},
                     absl::string_view c = {}, absl::string_view d = {}) {
    std::string out(kHashSize, '\0');
    unsigned int len = 0;
    if (EVP_DigestInit_ex(ctx_, md_, nullptr) != 1 ||
        EVP_DigestUpdate(ctx_, a.data(), a.size()) != 1 ||
        EVP_DigestUpdate(ctx_, b.data(), b.size()) != 1 ||
        EVP_DigestUpdate(ctx_, c.data(), c.size()) != 1 ||
        EVP_DigestUpdate(ctx_, d.data(), d.size()) != 1 ||
        EVP_DigestFinal_ex(ctx_, reinterpret_cast<unsigned char*>(out.data()),
                           &len) != 1) {
      std::abort();  // Only fails on allocation failure.
    }
    return out;
  }

 private:
  EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

ThreadDigest& Digest() {
  thread_local ThreadDigest digest;
  return digest;
}

constexpr char kLeafPrefix[] = {0x00};
constexpr char kNodePrefix[] = {0x01};

}  // namespace

std::string Sha256(absl::string_view data) { return Digest().Digest(data); }

std::string HashLeaf(absl::string_view leaf_value) {
  return Digest().Digest(absl::string_view(kLeafPrefix, 1), leaf_value);
}

std::string HashChildren(absl::string_view left, absl::string_view right) {
  return Digest().Digest(absl::string_view(kNodePrefix, 1), left, right);
}

const std::string& EmptyRoot() {
  static const std::string* const kEmpty = new std::string(Sha256(""));
  return *kEmpty;
}

}  // namespace trellis::log
