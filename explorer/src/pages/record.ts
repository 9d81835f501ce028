// A record of trellisd's record logs by its audit id (its Merkle leaf
// hash), proven into the log's checkpoint and decoded here: an attestation
// verdict with its checks and the evidence behind it, or an SVID issuance
// followed to its verdict and on to the evidence. Each link of that chain
// is checked in this page: the issuance's and the verdict's inclusion in
// their logs' checkpoints, and the evidence against the verdict's digest.
import {evidence, leafByHash, treeById} from "../api.js";
import {element, facts, isoTime, Navigation, Superseded, toHex,
        verdict} from "../dom.js";
import {decodeRecord, Message, RECORD_LOGS} from "../records/records.js";
import {equalBytes, hashLeaf, sha256, verifyInclusion} from "../verify/merkle.js";
import {verifiedCheckpoint} from "./checkpoint.js";

export const recordLink = (logId: string | bigint, auditId: string) =>
    `#/records/${logId}/${auditId}`;

// The record `auditId` of log `logId`, shown in `into` with its proof;
// null (the reason shown) unless it is in the log's verified checkpoint.
async function provenRecord(logId: string, auditId: string, into: HTMLElement,
                            nav: Navigation): Promise<Message | null> {
  const tree = await treeById(logId);
  nav.live();
  if (RECORD_LOGS[tree.displayName] === undefined || tree.treeType === "MAP") {
    throw new Error(`log ${logId} (${tree.displayName}) is not one of trellisd's record logs`);
  }
  into.append(element("div", {class: "note"},
      `In log ${logId} (${tree.displayName}); audit id `, element("code", {}, auditId)));
  const checkpoint = await verifiedCheckpoint(tree, into, nav);
  if (checkpoint === null) return null;
  const card = element("div", {class: "card"});
  into.append(card);
  try {
    const leaf = await leafByHash(logId, auditId, checkpoint.size);
    nav.live();
    const leafHash = await hashLeaf(leaf.leafValue);
    if (toHex(leafHash) !== auditId) {
      throw new Error("the leaf returned has another hash than the audit id");
    }
    if (leaf.treeSize !== checkpoint.size) {
      throw new Error(`proof for size ${leaf.treeSize}, not ${checkpoint.size}`);
    }
    await verifyInclusion(leaf.leafIndex, checkpoint.size, leafHash, leaf.proof,
                          checkpoint.rootHash);
    nav.live();
    card.append(verdict("inclusion-verdict", true,
        `leaf ${leaf.leafIndex}, included in the checkpoint of size ${checkpoint.size}`));
    return decodeRecord(tree.displayName, leaf.leafValue);
  } catch (e) {
    if (e instanceof Superseded) throw e;
    card.append(verdict("inclusion-verdict", false, `INVALID: ${e}`));
    return null;
  }
}

function bytesOf(record: Message, name: string) {
  return record[name] as Uint8Array;
}

function verdictView(record: Message) {
  const checks = record.checks as Message[];
  const claims = record.attested_claims_json as string;
  let claimsText = claims;
  try {
    claimsText = claims ? JSON.stringify(JSON.parse(claims), null, 2) : "";
  } catch { /* shown as logged */ }
  return element("div", {class: "card", "data-testid": "verdict"},
      element("div", {}, verdict("verdict-outcome", record.verified as boolean,
          record.verified ? "VERIFIED" : "NOT VERIFIED"), " ",
          record.host_integrity_status as string),
      facts([
        ["Host", element("span", {"data-testid": "verdict-host"}, record.host_id as string)],
        ["Time", isoTime(record.time_unix_nanos as bigint, "ns")],
        ["Policy", `${record.policy_id} v${record.policy_version} (sha256 ${
            toHex(bytesOf(record, "policy_digest"))})`],
        ["Reference values", `v${record.reference_values_version}`],
        ["Verifier", record.verifier_version as string],
        ["AK name", element("code", {}, toHex(bytesOf(record, "ak_name")))],
        ["Nonce", element("code", {}, toHex(bytesOf(record, "nonce")))],
        ["Quote digest", element("code", {}, toHex(bytesOf(record, "attest_digest")))],
        ["Evidence digest", element("code", {}, toHex(bytesOf(record, "evidence_digest")))],
      ]),
      element("h3", {}, "Checks"),
      element("table", {"data-testid": "checks"},
          element("tr", {}, element("th", {}, "Check"), element("th", {}, "Outcome"),
                  element("th", {}, "Detail")),
          ...checks.map((check) => element("tr", {},
              element("td", {}, check.name as string),
              element("td", {}, verdict(`check-${check.name}`, check.passed as boolean,
                                        check.passed ? "ok" : "FAIL")),
              element("td", {}, check.detail as string)))),
      ...(claimsText ? [element("h3", {}, "Attested claims"),
                        element("pre", {class: "mono"}, claimsText)] : []));
}

