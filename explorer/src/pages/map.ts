// Map lookups: a key's value (or its absence) at the map's latest signed
// root, with the root's signature checked against the map key pinned in
// this browser, the revision checked against the latest one seen here, and
// the sparse Merkle proof checked here. In the identity map
// (trellis-identities) the key is a SPIFFE ID and the value its latest
// issuance with the verdict behind it, linked to their proven records.
import {mapLeaf, TreeSummary, treeById} from "../api.js";
import {element, facts, isoTime, Navigation, showValue, Superseded, toBase64,
        toHex, verdict} from "../dom.js";
import {pinMapKey, pinnedMapKey, rememberMapRoot, seenMapRoot} from "../pins.js";
import {decodeAttestationRecord, decodeIdentityMapValue, Message,
        rawField} from "../records/records.js";
import {importTreeKey, mapHasher, parseMapRoot, verifyMapInclusion,
        verifyTreeSignature} from "../verify/map.js";
import {equalBytes, hashLeaf, sha256} from "../verify/merkle.js";
import {base64} from "../verify/note.js";
import {recordLink} from "./record.js";

const IDENTITY_MAP = "trellis-identities";
const ISSUANCE_RECORD_FIELD = 4;  // IdentityMapValue.record.

// The pinned key of map `tree`, pinning the served one on first use (only
// a key this page can check signatures with).
async function trustedMapKey(tree: TreeSummary, notes: HTMLElement) {
  const pinned = pinnedMapKey(tree.treeId);
  if (pinned === null) {
    await importTreeKey(tree.publicKey);
    pinMapKey(tree.treeId, toBase64(tree.publicKey));
    notes.append(element("p", {class: "note", "data-testid": "pinned-now"},
        "First visit: this map's key is now pinned in this browser."));
    return tree.publicKey;
  }
  if (pinned !== toBase64(tree.publicKey)) {
    notes.append(element("p", {class: "error", "data-testid": "key-changed"},
        "The server now names another key for this map than the one pinned ",
        "here; checks below use the pinned one."));
  }
  return base64(pinned);
}

// What the identity map says of a SPIFFE ID, as table rows; throws if its
// parts do not hang together.
async function identityRows(key: string, value: Uint8Array): Promise<[string, Node | string][]> {
  const identity = decodeIdentityMapValue(value);
  const record = identity.record as Message;
  if (record.spiffe_id !== key) {
    throw new Error(`the value is an issuance to ${record.spiffe_id}`);
  }
  // The issuance it names is the record it holds.
  const recordBytes = rawField(value, ISSUANCE_RECORD_FIELD)!;
  if (!equalBytes(await hashLeaf(recordBytes), identity.leaf_hash as Uint8Array)) {
    throw new Error("the issuance's leaf hash is not that of the record held");
  }
  const rows: [string, Node | string][] = [
    ["SPIFFE ID", element("code", {"data-testid": "map-spiffe-id"},
                          record.spiffe_id as string)],
    ["Latest issuance", element("a", {
      href: recordLink(identity.issuance_log_id as bigint,
                       toHex(identity.leaf_hash as Uint8Array)),
      "data-testid": "map-issuance-link"},
      `${record.kind}, leaf ${identity.leaf_index} of log ${identity.issuance_log_id}`)],
    ["Issued", isoTime(record.time_unix_nanos as bigint, "ns")],
    ["Valid until", isoTime(record.not_after as bigint, "s")],
  ];
  const verdictLeaf = identity.verdict_leaf as Uint8Array;
  const named = record.attestation_audit_id as string;
  if (verdictLeaf.length === 0) {
    if (named === "") {
      rows.push(["Verdict", "none (issued without attestation evidence)"]);
    } else if (record.attestation_verifier !== "") {
      rows.push(["Verdict", `in the log of remote verifier ${
          record.attestation_verifier}: audit id ${named}`]);
    } else {
      throw new Error(`the issuance names verdict ${named}, which the map does not hold`);
    }
    return rows;
  }
  const verdictRecord = decodeAttestationRecord(verdictLeaf);
  const auditId = toHex(await hashLeaf(verdictLeaf));
  if (auditId !== named) {
    throw new Error("the verdict held is not the one the issuance names");
  }
  rows.push(["Verdict", element("a", {
    href: recordLink(record.attestation_log_id as bigint, auditId),
    "data-testid": "map-verdict-link"},
    `${verdictRecord.verified ? "VERIFIED" : "NOT VERIFIED"} for ${
        verdictRecord.host_id}`)]);
  return rows;
}

