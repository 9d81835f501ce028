// Sparse Merkle map proofs (Trillian's CONIKS_SHA256 and TEST_MAP_HASHER,
// 256-bit indices, one sibling per level with "" for an empty subtree) and
// signed map roots (MapRootV1, signed with the tree's key: ECDSA or RSA
// over SHA-256, or Ed25519), verified with WebCrypto. Checked against
// vectors an independent Python model computes (testdata/explorer).
import {equalBytes, ProofError, sha256} from "./merkle.js";

const INDEX_BITS = 256;
const INDEX_BYTES = 32;

function uint(value: bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = bytes - 1; i >= 0; i--, value >>= 8n) out[i] = Number(value & 0xffn);
  return out;
}

// The first `bits` bits of `index`, the rest zero.
function mask(index: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(INDEX_BYTES);
  out.set(index.slice(0, Math.floor(bits / 8)));
  if (bits % 8 !== 0) out[Math.floor(bits / 8)] = index[Math.floor(bits / 8)] & (0xff << (8 - bits % 8));
  return out;
}

function bit(index: Uint8Array, position: number): number {
  return (index[Math.floor(position / 8)] >> (7 - position % 8)) & 1;
}

interface MapHasher {
  empty(treeId: bigint, index: Uint8Array, height: number): Promise<Uint8Array>;
  leaf(treeId: bigint, index: Uint8Array, value: Uint8Array): Promise<Uint8Array>;
  children(left: Uint8Array, right: Uint8Array): Promise<Uint8Array>;
}

// H("E" || tree id || index masked to depth || depth), H("L" || tree id ||
// index || 256 || value), H(left || right); integers big-endian.
const coniksSha256: MapHasher = {
  empty: (treeId, index, height) => {
    const depth = INDEX_BITS - height;
    return sha256(Uint8Array.of(0x45), uint(treeId, 8), mask(index, depth),
                  uint(BigInt(depth), 4));
  },
  leaf: (treeId, index, value) =>
    sha256(Uint8Array.of(0x4c), uint(treeId, 8), index, uint(256n, 4), value),
  children: (left, right) => sha256(left, right),
};

// RFC 6962 prefixes, empty subtrees built up from an empty leaf.
const testMapHasher: MapHasher = (() => {
  const empties: Promise<Uint8Array>[] = [];
  const hasher: MapHasher = {
    empty: (_treeId, _index, height) => {
      for (let h = empties.length; h <= height; h++) {
        empties.push(h === 0 ? sha256(Uint8Array.of(0))
            : empties[h - 1].then((e) => hasher.children(e, e)));
      }
      return empties[height];
    },
    leaf: (_treeId, _index, value) => sha256(Uint8Array.of(0), value),
    children: (left, right) => sha256(Uint8Array.of(1), left, right),
  };
  return hasher;
})();

// The hasher of a map's hash strategy; null for CONIKS_SHA512_256, which a
// browser cannot check (WebCrypto has no SHA-512/256).
export function mapHasher(strategy: string): MapHasher | null {
  if (strategy === "CONIKS_SHA256") return coniksSha256;
  if (strategy === "TEST_MAP_HASHER") return testMapHasher;
  if (strategy === "CONIKS_SHA512_256") return null;
  throw new ProofError(`unknown map hash strategy ${strategy}`);
}

// The root a map proof leads to for `value` at `index` (null: unset).
export async function mapRootFromProof(
    hasher: MapHasher, treeId: bigint, index: Uint8Array,
    value: Uint8Array | null, proof: Uint8Array[]): Promise<Uint8Array> {
  if (index.length !== INDEX_BYTES) throw new ProofError("a map index is 32 bytes");
  if (proof.length !== INDEX_BITS) {
    throw new ProofError(`a map proof has 256 entries, not ${proof.length}`);
  }
  const size = (await hasher.children(new Uint8Array(), new Uint8Array())).length;
  if (proof.some((p) => p.length !== 0 && p.length !== size)) {
    throw new ProofError("a map proof entry has the wrong length");
  }
  let running: Uint8Array | null =
      value === null ? null : await hasher.leaf(treeId, index, value);
  for (let height = 0; height < INDEX_BITS; height++) {
    const depth = INDEX_BITS - height;
    let sibling: Uint8Array = proof[height];
    if (running === null && sibling.length === 0) continue;  // Still empty.
    running ??= await hasher.empty(treeId, index, height);
    if (sibling.length === 0) {
      const siblingIndex = mask(index, depth);
      siblingIndex[Math.floor((depth - 1) / 8)] ^= 0x80 >> ((depth - 1) % 8);
      sibling = await hasher.empty(treeId, siblingIndex, height);
    }
    running = bit(index, depth - 1) === 0
        ? await hasher.children(running, sibling)
        : await hasher.children(sibling, running);
  }
  return running ?? hasher.empty(treeId, new Uint8Array(INDEX_BYTES), INDEX_BITS);
}

