// Witness cosignatures and tlog-policy quorums against vectors made by an
// independent Python model (testdata/explorer/make_vectors.py, Ed25519 from
// the cryptography package).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { checkCosignatures, parseWitnessPolicy, quorumMet } from "./cosignature.js";

const vectors: {
  text: string; lines: string[]; forgedLine: string; lateLine: string; time: string;
  policies: {text: string; met: boolean}[]; badPolicies: string[];
} = JSON.parse(readFileSync(
    new URL("../../../testdata/explorer/cosignature_vectors.json", import.meta.url),
    "utf8"));

test("cosignatures verify, a missing one is absent", async () => {
  const policy = await parseWitnessPolicy(vectors.policies[0].text);
  const results = await checkCosignatures(policy, vectors.text, vectors.lines);
  assert.deepEqual(results.map((r) => [r.witness.name, r.state]),
                   [["w1", "valid"], ["w2", "valid"], ["w3", "absent"]]);
  assert.equal(results[0].time, BigInt(vectors.time));
});

test("a changed time, text or signature is invalid", async () => {
  const policy = await parseWitnessPolicy(vectors.policies[0].text);
  let results = await checkCosignatures(policy, vectors.text,
                                        [vectors.lines[0], vectors.forgedLine]);
  assert.deepEqual(results.map((r) => r.state), ["valid", "invalid", "absent"]);
  results = await checkCosignatures(policy, vectors.text.replace("\n5\n", "\n6\n"),
                                    vectors.lines);
  assert.deepEqual(results.map((r) => r.state), ["invalid", "invalid", "absent"]);
  // A time beyond int64 is refused, as tlog/note.cc refuses it.
  results = await checkCosignatures(policy, vectors.text, [vectors.lateLine]);
  assert.deepEqual(results.map((r) => r.state), ["invalid", "absent", "absent"]);
  // A line under another witness's name is not that witness's.
  const renamed = vectors.lines[0].replace("/w1 ", "/w3 ");
  results = await checkCosignatures(policy, vectors.text, [renamed]);
  assert.deepEqual(results.map((r) => r.state), ["absent", "absent", "absent"]);
});

test("quorums are decided as the policies say", async () => {
  const cosigned = new Set(["w1", "w2"]);
  for (const {text, met} of vectors.policies) {
    assert.equal(quorumMet(await parseWitnessPolicy(text), cosigned), met, text);
  }
});

test("policies the spec forbids are refused", async () => {
  for (const text of vectors.badPolicies) {
    await assert.rejects(parseWitnessPolicy(text), /policy|quorum|control/, text);
  }
});
