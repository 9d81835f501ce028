// trellis: command-line client for operators, attestors and auditors.
//
//   trellis [--addr=HOST:PORT] tree create|list|get|update|delete|undelete
//   trellis log init|append|root|leaves|prove|consistency TREE_ID ...
//   trellis map init|set|get|root|range MAP_ID ...
//   trellis verify-proof FILE.json      (offline; exit 0 valid, 1 invalid,
//                                        2 unusable input)
//   trellis verify-map-proof FILE.json  (offline, same exit codes)
//   trellis verify-checkpoint NOTE POLICY  (offline: a C2SP checkpoint
//                                        against a tlog-policy file)
//   trellis audit show|replay AUDIT_ID  (attestation verdicts, GTA records,
//                                        SVID issuances: the record with
//                                        its proof; an offline re-run)
//   trellis gta policy|refvalue|cert|token ...  (a GTA service API)
//
// Every root the client prints has had its signature checked with the
// tree's pinned public key (--log_public_key, else trusted on first use and
// remembered in --state_dir) and, for logs, has been proven to extend the
// last root this client verified; every proof it prints has been verified
// locally. Exit codes: 0 valid, 1 invalid (or a split-view / rollback
// alarm), 2 unusable (usage, input, transport): see client.h.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cmd/trellis/admin_command.h"
#include "cmd/trellis/audit.h"
#include "cmd/trellis/checkpoint_command.h"
#include "cmd/trellis/client.h"
#include "cmd/trellis/commands.h"
#include "cmd/trellis/gta_command.h"
#include "cmd/trellis/map_proof_file.h"
#include "cmd/trellis/output.h"
#include "cmd/trellis/progress.h"
#include "cmd/trellis/proof_file.h"
#include "cmd/trellis/spire_command.h"
#include "cmd/trellis/svid_command.h"
#include "cmd/trellis/workload_command.h"
#include "crypto/signer.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "map/map_root.h"
#include "merkle/hasher.h"
#include "merkle/log_root.h"
#include "merkle/verifier.h"
#include "tlog/proof.h"
#include "trellis_settings.pb.h"
#include "trillian_admin_api.grpc.pb.h"
#include "trillian_log_api.grpc.pb.h"
#include "trillian_map_api.grpc.pb.h"
#include "util/file.h"
#include "util/json_fields.h"

ABSL_FLAG(std::string, addr, "",
          "trellisd gRPC address (\"unix:PATH\" for a socket); default: the "
          "operator socket <data_dir>/operator.sock if it is there, else "
          "127.0.0.1:8090.");
ABSL_FLAG(std::string, data_dir, "trellis-data",
          "trellisd's data directory, where the CLI looks for the operator "
          "socket.");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA that signed the server certificate (enables TLS).");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate (mTLS).");
ABSL_FLAG(std::string, tls_key, "", "PEM client key (mTLS).");
ABSL_FLAG(std::string, log_public_key, "",
          "PEM or DER public key (SubjectPublicKeyInfo) that the tree a "
          "command reads must have; without it the key pinned in --state_dir "
          "is used, or the server's is trusted and pinned on first use.");
ABSL_FLAG(std::string, state_dir, "",
          "Where the CLI remembers pinned keys and the last verified root of "
          "each log (default: $XDG_STATE_HOME/trellis, else "
          "~/.local/state/trellis).");
ABSL_FLAG(std::string, server_name, "",
          "The server's identity in --state_dir (default: the --addr value); "
          "give the same name to every address of one server.");
ABSL_FLAG(std::string, type, "LOG", "tree create: LOG or PREORDERED_LOG.");
ABSL_FLAG(std::string, key_type, "ecdsa-p256",
          "tree create: ecdsa-p256, ecdsa-p384, ecdsa-p521, rsa or ed25519.");
ABSL_FLAG(std::string, name, "",
          "tree create/update: display name; gta: the item's name.");
ABSL_FLAG(std::string, description, "",
          "tree create/update, gta: description.");
ABSL_FLAG(std::string, state, "", "tree update: ACTIVE, DRAINING or FROZEN.");
ABSL_FLAG(absl::Duration, max_root_duration, absl::ZeroDuration(),
          "tree create: re-sign the root this often even without new leaves.");
ABSL_FLAG(bool, init, true, "tree create: also initialise the log.");
ABSL_FLAG(bool, deleted, false, "tree list: include soft-deleted trees.");
ABSL_FLAG(std::vector<std::string>, file, {},
          "log append: files whose whole contents are one leaf each.");
ABSL_FLAG(bool, wait, false,
          "log append: wait until the appended leaves are integrated.");
ABSL_FLAG(int64_t, batch, 1000,
          "log append: leaves per QueueLeaves call (fewer under a smaller "
          "quota burst).");
ABSL_FLAG(int64_t, start, 0, "log leaves: first index.");
ABSL_FLAG(int64_t, count, 10, "log leaves: how many.");
ABSL_FLAG(int64_t, index, -1, "log prove: leaf index.");
ABSL_FLAG(std::string, value, "",
          "log prove: prove the leaf with this value instead of --index.");
ABSL_FLAG(std::string, since, "",
          "log consistency: a JSON file printed earlier by `log root`.");
