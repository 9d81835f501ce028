// libFuzzer target: every tlog/ parser (notes, checkpoints, tile paths,
// verifier keys, bundles, witness policies, add-checkpoint requests and
// sizes, tlog-proofs) on arbitrary bytes. What a parser
// accepts must format back to the same bytes (the encodings are canonical:
// one checkpoint, tile path or verifier key has one text), and a parsed note
// must be safe to verify.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tlog/checkpoint.h"
#include "tlog/note.h"
#include "tlog/policy.h"
#include "tlog/proof.h"
#include "tlog/tiles.h"
#include "tlog/witness_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trellis::tlog;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  if (auto note = ParseNote(bytes); note.ok()) {
    NoteVerifierKey key;
    key.name = note->signatures.front().name;
    key.id = note->signatures.front().id;
    key.public_key = std::string(32, 'k');
    VerifyNote(*note, {key}).IgnoreError();
    key.type = kCosignatureV1KeyType;
    VerifyNote(*note, {key}).IgnoreError();
  }
  if (auto checkpoint = ParseCheckpoint(bytes); checkpoint.ok()) {
    if (FormatCheckpoint(*checkpoint).value_or("") != bytes) std::abort();
  }
  if (auto tile = ParseTilePath(bytes); tile.ok()) {
    if (TilePath(*tile).value_or("") != bytes) std::abort();
  }
  if (auto key = ParseVerifierKey(bytes); key.ok()) {
    if (FormatVerifierKey(*key) != bytes) std::abort();
  }
  if (auto policy = WitnessPolicy::Parse(bytes); policy.ok()) {
    policy->QuorumMet({});
    policy->Verify(bytes).IgnoreError();
  }
  if (auto entries = ParseBundle(bytes); entries.ok()) {
    std::string again;
    for (const std::string& entry : *entries) {
      if (!AppendBundleEntry(entry, &again).ok()) std::abort();
    }
    if (again != bytes) std::abort();
  }
  if (auto request = ParseAddCheckpointRequest(bytes); request.ok()) {
    if (FormatAddCheckpointRequest(*request).value_or("") != bytes) {
      std::abort();
    }
  }
  if (auto proof = ParseTlogProof(bytes); proof.ok()) {
    if (FormatTlogProof(*proof).value_or("") != bytes) std::abort();
  }
  if (auto size = ParseTlogSize(bytes); size.ok()) {
    if (FormatTlogSize(*size) != bytes) std::abort();
  }
  return 0;
}
