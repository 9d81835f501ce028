#include "cmd/trellis/proof_file.h"

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "merkle/verifier.h"

namespace trellis::cli {
namespace {

using nlohmann::json;

absl::StatusOr<uint64_t> Number(const json& doc, const char* name) {
  auto it = doc.find(name);
  if (it == doc.end()) {
    return absl::InvalidArgumentError(absl::StrCat("missing \"", name, "\""));
  }
  if (!it->is_number_unsigned()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", name, "\" must be a non-negative integer"));
  }
  return it->get<uint64_t>();
}

absl::StatusOr<std::string> Base64Value(const json& value,
                                        absl::string_view name) {
  if (!value.is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", name, "\" must be a base64 string"));
  }
  std::string out;
  if (!absl::Base64Unescape(value.get<std::string>(), &out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", name, "\" is not base64"));
  }
  return out;
}

absl::StatusOr<std::string> Bytes(const json& doc, const char* name) {
  auto it = doc.find(name);
  if (it == doc.end()) {
    return absl::InvalidArgumentError(absl::StrCat("missing \"", name, "\""));
  }
  return Base64Value(*it, name);
}

std::string B64(const std::string& s) { return absl::Base64Escape(s); }

}  // namespace

absl::StatusOr<ProofFile> ParseProofFile(absl::string_view text) {
  json doc = json::parse(text.begin(), text.end(), nullptr,
                         /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  ProofFile file;
  auto kind = doc.find("kind");
  if (kind == doc.end() || !kind->is_string()) {
    return absl::InvalidArgumentError("missing \"kind\"");
  }
  auto numbers = [&](std::initializer_list<std::pair<const char*, uint64_t*>> f)
      -> absl::Status {
    for (auto [name, out] : f) {
      absl::StatusOr<uint64_t> n = Number(doc, name);
      if (!n.ok()) return n.status();
      *out = *n;
    }
    return absl::OkStatus();
  };
  auto bytes =
      [&](std::initializer_list<std::pair<const char*, std::string*>> f)
      -> absl::Status {
    for (auto [name, out] : f) {
      absl::StatusOr<std::string> b = Bytes(doc, name);
      if (!b.ok()) return b.status();
      *out = std::move(*b);
    }
    return absl::OkStatus();
  };
  absl::Status s;
  if (*kind == "inclusion") {
    file.kind = ProofFile::Kind::kInclusion;
    s = numbers({{"leafIdx", &file.leaf_index}, {"treeSize", &file.tree_size}});
    if (s.ok())
      s = bytes({{"leafHash", &file.leaf_hash}, {"root", &file.root}});
  } else if (*kind == "consistency") {
    file.kind = ProofFile::Kind::kConsistency;
    s = numbers({{"size1", &file.size1}, {"size2", &file.size2}});
    if (s.ok()) s = bytes({{"root1", &file.root1}, {"root2", &file.root2}});
  } else {
    return absl::InvalidArgumentError(
        "\"kind\" must be \"inclusion\" or \"consistency\"");
  }
  if (!s.ok()) return s;
  auto proof = doc.find("proof");
  if (proof == doc.end()) {
    return absl::InvalidArgumentError("missing \"proof\"");
  }
  // Go writes an empty (nil) slice as null: that is an empty proof.
  if (proof->is_null()) return file;
  if (!proof->is_array()) {
    return absl::InvalidArgumentError("\"proof\" must be an array or null");
  }
  for (const json& element : *proof) {
    absl::StatusOr<std::string> hash = Base64Value(element, "proof");
    if (!hash.ok()) return hash.status();
    file.proof.push_back(std::move(*hash));
  }
  return file;
}

absl::Status VerifyProofFile(const ProofFile& file) {
  if (file.kind == ProofFile::Kind::kInclusion) {
    return merkle::VerifyInclusion(file.leaf_index, file.tree_size,
                                   file.leaf_hash, file.proof, file.root);
  }
  return merkle::VerifyConsistency(file.size1, file.size2, file.root1,
                                   file.root2, file.proof);
}

std::string ToJson(const ProofFile& file) {
  json doc;
  json proof = json::array();
  for (const std::string& h : file.proof) proof.push_back(B64(h));
  if (file.kind == ProofFile::Kind::kInclusion) {
    doc = {{"kind", "inclusion"},        {"leafIdx", file.leaf_index},
           {"treeSize", file.tree_size}, {"leafHash", B64(file.leaf_hash)},
           {"root", B64(file.root)},     {"proof", proof}};
  } else {
    doc = {{"kind", "consistency"},    {"size1", file.size1},
           {"size2", file.size2},      {"root1", B64(file.root1)},
           {"root2", B64(file.root2)}, {"proof", proof}};
  }
  return doc.dump();
}

}  // namespace trellis::cli
