// The page's map proof verifier against the vectors an independent Python
// model of CONIKS_SHA256 computes (testdata/explorer/make_vectors.py), and
// MapRootV1 parsing and tree signatures against Node's own crypto.
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { importTreeKey, mapHasher, mapRootFromProof, parseMapRoot,
         verifyMapInclusion, verifyTreeSignature } from "./map.js";

interface Case {
  treeId: string;
  index: string;
  value: string | null;
  proof: string[];
  root: string;
}

const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));
const vectors: {strategy: string; cases: Case[]} = JSON.parse(readFileSync(
    new URL("../../../testdata/explorer/map_vectors.json", import.meta.url),
    "utf8"));
const hasher = mapHasher(vectors.strategy)!;

test("every vector's proof leads to its root", async () => {
  assert.equal(vectors.cases.length, 11);
  for (const c of vectors.cases) {
    const root = await mapRootFromProof(
        hasher, BigInt(c.treeId), bytes(c.index),
        c.value === null ? null : bytes(c.value), c.proof.map(bytes));
    assert.deepEqual(Buffer.from(root).toString("base64"), c.root,
                     `tree ${c.treeId} index ${c.index}`);
  }
});

test("a set empty value is not an unset index", async () => {
  const c = vectors.cases.find((v) => v.value === "")!;
  await verifyMapInclusion(hasher, BigInt(c.treeId), bytes(c.index), new Uint8Array(),
                           c.proof.map(bytes), bytes(c.root));
  await assert.rejects(verifyMapInclusion(hasher, BigInt(c.treeId), bytes(c.index), null,
                                          c.proof.map(bytes), bytes(c.root)),
                       /does not lead/);
});

test("a changed value, index, tree, or sibling does not verify", async () => {
  const c = vectors.cases.find((v) => v.value !== null && v.treeId !== "42")!;
  const args = () => ({treeId: BigInt(c.treeId), index: bytes(c.index),
                       value: bytes(c.value!) as Uint8Array | null,
                       proof: c.proof.map(bytes)});
  const attempts = [
    () => { const a = args(); a.value = bytes(btoa("other")); return a; },
    () => { const a = args(); a.index[31] ^= 2; return a; },
    () => { const a = args(); a.treeId += 1n; return a; },
    () => {
      const a = args();
      const set = a.proof.findIndex((p) => p.length > 0);
      a.proof[set][0] ^= 1;
      return a;
    },
    () => { const a = args(); a.value = null; return a; },
  ];
  for (const attempt of attempts) {
    const a = attempt();
    await assert.rejects(verifyMapInclusion(hasher, a.treeId, a.index, a.value,
                                            a.proof, bytes(c.root)),
                         /does not lead/);
  }
  await verifyMapInclusion(hasher, BigInt(c.treeId), bytes(c.index),
                           bytes(c.value!), c.proof.map(bytes), bytes(c.root));
});

test("malformed proofs are refused", async () => {
  const c = vectors.cases[0];
  await assert.rejects(mapRootFromProof(hasher, 1n, bytes(c.index), null,
                                        c.proof.slice(1).map(bytes)), /256 entries/);
  const long = c.proof.map(bytes);
  long[0] = new Uint8Array(31);
  await assert.rejects(mapRootFromProof(hasher, 1n, bytes(c.index), null, long),
                       /wrong length/);
  assert.equal(mapHasher("CONIKS_SHA512_256"), null);
  assert.throws(() => mapHasher("RFC6962_SHA256"), /unknown map hash strategy/);
});

function mapRoot(hash: Uint8Array, revision: bigint, metadata = new Uint8Array()) {
  const out = Buffer.alloc(2 + 1 + hash.length + 16 + 2 + metadata.length);
  let at = out.writeUInt16BE(1, 0);
  at = out.writeUInt8(hash.length, at);
  out.set(hash, at);
  at += hash.length;
  at = out.writeBigUInt64BE(123456789n, at);
  at = out.writeBigUInt64BE(revision, at);
  at = out.writeUInt16BE(metadata.length, at);
  out.set(metadata, at);
  return new Uint8Array(out);
}

test("MapRootV1 parses, and malformed roots are refused", () => {
  const root = parseMapRoot(mapRoot(new Uint8Array(32).fill(7), 2n ** 60n,
                                    Uint8Array.of(1, 2)));
  assert.equal(root.revision, 2n ** 60n);
  assert.equal(root.timestampNanos, 123456789n);
  assert.deepEqual([...root.rootHash], new Array(32).fill(7));
  assert.deepEqual([...root.metadata], [1, 2]);
  const good = mapRoot(new Uint8Array(32), 1n);
  assert.throws(() => parseMapRoot(good.slice(0, -1)), /MapRootV1/);
  assert.throws(() => parseMapRoot(Uint8Array.of(...good, 0)), /MapRootV1/);
  const v2 = good.slice();
  v2[1] = 2;
  assert.throws(() => parseMapRoot(v2), /MapRootV1/);
});

test("tree signatures verify for ECDSA P-256, P-384, P-521, Ed25519 and RSA keys",
     async () => {
  const message = mapRoot(new Uint8Array(32).fill(1), 5n);
  const keys = [generateKeyPairSync("ec", {namedCurve: "P-256"}),
                generateKeyPairSync("ec", {namedCurve: "P-384"}),
                generateKeyPairSync("ec", {namedCurve: "P-521"}),
                generateKeyPairSync("ed25519"),
                generateKeyPairSync("rsa", {modulusLength: 2048})];
  for (const {publicKey, privateKey} of keys) {
    const spki = new Uint8Array(publicKey.export({type: "spki", format: "der"}));
    const ed = privateKey.asymmetricKeyType === "ed25519";
    // ECDSA signatures in DER, as OpenSSL (and so trellisd) makes them.
    const signature = new Uint8Array(sign(ed ? null : "sha256", message, privateKey));
    assert.ok(await verifyTreeSignature(spki, message, signature),
              privateKey.asymmetricKeyType);
    const other = message.slice();
    other[5] ^= 1;
    assert.equal(await verifyTreeSignature(spki, other, signature), false);
  }
});

test("keys of other kinds are refused", async () => {
  const {publicKey} = generateKeyPairSync("ec", {namedCurve: "secp256k1"});
  const spki = new Uint8Array(publicKey.export({type: "spki", format: "der"}));
  await assert.rejects(importTreeKey(spki), /cannot check/);
});