ABSL_FLAG(std::string, hash_strategy, "",
          "tree create: hash strategy (maps: CONIKS_SHA256 default, "
          "CONIKS_SHA512_256, TEST_MAP_HASHER).");
ABSL_FLAG(std::string, origin, "",
          "tree create (logs): the checkpoint origin (default: the server's "
          "prefix and the tree id).");
ABSL_FLAG(bool, entry_bundles, true,
          "tree create (logs): serve C2SP entry bundles, which refuses "
          "leaves over 65535 bytes.");
ABSL_FLAG(std::string, witness_policy, "",
          "tree create|update (logs): a C2SP tlog-policy file naming the "
          "witnesses whose cosignatures checkpoints need; \"none\" clears.");
ABSL_FLAG(bool, witness_fail_open, false,
          "With --witness_policy: publish checkpoints short of the quorum.");
ABSL_FLAG(std::string, format, "",
          "log prove: json (default; Trellis' proof file) or tlog-proof "
          "(C2SP, with the log's cosigned checkpoint). spire bundle "
          "show|list|set: pem (default) or spiffe (a JWKS).");
ABSL_FLAG(std::string, tlog_url, "http://127.0.0.1:8091",
          "log prove --format=tlog-proof: trellisd's tlog-tiles listener.");
ABSL_FLAG(std::string, tiles_url, "",
          "verify-checkpoint, verify-proof of a tlog-proof: the log's "
          "tlog-tiles prefix (e.g. http://127.0.0.1:8091/logs/ID/); a "
          "checkpoint of another size than the remembered one is then proven "
          "consistent with it from the log's hash tiles.");
ABSL_FLAG(std::string, policy, "",
          "verify-proof of a tlog-proof: the C2SP tlog-policy file (log keys, "
          "witnesses, quorum).");
ABSL_FLAG(std::string, leaf, "",
          "verify-proof of a tlog-proof: the file holding the leaf (default: "
          "the proof's extra data).");
ABSL_FLAG(int64_t, history_log, 0,
          "tree create --type=MAP: LOG tree that receives every signed map "
          "root.");
ABSL_FLAG(int64_t, revision, -1,
          "map get/root/range: revision to read (-1: latest); map set: "
          "revision to create (-1: the next); policy get: version.");
ABSL_FLAG(bool, hex_index, false,
          "map: keys are 64 hex digits (the index itself) instead of strings "
          "hashed with SHA-256 into an index.");
