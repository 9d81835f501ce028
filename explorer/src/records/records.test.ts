// The page's record decoder against protoc's encoding of the same records
// (testdata/explorer/record_vectors.json, made by make_vectors.py).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { decodeAttestationRecord, decodeIdentityMapValue, decodeRecord,
         Message, rawField } from "./records.js";

const vectors: {message: string; bytes: string}[] = JSON.parse(readFileSync(
    new URL("../../../testdata/explorer/record_vectors.json", import.meta.url),
    "utf8"));
const bytes = (message: string) => new Uint8Array(Buffer.from(
    vectors.find((v) => v.message === message)!.bytes, "base64"));

test("an attestation record decodes field by field", () => {
  const r = decodeRecord("trellis-attestations",
                         bytes("trellis.AttestationRecord"));
  assert.equal(r.host_id, "host-\u00e9");
  assert.equal(r.time_unix_nanos, 1700000000123456789n);
  assert.equal(r.policy_version, -1n);
  assert.deepEqual([...(r.ak_name as Uint8Array)], [0, 11, 97, 107]);
  assert.deepEqual([...(r.nonce as Uint8Array)], [255]);
  assert.equal(r.verified, false);
  assert.equal(r.host_integrity_status, "FAILED");
  assert.equal(r.attested_claims_json, '{"geolocation":null}');
  const checks = r.checks as Message[];
  assert.deepEqual(checks.map((c) => [c.name, c.passed, c.detail]),
                   [["quote_valid", true, ""],
                    ["ima_allowlist_valid", false, "/usr/bin/x: not in allowlist"]]);
  assert.deepEqual(decodeAttestationRecord(bytes("trellis.AttestationRecord")), r);
});

test("an issuance record and an identity map value decode", () => {
  const r = decodeRecord("trellis-issuance", bytes("trellis.IssuanceRecord"));
  assert.equal(r.kind, "AGENT_X509_SVID");
  assert.equal(r.spiffe_id, "spiffe://example.org/spire/agent/tpm/host-a");
  assert.equal(r.attestation_log_id, 9007199254740993n);
  assert.equal(r.not_after, 1700003600n);
  const v = decodeIdentityMapValue(bytes("trellis.IdentityMapValue"));
  assert.equal(v.leaf_index, 7n);
  assert.equal((v.record as Message).kind, "X509_SVID");
  assert.equal(decodeAttestationRecord(v.verdict_leaf as Uint8Array).type,
               "trellis.attestation.v1");
});

test("a GTA record's uint64 version, repeated strings, and raw fields", () => {
  const r = decodeRecord("trellis-gta", bytes("trellis.GtaChangeRecord"));
  assert.equal(r.version, 18446744073709551615n);
  assert.deepEqual(r.policy_ids, ["a", "b"]);
  const value = bytes("trellis.IdentityMapValue");
  const record = rawField(value, 4)!;
  assert.equal(decodeRecord("trellis-issuance", record).spiffe_id, "spiffe://example.org/w");
  assert.equal(rawField(value, 9), null);
});

test("records of another kind, truncated or malformed bytes are refused", () => {
  const attestation = bytes("trellis.AttestationRecord");
  assert.throws(() => decodeRecord("trellis-issuance", attestation), /not a trellis.issuance.v1/);
  assert.throws(() => decodeRecord("my-log", attestation), /not a record log/);
  // Cut inside the last field (attested_claims_json, 20 bytes).
  for (let cut = 1; cut <= 20; cut++) {
    assert.throws(() => decodeRecord("trellis-attestations",
                                     attestation.slice(0, attestation.length - cut)),
                  /truncated/);
  }
  // host_id (field 3) holding bytes that are not UTF-8.
  const bad = Uint8Array.of(0x0a, 0x16, ...new TextEncoder().encode(
      "trellis.attestation.v1"), 0x1a, 0x01, 0xff);
  assert.throws(() => decodeAttestationRecord(bad), /not UTF-8/);
  // verified (field 14) sent length-delimited.
  assert.throws(() => decodeAttestationRecord(Uint8Array.of(0x72, 0x00)),
                /wrong wire type/);
  assert.throws(() => decodeAttestationRecord(Uint8Array.of(0x08, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)), /varint/);
  assert.throws(() => decodeIdentityMapValue(Uint8Array.of(0x08, 0x01)), /no issuance/);
  // A message field sent twice (protobuf would merge it) is refused.
  const map = bytes("trellis.IdentityMapValue");
  const record = rawField(map, 4)!;
  assert.throws(() => decodeIdentityMapValue(Uint8Array.of(
      ...map, 0x22, record.length, ...record)), /sent twice/);
});