async function lookup(tree: TreeSummary, key: string, spki: Uint8Array<ArrayBuffer>,
                      into: HTMLElement, nav: Navigation) {
  const card = element("div", {class: "card", "data-testid": "map-result"});
  into.append(card);
  const hasher = mapHasher(tree.hashStrategy);
  if (hasher === null) {
    card.append(verdict("map-verdict", null,
        `${tree.hashStrategy} maps cannot be checked in a browser (WebCrypto has ` +
        "no SHA-512/256): use trellis map get and trellis verify-map-proof"));
    return;
  }
  const index = await sha256(new TextEncoder().encode(key));
  let value: Uint8Array | null;
  try {
    const answer = await mapLeaf(tree.treeId, toHex(index));
    nav.live();
    if (answer === "not served") {
      card.append(verdict("map-verdict", null,
          "this server does not show this map (trellisd --explorer_maps)"));
      return;
    }
    if (!await verifyTreeSignature(spki, answer.mapRoot, answer.signature)) {
      throw new Error("the map root's signature does not verify under the pinned key");
    }
    const root = parseMapRoot(answer.mapRoot);
    if (!equalBytes(answer.index, index)) {
      throw new Error("the answer is for another index");
    }
    // Signed roots only move forward: an older one, or another root for a
    // revision seen before, is a rollback or a split view.
    const seen = seenMapRoot(tree.treeId);
    if (seen !== null && (root.revision < BigInt(seen.revision) ||
        (root.revision === BigInt(seen.revision) &&
         seen.rootHash !== toBase64(root.rootHash)))) {
      throw new Error(`revision ${root.revision} is not an advance on revision ${
          seen.revision} seen here before`);
    }
    value = answer.set ? answer.leafValue : null;
    await verifyMapInclusion(hasher, BigInt(tree.treeId), index, value,
                             answer.proof, root.rootHash);
    nav.live();
    rememberMapRoot(tree.treeId, {revision: root.revision.toString(),
                                  rootHash: toBase64(root.rootHash)});
    card.append(
        verdict("map-verdict", true, value === null
            ? `proven absent at revision ${root.revision}`
            : `proven at revision ${root.revision}`),
        facts([["Key", key], ["Index (SHA-256)", element("code", {}, toHex(index))],
               ["Revision", element("span", {"data-testid": "map-revision"},
                                    root.revision.toString())],
               ["Root", element("code", {}, toBase64(root.rootHash))],
               ["Signed at", isoTime(root.timestampNanos, "ns")]]));
  } catch (e) {
    if (e instanceof Superseded) throw e;
    card.append(verdict("map-verdict", false, `INVALID: ${e}`));
    return;
  }
  if (value === null) return;
  if (tree.displayName !== IDENTITY_MAP) {
    card.append(element("div", {}, "Value: ",
        element("code", {"data-testid": "map-value"}, showValue(value))));
    return;
  }
  try {
    card.append(facts(await identityRows(key, value), "map-identity-facts"));
  } catch (e) {
    card.append(verdict("map-identity", false, `INVALID: ${e}`));
  }
}

export async function mapPage(treeId: string, key: string | null, nav: Navigation,
                              app: HTMLElement) {
  app.replaceChildren(element("h1", {}, `Map ${treeId}`));
  const tree = await treeById(treeId);
  nav.live();
  if (tree.treeType !== "MAP") throw new Error(`tree ${treeId} is not a map`);
  const notes = element("div");
  app.append(notes);
  const spki = await trustedMapKey(tree, notes);
  nav.live();
  const identities = tree.displayName === IDENTITY_MAP;
  const input = element("input", {name: "key", "data-testid": "map-key",
      placeholder: identities ? "SPIFFE ID" : "key (its SHA-256 is the index)"});
  input.value = key ?? "";
  const form = element("form", {}, input,
      element("button", {type: "submit", "data-testid": "map-lookup"}, "Look up"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/maps/${treeId}?key=${encodeURIComponent(input.value.trim())}`;
  });
  app.append(element("div", {class: "card"},
      element("div", {}, `${tree.displayName} (${tree.hashStrategy})`), form));
  if (key) await lookup(tree, key, spki, app, nav);
}
