// Writes real seed inputs for the libFuzzer targets that have none checked
// in: evidence requests, IMA lists, boot event logs, map tiles and nodes,
// log roots. Each is made by the project's own encoders (and the helpers
// its tests use), parsed back with the parser its fuzzer calls and kept
// within scripts/fuzz.sh's -max_len, so short fuzz runs start past the
// first format check. Output is deterministic; any refused seed exits 1.
//
//   bazel run //testdata:make_fuzz_seeds -- testdata/fuzz_seeds
//
// The evidence reuses the checked-in TPM and Keylime seeds (runfiles).
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "attest/eventlog/event_log.h"
#include "attest/ima/measurement_list.h"
#include "attest/keylime/app_key_certificate.h"
#include "attest/keylime/quote.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "attest/verifier/evidence_request.h"
#include "map/hasher.h"
#include "merkle/compact_range.h"
#include "merkle/hasher.h"
#include "merkle/log_root.h"
#include "merkle/reference_tree.h"
#include "merkle/smt/sparse_tree.h"
#include "merkle/smt/tile.h"
#include "nlohmann/json.hpp"
#include "trillian.pb.h"
#include "util/file.h"

namespace trellis {
namespace {

using nlohmann::json;
namespace eventlog = attest::eventlog;
namespace ima = attest::ima;
namespace keylime = attest::keylime;
namespace tpm = attest::tpm;

// scripts/fuzz.sh passes -max_len=4096: longer seeds would be cut short.
constexpr size_t kMaxLen = 4096;
// Fixed so that regenerated seeds are byte-identical.
constexpr uint64_t kTimestampNanos = 1764460800000000000;  // 2025-11-30.
constexpr int64_t kMapId = 1;

int failures = 0;

// Writes `bytes` as <out>/<dir>/<name> if the fuzzer's parser `accepted`
// them and they fit -max_len; otherwise reports and counts a failure.
void Put(const std::string& out, const std::string& dir,
         const std::string& name, const std::string& bytes, bool accepted) {
  const std::string path = absl::StrCat(out, "/", dir, "/", name);
  if (!accepted || bytes.size() > kMaxLen) {
    std::cerr << path << ": " << (accepted ? "too long" : "refused") << " ("
              << bytes.size() << " bytes)\n";
    ++failures;
    return;
  }
  std::error_code ec;
  std::filesystem::create_directories(out + "/" + dir, ec);
  if (absl::Status s = ReplaceFile(path, bytes, 0644); !s.ok()) {
    std::cerr << s << "\n";
    ++failures;
  }
}

void PutLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

// --- IMA measurement lists -------------------------------------------------

std::string FileDigest(TPM2_ALG_ID alg, int i) {  // As ima_test.cc makes them.
  return tpm::TpmHash(alg, absl::StrCat("file contents ", i)).value();
}

// An entry of any template with the template data and hash the kernel logs:
// the project's parser rebuilds the data from the ASCII fields.
ima::Entry MakeEntry(const std::string& template_name, const std::string& path,
                     const std::string& digest,
                     const std::string& signature = "") {
  ima::Entry e;
  e.template_name = template_name;
  e.digest_algorithm = template_name == "ima" ? "sha1" : "sha256";
  e.file_digest = digest;
  e.path = path;
  e.signature = signature;
  e.template_hash = std::string(20, '\x01');  // Replaced below.
  ima::Entry parsed = ima::ParseAscii(ima::FormatAscii(e)).value().front();
  parsed.template_hash =
      tpm::TpmHash(TPM2_ALG_SHA1, parsed.template_data).value();
  return parsed;
}

// A v2 IMA signature header (type 3, version 2, SHA-256, key id, size) and
// stand-in signature bytes: nothing in Trellis verifies IMA signatures.
std::string ImaSignature(int i) {
  const std::string sig = FileDigest(TPM2_ALG_SHA256, 1000 + i);
  return std::string("\x03\x02\x04\x5a\x0e\x11\x07\x00", 8) +
         static_cast<char>(sig.size()) + sig;
}

std::string Ascii(const std::vector<ima::Entry>& entries) {
  std::string out;
  for (const ima::Entry& e : entries) {
    absl::StrAppend(&out, ima::FormatAscii(e), "\n");
  }
  return out;
}

// binary_runtime_measurements, laid out as ParseBinary reads it.
std::string Binary(const std::vector<ima::Entry>& entries) {
  std::string out;
  for (const ima::Entry& e : entries) {
    PutLe32(out, e.pcr);
    out += e.template_hash;
    PutLe32(out, e.template_name.size());
    out += e.template_name;
    if (e.template_name == "ima") {  // Digest, then the sized name; no total.
      out += e.file_digest;
      PutLe32(out, e.path.size());
      out += e.path;
    } else {
      PutLe32(out, e.template_data.size());
      out += e.template_data;
    }
  }
  return out;
}

// Parsed lists must replay as the entries they came from.
bool Replays(const absl::StatusOr<std::vector<ima::Entry>>& parsed,
             const std::vector<ima::Entry>& entries) {
  return parsed.ok() && parsed->size() == entries.size() &&
         ima::Replay(*parsed, TPM2_ALG_SHA256).value() ==
             ima::Replay(entries, TPM2_ALG_SHA256).value();
}

std::vector<ima::Entry> ImaNgEntries(int n) {
  std::vector<ima::Entry> entries;
  for (int i = 0; i < n; ++i) {
    entries.push_back(ima::MakeImaNgEntry(absl::StrCat("/usr/bin/tool-", i),
                                          FileDigest(TPM2_ALG_SHA256, i)));
  }
  return entries;
}

void WriteImaSeeds(const std::string& out) {
  std::vector<ima::Entry> ng = ImaNgEntries(4);
  // A violation, as ima_test.cc logs one: zero column, extends 0xFF..
  ima::Entry violation =
      ima::MakeImaNgEntry("/var/log/busy", std::string(32, '\0'));
  violation.template_hash = std::string(20, '\0');
  violation.violation = true;
  ng.insert(ng.begin() + 2, violation);
  std::vector<ima::Entry> sig;
  for (int i = 0; i < 3; ++i) {
    sig.push_back(MakeEntry("ima-sig", absl::StrCat("/usr/lib/lib", i, ".so"),
                            FileDigest(TPM2_ALG_SHA256, 10 + i),
                            i == 1 ? "" : ImaSignature(i)));
  }
  std::vector<ima::Entry> legacy;
  for (int i = 0; i < 3; ++i) {
    legacy.push_back(MakeEntry("ima", absl::StrCat("/sbin/init-", i),
                               FileDigest(TPM2_ALG_SHA1, 20 + i)));
  }
  // boot_aggregate first, as the kernel logs it, then one of each template.
  std::vector<ima::Entry> mixed = {
      ima::MakeImaNgEntry("boot_aggregate", FileDigest(TPM2_ALG_SHA256, 30)),
      ng[0], sig[0], legacy[0], violation};
  for (const auto& [name, entries] :
       std::vector<std::pair<std::string, std::vector<ima::Entry>>>{
           {"ima_ng", ng},
           {"ima_sig", sig},
           {"ima", legacy},
           {"mixed", mixed}}) {
    const std::string text = Ascii(entries);
    Put(out, "ima", "ascii_" + name + ".txt", text,
        Replays(ima::ParseAscii(text), entries));
    const std::string bytes = Binary(entries);
    Put(out, "ima", "binary_" + name + ".bin", bytes,
        Replays(ima::ParseBinary(bytes), entries));
  }
}

// --- Boot event logs ---------------------------------------------------------

eventlog::Event MakeEvent(uint32_t pcr, uint32_t type, const std::string& data,
                          const std::vector<TPM2_ALG_ID>& banks) {
  eventlog::Event e;
  e.pcr = pcr;
  e.type = type;
  e.data = data;
  for (TPM2_ALG_ID bank : banks) {
    // Firmware logs EV_NO_ACTION events with zero digests.
    e.digests[bank] = type == eventlog::kEvNoAction
                          ? std::string(tpm::DigestSize(bank), '\0')
                          : tpm::TpmHash(bank, data).value();
  }
  return e;
}

// As event_log_test.cc's BootEvents: components and a separator per PCR.
std::vector<eventlog::Event> BootEvents(const std::vector<TPM2_ALG_ID>& banks,
                                        uint32_t pcrs, int per_pcr) {
  std::vector<eventlog::Event> events = {
      MakeEvent(0, eventlog::kEvNoAction, "SP800-155 Event", banks)};
  for (uint32_t pcr = 0; pcr < pcrs; ++pcr) {
    for (int i = 0; i < per_pcr; ++i) {
      events.push_back(MakeEvent(
          pcr, 0x80000003 + i, absl::StrCat("component ", pcr, ".", i), banks));
    }
    events.push_back(
        MakeEvent(pcr, eventlog::kEvSeparator, std::string(4, '\0'), banks));
  }
  return events;
}

// The log parses back whole and replays in every bank it announces.
bool LogReplays(const std::string& bytes, size_t events) {
  absl::StatusOr<eventlog::EventLog> log = eventlog::Parse(bytes);
  if (!log.ok() || log->events.size() != events) return false;
  for (const auto& [alg, size] : log->algorithms) {
    if (!eventlog::Replay(*log, alg).ok()) return false;
  }
  return true;
}

std::string ShortBootLog() {
  const std::vector<TPM2_ALG_ID> sha256 = {TPM2_ALG_SHA256};
  return eventlog::Serialize(sha256, {MakeEvent(0, 0x8, "crtm version", sha256),
                                      MakeEvent(0, eventlog::kEvSeparator,
                                                std::string(4, '\0'), sha256)});
}

void WriteEventLogSeeds(const std::string& out) {
  const std::vector<TPM2_ALG_ID> sha256 = {TPM2_ALG_SHA256};
  const std::vector<TPM2_ALG_ID> sha1_sha256 = {TPM2_ALG_SHA1, TPM2_ALG_SHA256};
  const std::vector<TPM2_ALG_ID> sha256_sha384 = {TPM2_ALG_SHA256,
                                                  TPM2_ALG_SHA384};
  eventlog::Event locality = MakeEvent(0, eventlog::kEvNoAction, "", sha256);
  locality.data = std::string("StartupLocality\0\x03", 17);
  struct Log {
    const char* name;
    std::vector<TPM2_ALG_ID> banks;
    std::vector<eventlog::Event> events;
  };
  for (const Log& log : std::vector<Log>{
           {"sha1_sha256_boot.bin", sha1_sha256, BootEvents(sha1_sha256, 8, 3)},
           {"sha256_sha384_boot.bin", sha256_sha384,
            BootEvents(sha256_sha384, 4, 2)},
           {"sha256_startup_locality.bin",
            sha256,
            {locality, MakeEvent(0, 0x8, "crtm version", sha256),
             MakeEvent(0, eventlog::kEvSeparator, std::string(4, '\0'),
                       sha256)}},
           {"sha256_hcrtm.bin",
            sha256,
            {MakeEvent(0, eventlog::kEvEfiHcrtmEvent, "HCRTM", sha256),
             locality}}}) {
    const std::string bytes = eventlog::Serialize(log.banks, log.events);
    Put(out, "eventlog", log.name, bytes, LogReplays(bytes, log.events.size()));
  }
  Put(out, "eventlog", "sha256_short.bin", ShortBootLog(),
      LogReplays(ShortBootLog(), 2));
}

// --- Evidence requests -------------------------------------------------------

std::string ReadSeed(const std::string& name) {
  return ReadFile("testdata/fuzz_seeds/" + name).value();
}

// The Keylime seeds end with a newline; the wire fields do not.
std::string ReadTextSeed(const std::string& name) {
  return std::string(absl::StripAsciiWhitespace(ReadSeed(name)));
}

// A request as a host posts it, from one software TPM's checked-in seeds,
// with the nonce its quote signed. Every data field, no metadata.
json BaseEvidence() {
  const std::string quote = ReadTextSeed("keylime/quote.txt");
  const std::string certificate =
      ReadTextSeed("keylime/app_key_certificate.txt");
  const TPMS_ATTEST attest =
      tpm::ParseAttest(keylime::ParseQuote(quote).value().attest).value();
  return {
      {"type", "tpm-app-key"},
      {"data",
       {{"nonce", absl::BytesToHexString(tpm::View(attest.extraData))},
        {"quote", quote},
        {"hash_alg", "sha256"},
        {"app_key_public",
         keylime::DecodeAppKeyCertificate(certificate).value().app_key_public},
        {"app_key_certificate", certificate},
        {"tpm_ak", absl::Base64Escape(ReadSeed("tpm/ak_public.bin"))},
        {"tpm_ek", absl::Base64Escape(ReadSeed("tpm/ek_public.bin"))}}}};
}

bool PublicParses(const std::string& base64) {
  std::string bytes;
  return absl::Base64Unescape(base64, &bytes) && tpm::ParsePublic(bytes).ok();
}

// The fuzzer's parser takes the text, and so do the appraisal's parsers the
// fields.
bool EvidenceParses(const std::string& text) {
  absl::StatusOr<attest::EvidenceRequest> r = attest::ParseEvidenceRequest(
      json::parse(text, nullptr, /*allow_exceptions=*/false));
  if (!r.ok()) return false;
  std::string boot_log;
  return keylime::ParseQuote(r->quote).ok() &&
         keylime::DecodeAppKeyCertificate(r->app_key_certificate).ok() &&
         PublicParses(r->tpm_ak) && PublicParses(r->tpm_ek) &&
         ima::ParseAscii(r->ima_measurement_list).ok() &&
         absl::Base64Unescape(r->mb_measurement_list, &boot_log) &&
         (boot_log.empty() || eventlog::Parse(boot_log).ok());
}

void WriteEvidenceSeeds(const std::string& out) {
  const json base = BaseEvidence();
  json claims = base;
  // The document a host extends into its geolocation PCR.
  claims["data"]["geolocation"] =
      json::parse(attest::CanonicalGeolocation("Spain", 40.4168, -3.7038));
  claims["data"]["gpu_metrics"] = {
      {"status", "healthy"}, {"utilization_pct", 37.5}, {"memory_mb", 16384}};
  claims["metadata"] = {{"source", "make_fuzz_seeds"},
                        {"submission_type", "PoR/tpm-app-key"}};
  json integrity = base;
  integrity["data"]["ima_measurement_list"] = Ascii(ImaNgEntries(2));
  integrity["data"]["mb_measurement_list"] = absl::Base64Escape(ShortBootLog());
  for (const auto& [name, body] : std::vector<std::pair<std::string, json>>{
           {"base.json", base},
           {"claims.json", claims},
           {"integrity.json", integrity}}) {
    const std::string text = body.dump();
    Put(out, "evidence", name, text, EvidenceParses(text));
  }
}

// --- Log roots ---------------------------------------------------------------

void WriteLogRootSeeds(const std::string& out) {
  struct Root {
    const char* name;
    uint64_t size;
    uint64_t revision;
    std::string metadata;
  };
  for (const Root& r : std::vector<Root>{
           {"empty.bin", 0, 0, ""},  // What InitLog signs.
           {"size1.bin", 1, 1, ""},
           {"size7.bin", 7, 3, ""},
           {"size1000.bin", 1000, 12, ""},
           {"size7_metadata.bin", 7, 4, "trellis log root metadata"}}) {
    // The sequencer's compact range over the test helpers' numbered leaves.
    merkle::CompactRange range;
    for (std::string& leaf : merkle::NumberedLeafHashes(r.size)) {
      range.Append(std::move(leaf), {});
    }
    merkle::LogRootV1 root;
    root.tree_size = r.size;
    root.root_hash = range.Root();
    root.timestamp_nanos = kTimestampNanos + r.revision;
    root.revision = r.revision;
    root.metadata = r.metadata;
    const std::string bytes = merkle::SerializeLogRoot(root).value();
    absl::StatusOr<merkle::LogRootV1> parsed = merkle::ParseLogRoot(bytes);
    Put(out, "log_root", r.name, bytes, parsed.ok() && *parsed == root);
  }
}

// --- Map tiles and nodes -----------------------------------------------------

using TileMap = std::map<std::pair<int, std::string>,
                         std::shared_ptr<const merkle::smt::Tile>>;

// Tiles in memory, as storage keeps the latest of each.
class MemoryTiles : public merkle::smt::TileReader {
 public:
  explicit MemoryTiles(const TileMap& tiles) : tiles_(tiles) {}
  absl::StatusOr<std::shared_ptr<const merkle::smt::Tile>> ReadTile(
      const merkle::smt::TileId& id) override {
    auto it = tiles_.find({id.depth, id.prefix});
    if (it == tiles_.end()) return nullptr;
    return it->second;
  }

