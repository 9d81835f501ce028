// golang.org/x/mod/sumdb/note's own test vectors (note_test.go), and a
// checkpoint's shape.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import { NoteError, openNote, parseCheckpoint, parseVerifierKey } from "./note.js";

const peterKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const enochKey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const text = "If you think cryptography is the answer to your problem,\n" +
    "then you don't know what your problem is.\n";
const peterSig = "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const enochSig = "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

async function rejects(promise: Promise<unknown>, message: string) {
  await assert.rejects(promise, (e: unknown) =>
      e instanceof NoteError && e.message === message);
}

test("verifier keys", async () => {
  const peter = await parseVerifierKey(peterKey);
  assert.equal(peter.name, "PeterNeumann");
  assert.equal(peter.id, 0xc74f20a3);
  assert.equal(peter.publicKey.length, 32);
  // x/mod's bad keys: a wrong-length key and an unknown algorithm (each
  // with its hash adjusted), and a hash that does not match.
  for (const bad of [
           "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
           "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
           "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
           "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
       ]) {
    await assert.rejects(parseVerifierKey(bad), NoteError, bad);
  }
});

test("keys whose base64 holds a +", async () => {
  // 0xfb 0xef 0xbe in base64 is "++++": the id computed by node's own hash.
  const typeAndKey = Buffer.concat([Buffer.from([1]), Buffer.alloc(32, 0xfb)]);
  const id = createHash("sha256")
      .update(Buffer.concat([Buffer.from("example.com/log\n"), typeAndKey]))
      .digest().readUInt32BE(0).toString(16).padStart(8, "0");
  const vkey = `example.com/log+${id}+${typeAndKey.toString("base64")}`;
  assert.ok(vkey.split("+").length > 3, vkey);
  const key = await parseVerifierKey(vkey);
  assert.equal(key.name, "example.com/log");
  assert.equal(key.publicKey[0], 0xfb);
});

test("notes open with the signatures of known keys", async () => {
  const peter = await parseVerifierKey(peterKey);
  const enoch = await parseVerifierKey(enochKey);
  const opened = await openNote(text + "\n" + peterSig + enochSig, [peter]);
  assert.equal(opened.text, text);
  assert.deepEqual(opened.verifiedBy.map((k) => k.name), ["PeterNeumann"]);
  assert.deepEqual(opened.otherSignatures, ["EnochRoot"]);
  const both = await openNote(text + "\n" + peterSig + enochSig, [peter, enoch]);
  assert.equal(both.verifiedBy.length, 2);
  await rejects(openNote(text + "\n" + enochSig, [peter]),
                "no signature by a known key");
  // One changed character of the text: Peter's signature fails.
  await rejects(openNote(text.replace("answer", "Answer") + "\n" + peterSig, [peter]),
                "invalid signature for key PeterNeumann+c74f20a3");
});

test("malformed notes, as x/mod lists them", async () => {
  const peter = await parseVerifierKey(peterKey);
  for (const message of [
           text,
           text + "\n",
           text + "\n" + peterSig.slice(0, -1),
           "\x01" + text + "\n" + peterSig,
           "\ufffd" + text + "\n" + peterSig,
           text + "\n" + "\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
           text + "\n" + peterSig + "Unexpected line.\n",
       ]) {
    await rejects(openNote(message, [peter]), "malformed note");
  }
});

test("checkpoints", () => {
  const root = "/zCw8u/UQ3MN8szHmL0jLUVMOv6VJYrPzjmQX5+Ujx0=";
  const checkpoint = parseCheckpoint(`example.com/log\n42\n${root}\nextra\n`);
  assert.equal(checkpoint.origin, "example.com/log");
  assert.equal(checkpoint.size, 42n);
  assert.equal(checkpoint.rootHash.length, 32);
  assert.deepEqual(checkpoint.extensions, ["extra"]);
  for (const bad of [`o\n042\n${root}\n`, `o\n1\n${root}`, `\n1\n${root}\n`,
                     `o\n1\nAAAA\n`, `o\n-1\n${root}\n`]) {
    assert.throws(() => parseCheckpoint(bad), NoteError, bad);
  }
});