ABSL_FLAG(std::string, key, "", "map set --file: the key of the file's leaf.");
ABSL_FLAG(std::string, prefix, "", "map range: index prefix, hex.");
ABSL_FLAG(int, bits, 0, "map range: prefix length in bits.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30), "Per-call deadline.");
ABSL_FLAG(std::string, output, "auto",
          "How answers are shown: json, table, or auto (a table on a "
          "terminal, JSON otherwise). Proof files are always JSON.");
ABSL_FLAG(std::string, progress, "auto",
          "Progress lines on stderr for long work: always, never, or auto "
          "(on a terminal).");
ABSL_FLAG(int64_t, log, 0,
          "audit: the log of attestation verdicts (default: the tree named "
          "trellis-attestations).");
ABSL_FLAG(std::string, verifier, "https://127.0.0.1:8881",
          "audit replay: the verifier's HTTPS API.");
ABSL_FLAG(std::string, verifier_ca, "",
          "audit replay: PEM CA of the verifier's certificate (trellisd's "
          "self-signed one is <data_dir>/verifier-tls/cert.pem).");

namespace trellis::cli {
namespace {

using nlohmann::json;

std::string ReadAll(std::istream& in) {
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

int64_t ParseId(const std::vector<char*>& args, size_t pos) {
  int64_t id = 0;
  if (args.size() <= pos || !absl::SimpleAtoi(args[pos], &id)) {
    Fail(kUsage, "expected a tree id");
  }
  return id;
}

json ProtoJson(const google::protobuf::Message& message) {
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out);
  return json::parse(out, nullptr, /*allow_exceptions=*/false);
}

json RootJson(int64_t tree_id, const trillian::SignedLogRoot& signed_root,
              const merkle::LogRootV1& root) {
  return {{"treeId", std::to_string(tree_id)},
          {"treeSize", root.tree_size},
          {"rootHash", B64(root.root_hash)},
          {"timestampNanos", root.timestamp_nanos},
          {"revision", root.revision},
          {"logRoot", B64(signed_root.log_root())},
          {"signature", B64(signed_root.log_root_signature())},
          {"signatureVerified", true}};
}

// Sets the witness policy (--witness_policy FILE | none) on `settings`.
void ApplyWitnessPolicy(trellis::LogSettings& settings) {
  const std::string file = absl::GetFlag(FLAGS_witness_policy);
  settings.clear_witness_policy();
  if (file != "none") {
    absl::StatusOr<std::string> policy = ReadFile(file);
    if (!policy.ok())
      Fail(kUsage, "--witness_policy: " + policy.status().ToString());
    settings.set_witness_policy(*policy);
  }
  settings.set_witness_fail_open(absl::GetFlag(FLAGS_witness_fail_open));
}

int TreeCommand(Client& client, const std::vector<char*>& args) {
  if (args.size() < 3)
    Fail(kUsage, "tree create|list|get|update|delete|undelete");
  const std::string verb = args[2];
  trillian::Tree tree;
  if (verb == "create") {
    trillian::CreateTreeRequest request;
    trillian::TreeType type;
    if (!trillian::TreeType_Parse(absl::GetFlag(FLAGS_type), &type)) {
      Fail(kUsage, "--type=" + absl::GetFlag(FLAGS_type) +
                       ": use LOG, PREORDERED_LOG or MAP");
    }
    request.mutable_tree()->set_tree_type(type);
    if (const std::string strategy = absl::GetFlag(FLAGS_hash_strategy);
        !strategy.empty()) {
      trillian::HashStrategy parsed;
      if (!trillian::HashStrategy_Parse(strategy, &parsed)) {
        Fail(kUsage, "--hash_strategy=" + strategy +
                         ": use RFC6962_SHA256 (logs) or TEST_MAP_HASHER");
      }
      request.mutable_tree()->set_hash_strategy(parsed);
    }
    if (const int64_t log_id = absl::GetFlag(FLAGS_history_log); log_id != 0) {
      trellis::MapSettings settings;
      settings.set_history_log_id(log_id);
      request.mutable_tree()->mutable_storage_settings()->PackFrom(settings);
    }
    if (type != trillian::MAP &&
        (!absl::GetFlag(FLAGS_origin).empty() ||
         !absl::GetFlag(FLAGS_entry_bundles) ||
         !absl::GetFlag(FLAGS_witness_policy).empty())) {
      trellis::LogSettings settings;
      settings.set_origin(absl::GetFlag(FLAGS_origin));
      settings.set_entry_bundles(absl::GetFlag(FLAGS_entry_bundles));
      if (!absl::GetFlag(FLAGS_witness_policy).empty()) {
        ApplyWitnessPolicy(settings);
      }
      request.mutable_tree()->mutable_storage_settings()->PackFrom(settings);
    }
    request.mutable_tree()->set_display_name(absl::GetFlag(FLAGS_name));
    request.mutable_tree()->set_description(absl::GetFlag(FLAGS_description));
    const absl::Duration max_root = absl::GetFlag(FLAGS_max_root_duration);
    request.mutable_tree()->mutable_max_root_duration()->set_seconds(
        absl::ToInt64Seconds(max_root));
    const std::string key_type = absl::GetFlag(FLAGS_key_type);
    auto* spec = request.mutable_key_spec();
    if (key_type == "ecdsa-p256") {
      spec->mutable_ecdsa_params()->set_curve(
          keyspb::Specification::ECDSA::P256);
    } else if (key_type == "ecdsa-p384") {
      spec->mutable_ecdsa_params()->set_curve(
          keyspb::Specification::ECDSA::P384);
    } else if (key_type == "ecdsa-p521") {
      spec->mutable_ecdsa_params()->set_curve(
          keyspb::Specification::ECDSA::P521);
    } else if (key_type == "rsa") {
      spec->mutable_rsa_params();
    } else if (key_type == "ed25519") {
      spec->mutable_ed25519_params();
    } else {
      Fail(kUsage, "--key_type=" + key_type +
                       ": use ecdsa-p256, ecdsa-p384, ecdsa-p521, rsa or "
                       "ed25519");
    }
    Check(client.admin().CreateTree(client.Context().get(), request, &tree),
          "CreateTree");
    if (absl::GetFlag(FLAGS_init) && type == trillian::MAP) {
      trillian::InitMapRequest init;
      init.set_map_id(tree.tree_id());
      trillian::InitMapResponse init_response;
      Check(client.map().InitMap(client.Context().get(), init, &init_response),
            "InitMap");
    } else if (absl::GetFlag(FLAGS_init)) {
      trillian::InitLogRequest init;
      init.set_log_id(tree.tree_id());
      trillian::InitLogResponse init_response;
      Check(client.log().InitLog(client.Context().get(), init, &init_response),
            "InitLog");
    }
  } else if (verb == "list") {
    trillian::ListTreesRequest request;
    request.set_show_deleted(absl::GetFlag(FLAGS_deleted));
    trillian::ListTreesResponse response;
    Check(client.admin().ListTrees(client.Context().get(), request, &response),
          "ListTrees");
    Print(ProtoJson(response),
          {"treeId", "treeType", "treeState", "displayName", "createTime"});
    return kOk;
  } else if (verb == "get") {
    tree = client.GetTree(ParseId(args, 3));
  } else if (verb == "update") {
    trillian::UpdateTreeRequest request;
    request.mutable_tree()->set_tree_id(ParseId(args, 3));
    if (const std::string state = absl::GetFlag(FLAGS_state); !state.empty()) {
      trillian::TreeState parsed;
      if (!trillian::TreeState_Parse(state, &parsed))
        Fail(kUsage, "--state=" + state + ": use ACTIVE, DRAINING or FROZEN");
      request.mutable_tree()->set_tree_state(parsed);
      request.mutable_update_mask()->add_paths("tree_state");
    }
    if (!absl::GetFlag(FLAGS_name).empty()) {
      request.mutable_tree()->set_display_name(absl::GetFlag(FLAGS_name));
      request.mutable_update_mask()->add_paths("display_name");
    }
    if (!absl::GetFlag(FLAGS_description).empty()) {
      request.mutable_tree()->set_description(absl::GetFlag(FLAGS_description));
      request.mutable_update_mask()->add_paths("description");
    }
    if (!absl::GetFlag(FLAGS_witness_policy).empty()) {
      trellis::LogSettings settings;
      if (!client.GetTree(request.tree().tree_id())
               .storage_settings()
               .UnpackTo(&settings)) {
        Fail(kUsage, "--witness_policy applies to logs");
      }
      ApplyWitnessPolicy(settings);
      request.mutable_tree()->mutable_storage_settings()->PackFrom(settings);
      request.mutable_update_mask()->add_paths("storage_settings");
    }
    Check(client.admin().UpdateTree(client.Context().get(), request, &tree),
          "UpdateTree");
  } else if (verb == "delete" || verb == "undelete") {
    if (verb == "delete") {
      trillian::DeleteTreeRequest request;
      request.set_tree_id(ParseId(args, 3));
      Check(client.admin().DeleteTree(client.Context().get(), request, &tree),
            "DeleteTree");
    } else {
      trillian::UndeleteTreeRequest request;
      request.set_tree_id(ParseId(args, 3));
      Check(client.admin().UndeleteTree(client.Context().get(), request, &tree),
            "UndeleteTree");
    }
  } else {
    Fail(kUsage, UnknownWord("tree command", verb, FindCommand("tree")->verbs));
  }
  Print(ProtoJson(tree));
  return kOk;
}

// Leaves to append: --file contents, else the arguments, else stdin lines.
std::vector<std::string> AppendValues(const std::vector<char*>& args) {
  std::vector<std::string> values;
  for (const std::string& path : absl::GetFlag(FLAGS_file)) {
    values.push_back(ReadFileOrDie(path));
  }
  for (size_t i = 4; i < args.size(); ++i) values.emplace_back(args[i]);
  if (values.empty()) {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty()) values.push_back(line);
    }
  }
  return values;
}

int Append(Client& client, const trillian::Tree& tree,
           const std::vector<char*>& args) {
  const std::vector<std::string> values = AppendValues(args);
  if (values.empty()) Fail(kUsage, "nothing to append");
  size_t added = 0, duplicates = 0;
  std::string last_hash;
  const int64_t batch = absl::GetFlag(FLAGS_batch);
  if (batch < 1 || batch > 50000) Fail(kUsage, "--batch must be 1 to 50000");
  const size_t per_call = static_cast<size_t>(batch);
  Progress queued("append:", values.size(), "leaves");
  for (size_t begin = 0; begin < values.size(); begin += per_call) {
    trillian::QueueLeavesRequest request;
    request.set_log_id(tree.tree_id());
    for (size_t i = begin; i < std::min(values.size(), begin + per_call); ++i) {
      request.add_leaves()->set_leaf_value(values[i]);
    }
    trillian::QueueLeavesResponse response;
    Check(client.log().QueueLeaves(client.Context().get(), request, &response),
          "QueueLeaves");
    for (const auto& queued : response.queued_leaves()) {
      if (queued.status().code() == 0) {
        ++added;
      } else {
        ++duplicates;
      }
      last_hash = queued.leaf().merkle_leaf_hash();
    }
    queued.Add(request.leaves_size());
  }
  queued.Finish();
  json out = {{"queued", added}, {"duplicates", duplicates}};
  if (absl::GetFlag(FLAGS_wait)) {
    // Leaves integrate in queue order: once the last is in, all are.
    const absl::Time deadline = absl::Now() + absl::GetFlag(FLAGS_timeout);
    // The tree grows by at least what was added (others may write too).
    std::optional<Progress> integrating;
    uint64_t start_size = 0;
    for (;;) {
      auto [signed_root, root] = client.LatestRoot(tree);
      if (!integrating.has_value()) {
        start_size = root.tree_size;
        integrating.emplace("integrate:", added, "leaves");
      }
      integrating->Set(root.tree_size - start_size);
      trillian::GetInclusionProofByHashRequest request;
      request.set_log_id(tree.tree_id());
      request.set_leaf_hash(last_hash);
      request.set_tree_size(root.tree_size);
      trillian::GetInclusionProofByHashResponse response;
      if (root.tree_size > 0 &&
          client.log()
              .GetInclusionProofByHash(client.Context().get(), request,
                                       &response)
              .ok()) {
        out["root"] = RootJson(tree.tree_id(), signed_root, root);
        integrating->Set(added);
        break;
      }
      if (absl::Now() > deadline) {
        Fail(kUnusable,
             "timed out waiting for integration (the leaves are queued; "
             "raise --timeout, or check the sequencer: "
             "trellis_log_queued_leaves in trellisd's metrics)");
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  Print(out);
  return kOk;
}

int Prove(Client& client, const trillian::Tree& tree) {
  const std::string format = absl::GetFlag(FLAGS_format);
  if (format == "tlog-proof") {
    return ProveTlogProof(client, tree, absl::GetFlag(FLAGS_index),
                          absl::GetFlag(FLAGS_tlog_url));
  }
  if (!format.empty() && format != "json") {
    Fail(kUsage, "--format is json or tlog-proof");
  }
  auto [signed_root, root] = client.LatestRoot(tree);
  ProofFile file;
  file.kind = ProofFile::Kind::kInclusion;
  file.tree_size = root.tree_size;
  file.root = root.root_hash;
  std::vector<std::string> hashes;
  if (const std::string value = absl::GetFlag(FLAGS_value); !value.empty()) {
    trillian::GetInclusionProofByHashRequest request;
    request.set_log_id(tree.tree_id());
    request.set_leaf_hash(merkle::HashLeaf(value));
    request.set_tree_size(root.tree_size);
    trillian::GetInclusionProofByHashResponse response;
    Check(client.log().GetInclusionProofByHash(client.Context().get(), request,
                                               &response),
          "GetInclusionProofByHash");
    if (response.proof().empty()) Fail(kInvalid, "no proof returned");
    file.leaf_index = response.proof(0).leaf_index();
    file.leaf_hash = merkle::HashLeaf(value);
    hashes.assign(response.proof(0).hashes().begin(),
                  response.proof(0).hashes().end());
  } else {
    const int64_t index = absl::GetFlag(FLAGS_index);
    if (index < 0) Fail(kUsage, "log prove needs --index or --value");
    trillian::GetEntryAndProofRequest request;
    request.set_log_id(tree.tree_id());
    request.set_leaf_index(index);
    request.set_tree_size(root.tree_size);
    trillian::GetEntryAndProofResponse response;
    Check(client.log().GetEntryAndProof(client.Context().get(), request,
                                        &response),
          "GetEntryAndProof");
    if (!response.has_leaf()) Fail(kInvalid, "leaf is beyond the tree");
    file.leaf_index = index;
    // Hash the value ourselves rather than trusting the server's hash.
    file.leaf_hash = merkle::HashLeaf(response.leaf().leaf_value());
    hashes.assign(response.proof().hashes().begin(),
                  response.proof().hashes().end());
  }
  file.proof = std::move(hashes);
  if (absl::Status s = VerifyProofFile(file); !s.ok()) {
    Fail(kInvalid, "server's inclusion proof does not verify: " + s.ToString());
  }
  std::cout << ToJson(file) << "\n";
  return kOk;
}

int Consistency(Client& client, const trillian::Tree& tree) {
  const std::string since = absl::GetFlag(FLAGS_since);
  if (since.empty())
    Fail(kUsage, "log consistency needs --since=OLD_ROOT.json");
  const json old = json::parse(ReadFileOrDie(since), nullptr, false);
  absl::StatusOr<uint64_t> old_size = json_fields::Unsigned(old, "treeSize");
  absl::StatusOr<std::string> old_root = json_fields::Base64(old, "rootHash");
  if (!old_size.ok() || !old_root.ok()) {
    Fail(kUsage, since + " is not a `trellis log root` output");
  }
  auto [signed_root, root] = client.LatestRoot(tree);
  trillian::GetConsistencyProofRequest request;
  request.set_log_id(tree.tree_id());
  request.set_first_tree_size(*old_size);
  request.set_second_tree_size(root.tree_size);
  trillian::GetConsistencyProofResponse response;
  Check(client.log().GetConsistencyProof(client.Context().get(), request,
                                         &response),
        "GetConsistencyProof");
  ProofFile file;
  file.kind = ProofFile::Kind::kConsistency;
  file.size1 = *old_size;
  file.size2 = root.tree_size;
  file.root1 = *old_root;
  file.root2 = root.root_hash;
  file.proof.assign(response.proof().hashes().begin(),
                    response.proof().hashes().end());
  if (absl::Status s = VerifyProofFile(file); !s.ok()) {
    Fail(kInvalid, "log is NOT consistent with " + since + ": " + s.ToString());
  }
  std::cout << ToJson(file) << "\n";
  return kOk;
}

// Leaves in [--start, --start + --count) below the latest verified root,
// each with its inclusion in that root verified.
int Leaves(Client& client, const trillian::Tree& tree) {
  const int64_t start = absl::GetFlag(FLAGS_start);
  const int64_t count = absl::GetFlag(FLAGS_count);
  if (start < 0 || count < 0) Fail(kUsage, "--start and --count must be >= 0");
  auto [signed_root, root] = client.LatestRoot(tree);
  if (static_cast<uint64_t>(start) >= root.tree_size || count == 0) return kOk;
  trillian::GetLeavesByRangeRequest request;
  request.set_log_id(tree.tree_id());
  request.set_start_index(start);
  request.set_count(
      static_cast<int64_t>(std::min<uint64_t>(count, root.tree_size - start)));
  trillian::GetLeavesByRangeResponse response;
  Check(
      client.log().GetLeavesByRange(client.Context().get(), request, &response),
      "GetLeavesByRange");
  int64_t want_index = start;
  json rows = json::array();
  for (const trillian::LogLeaf& leaf : response.leaves()) {
    if (leaf.leaf_index() != want_index ||
        static_cast<uint64_t>(leaf.leaf_index()) >= root.tree_size) {
      Fail(kInvalid, absl::StrCat("the log returned leaf ", leaf.leaf_index(),
                                  " where leaf ", want_index, " belongs"));
    }
    ++want_index;
    // Hash the value ourselves: the proof must cover what we print.
    const std::string leaf_hash = merkle::HashLeaf(leaf.leaf_value());
    trillian::GetInclusionProofRequest proof_request;
    proof_request.set_log_id(tree.tree_id());
    proof_request.set_leaf_index(leaf.leaf_index());
    proof_request.set_tree_size(root.tree_size);
    trillian::GetInclusionProofResponse proof;
    Check(client.log().GetInclusionProof(client.Context().get(), proof_request,
                                         &proof),
          "GetInclusionProof");
    const std::vector<std::string> path(proof.proof().hashes().begin(),
                                        proof.proof().hashes().end());
    if (absl::Status s = merkle::VerifyInclusion(
            leaf.leaf_index(), root.tree_size, leaf_hash, path, root.root_hash);
        !s.ok()) {
      Fail(kInvalid,
           absl::StrCat("leaf ", leaf.leaf_index(),
                        " is not in the verified root: ", s.ToString()));
    }
    rows.push_back({{"leafIndex", leaf.leaf_index()},
                    {"leafValue", B64(leaf.leaf_value())},
                    {"extraData", B64(leaf.extra_data())},
                    {"merkleLeafHash", B64(leaf_hash)},
                    {"treeSize", root.tree_size},
                    {"proofVerified", true}});
  }
  // One JSON object per line (for jq and line tools), or one table.
  if (CurrentOutputFormat() == OutputFormat::kTable) {
    Print(rows, {"leafIndex", "leafValue", "merkleLeafHash", "proofVerified"});
  } else {
    for (const json& row : rows) std::cout << row.dump() << "\n";
  }
  return kOk;
}

int LogCommand(Client& client, const std::vector<char*>& args) {
  if (args.size() < 4) {
    Fail(kUsage, "log init|append|root|leaves|prove|consistency TREE_ID");
  }
  const std::string verb = args[2];
  const trillian::Tree tree = client.GetTree(ParseId(args, 3));
  if (verb == "init") {
    trillian::InitLogRequest request;
    request.set_log_id(tree.tree_id());
    trillian::InitLogResponse response;
    Check(client.log().InitLog(client.Context().get(), request, &response),
          "InitLog");
    Print(RootJson(tree.tree_id(), response.created(),
                   client.VerifyRoot(tree, response.created())));
    return kOk;
  }
  if (verb == "append") return Append(client, tree, args);
  if (verb == "root") {
    auto [signed_root, root] = client.LatestRoot(tree);
    Print(RootJson(tree.tree_id(), signed_root, root));
    return kOk;
  }
  if (verb == "leaves") return Leaves(client, tree);
  if (verb == "prove") return Prove(client, tree);
  if (verb == "consistency") return Consistency(client, tree);
  Fail(kUsage, UnknownWord("log command", verb, FindCommand("log")->verbs));
}

// A map index from a command-line key.
std::string IndexOf(const std::string& key) {
  if (!absl::GetFlag(FLAGS_hex_index)) return merkle::Sha256(key);
  std::string index = absl::HexStringToBytes(key);
  if (key.size() != 64 ||
      absl::BytesToHexString(index) != absl::AsciiStrToLower(key)) {
    Fail(kUsage, "--hex_index keys must be 64 hex digits");
  }
  return index;
}

json MapRootJson(int64_t map_id, const trillian::SignedMapRoot& signed_root,
                 const map::MapRootV1& root) {
  return {{"mapId", std::to_string(map_id)},
          {"revision", root.revision},
          {"rootHash", B64(root.root_hash)},
          {"timestampNanos", root.timestamp_nanos},
          {"metadata", B64(root.metadata)},
          {"mapRoot", B64(signed_root.map_root())},
          {"signature", B64(signed_root.signature())},
          {"signatureVerified", true}};
}

// Leaves to set: --file under --key, else KEY=VALUE arguments, else
// KEY=VALUE lines on stdin.
std::vector<std::pair<std::string, std::string>> MapEntries(
    const std::vector<char*>& args) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (const std::string& path : absl::GetFlag(FLAGS_file)) {
    if (absl::GetFlag(FLAGS_key).empty()) Fail(kUsage, "--file needs --key");
    entries.emplace_back(absl::GetFlag(FLAGS_key), ReadFileOrDie(path));
  }
  std::vector<std::string> lines(
      args.begin() + std::min<size_t>(4, args.size()), args.end());
  if (entries.empty() && lines.empty()) {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty()) lines.push_back(line);
    }
  }
  for (const std::string& line : lines) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos)
      Fail(kUsage, "expected KEY=VALUE, got " + line);
    entries.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return entries;
}

