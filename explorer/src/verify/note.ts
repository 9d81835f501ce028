// C2SP signed notes (golang.org/x/mod/sumdb/note) and tlog checkpoints,
// verified with WebCrypto's Ed25519 against keys the user pins: the rules
// of note.Open, checked against x/mod's own test vectors.

export class NoteError extends Error {}

// A log's Ed25519 note key.
export const ED25519 = 0x01;
// A witness's cosignature/v1 key (https://c2sp.org/tlog-cosignature).
export const COSIGNATURE_V1 = 0x04;
const MAX_SIGNATURES = 100;

export interface VerifierKey {
  name: string;
  id: number;  // The first four bytes of SHA-256(name "\n" type key).
  type: number;  // 0x01: a log's Ed25519 note key; 0x04: a witness's.
  publicKey: Uint8Array<ArrayBuffer>;  // 32 bytes (Ed25519).
  text: string;  // The vkey as given.
}

export function base64(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new NoteError("bad base64");
  }
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function validName(name: string): boolean {
  return name.length > 0 && !/[\s+]/.test(name) && !/[\x00-\x1f\x7f]/.test(name);
}

async function keyId(name: string, typeAndKey: Uint8Array): Promise<number> {
  const prefix = new TextEncoder().encode(name + "\n");
  const joined = new Uint8Array(prefix.length + typeAndKey.length);
  joined.set(prefix);
  joined.set(typeAndKey, prefix.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
  return new DataView(digest.buffer).getUint32(0);
}

// "<name>+<8 hex digits>+<base64(type || 32-byte key)>", of `type`.
export async function parseVerifierKey(vkey: string, type = ED25519):
    Promise<VerifierKey> {
  // Names hold no "+"; base64 keys may.
  const match = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(vkey.trim());
  if (match === null || !validName(match[1])) {
    throw new NoteError("not a verifier key (name+hash+key)");
  }
  const parts = [match[1], match[2], match[3]];
  const typeAndKey = base64(parts[2]);
  if (typeAndKey.length !== 33 || typeAndKey[0] !== type) {
    throw new NoteError(type === ED25519 ? "not an Ed25519 verifier key"
                                         : "not a cosignature/v1 key");
  }
  const id = parseInt(parts[1], 16);
  if ((await keyId(parts[0], typeAndKey)) !== id) {
    throw new NoteError("the key's hash does not match its name and key");
  }
  return {name: parts[0], id, type, publicKey: typeAndKey.slice(1),
          text: vkey.trim()};
}

export interface OpenedNote {
  text: string;                   // What the signatures cover.
  verifiedBy: VerifierKey[];      // Known keys whose signatures verify.
  otherSignatures: string[];      // Names of signers not among the keys.
  otherLines: string[];           // Their signature lines, as sent.
}

// Throws NoteError("malformed note") for a note that is not one,
// "invalid signature for key ..." if a known key's signature fails, and
// "no signature by a known key" if none of `keys` signed it.
export async function openNote(message: string, keys: VerifierKey[]):
    Promise<OpenedNote> {
  const malformed = () => new NoteError("malformed note");
  // Text is UTF-8 without control characters other than newline.
  if (/[\x00-\x09\x0b-\x1f\x7f\ufffd]/.test(message)) throw malformed();
  const split = message.lastIndexOf("\n\n");
  if (split < 0) throw malformed();
  const text = message.slice(0, split + 1);
  const signatures = message.slice(split + 2);
  if (!signatures.endsWith("\n")) throw malformed();
  const lines = signatures.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) throw malformed();
  const verifiedBy: VerifierKey[] = [];
  const otherSignatures: string[] = [];
  const otherLines: string[] = [];
  const body = new TextEncoder().encode(text);
  for (const line of lines) {
    const match = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (match === null || !validName(match[1])) throw malformed();
    let signature: Uint8Array<ArrayBuffer>;
    try {
      signature = base64(match[2]);
    } catch {
      throw malformed();
    }
    if (signature.length < 5) throw malformed();
    const id = new DataView(signature.buffer).getUint32(0);
    const key = keys.find((k) => k.name === match[1] && k.id === id);
    if (key === undefined) {
      otherSignatures.push(match[1]);
      otherLines.push(line);
      continue;
    }
    const publicKey = await crypto.subtle.importKey(
        "raw", key.publicKey, {name: "Ed25519"}, false, ["verify"]);
    const valid = signature.length === 68 &&
        await crypto.subtle.verify(
            {name: "Ed25519"}, publicKey, signature.slice(4), body);
    if (!valid) {
      throw new NoteError(`invalid signature for key ${key.name}+${
          key.id.toString(16).padStart(8, "0")}`);
    }
    if (!verifiedBy.includes(key)) verifiedBy.push(key);
  }
  if (verifiedBy.length === 0) throw new NoteError("no signature by a known key");
  return {text, verifiedBy, otherSignatures, otherLines};
}

export interface Checkpoint {
  origin: string;
  size: bigint;
  rootHash: Uint8Array;
  extensions: string[];
}

// A checkpoint's body (C2SP tlog-checkpoint): origin, decimal size, base64
// root hash, then optional extension lines.
export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split("\n");
  if (lines.length < 4 || lines[lines.length - 1] !== "" ||
      lines[0] === "" || !/^(0|[1-9][0-9]{0,19})$/.test(lines[1])) {
    throw new NoteError("not a checkpoint");
  }
  let rootHash: Uint8Array;
  try {
    rootHash = base64(lines[2]);
  } catch {
    throw new NoteError("not a checkpoint: bad root hash");
  }
  if (rootHash.length !== 32) throw new NoteError("the root hash is not 32 bytes");
  return {
    origin: lines[0],
    size: BigInt(lines[1]),
    rootHash,
    extensions: lines.slice(3, -1),
  };
}
