#include "cmd/trellis/map_proof_file.h"

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "crypto/signer.h"
#include "map/hasher.h"
#include "map/map_root.h"
#include "map/verifier.h"

namespace trellis::cli {
namespace {

using nlohmann::json;

absl::StatusOr<std::string> Base64Field(const json& doc, const char* name,
                                        bool required) {
  auto it = doc.find(name);
  if (it == doc.end()) {
    if (!required) return std::string();
    return absl::InvalidArgumentError(absl::StrCat("missing \"", name, "\""));
  }
  std::string out;
  if (!it->is_string() || !absl::Base64Unescape(it->get<std::string>(), &out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", name, "\" must be a base64 string"));
  }
  return out;
}

}  // namespace

absl::StatusOr<MapProofFile> ParseMapProofFile(absl::string_view text) {
  json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  if (doc.value("kind", "") != "map") {
    return absl::InvalidArgumentError("\"kind\" must be \"map\"");
  }
  MapProofFile file;
  auto id = doc.find("mapId");
  if (id == doc.end() || !id->is_string() ||
      !absl::SimpleAtoi(id->get<std::string>(), &file.map_id)) {
    return absl::InvalidArgumentError("\"mapId\" must be a decimal string");
  }
  auto strategy = doc.find("hashStrategy");
  if (strategy == doc.end() || !strategy->is_string() ||
      !trillian::HashStrategy_Parse(strategy->get<std::string>(),
                                    &file.strategy) ||
      !map::NewMapHasher(file.strategy).ok()) {
    return absl::InvalidArgumentError("\"hashStrategy\" is not a map hasher");
  }
  auto revision = doc.find("revision");
  if (revision == doc.end() || !revision->is_number_unsigned()) {
    return absl::InvalidArgumentError("\"revision\" must be a number");
  }
  file.revision = revision->get<uint64_t>();
  struct Field {
    const char* name;
    bool required;
    std::string* out;
  };
  std::string index, value, leaf_hash;
  for (const Field& f :
       {Field{"index", true, &index}, Field{"leafValue", true, &value},
        Field{"leafHash", true, &leaf_hash}, Field{"root", true, &file.root},
        Field{"mapRoot", false, &file.map_root},
        Field{"signature", false, &file.signature},
        Field{"publicKey", false, &file.public_key}}) {
    absl::StatusOr<std::string> bytes = Base64Field(doc, f.name, f.required);
    if (!bytes.ok()) return bytes.status();
    *f.out = std::move(*bytes);
  }
  file.leaf.set_index(index);
  file.leaf.set_leaf_value(value);
  file.leaf.set_leaf_hash(leaf_hash);
  auto proof = doc.find("proof");
  if (proof == doc.end() || !proof->is_array()) {
    return absl::InvalidArgumentError("\"proof\" must be an array");
  }
  for (const json& entry : *proof) {
    std::string hash;
    if (!entry.is_string() ||
        !absl::Base64Unescape(entry.get<std::string>(), &hash)) {
      return absl::InvalidArgumentError("proof entries must be base64 strings");
    }
    file.proof.push_back(std::move(hash));
  }
  return file;
}

absl::Status VerifyMapProofFile(const MapProofFile& file) {
  absl::StatusOr<std::unique_ptr<merkle::smt::MapHasher>> hasher =
      map::NewMapHasher(file.strategy);
  if (!hasher.ok()) return hasher.status();
  if (absl::Status s = map::VerifyMapInclusion(**hasher, file.map_id, file.leaf,
                                               file.proof, file.root);
      !s.ok()) {
    return s;
  }
  if (file.map_root.empty()) return absl::OkStatus();
  if (absl::Status s = crypto::VerifySignature(file.public_key, file.map_root,
                                               file.signature);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<map::MapRootV1> root = map::ParseMapRoot(file.map_root);
  if (!root.ok()) return root.status();
  if (root->root_hash != file.root || root->revision != file.revision) {
    return absl::FailedPreconditionError(
        "the signed map root is for another root hash or revision");
  }
  return absl::OkStatus();
}

std::string ToJson(const MapProofFile& file) {
  json proof = json::array();
  for (const std::string& h : file.proof)
    proof.push_back(absl::Base64Escape(h));
  json doc = {{"kind", "map"},
              {"mapId", std::to_string(file.map_id)},
              {"hashStrategy", trillian::HashStrategy_Name(file.strategy)},
              {"index", absl::Base64Escape(file.leaf.index())},
              {"leafValue", absl::Base64Escape(file.leaf.leaf_value())},
              {"leafHash", absl::Base64Escape(file.leaf.leaf_hash())},
              {"root", absl::Base64Escape(file.root)},
              {"revision", file.revision},
              {"proof", proof}};
  if (!file.map_root.empty()) {
    doc["mapRoot"] = absl::Base64Escape(file.map_root);
    doc["signature"] = absl::Base64Escape(file.signature);
    doc["publicKey"] = absl::Base64Escape(file.public_key);
  }
  return doc.dump();
}

}  // namespace trellis::cli