int MapCommand(Client& client, const std::vector<char*>& args) {
  if (args.size() < 4) Fail(kUsage, "map init|set|get|root|range MAP_ID");
  const std::string verb = args[2];
  const trillian::Tree tree = client.GetTree(ParseId(args, 3));
  const int64_t id = tree.tree_id();
  const int64_t revision = absl::GetFlag(FLAGS_revision);
  if (verb == "init") {
    trillian::InitMapRequest request;
    request.set_map_id(id);
    trillian::InitMapResponse response;
    Check(client.map().InitMap(client.Context().get(), request, &response),
          "InitMap");
    Print(MapRootJson(id, response.created(),
                      VerifyMapRoot(client, tree, response.created())));
    return kOk;
  }
  if (verb == "set") {
    trillian::WriteMapLeavesRequest request;
    request.set_map_id(id);
    request.set_expect_revision(revision < 0 ? 0 : revision);
    for (const auto& [key, value] : MapEntries(args)) {
      trillian::MapLeaf* leaf = request.add_leaves();
      leaf->set_index(IndexOf(key));
      leaf->set_leaf_value(value);
    }
    if (request.leaves().empty()) Fail(kUsage, "nothing to set");
    trillian::WriteMapLeavesResponse response;
    Check(client.map_write().WriteLeaves(client.Context().get(), request,
                                         &response),
          "WriteLeaves");
    Print(json{{"revision", response.revision()},
               {"leaves", request.leaves_size()}});
    return kOk;
  }
  if (verb == "root") {
    trillian::GetSignedMapRootResponse response;
    if (revision < 0) {
      trillian::GetSignedMapRootRequest request;
      request.set_map_id(id);
      Check(client.map().GetSignedMapRoot(client.Context().get(), request,
                                          &response),
            "GetSignedMapRoot");
    } else {
      trillian::GetSignedMapRootByRevisionRequest request;
      request.set_map_id(id);
      request.set_revision(revision);
      Check(client.map().GetSignedMapRootByRevision(client.Context().get(),
                                                    request, &response),
            "GetSignedMapRootByRevision");
    }
    Print(MapRootJson(id, response.map_root(),
                      VerifyMapRoot(client, tree, response.map_root())));
    return kOk;
  }
  if (verb == "get") {
    if (args.size() != 5) Fail(kUsage, "map get MAP_ID KEY");
    const MapProofFile file =
        FetchProvenMapLeaf(client, tree, IndexOf(args[4]), revision);
    std::cout << ToJson(file) << "\n";
    return kOk;
  }
  if (verb == "range") {
    trillian::GetLastInRangeByRevisionRequest request;
    request.set_map_id(id);
    int64_t at = revision;
    if (at < 0) {
      trillian::GetSignedMapRootRequest latest;
      latest.set_map_id(id);
      trillian::GetSignedMapRootResponse latest_response;
      Check(client.map().GetSignedMapRoot(client.Context().get(), latest,
                                          &latest_response),
            "GetSignedMapRoot");
      at = VerifyMapRoot(client, tree, latest_response.map_root()).revision;
    }
    request.set_revision(at);
    request.set_prefix(absl::HexStringToBytes(absl::GetFlag(FLAGS_prefix)));
    request.set_prefix_bits(absl::GetFlag(FLAGS_bits));
    trillian::MapLeaf leaf;
    Check(client.map().GetLastInRangeByRevision(client.Context().get(), request,
                                                &leaf),
          "GetLastInRangeByRevision");
    Print(json{{"revision", at},
               {"index", absl::BytesToHexString(leaf.index())},
               {"leafValue", B64(leaf.leaf_value())}});
    return kOk;
  }
  Fail(kUsage, UnknownWord("map command", verb, FindCommand("map")->verbs));
}

