// The certificate and key of one of trellisd's HTTPS listeners: the
// configured files, or a self-signed pair made once in the data directory.
#ifndef TRELLIS_CMD_TRELLISD_TLS_FILES_H_
#define TRELLIS_CMD_TRELLISD_TLS_FILES_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace trellis {

// (certificate file, key file): `cert_file` and `key_file` if given (both
// or neither), else <data_dir>/<subdir>/{cert,key}.pem, made self-signed
// for `common_name` on first use.
absl::StatusOr<std::pair<std::string, std::string>> TlsFiles(
    const std::string& cert_file, const std::string& key_file,
    const std::string& data_dir, const std::string& subdir,
    const std::string& common_name);

}  // namespace trellis

#endif  // TRELLIS_CMD_TRELLISD_TLS_FILES_H_
