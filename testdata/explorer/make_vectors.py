#!/usr/bin/env python3
"""Writes the explorer's map and cosignature vectors from models of the
specifications written here in Python, independent of Trellis' C++ and of
the page's TypeScript:

- map_vectors.json: a CONIKS_SHA256 sparse Merkle map (Trillian v1.3.11's
  layout: "E"/"L" prefixes, tree id, index, depth) built level by level
  from its leaves, with proofs for set and unset indices;
- cosignature_vectors.json: C2SP cosignature/v1 lines (tlog-cosignature)
  made with the cryptography package's Ed25519, and tlog-policy texts;
- record_vectors.json: Trellis' records encoded by protoc from text form.

Run: python3 testdata/explorer/make_vectors.py
"""
import base64
import hashlib
import json
import os
import subprocess

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

HERE = os.path.dirname(os.path.abspath(__file__))


def b64(data):
    return base64.b64encode(data).decode()


def sha(*parts):
    return hashlib.sha256(b"".join(parts)).digest()


def masked(index, bits):
    as_int = int.from_bytes(index, "big")
    keep = (as_int >> (256 - bits)) << (256 - bits) if bits else 0
    return keep.to_bytes(32, "big")


def empty(tree_id, index, depth):
    return sha(b"E", tree_id.to_bytes(8, "big"), masked(index, depth),
               depth.to_bytes(4, "big"))


def leaf(tree_id, index, value):
    return sha(b"L", tree_id.to_bytes(8, "big"), index,
               (256).to_bytes(4, "big"), value)


def node(tree_id, leaves, prefix, depth):
    """The hash of the subtree of `prefix` (an int of `depth` bits)."""
    under = {i: v for i, v in leaves.items()
             if depth == 0 or int.from_bytes(i, "big") >> (256 - depth) == prefix}
    index = (prefix << (256 - depth)).to_bytes(32, "big") if depth else bytes(32)
    if not under:
        return empty(tree_id, index, depth)
    if depth == 256:
        (only_index, value), = under.items()
        return leaf(tree_id, only_index, value)
    return sha(node(tree_id, under, prefix << 1, depth + 1),
               node(tree_id, under, (prefix << 1) | 1, depth + 1))


def proof(tree_id, leaves, index):
    as_int = int.from_bytes(index, "big")
    out = []
    for height in range(256):
        depth = 256 - height
        sibling = (as_int >> (256 - depth)) ^ 1
        has_leaves = any(int.from_bytes(i, "big") >> (256 - depth) == sibling
                         for i in leaves)
        out.append(b64(node(tree_id, leaves, sibling, depth)) if has_leaves else "")
    return out


def map_vectors():
    cases = []
    for tree_id in (42, 9007199254740993):  # The second is beyond 2^53.
        leaves = {hashlib.sha256(name.encode()).digest(): value
                  for name, value in [("spiffe://example.org/a", b"first"),
                                      ("spiffe://example.org/b", b"second"),
                                      ("spiffe://example.org/c", b"")]}
        # A neighbour sharing 255 bits with "a": the deepest sibling is set.
        a = hashlib.sha256(b"spiffe://example.org/a").digest()
        leaves[a[:31] + bytes([a[31] ^ 1])] = b"neighbour"
        # "c" holds an empty value: set, unlike an index never written.
        root = node(tree_id, leaves, 0, 0)
        lookups = list(leaves.items()) + [
            (hashlib.sha256(b"spiffe://example.org/unset").digest(), None)]
        for index, value in lookups:
            cases.append({"treeId": str(tree_id), "index": b64(index),
                          "value": None if value is None else b64(value),
                          "proof": proof(tree_id, leaves, index),
                          "root": b64(root)})
    empty_root = empty(7, bytes(32), 0)
    cases.append({"treeId": "7", "index": b64(bytes(32)), "value": None,
                  "proof": [""] * 256, "root": b64(empty_root)})
    return {"strategy": "CONIKS_SHA256", "cases": cases}


def vkey(name, key_type, public):
    key_id = sha(name.encode() + b"\n" + bytes([key_type]) + public)[:4]
    return "%s+%s+%s" % (name, key_id.hex(), b64(bytes([key_type]) + public)), key_id


