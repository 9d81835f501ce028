// Map lookups: a key's value (or its absence) at the map's latest signed
// root, with the root's signature checked against the map key pinned in
// this browser and the sparse Merkle proof checked here. In the identity
// map (trellis-identities) the key is a SPIFFE ID and the value its latest
// issuance with the verdict behind it, linked to their proven records.
import {mapLeaf, TreeSummary, treeById} from "../api.js";
import {element, facts, fromBase64, isoTime, Navigation, sha256, showValue,
        Superseded, toBase64, toHex, verdict} from "../dom.js";
import {pinMapKey, pinnedMapKey} from "../pins.js";
import {decodeAttestationRecord, decodeIdentityMapValue,
        Message} from "../records/records.js";
import {equalBytes, hashLeaf} from "../verify/merkle.js";
import {mapHasher, parseMapRoot, verifyMapInclusion,
        verifyTreeSignature} from "../verify/map.js";
import {recordLink} from "./record.js";

const IDENTITY_MAP = "trellis-identities";

// The pinned key of map `tree`, pinning the served one on first use.
function trustedMapKey(tree: TreeSummary, notes: HTMLElement) {
  const served = toBase64(tree.publicKey);
  const pinned = pinnedMapKey(tree.treeId);
  if (pinned === null) {
    pinMapKey(tree.treeId, served);
    notes.append(element("p", {class: "note", "data-testid": "pinned-now"},
        "First visit: this map's key is now pinned in this browser."));
    return tree.publicKey;
  }
  if (pinned !== served) {
    notes.append(element("p", {class: "error", "data-testid": "key-changed"},
        "The server now names another key for this map than the one pinned ",
        "here; checks below use the pinned one."));
  }
  return fromBase64(pinned);
}

// What the identity map says of a SPIFFE ID, as table rows.
function identityRows(value: Message): [string, Node | string][] {
  const record = value.record as Message;
  return [
    ["SPIFFE ID", element("code", {"data-testid": "map-spiffe-id"},
                          record.spiffe_id as string)],
    ["Latest issuance", element("a", {
      href: recordLink(value.issuance_log_id as bigint, toHex(value.leaf_hash as Uint8Array)),
      "data-testid": "map-issuance-link"},
      `${record.kind}, leaf ${value.leaf_index} of log ${value.issuance_log_id}`)],
    ["Issued", isoTime(record.time_unix_nanos as bigint, "ns")],
    ["Valid until", isoTime(record.not_after as bigint, "s")],
  ];
}

async function lookup(tree: TreeSummary, key: string, spki: Uint8Array<ArrayBuffer>,
                      into: HTMLElement, nav: Navigation) {
  const card = element("div", {class: "card", "data-testid": "map-result"});
  into.append(card);
  const index = await sha256(new TextEncoder().encode(key));
  try {
    const answer = await mapLeaf(tree.treeId, toHex(index));
    nav.live();
    if (!await verifyTreeSignature(spki, answer.mapRoot, answer.signature)) {
      throw new Error("the map root's signature does not verify under the pinned key");
    }
    const root = parseMapRoot(answer.mapRoot);
    if (!equalBytes(answer.index, index)) {
      throw new Error("the answer is for another index");
    }
    const value = answer.leafValue.length === 0 ? null : answer.leafValue;
    await verifyMapInclusion(mapHasher(tree.hashStrategy), BigInt(tree.treeId),
                             index, value, answer.proof, root.rootHash);
    nav.live();
    card.append(
        verdict("map-verdict", true, value === null
            ? `proven absent at revision ${root.revision}`
            : `proven at revision ${root.revision}`),
        facts([["Key", key], ["Index (SHA-256)", element("code", {}, toHex(index))],
               ["Revision", element("span", {"data-testid": "map-revision"},
                                    root.revision.toString())],
               ["Root", element("code", {}, toBase64(root.rootHash))],
               ["Signed at", isoTime(root.timestampNanos, "ns")]]));
    if (value === null) return;
    if (tree.displayName !== IDENTITY_MAP) {
      card.append(element("div", {}, "Value: ",
          element("code", {"data-testid": "map-value"}, showValue(value))));
      return;
    }
    const identity = decodeIdentityMapValue(value);
    const record = identity.record as Message;
    if (record.spiffe_id !== key) {
      card.append(verdict("map-identity", false,
          `INVALID: the value is an issuance to ${record.spiffe_id}`));
      return;
    }
    const rows = identityRows(identity);
    const verdictLeaf = identity.verdict_leaf as Uint8Array<ArrayBuffer>;
    if (verdictLeaf.length > 0) {
      const verdictRecord = decodeAttestationRecord(verdictLeaf);
      const auditId = toHex(await hashLeaf(verdictLeaf));
      rows.push(["Verdict", element("a", {
        href: recordLink(record.attestation_log_id as bigint, auditId),
        "data-testid": "map-verdict-link"},
        `${verdictRecord.verified ? "VERIFIED" : "NOT VERIFIED"} for ${
            verdictRecord.host_id}`)]);
      if (auditId !== record.attestation_audit_id) {
        rows.push(["", verdict("map-identity", false,
            "INVALID: the verdict is not the one the issuance names")]);
      }
    } else {
      rows.push(["Verdict", "none (issued without attestation evidence)"]);
    }
    card.append(facts(rows, "map-identity-facts"));
  } catch (e) {
    if (e instanceof Superseded) throw e;
    card.append(verdict("map-verdict", false, `INVALID: ${e}`));
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
  const spki = trustedMapKey(tree, notes);
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
