// RFC 6962 Merkle proofs, verified with WebCrypto's SHA-256: the algorithm
// of transparency-dev/merkle (proof/verify.go), checked against its test
// vectors (testdata/merkle/proof_vectors.json).

export type Hash = Uint8Array;

// SHA-256 of the parts joined.
export async function sha256(...parts: Uint8Array[]): Promise<Hash> {
  let length = 0;
  for (const part of parts) length += part.length;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
}

export function hashLeaf(data: Uint8Array): Promise<Hash> {
  return sha256(Uint8Array.of(0), data);
}

export function hashChildren(left: Hash, right: Hash): Promise<Hash> {
  return sha256(Uint8Array.of(1), left, right);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

export class ProofError extends Error {}

function bitLength(n: bigint): number {
  let bits = 0;
  while (n > 0n) {
    n >>= 1n;
    bits++;
  }
  return bits;
}

function onesCount(n: bigint): number {
  let ones = 0;
  while (n > 0n) {
    ones += Number(n & 1n);
    n >>= 1n;
  }
  return ones;
}

function trailingZeros(n: bigint): number {
  let zeros = 0;
  while (n > 0n && (n & 1n) === 0n) {
    n >>= 1n;
    zeros++;
  }
  return zeros;
}

// How many of an inclusion proof's hashes lie below the split of the path
// from the leaf to the root (inner), and how many on the right border.
function decompose(index: bigint, size: bigint): [number, number] {
  const inner = bitLength(index ^ (size - 1n));
  const border = onesCount(index >> BigInt(inner));
  return [inner, border];
}

async function chainInner(seed: Hash, proof: Hash[], index: bigint) {
  for (let i = 0; i < proof.length; i++) {
    seed = ((index >> BigInt(i)) & 1n) === 0n
               ? await hashChildren(seed, proof[i])
               : await hashChildren(proof[i], seed);
  }
  return seed;
}

async function chainInnerRight(seed: Hash, proof: Hash[], index: bigint) {
  for (let i = 0; i < proof.length; i++) {
    if (((index >> BigInt(i)) & 1n) === 1n) {
      seed = await hashChildren(proof[i], seed);
    }
  }
  return seed;
}

async function chainBorderRight(seed: Hash, proof: Hash[]) {
  for (const hash of proof) seed = await hashChildren(hash, seed);
  return seed;
}

// The root the proof gives for `leafHash` at `index` in a tree of `size`.
export async function rootFromInclusionProof(
    index: bigint, size: bigint, leafHash: Hash, proof: Hash[]): Promise<Hash> {
  if (index >= size) {
    throw new ProofError(`index ${index} is beyond the tree size ${size}`);
  }
  if (leafHash.length !== 32) throw new ProofError("the leaf hash is not 32 bytes");
  const [inner, border] = decompose(index, size);
  if (proof.length !== inner + border) {
    throw new ProofError(
        `the proof has ${proof.length} hashes; ${inner + border} were expected`);
  }
  const below = await chainInner(leafHash, proof.slice(0, inner), index);
  return chainBorderRight(below, proof.slice(inner));
}

// Throws ProofError unless the leaf is at `index` in the tree with `root`.
export async function verifyInclusion(
    index: bigint, size: bigint, leafHash: Hash, proof: Hash[],
    root: Hash): Promise<void> {
  const computed = await rootFromInclusionProof(index, size, leafHash, proof);
  if (!equalBytes(computed, root)) {
    throw new ProofError("the proof leads to another root");
  }
}

// Throws ProofError unless the tree of `size2` with `root2` extends the one
// of `size1` with `root1`.
export async function verifyConsistency(
    size1: bigint, size2: bigint, proof: Hash[], root1: Hash,
    root2: Hash): Promise<void> {
  if (size2 < size1) throw new ProofError("size2 is below size1");
  // An empty tree is a prefix of every tree: a proof from it says nothing.
  if (size1 === 0n) throw new ProofError("no proof from an empty tree");
  if (size1 === size2) {
    if (proof.length !== 0) throw new ProofError("equal sizes need no proof");
    if (!equalBytes(root1, root2)) throw new ProofError("the roots differ");
    return;
  }
  if (proof.length === 0) throw new ProofError("the proof is empty");
  let [inner, border] = decompose(size1 - 1n, size2);
  const shift = trailingZeros(size1);
  inner -= shift;
  // The first tree is a full subtree of the second: its root is the seed.
  let seed = proof[0];
  let start = 1;
  if (size1 === 1n << BigInt(shift)) {
    seed = root1;
    start = 0;
  }
  if (proof.length !== start + inner + border) {
    throw new ProofError(`the proof has ${proof.length} hashes; ${
        start + inner + border} were expected`);
  }
  const rest = proof.slice(start);
  const mask = (size1 - 1n) >> BigInt(shift);
  let hash1 = await chainInnerRight(seed, rest.slice(0, inner), mask);
  hash1 = await chainBorderRight(hash1, rest.slice(inner));
  if (!equalBytes(hash1, root1)) {
    throw new ProofError("the proof does not lead to the first root");
  }
  let hash2 = await chainInner(seed, rest.slice(0, inner), mask);
  hash2 = await chainBorderRight(hash2, rest.slice(inner));
  if (!equalBytes(hash2, root2)) {
    throw new ProofError("the proof does not lead to the second root");
  }
}
