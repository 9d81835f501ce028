#include "cmd/trellisd/tls_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "crypto/self_signed.h"
#include "util/file.h"

namespace trellis {

absl::StatusOr<std::pair<std::string, std::string>> TlsFiles(
    const std::string& cert_file, const std::string& key_file,
    const std::string& data_dir, const std::string& subdir,
    const std::string& common_name) {
  if (!cert_file.empty() || !key_file.empty()) {
    if (cert_file.empty() || key_file.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the ", common_name,
                       " listener needs both a TLS certificate and key"));
    }
    return std::make_pair(cert_file, key_file);
  }
  const std::string dir = absl::StrCat(data_dir, "/", subdir);
  const std::string cert = dir + "/cert.pem";
  const std::string key = dir + "/key.pem";
  if (ReadFile(cert).ok() && ReadFile(key).ok()) {
    return std::make_pair(cert, key);
  }
  mkdir(dir.c_str(), 0700);
  absl::StatusOr<crypto::CertificateAndKey> made =
      crypto::SelfSignedCertificate(common_name);
  if (!made.ok()) return made.status();
  // The key is created 0600 before a byte of it is written; the certificate
  // last, so a crash in between leaves no certificate without its key.
  unlink(key.c_str());
  unlink(cert.c_str());
  if (absl::Status s = WriteNewFile(key, made->private_key_pem); !s.ok()) {
    return s;
  }
  if (absl::Status s = WriteNewFile(cert, made->certificate_pem, 0644);
      !s.ok()) {
    return s;
  }
  return std::make_pair(cert, key);
}

}  // namespace trellis
