// The keys the user trusts, kept in this browser: a log's note verifier key
// and witness policy, and a map's key, pinned on first use (or pasted from
// an out-of-band source), and the largest checkpoint seen per origin, to
// detect split views.

const PREFIX = "trellis-explorer:";

export function pinnedKey(origin: string): string | null {
  return localStorage.getItem(`${PREFIX}key:${origin}`);
}

export function pinKey(origin: string, vkey: string): void {
  localStorage.setItem(`${PREFIX}key:${origin}`, vkey);
}

export interface SeenCheckpoint {
  size: string;  // Decimal.
  rootHash: string;  // Base64.
}

// A remembered object whose `fields` are all strings, or null.
function remembered<T>(key: string, fields: string[]): T | null {
  const text = localStorage.getItem(`${PREFIX}${key}`);
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    return fields.every((f) => typeof value?.[f] === "string") ? value as T : null;
  } catch {
    return null;
  }
}

export function seenCheckpoint(origin: string): SeenCheckpoint | null {
  return remembered<SeenCheckpoint>(`seen:${origin}`, ["size", "rootHash"]);
}

export function rememberCheckpoint(origin: string, seen: SeenCheckpoint): void {
  localStorage.setItem(`${PREFIX}seen:${origin}`, JSON.stringify(seen));
}

// The origin a tree id had when last shown: a server that renames a log
// would otherwise get a new first-use pin for it.
export function seenOrigin(treeId: string): string | null {
  return localStorage.getItem(`${PREFIX}origin:${treeId}`);
}

export function rememberOrigin(treeId: string, origin: string): void {
  localStorage.setItem(`${PREFIX}origin:${treeId}`, origin);
}

// A log's witness policy (whose witnesses' keys the page checks
// cosignatures with), pinned on first use as its key is.
export function pinnedPolicy(origin: string): string | null {
  return localStorage.getItem(`${PREFIX}policy:${origin}`);
}

export function pinPolicy(origin: string, policy: string): void {
  localStorage.setItem(`${PREFIX}policy:${origin}`, policy);
}

// A map's signing key (base64 DER SubjectPublicKeyInfo), pinned on first
// use per map tree.
export function pinnedMapKey(treeId: string): string | null {
  return localStorage.getItem(`${PREFIX}map-key:${treeId}`);
}

export function pinMapKey(treeId: string, spkiBase64: string): void {
  localStorage.setItem(`${PREFIX}map-key:${treeId}`, spkiBase64);
}

export interface SeenMapRoot {
  revision: string;  // Decimal.
  rootHash: string;  // Base64.
}

// The latest signed map root seen per map tree, to detect rollbacks.
export function seenMapRoot(treeId: string): SeenMapRoot | null {
  return remembered<SeenMapRoot>(`map-root:${treeId}`, ["revision", "rootHash"]);
}

export function rememberMapRoot(treeId: string, seen: SeenMapRoot): void {
  localStorage.setItem(`${PREFIX}map-root:${treeId}`, JSON.stringify(seen));
}