def cosignature_vectors():
    text = "example.com/log\n5\n%s\n" % b64(sha(b"root"))
    witnesses = []
    for n, seed in enumerate([b"\x01" * 32, b"\x02" * 32, b"\x03" * 32]):
        private = Ed25519PrivateKey.from_private_bytes(seed)
        public = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        name = "witness.example/w%d" % (n + 1)
        key, key_id = vkey(name, 0x04, public)
        witnesses.append((name, key, key_id, private))
    time = 1700000000
    lines = []
    for name, _, key_id, private in witnesses[:2]:  # w3 does not cosign.
        signed = ("cosignature/v1\ntime %d\n" % time).encode() + text.encode()
        signature = key_id + time.to_bytes(8, "big") + private.sign(signed)
        lines.append("\u2014 %s %s" % (name, b64(signature)))
    # w2's line again with another time: its signature no longer holds.
    w2 = base64.b64decode(lines[1].split(" ")[2])
    forged = w2[:4] + (time + 1).to_bytes(8, "big") + w2[12:]
    policy = "".join("witness w%d %s\n" % (i + 1, key)
                     for i, (_, key, _, _) in enumerate(witnesses))
    log_key = vkey("example.com/log", 0x01, bytes(range(32)))[0]
    # w1's line claiming a time beyond int64 (what tlog/note.cc refuses).
    w1 = base64.b64decode(lines[0].split(" ")[2])
    late = w1[:4] + (1 << 63).to_bytes(8, "big") + w1[12:]
    return {
        "text": text,
        "lines": lines,
        "forgedLine": "\u2014 %s %s" % (witnesses[1][0], b64(forged)),
        "lateLine": "\u2014 %s %s" % (witnesses[0][0], b64(late)),
        "time": str(time),
        "policies": [
            {"text": policy + "group g 2 w1 w2 w3\nquorum g\n", "met": True},
            {"text": policy + "group g all w1 w2 w3\nquorum g\n", "met": False},
            {"text": policy + "quorum w3\n", "met": False},
            {"text": policy + "group a any w3\ngroup b 2 w1 a w2\nquorum b\n",
             "met": True},
            {"text": policy + "quorum none\n", "met": True},
            {"text": "# a comment\nlog %s https://log.example\n" % log_key +
                     policy + "quorum w2\n", "met": True},
        ],
        "badPolicies": [
            policy + "group g 4 w1 w2 w3\nquorum g\n",
            policy + "quorum nobody\n",
            policy,
            policy + "witness w1 " + witnesses[0][1] + "\nquorum w1\n",
            "witness w1 %s\nquorum w1\n" % vkey("w", 0x01, bytes(32))[0],
            policy + "frobnicate\nquorum none\n",
            policy + "quorum w1\r\n",
            "log %s\n" % witnesses[0][1] + policy + "quorum w1\n",
            "log %s\nlog %s\n" % (log_key, log_key) + policy + "quorum w1\n",
        ],
    }


RECORDS = [
    ("trellis.AttestationRecord", "trellis_attest.proto", """
type: "trellis.attestation.v1" time_unix_nanos: 1700000000123456789
host_id: "host-\\303\\251" ak_name: "\\000\\013ak" evidence_digest: "\\001\\002"
nonce: "\\377" policy_id: "default" policy_version: -1
checks { name: "quote_valid" passed: true }
checks { name: "ima_allowlist_valid" passed: false detail: "/usr/bin/x: not in allowlist" }
verified: false host_integrity_status: "FAILED"
attested_claims_json: "{\\"geolocation\\":null}"
"""),
    ("trellis.IssuanceRecord", "trellis_identity.proto", """
type: "trellis.issuance.v1" time_unix_nanos: 5 kind: AGENT_X509_SVID
spiffe_id: "spiffe://example.org/spire/agent/tpm/host-a" serial_number: "1234"
credential_sha256: "\\252" not_before: 1700000000 not_after: 1700003600
attestation_audit_id: "ab12" attestation_log_id: 9007199254740993
"""),
    ("trellis.GtaChangeRecord", "trellis_gta.proto", """
type: "trellis.gta.change.v1" resource: "policy" action: "update"
resource_id: "p1" version: 18446744073709551615 policy_ids: "a" policy_ids: "b"
"""),
    ("trellis.IdentityMapValue", "trellis_identity.proto", """
issuance_log_id: 3 leaf_index: 7 leaf_hash: "\\001"
record { type: "trellis.issuance.v1" kind: X509_SVID spiffe_id: "spiffe://example.org/w" }
verdict_leaf: "\\012\\026trellis.attestation.v1"
"""),
]


def record_vectors():
    proto_dir = os.path.join(HERE, "..", "..", "proto")
    out = []
    for message, file, text in RECORDS:
        encoded = subprocess.run(
            ["protoc", "-I", proto_dir, "--encode=" + message, file],
            input=text.encode(), capture_output=True, check=True).stdout
        out.append({"message": message, "text": text.strip(),
                    "bytes": b64(encoded)})
    return out


def main():
    for name, data in [("map_vectors.json", map_vectors()),
                       ("cosignature_vectors.json", cosignature_vectors()),
                       ("record_vectors.json", record_vectors())]:
        with open(os.path.join(HERE, name), "w") as out:
            json.dump(data, out, indent=1, ensure_ascii=False)
            out.write("\n")


if __name__ == "__main__":
    main()