 private:
  const TileMap& tiles_;
};

// Applies one revision's leaves (sorted) as the map manager does.
merkle::smt::NodeEntry Apply(const merkle::smt::MapHasher& hasher,
                             const merkle::smt::NodeEntry& root,
                             std::map<std::string, std::string> leaves,
                             TileMap& tiles) {
  std::vector<merkle::smt::LeafHash> hashes;
  for (const auto& [index, value] : leaves) {
    hashes.push_back({index, hasher.HashLeaf(kMapId, index, value)});
  }
  merkle::smt::TreeUpdate update =
      merkle::smt::ApplyLeaves(hasher, kMapId, root, hashes, [&tiles] {
        return std::make_unique<MemoryTiles>(tiles);
      }).value();
  for (auto& [id, tile] : update.tiles) {
    tiles[{id.depth, id.prefix}] =
        std::make_shared<const merkle::smt::Tile>(std::move(tile));
  }
  return update.root;
}

// The tile as written before f0cfeae (every non-empty node stored; storage
// still reads these): implied nodes are hashed up from the node below them
// through empty siblings, as sparse_tree.cc's ImpliedHash does.
merkle::smt::Tile EveryNodeTile(const merkle::smt::MapHasher& hasher,
                                const std::string& prefix,
                                const merkle::smt::Tile& tile) {
  const int tile_depth =
      merkle::smt::kTileHeight * static_cast<int>(prefix.size());
  merkle::smt::TileWriter writer;
  for (int level = 1; level <= merkle::smt::kTileHeight; ++level) {
    for (int offset = 0; offset < (1 << level); ++offset) {
      if (std::optional<merkle::smt::NodeRef> node = tile.Find(level, offset)) {
        writer.Add(level, offset, *node);
        continue;
      }
      std::optional<merkle::smt::PlacedNode> below =
          tile.FindBelow(level, offset);
      if (!below) continue;
      std::string hash(below->node.hash);
      for (int l = below->level, o = below->offset; l > level; --l, o >>= 1) {
        std::string sibling = prefix;
        sibling.push_back(
            static_cast<char>((o ^ 1) << (merkle::smt::kTileHeight - l)));
        sibling.resize(merkle::smt::kIndexBytes, '\0');
        const std::string empty = hasher.HashEmpty(
            kMapId, sibling, merkle::smt::kIndexBits - (tile_depth + l));
        hash = o % 2 == 0 ? hasher.HashChildren(hash, empty)
                          : hasher.HashChildren(empty, hash);
      }
      writer.Add(level, offset, merkle::smt::NodeEntry{hash, "", ""});
    }
  }
  return writer.Finish();
}

// Every index proves the same with `tiles` as with `reference`.
bool SameProofs(const merkle::smt::MapHasher& hasher,
                const merkle::smt::NodeEntry& root,
                const std::vector<std::string>& indices,
                const TileMap& reference, const TileMap& tiles) {
  MemoryTiles a(reference), b(tiles);
  for (const std::string& index : indices) {
    absl::StatusOr<merkle::smt::MapProof> pa =
        merkle::smt::BuildProof(hasher, kMapId, root, index, a);
    absl::StatusOr<merkle::smt::MapProof> pb =
        merkle::smt::BuildProof(hasher, kMapId, root, index, b);
    if (!pa.ok() || !pb.ok() || pa->siblings != pb->siblings ||
        pa->leaf_hash != pb->leaf_hash) {
      return false;
    }
  }
  return true;
}

std::string Index(const std::string& key) { return merkle::Sha256(key); }

void WriteTileSeeds(const std::string& out) {
  const std::unique_ptr<merkle::smt::MapHasher> hasher =
      map::NewMapHasher(trillian::CONIKS_SHA256).value();  // New maps' default.
  // Revision 1: scattered keys; a cluster under one two-byte prefix (tiles
  // at depths 1 and 2); two indices differing in the last bit only (a tile
  // at every depth down to 31, whose bottom row holds leaves).
  std::map<std::string, std::string> r1;
  std::vector<std::string> indices;
  auto set = [&](std::map<std::string, std::string>& batch,
                 const std::string& index, const std::string& value) {
    batch[index] = value;
    indices.push_back(index);
  };
  for (int i = 0; i < 8; ++i) {
    set(r1, Index(absl::StrCat("key-", i)), absl::StrCat("value-", i));
  }
  for (int i = 0; i < 4; ++i) {
    std::string index = Index(absl::StrCat("cluster-", i));
    index[0] = '\xa5';
    index[1] = '\x5a';
    set(r1, index, absl::StrCat("cluster-value-", i));
  }
  std::string twin = Index("twin");
  set(r1, twin, "twin-0");
  twin[merkle::smt::kIndexBytes - 1] ^= 1;
  set(r1, twin, "twin-1");
  TileMap tiles;
  const merkle::smt::NodeEntry root1 =
      Apply(*hasher, merkle::smt::NodeEntry{}, r1, tiles);
  const TileMap tiles1 = tiles;
  // Revision 2: new keys, one more in the cluster, an overwrite.
  std::map<std::string, std::string> r2;
  for (int i = 8; i < 12; ++i) {
    set(r2, Index(absl::StrCat("key-", i)), absl::StrCat("value-", i));
  }
  std::string cluster = Index("cluster-4");
  cluster[0] = '\xa5';
  cluster[1] = '\x5a';
  set(r2, cluster, "cluster-value-4");
  r2[Index("key-0")] = "value-0-again";
  const merkle::smt::NodeEntry root2 = Apply(*hasher, root1, r2, tiles);

  auto put_tile = [&](const std::string& name, const merkle::smt::Tile& tile) {
    Put(out, "tile", name, tile.bytes(),
        merkle::smt::Tile::Parse(tile.bytes()).ok());
  };
  put_tile("r1_depth0.bin", *tiles1.at({0, ""}));
  for (const auto& [id, tile] : tiles) {
    // Single-node tiles along the twins' path add nothing but the deepest.
    if (tile->size() < 2 && id.first != merkle::smt::kTileDepths - 1) continue;
    put_tile(
        absl::StrCat("r2_depth", id.first, id.second.empty() ? "" : "_",
                     absl::BytesToHexString(id.second.substr(0, 2)), ".bin"),
        *tile);
  }
  // Old-format tiles must prove exactly what the new ones do.
  for (const std::pair<int, std::string>& id :
       {std::make_pair(0, std::string()),
        std::make_pair(2, cluster.substr(0, 2))}) {
    TileMap old = tiles1;
    old[id] = std::make_shared<const merkle::smt::Tile>(
        EveryNodeTile(*hasher, id.second, *tiles1.at(id)));
    const std::string& bytes = old[id]->bytes();
    Put(out, "tile", absl::StrCat("r1_every_node_depth", id.first, ".bin"),
        bytes,
        merkle::smt::Tile::Parse(bytes).ok() &&
            old[id]->size() > tiles1.at(id)->size() &&
            SameProofs(*hasher, root1, indices, tiles1, old));
  }
  // Root nodes as map storage records them: plain, single-leaf, empty.
  TileMap scratch;
  const merkle::smt::NodeEntry single =
      Apply(*hasher, merkle::smt::NodeEntry{}, {{Index("only"), "v"}}, scratch);
  for (const auto& [name, node] :
       std::vector<std::pair<std::string, merkle::smt::NodeEntry>>{
           {"node_root_plain.bin", root2},
           {"node_root_single.bin", single},
           {"node_root_empty.bin", merkle::smt::NodeEntry{}}}) {
    const std::string bytes = merkle::smt::EncodeNodeEntry(node);
    absl::StatusOr<merkle::smt::NodeEntry> decoded =
        merkle::smt::DecodeNodeEntry(bytes);
    Put(out, "tile", name, bytes,
        decoded.ok() && decoded->hash == node.hash &&
            decoded->single_index == node.single_index);
  }
}

}  // namespace
}  // namespace trellis

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_fuzz_seeds OUT_DIR (e.g. testdata/fuzz_seeds)\n";
    return 2;
  }
  std::string out = argv[1];
  // `bazel run` starts us in the runfiles tree: relative means the workspace.
  if (const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
      workspace != nullptr && out[0] != '/') {
    out = std::string(workspace) + "/" + out;
  }
  trellis::WriteEvidenceSeeds(out);
  trellis::WriteImaSeeds(out);
  trellis::WriteEventLogSeeds(out);
  trellis::WriteTileSeeds(out);
  trellis::WriteLogRootSeeds(out);
  return trellis::failures == 0 ? 0 : 1;
}
