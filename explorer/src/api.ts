// trellisd's read-only explorer API and tlog-tiles checkpoints. Answers are
// untrusted: shapes are checked here, content is verified by the callers.
import {base64} from "./verify/note.js";

export interface TreeSummary {
  treeId: string;
  treeType: string;
  treeState: string;
  displayName: string;
  hashStrategy: string;
  publicKey: Uint8Array<ArrayBuffer>;  // DER SubjectPublicKeyInfo.
  origin: string;
  noteVerifierKey: string;
  witnessPolicy: string;  // C2SP tlog-policy text; "" for none.
}

export interface LeafAnswer {
  leafIndex: bigint;
  leafValue: Uint8Array;
  treeSize: bigint;
  proof: Uint8Array[];
}

export class ApiError extends Error {}

function fromBase64(text: unknown, what: string): Uint8Array<ArrayBuffer> {
  if (typeof text !== "string") throw new ApiError(`${what} is missing`);
  try {
    return base64(text);
  } catch {
    throw new ApiError(`${what} is not base64`);
  }
}

// A decimal string (sizes and indices: exact beyond 2^53).
function decimal(object: unknown, name: string): bigint {
  const text = field<string>(object, name, "string");
  if (!/^(0|[1-9][0-9]{0,19})$/.test(text)) {
    throw new ApiError(`${name} is not a decimal number`);
  }
  return BigInt(text);
}

function field<T>(object: unknown, name: string, type: string): T {
  const value = (object as Record<string, unknown> | null)?.[name];
  if (typeof value !== type) throw new ApiError(`${name} is not a ${type}`);
  return value as T;
}

async function getJson(path: string): Promise<unknown> {
  const response = await fetch(path, {headers: {Accept: "application/json"}});
  const body = await response.text();
  if (!response.ok) {
    let message = body;
    try {
      message = (JSON.parse(body) as {error?: string}).error ?? body;
    } catch { /* not JSON: the text itself */ }
    throw new ApiError(`${response.status}: ${message}`);
  }
  try {
    return JSON.parse(body);
  } catch {
    throw new ApiError("the answer is not JSON");
  }
}

export async function listTrees(): Promise<TreeSummary[]> {
  const answer = await getJson("/explorer/api/trees");
  const trees = (answer as {trees?: unknown}).trees;
  if (!Array.isArray(trees)) throw new ApiError("no trees in the answer");
  return trees.map((tree) => ({
    treeId: field<string>(tree, "treeId", "string"),
    treeType: field<string>(tree, "treeType", "string"),
    treeState: field<string>(tree, "treeState", "string"),
    displayName: field<string>(tree, "displayName", "string"),
    hashStrategy: field<string>(tree, "hashStrategy", "string"),
    publicKey: fromBase64((tree as {publicKey?: unknown}).publicKey, "publicKey"),
    origin: field<string>(tree, "origin", "string"),
    noteVerifierKey: field<string>(tree, "noteVerifierKey", "string"),
    witnessPolicy: field<string>(tree, "witnessPolicy", "string"),
  }));
}

export async function treeById(treeId: string): Promise<TreeSummary> {
  const tree = (await listTrees()).find((t) => t.treeId === treeId);
  if (tree === undefined) throw new ApiError(`no tree ${treeId}`);
  return tree;
}

export async function checkpointText(treeId: string): Promise<string> {
  const response = await fetch(`/logs/${encodeURIComponent(treeId)}/checkpoint`);
  if (!response.ok) throw new ApiError(`checkpoint: ${response.status}`);
  return response.text();
}

function parseLeaf(answer: unknown): LeafAnswer {
  const proof = (answer as {proof?: unknown}).proof;
  if (!Array.isArray(proof)) throw new ApiError("proof is not a list");
  return {
    leafIndex: decimal(answer, "leafIndex"),
    leafValue: fromBase64((answer as {leafValue?: unknown}).leafValue, "leafValue"),
    treeSize: decimal(answer, "treeSize"),
    proof: proof.map((hash, i) => fromBase64(hash, `proof[${i}]`)),
  };
}

export async function leafAt(treeId: string, index: bigint, treeSize: bigint):
    Promise<LeafAnswer> {
  return parseLeaf(await getJson(`/explorer/api/logs/${
      encodeURIComponent(treeId)}/leaves/${index}?tree_size=${treeSize}`));
}

export async function leafByHash(treeId: string, hashHex: string,
                                 treeSize: bigint): Promise<LeafAnswer> {
  return parseLeaf(await getJson(`/explorer/api/logs/${
      encodeURIComponent(treeId)}/leaves?hash=${
      encodeURIComponent(hashHex)}&tree_size=${treeSize}`));
}

export async function consistencyProof(treeId: string, first: bigint,
                                       second: bigint): Promise<Uint8Array[]> {
  const answer = await getJson(`/explorer/api/logs/${
      encodeURIComponent(treeId)}/consistency?first=${first}&second=${second}`);
  const proof = (answer as {proof?: unknown}).proof;
  if (!Array.isArray(proof)) throw new ApiError("proof is not a list");
  return proof.map((hash, i) => fromBase64(hash, `proof[${i}]`));
}

export interface MapLeafAnswer {
  index: Uint8Array;
  set: boolean;  // Whether the index holds a leaf (its value may be empty).
  leafValue: Uint8Array;
  proof: Uint8Array[];    // 256 siblings, empty for an empty subtree.
  mapRoot: Uint8Array<ArrayBuffer>;    // MapRootV1 bytes, as signed.
  signature: Uint8Array<ArrayBuffer>;
}

// A map leaf with its proof; "not served" if this server does not show
// that map (403).
export async function mapLeaf(treeId: string, indexHex: string):
    Promise<MapLeafAnswer | "not served"> {
  let answer: unknown;
  try {
    answer = await getJson(`/explorer/api/maps/${
      encodeURIComponent(treeId)}/leaves/${encodeURIComponent(indexHex)}`);
  } catch (e) {
    if (e instanceof ApiError && e.message.startsWith("403:")) return "not served";
    throw e;
  }
  const get = (name: string) =>
      fromBase64((answer as Record<string, unknown>)[name], name);
  const proof = (answer as {proof?: unknown}).proof;
  if (!Array.isArray(proof)) throw new ApiError("proof is not a list");
  return {
    index: get("index"),
    set: get("leafHash").length > 0,
    leafValue: get("leafValue"),
    proof: proof.map((hash, i) => fromBase64(hash, `proof[${i}]`)),
    mapRoot: get("mapRoot"),
    signature: get("signature"),
  };
}

// The attestation evidence with a SHA-256 digest: "not served" if this
// server does not serve evidence (403), "missing" if it has none (404).
export async function evidence(digestHex: string):
    Promise<Uint8Array<ArrayBuffer> | "not served" | "missing"> {
  try {
    const answer = await getJson(`/explorer/api/evidence/${
        encodeURIComponent(digestHex)}`);
    return fromBase64((answer as {evidence?: unknown}).evidence, "evidence");
  } catch (e) {
    if (e instanceof ApiError && e.message.startsWith("403:")) return "not served";
    if (e instanceof ApiError && e.message.startsWith("404:")) return "missing";
    throw e;
  }
}
