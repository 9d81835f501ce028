// How private keys are kept at rest: the key store's Wrap / Unwrap (or a
// test's stand-in), bound to a key id so a wrapped key cannot be passed
// off as another.
#ifndef TRELLIS_CRYPTO_KEY_WRAPPING_H_
#define TRELLIS_CRYPTO_KEY_WRAPPING_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::crypto {

struct KeyWrapping {
  std::function<absl::StatusOr<std::string>(absl::string_view key_id,
                                            absl::string_view der)>
      wrap;
  std::function<absl::StatusOr<std::string>(absl::string_view key_id,
                                            absl::string_view wrapped)>
      unwrap;
};

}  // namespace trellis::crypto

#endif  // TRELLIS_CRYPTO_KEY_WRAPPING_H_
