#include "merkle/verifier.h"

#include "absl/strings/str_cat.h"
#include "merkle/hasher.h"

namespace trellis::merkle {
namespace {

absl::Status CheckHashSizes(const std::vector<std::string>& proof) {
  for (size_t i = 0; i < proof.size(); ++i) {
    if (proof[i].size() != kHashSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("proof hash ", i, " has ", proof[i].size(),
                       " bytes, want ", kHashSize));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRootSize(absl::string_view name, absl::string_view root) {
  if (root.size() != kHashSize) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " has ", root.size(), " bytes, want ", kHashSize));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> RootFromInclusionProof(
    uint64_t index, uint64_t size, absl::string_view leaf_hash,
    const std::vector<std::string>& proof) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf index ", index, " is not below tree size ", size));
  }
  if (leaf_hash.size() != kHashSize) {
    return absl::InvalidArgumentError("leaf hash has the wrong length");
  }
  if (absl::Status s = CheckHashSizes(proof); !s.ok()) return s;

  uint64_t fn = index;
  uint64_t sn = size - 1;
  std::string r(leaf_hash);
  for (const std::string& p : proof) {
    if (sn == 0) {
      return absl::InvalidArgumentError("inclusion proof is too long");
    }
    if ((fn & 1) || fn == sn) {
      r = HashChildren(p, r);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::InvalidArgumentError("inclusion proof is too short");
  }
  return r;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             absl::string_view leaf_hash,
                             const std::vector<std::string>& proof,
                             absl::string_view root) {
  if (absl::Status s = CheckRootSize("root", root); !s.ok()) return s;
  absl::StatusOr<std::string> computed =
      RootFromInclusionProof(index, size, leaf_hash, proof);
  if (!computed.ok()) return computed.status();
  if (*computed != root) {
    return absl::FailedPreconditionError(
        "inclusion proof does not lead to the given root");
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t size1, uint64_t size2,
                               absl::string_view root1, absl::string_view root2,
                               const std::vector<std::string>& proof) {
  if (size1 == 0 || size1 > size2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "consistency needs 0 < size1 <= size2, got ", size1, ", ", size2));
  }
  // Equal sizes before any length check, as transparency-dev/merkle does:
  // the verdict is only "same bytes, nothing to prove".
  if (size1 == size2) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError(
          "consistency proof between equal sizes must be empty");
    }
    if (root1 != root2) {
      return absl::FailedPreconditionError("roots of equal sizes differ");
    }
    return absl::OkStatus();
  }
  if (absl::Status s = CheckRootSize("root1", root1); !s.ok()) return s;
  if (absl::Status s = CheckRootSize("root2", root2); !s.ok()) return s;
  if (absl::Status s = CheckHashSizes(proof); !s.ok()) return s;
  if (proof.empty()) {
    return absl::InvalidArgumentError("consistency proof is empty");
  }

  // When the old tree is a complete subtree its root is the proof's implied
  // first element.
  std::vector<std::string> path;
  path.reserve(proof.size() + 1);
  if ((size1 & (size1 - 1)) == 0) path.emplace_back(root1);
  path.insert(path.end(), proof.begin(), proof.end());

  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr = path[0];
  std::string sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const std::string& c = path[i];
    if (sn == 0) {
      return absl::InvalidArgumentError("consistency proof is too long");
    }
    if ((fn & 1) || fn == sn) {
      fr = HashChildren(c, fr);
      sr = HashChildren(c, sr);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = HashChildren(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::InvalidArgumentError("consistency proof is too short");
  }
  if (fr != root1) {
    return absl::FailedPreconditionError(
        "consistency proof does not match the first root");
  }
  if (sr != root2) {
    return absl::FailedPreconditionError(
        "consistency proof does not match the second root");
  }
  return absl::OkStatus();
}

}  // namespace trellis::merkle
