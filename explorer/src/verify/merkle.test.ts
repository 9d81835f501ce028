// Every transparency-dev/merkle proof vector (the same file the C++ CLI's
// proof_vectors_test reads) through the page's verifier.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { verifyConsistency, verifyInclusion } from "./merkle.js";

interface Vector {
  kind: "inclusion" | "consistency";
  leafIdx?: number;
  treeSize?: number;
  leafHash?: string;
  root?: string;
  size1?: number;
  size2?: number;
  root1?: string;
  root2?: string;
  proof: string[] | null;
  valid: boolean;
  why: string;
}

const bytes = (b64: string | undefined) =>
    new Uint8Array(Buffer.from(b64 ?? "", "base64"));

const vectors: Vector[] = JSON.parse(readFileSync(
    new URL("../../../testdata/merkle/proof_vectors.json", import.meta.url),
    "utf8"));

test("the vector file is all there", () => {
  assert.equal(vectors.length, 196);
});

test("every proof vector gets upstream's verdict", async () => {
  let checked = 0;
  for (const v of vectors) {
    const proof = (v.proof ?? []).map(bytes);
    const run = v.kind === "inclusion"
        ? verifyInclusion(BigInt(v.leafIdx!), BigInt(v.treeSize!),
                          bytes(v.leafHash), proof, bytes(v.root))
        : verifyConsistency(BigInt(v.size1!), BigInt(v.size2!), proof,
                            bytes(v.root1), bytes(v.root2));
    let error: unknown = null;
    await run.catch((e) => { error = e; });
    assert.equal(error === null, v.valid, v.why + (error ? ` (${error})` : ""));
    checked++;
  }
  assert.equal(checked, 196);
});