export async function verifyMapInclusion(
    hasher: MapHasher, treeId: bigint, index: Uint8Array,
    value: Uint8Array | null, proof: Uint8Array[], root: Uint8Array) {
  const computed = await mapRootFromProof(hasher, treeId, index, value, proof);
  if (!equalBytes(computed, root)) {
    throw new ProofError("the map proof does not lead to the signed root");
  }
}

export interface MapRoot {
  rootHash: Uint8Array;
  timestampNanos: bigint;
  revision: bigint;
  metadata: Uint8Array;
}

// TLS-encoded MapRootV1: uint16 version 1, opaque root_hash<0..128>,
// uint64 timestamp_nanos, uint64 revision, opaque metadata<0..65535>.
export function parseMapRoot(bytes: Uint8Array): MapRoot {
  const bad = () => new ProofError("not a MapRootV1");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 3 || view.getUint16(0) !== 1) throw bad();
  const hashLength = bytes[2];
  let at = 3 + hashLength;
  if (hashLength > 128 || bytes.length < at + 18) throw bad();
  const rootHash = bytes.slice(3, at);
  const timestampNanos = view.getBigUint64(at);
  const revision = view.getBigUint64(at + 8);
  const metadataLength = view.getUint16(at + 16);
  at += 18;
  if (bytes.length !== at + metadataLength) throw bad();
  return {rootHash, timestampNanos, revision,
          metadata: bytes.slice(at, at + metadataLength)};
}

// DER ECDSA-Sig-Value (SEQUENCE of two INTEGERs) as WebCrypto's r || s.
function ecdsaRaw(der: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const bad = () => new ProofError("not a DER ECDSA signature");
  let at = 0;
  const length = () => {
    let n = der[at++];
    if (n === 0x81) n = der[at++];
    else if (n > 0x80) throw bad();
    return n;
  };
  if (der[at++] !== 0x30) throw bad();
  if (length() !== der.length - at) throw bad();
  const out = new Uint8Array(2 * size);
  for (let part = 0; part < 2; part++) {
    if (der[at++] !== 0x02) throw bad();
    const n = length();
    let value = der.slice(at, at + n);
    at += n;
    while (value.length > size && value[0] === 0) value = value.slice(1);
    if (value.length > size || value.length === 0) throw bad();
    out.set(value, (part + 1) * size - value.length);
  }
  if (at !== der.length) throw bad();
  return out;
}

interface TreeKey {
  key: CryptoKey;
  algorithm: AlgorithmIdentifier | EcdsaParams | RsaHashedImportParams;
  rawEcdsaSize: number;  // ECDSA: bytes per coordinate; 0 otherwise.
}

// The DER SubjectPublicKeyInfo `spki` (what Tree.public_key holds) as a
// WebCrypto key: ECDSA (P-256, P-384, P-521) or RSA over SHA-256, or
// Ed25519, as trellisd signs. Throws for any other kind.
export async function importTreeKey(spki: Uint8Array<ArrayBuffer>): Promise<TreeKey> {
  const curves: [string, number][] = [["P-256", 32], ["P-384", 48], ["P-521", 66]];
  for (const [namedCurve, size] of curves) {
    try {
      const key = await crypto.subtle.importKey(
          "spki", spki, {name: "ECDSA", namedCurve}, false, ["verify"]);
      return {key, algorithm: {name: "ECDSA", hash: "SHA-256"}, rawEcdsaSize: size};
    } catch { /* another kind */ }
  }
  for (const algorithm of [{name: "Ed25519"},
                           {name: "RSASSA-PKCS1-v1_5", hash: "SHA-256"}]) {
    try {
      const key = await crypto.subtle.importKey("spki", spki, algorithm, false, ["verify"]);
      return {key, algorithm, rawEcdsaSize: 0};
    } catch { /* another kind */ }
  }
  throw new ProofError("the tree's key is of a kind this page cannot check");
}

// Whether `signature` over `message` verifies under the tree key `spki`.
export async function verifyTreeSignature(
    spki: Uint8Array<ArrayBuffer>, message: Uint8Array<ArrayBuffer>,
    signature: Uint8Array<ArrayBuffer>): Promise<boolean> {
  const {key, algorithm, rawEcdsaSize} = await importTreeKey(spki);
  let raw = signature;
  if (rawEcdsaSize > 0) {
    try {
      raw = ecdsaRaw(signature, rawEcdsaSize);
    } catch {
      return false;
    }
  }
  return crypto.subtle.verify(algorithm, key, raw, message);
}
