// Witness cosignatures (https://c2sp.org/tlog-cosignature, cosignature/v1:
// Ed25519 over "cosignature/v1\ntime <t>\n" + the checkpoint text) and the
// C2SP tlog-policy lines that name a log's witnesses and the quorum its
// checkpoints need, with the rules of Trellis' tlog/policy.cc.
import {base64, COSIGNATURE_V1, ED25519, NoteError, parseVerifierKey,
        VerifierKey} from "./note.js";

export interface PolicyWitness {
  name: string;  // The policy's name for it (groups and quorum use it).
  key: VerifierKey;
}

interface Group {
  name: string;
  threshold: number;
  members: string[];
}

export interface WitnessPolicy {
  witnesses: PolicyWitness[];
  groups: Group[];  // In definition order.
  quorum: string;  // A witness, a group or "none".
}

const MAX_ENTRIES = 256;
const MAX_POLICY_BYTES = 64 << 10;
const MAX_INT64 = (1n << 63n) - 1n;

// The witnesses, groups and quorum of a policy (its "log" lines are checked
// but not kept: the log's own key is pinned separately). Throws NoteError
// naming the line for anything tlog/policy.cc refuses.
export async function parseWitnessPolicy(text: string): Promise<WitnessPolicy> {
  if (new TextEncoder().encode(text).length > MAX_POLICY_BYTES) {
    throw new NoteError("the witness policy is too large");
  }
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(text)) {
    throw new NoteError("the witness policy holds a control character");
  }
  const policy: WitnessPolicy = {witnesses: [], groups: [], quorum: ""};
  const names = new Set<string>();
  const keys = new Set<string>();
  let logs = 0;
  let hasQuorum = false;
  const lines = text.split("\n");
  for (let number = 1; number <= lines.length; number++) {
    const fail = (why: string) => new NoteError(`policy line ${number}: ${why}`);
    const words = lines[number - 1].split(/[ \t]+/).filter((w) => w !== "");
    if (words.length === 0 || words[0].startsWith("#")) continue;
    if (names.size + logs >= 3 * MAX_ENTRIES) throw fail("too many entries");
    switch (words[0]) {
      case "log":
      case "witness": {
        const log = words[0] === "log";
        const keyAt = log ? 1 : 2;
        if (words.length < keyAt + 1 || words.length > keyAt + 2) {
          throw fail(log ? "log <vkey> [<url>]" : "witness <name> <vkey> [<url>]");
        }
        let key: VerifierKey;
        try {
          key = await parseVerifierKey(words[keyAt], log ? ED25519 : COSIGNATURE_V1);
        } catch (e) {
          throw fail(String((e as Error).message));
        }
        const raw = key.publicKey.join(",");
        if (keys.has(raw)) throw fail("the key is listed twice");
        keys.add(raw);
        if (log) {
          logs++;
          break;
        }
        if (words[1] === "none" || names.has(words[1])) {
          throw fail(`the name ${words[1]} is taken`);
        }
        names.add(words[1]);
        policy.witnesses.push({name: words[1], key});
        break;
      }
      case "group": {
        if (words.length < 4) throw fail("group <name> <k|any|all> <member>...");
        if (words[1] === "none" || names.has(words[1])) {
          throw fail(`the name ${words[1]} is taken`);
        }
        const members = words.slice(3);
        for (const [i, member] of members.entries()) {
          if (member === "none" || !names.has(member)) {
            throw fail(`${member} is not defined above`);
          }
          if (members.indexOf(member) !== i) throw fail(`${member} is listed twice`);
        }
        const k = words[2];
        const threshold = k === "any" ? 1 : k === "all" ? members.length
            : /^[0-9]+$/.test(k) ? Number(k) : 0;
        if (threshold < 1 || threshold > members.length) {
          throw fail("the threshold is any, all or 1..n");
        }
        names.add(words[1]);
        policy.groups.push({name: words[1], threshold, members});
        break;
      }
      case "quorum":
        if (words.length !== 2) throw fail("quorum <name>");
        if (hasQuorum) throw fail("a second quorum line");
        if (words[1] !== "none" && !names.has(words[1])) {
          throw fail(`${words[1]} is not defined above`);
        }
        policy.quorum = words[1];
        hasQuorum = true;
        break;
      default:
        throw fail(`unknown keyword ${words[0]}`);
    }
  }
  if (!hasQuorum) throw new NoteError("the witness policy has no quorum line");
  return policy;
}

// Whether the witnesses in `cosigned` (policy names) meet the quorum.
export function quorumMet(policy: WitnessPolicy, cosigned: Set<string>): boolean {
  if (policy.quorum === "none") return true;
  const witnessed = new Set<string>();
  for (const witness of policy.witnesses) {
    if (cosigned.has(witness.name)) witnessed.add(witness.name);
  }
  for (const group of policy.groups) {
    const count = group.members.filter((m) => witnessed.has(m)).length;
    if (count >= group.threshold) witnessed.add(group.name);
  }
  return witnessed.has(policy.quorum);
}

export interface Cosignature {
  witness: PolicyWitness;
  // "valid", "invalid" (a line by its key that does not verify), or
  // "absent" (no line by its key).
  state: "valid" | "invalid" | "absent";
  time: bigint | null;  // Unix seconds the witness signed at.
}

// Each policy witness's cosignature among a note's signature lines
// (`lines`: those no pinned log key made) over checkpoint `text`.
export async function checkCosignatures(
    policy: WitnessPolicy, text: string, lines: string[]): Promise<Cosignature[]> {
  const results: Cosignature[] = [];
  for (const witness of policy.witnesses) {
    let found: Cosignature = {witness, state: "absent", time: null};
    for (const line of lines) {
      const match = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (match === null || match[1] !== witness.key.name) continue;
      let signature: Uint8Array<ArrayBuffer>;
      try {
        signature = base64(match[2]);
      } catch {
        continue;
      }
      if (signature.length < 4 ||
          new DataView(signature.buffer).getUint32(0) !== witness.key.id) {
        continue;
      }
      found = {witness, state: "invalid", time: null};
      if (signature.length !== 4 + 8 + 64) break;
      const time = new DataView(signature.buffer).getBigUint64(4);
      if (time > MAX_INT64) break;
      const signed = new TextEncoder().encode(
          `cosignature/v1\ntime ${time}\n${text}`);
      const publicKey = await crypto.subtle.importKey(
          "raw", witness.key.publicKey, {name: "Ed25519"}, false, ["verify"]);
      if (await crypto.subtle.verify({name: "Ed25519"}, publicKey,
                                     signature.slice(12), signed)) {
        found = {witness, state: "valid", time};
      }
      break;
    }
    results.push(found);
  }
  return results;
}