int VerifyMapProofCommand(const std::vector<char*>& args) {
  if (args.size() != 3) Fail(kUsage, "verify-map-proof FILE.json");
  const std::string path = args[2];
  const std::string text =
      path == "-" ? ReadAll(std::cin) : ReadFileOrDie(path);
  absl::StatusOr<MapProofFile> file = ParseMapProofFile(text);
  if (!file.ok()) {
    Fail(kUsage, "unusable map proof file: " + file.status().ToString());
  }
  if (absl::Status s = VerifyMapProofFile(*file); !s.ok()) {
    std::cout << "INVALID: " << s.message() << "\n";
    return kInvalid;
  }
  std::cout << "OK\n";
  return kOk;
}

int VerifyProofCommand(const std::vector<char*>& args) {
  if (args.size() != 3) Fail(kUsage, "verify-proof FILE.json");
  const std::string path = args[2];
  const std::string text =
      path == "-" ? ReadAll(std::cin) : ReadFileOrDie(path);
  if (absl::StartsWith(text, tlog::kTlogProofHeader)) {
    return VerifyTlogProofCommand(
        text, absl::GetFlag(FLAGS_policy), absl::GetFlag(FLAGS_leaf),
        absl::GetFlag(FLAGS_state_dir), absl::GetFlag(FLAGS_tiles_url));
  }
  absl::StatusOr<ProofFile> file = ParseProofFile(text);
  if (!file.ok())
    Fail(kUsage, "unusable proof file: " + file.status().ToString());
  // A well-formed file whose proof has the wrong shape (lengths, sizes) is
  // an invalid proof, not unusable input.
  absl::Status s = VerifyProofFile(*file);
  if (!s.ok()) {
    std::cout << "INVALID: " << s.message() << "\n";
    return kInvalid;
  }
  std::cout << "OK\n";
  return kOk;
}

}  // namespace
}  // namespace trellis::cli