// The evidence a verdict names, hashed here and compared with its digest.
async function evidenceView(record: Message, nav: Navigation) {
  const card = element("div", {class: "card", "data-testid": "evidence"});
  const digest = bytesOf(record, "evidence_digest");
  const stored = await evidence(toHex(digest));
  nav.live();
  if (stored === "not served") {
    card.append(verdict("evidence-verdict", null,
        "this server does not serve evidence (trellisd --explorer_evidence)"));
    return card;
  }
  if (stored === "missing") {
    card.append(verdict("evidence-verdict", false,
        "INVALID: this server holds no evidence with the verdict's digest"));
    return card;
  }
  const storedDigest = await sha256(stored);
  nav.live();
  if (!equalBytes(storedDigest, digest)) {
    card.append(verdict("evidence-verdict", false,
        "INVALID: the evidence served is not the one the verdict names"));
    return card;
  }
  card.append(verdict("evidence-verdict", true,
      "the evidence served hashes to the verdict's evidence digest"));
  let parsed: {type?: unknown; data?: Record<string, unknown>;
               metadata?: Record<string, unknown>};
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", {fatal: true}).decode(stored));
  } catch {
    card.append(element("p", {}, `${stored.length} bytes, not JSON`));
    return card;
  }
  const data = parsed.data ?? {};
  const text = (value: unknown) => typeof value === "string" ? value : "";
  const ima = text(data.ima_measurement_list);
  const nonceMatches = text(data.nonce) === toHex(bytesOf(record, "nonce"));
  card.append(
      facts([
        ["Type", text(parsed.type)],
        ["Source", text(parsed.metadata?.source)],
        ["Nonce", verdict("evidence-nonce", nonceMatches, nonceMatches
            ? "the verdict's nonce" : `INVALID: ${text(data.nonce)}, not the verdict's`)],
        ["Hash algorithm", text(data.hash_alg)],
        ["IMA entries", String(ima ? ima.split("\n").filter((l) => l).length : 0)],
        ["Boot event log", data.mb_measurement_list ? "present" : "none"],
        ["Geolocation", data.geolocation ? JSON.stringify(data.geolocation) : "none"],
        ["App key", data.app_key_public ? "certified by the AK (see checks)" : "none"],
      ], "evidence-facts"),
      element("details", {}, element("summary", {}, "The evidence as stored"),
              element("pre", {class: "mono"}, JSON.stringify(parsed, null, 2))));
  return card;
}

function issuanceView(record: Message) {
  return element("div", {class: "card", "data-testid": "issuance"},
      facts([
        ["Kind", record.kind as string],
        ["SPIFFE ID", element("code", {"data-testid": "issuance-spiffe-id"},
                              record.spiffe_id as string)],
        ["Serial", record.serial_number as string],
        ["Valid", `${isoTime(record.not_before as bigint, "s")} to ${
            isoTime(record.not_after as bigint, "s")}`],
        ["Issued", isoTime(record.time_unix_nanos as bigint, "ns")],
        ["Credential SHA-256", element("code", {}, toHex(bytesOf(record, "credential_sha256")))],
        ["Issuer key id", element("code", {}, toHex(bytesOf(record, "issuer_key_id")))],
        ["Agent", record.agent_id as string],
        ["Entry", record.entry_id as string],
        ["Attestation", record.attestation_type as string],
      ]));
}

// A verdict (already proven) with the evidence behind it.
async function verdictChain(record: Message, into: HTMLElement, nav: Navigation) {
  into.append(verdictView(record), element("h2", {}, "Evidence"));
  const evidenceCard = await evidenceView(record, nav);
  nav.live();
  into.append(evidenceCard);
}

export async function recordPage(logId: string, auditId: string, nav: Navigation,
                                 app: HTMLElement) {
  app.replaceChildren(element("h1", {}, "Record"));
  const proof = element("section", {"data-testid": "record-proof"});
  app.append(proof);
  const record = await provenRecord(logId, auditId, proof, nav);
  nav.live();
  if (record === null) return;
  if (record.type === "trellis.attestation.v1") {
    app.append(element("h2", {}, "Attestation verdict"));
    await verdictChain(record, app, nav);
    return;
  }
  if (record.type !== "trellis.issuance.v1") {
    app.append(element("div", {class: "card"}, facts(Object.entries(record).map(
        ([name, value]) => [name, value instanceof Uint8Array
            ? element("code", {}, toHex(value)) : String(value)]))));
    return;
  }
  app.append(element("h2", {}, "Issued identity"), issuanceView(record));
  app.append(element("h2", {}, "The verdict it rests on"));
  const chain = element("section", {"data-testid": "verdict-proof"});
  app.append(chain);
  const verdictId = record.attestation_audit_id as string;
  if (verdictId === "") {
    chain.append(verdict("chain-verdict", null,
        `no attestation verdict: issued on ${record.attestation_type || "its entry"} alone`));
    return;
  }
  if (record.attestation_verifier !== "") {
    chain.append(verdict("chain-verdict", null,
        `the verdict is in the log of remote verifier ${record.attestation_verifier}: ` +
        `audit id ${verdictId}`));
    return;
  }
  if (!/^[0-9a-f]{64}$/.test(verdictId)) {
    chain.append(verdict("chain-verdict", false, "INVALID: the audit id is malformed"));
    return;
  }
  const verdictRecord = await provenRecord(
      (record.attestation_log_id as bigint).toString(), verdictId, chain, nav);
  nav.live();
  if (verdictRecord === null) return;
  if (verdictRecord.type !== "trellis.attestation.v1") {
    chain.append(verdict("chain-verdict", false, "INVALID: not an attestation verdict"));
    return;
  }
  chain.append(element("p", {}, element("a", {href: recordLink(
      record.attestation_log_id as bigint, verdictId)}, "The verdict's own page")));
  await verdictChain(verdictRecord, app, nav);
}

// One line about a leaf of the record log `logName`, for the log page.
export function recordSummary(logName: string, value: Uint8Array): string {
  try {
    const record = decodeRecord(logName, value);
    if (record.type === "trellis.attestation.v1") {
      return `verdict for ${record.host_id}: ${record.verified ? "VERIFIED" : "NOT VERIFIED"}`;
    }
    if (record.type === "trellis.issuance.v1") {
      return `${record.kind} for ${record.spiffe_id}`;
    }
    return `${record.action} ${record.resource} ${record.resource_id}`;
  } catch (e) {
    return `undecodable record: ${e}`;
  }
}