// The program's own flags (not Abseil's), for shell completion.
std::vector<std::string> TrellisFlags() {
  std::vector<std::string> names;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::StrContains(flag->Filename(), "cmd/trellis/")) {
      names.push_back(std::string(name));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "trellis [flags] COMMAND ...  (trellis help lists the commands)");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  using trellis::cli::Fail;
  if (absl::Status s =
          trellis::cli::SetOutputFormat(absl::GetFlag(FLAGS_output));
      !s.ok()) {
    Fail(trellis::cli::kUsage, std::string(s.message()));
  }
  if (absl::Status s =
          trellis::cli::SetProgressMode(absl::GetFlag(FLAGS_progress));
      !s.ok()) {
    Fail(trellis::cli::kUsage, std::string(s.message()));
  }
  if (args.size() < 2) {
    std::fputs(trellis::cli::HelpText().c_str(), stderr);
    return trellis::cli::kUsage;
  }
  const std::string command = args[1];
  const trellis::cli::CommandSpec* spec = trellis::cli::FindCommand(command);
  if (spec == nullptr) {
    std::vector<std::string> names;
    for (const auto& known : trellis::cli::Commands()) {
      names.push_back(known.name);
    }
    Fail(trellis::cli::kUsage,
         trellis::cli::UnknownWord("command", command, names) +
             " (trellis help lists them)");
  }
  if (!spec->verbs.empty()) {
    if (args.size() < 3)
      Fail(trellis::cli::kUsage, "usage: trellis " + spec->usage);
    const std::string verb = args[2];
    if (std::find(spec->verbs.begin(), spec->verbs.end(), verb) ==
        spec->verbs.end()) {
      Fail(trellis::cli::kUsage,
           trellis::cli::UnknownWord(command + " command", verb, spec->verbs) +
               " (usage: trellis " + spec->usage + ")");
    }
  }
  if (command == "help") {
    std::fputs(trellis::cli::HelpText().c_str(), stdout);
    return trellis::cli::kOk;
  }
  if (command == "completion") {
    const std::vector<std::string> flags = TrellisFlags();
    std::cout << (std::string(args[2]) == "bash"
                      ? trellis::cli::BashCompletion(flags)
                      : trellis::cli::ZshCompletion(flags));
    return trellis::cli::kOk;
  }

  if (command == "verify-proof") return trellis::cli::VerifyProofCommand(args);
  if (command == "verify-checkpoint") {
    return trellis::cli::VerifyCheckpointCommand(
        args, absl::GetFlag(FLAGS_state_dir), absl::GetFlag(FLAGS_tiles_url));
  }
  if (command == "svid" && args.size() > 2 && std::string(args[2]) == "dump") {
    return trellis::cli::SvidDumpCommand(args);
  }
  if (command == "svid" && args.size() > 2 &&
      (std::string(args[2]) == "fetch" ||
       std::string(args[2]) == "generate-sovereign")) {
    return trellis::cli::SvidFetchCommand(args);
  }
  if (command == "verify-map-proof") {
    return trellis::cli::VerifyMapProofCommand(args);
  }
  if (command == "gta") {
    return trellis::cli::GtaCommand(args, absl::GetFlag(FLAGS_data_dir));
  }
  if (command == "admin" && args.size() > 2 &&
      std::string(args[2]) != "backup") {
    return trellis::cli::AdminOfflineCommand(args);
  }
  std::string addr = absl::GetFlag(FLAGS_addr);
  if (addr.empty()) {
    // Operators on the server's machine reach it over its operator socket.
    const std::string socket = absl::GetFlag(FLAGS_data_dir) + "/operator.sock";
    struct stat st;
    addr = stat(socket.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)
               ? "unix:" + socket
               : "127.0.0.1:8090";
  }
  trellis::cli::ClientOptions options;
  options.addr = addr;
  options.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key = absl::GetFlag(FLAGS_tls_key);
  options.timeout = absl::GetFlag(FLAGS_timeout);
  options.state_dir = absl::GetFlag(FLAGS_state_dir);
  options.server_name = absl::GetFlag(FLAGS_server_name);
  options.log_public_key_file = absl::GetFlag(FLAGS_log_public_key);
  trellis::cli::Client client(options);
  if (command == "policy") {
    return trellis::cli::PolicyCommand(client, args,
                                       absl::GetFlag(FLAGS_revision));
  }
  if (command == "host") return trellis::cli::HostCommand(client, args);
  if (command == "spire") return trellis::cli::SpireCommand(client, args);
  if (command == "svid" && args.size() > 2 &&
      std::string(args[2]) == "latest") {
    return trellis::cli::SvidLatestCommand(client, args);
  }
  if (command == "svid") return trellis::cli::SvidVerifyCommand(client, args);
  if (command == "tree") return trellis::cli::TreeCommand(client, args);
  if (command == "admin") return trellis::cli::AdminBackupCommand(client, args);
  if (command == "log") return trellis::cli::LogCommand(client, args);
  if (command == "map") return trellis::cli::MapCommand(client, args);
  if (command == "audit") {
    trellis::cli::AuditOptions audit;
    audit.log_id = absl::GetFlag(FLAGS_log);
    audit.verifier.url = absl::GetFlag(FLAGS_verifier);
    audit.verifier.ca_file = absl::GetFlag(FLAGS_verifier_ca);
    audit.verifier.client_cert_file = absl::GetFlag(FLAGS_tls_cert);
    audit.verifier.client_key_file = absl::GetFlag(FLAGS_tls_key);
    return trellis::cli::AuditCommand(client, args, audit);
  }
  Fail(trellis::cli::kUsage, "usage: trellis " + spec->usage);
}
