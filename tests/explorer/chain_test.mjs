// The explorer's verdict, SVID-chain, witness and map pages end to end, in
// Debian's Chromium: a real trellisd with its verifier and SPIRE roles, a
// software TPM (swtpm) attested with trellis-tpm, trellis-agent attesting
// its node with sovereign TPM evidence for its SVID, and a second trellisd
// witnessing the attestation log. The pages show a verdict with each check
// (one failing), follow the agent's SVID to its verdict and on to the
// evidence, check the witness's cosignature against the quorum, and look a
// SPIFFE ID up in the identity map; each link tampered in flight shows as
// INVALID. Run from the repository root after the build:
//   node --test tests/explorer/chain_test.mjs
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync,
         writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { bin, cleanUp, cli as runCli, launchBrowser, newPage, root, shown,
         start, startSwtpm, startTrellisd, trees, verdicts,
         waitFor } from "./harness.mjs";

const work = mkdtempSync(join(tmpdir(), "trellis-explorer-chain-"));
const agentId = "spiffe://example.org/spire/agent/unified_identity/host-a";
let browser, shots, base, operator, attestationLog, issuanceLog, identityMap;
let failedAuditId;

const cli = (...args) => runCli(operator, work, ...args);

// `trellis-tpm attest`: the audit id it prints, and whether it verified.
function attest(tcti, verifierPort) {
  const empty = join(work, "empty.txt");
  writeFileSync(empty, "");
  const result = spawnSync(bin("trellis-tpm"), [
    `--tcti=${tcti}`, `--work_dir=${work}/tpm`, "attest", "--json",
    `--verifier=https://127.0.0.1:${verifierPort}`,
    `--verifier_ca=${work}/trellis/verifier-tls/cert.pem`, "--host_id=host-a",
    `--ima=${empty}`, `--boot_log=${empty}`], { encoding: "utf8" });
  assert.ok(result.status === 0 || result.status === 1, result.stderr);
  const out = JSON.parse(result.stdout);
  assert.equal(out.verified, result.status === 0);
  return { auditId: out.results.audit_id, verified: out.verified };
}

function putPolicy(policy) {
  const file = join(work, "policy.json");
  writeFileSync(file, JSON.stringify(policy));
  cli("policy", "put", "default", file);
}

const checkpointSize = async (url, log) => {
  const r = await fetch(`${url}/logs/${log}/checkpoint`);
  return r.ok ? BigInt((await r.text()).split("\n")[1]) : -1n;
};

before(async () => {
  assert.ok(existsSync(join(root, "explorer/dist/index.html")),
            "run scripts/build_explorer.sh first");
  const trellisd = await startTrellisd(`${work}/trellis`, [
    "--verifier_addr=127.0.0.1:0", "--spire_addr=127.0.0.1:0",
    "--feature_flags=Unified-Identity", "--attestations_per_second=0",
    "--explorer_evidence"]);
  ({ base, operator } = trellisd);
  const tcti = await startSwtpm(`${work}/tpm-state`);

  // A verdict that fails one check (the policy wants an IMA list), then one
  // that passes.
  putPolicy({ require_ima: true });
  const failed = attest(tcti, trellisd.ports.verifier);
  assert.equal(failed.verified, false);
  failedAuditId = failed.auditId;
  putPolicy({});
  assert.equal(attest(tcti, trellisd.ports.verifier).verified, true);
  attestationLog = (await trees(base)).find(
      (t) => t.displayName === "trellis-attestations");

  // A second trellisd witnesses the attestation log.
  writeFileSync(join(work, "witnessed"), `log ${attestationLog.noteVerifierKey}\n`);
  const witness = await startTrellisd(`${work}/witness`, [
    "--witness_name=witness.test/explorer", `--witness_logs=${work}/witnessed`]);
  const witnessKey = readFileSync(`${work}/witness/witness.vkey`, "utf8").trim();
  writeFileSync(join(work, "witness-policy"),
                `witness w1 ${witnessKey} ${witness.base}\nquorum w1\n`);
  cli("tree", "update", attestationLog.treeId, `--witness_policy=${work}/witness-policy`);

  // trellis-agent attests its node with TPM evidence (a third verdict, now
  // witnessed) and gets its SVID.
  const agentDir = join(work, "agent");
  mkdirSync(agentDir);
  writeFileSync(join(work, "agent.conf"), `agent {
  trust_domain = "example.org"
  server_address = "127.0.0.1"
  server_port = "${trellisd.ports.spire}"
  data_dir = "${agentDir}"
  socket_path = "${work}/agent.sock"
  insecure_bootstrap = true
  experimental {
    feature_flags = ["Unified-Identity"]
  }
}
plugins {
  NodeAttestor "unified_identity" {
    plugin_data {
      tcti = "${tcti}"
      work_dir = "${work}/tpm"
      host_id = "host-a"
    }
  }
  WorkloadAttestor "unix" { plugin_data {} }
}
`);
  start(bin("trellis-agent"), ["run", "-config", join(work, "agent.conf")]);
  await waitFor(() => existsSync(join(agentDir, "agent-svid.json")), "the agent's SVID");
  // The issuance log is made with the first SVID, the map on its first pass.
  await waitFor(async () => {
    const all = await trees(base);
    issuanceLog = all.find((t) => t.displayName === "trellis-issuance");
    identityMap = all.find((t) => t.displayName === "trellis-identities");
    return issuanceLog && identityMap;
  }, "the issuance log and the identity map");
  // The agent's verdict in a checkpoint its witness cosigned.
  await waitFor(async () => {
    const r = await fetch(`${base}/logs/${attestationLog.treeId}/checkpoint`);
    const note = r.ok ? await r.text() : "";
    return BigInt(note.split("\n")[1] ?? "0") >= 3n &&
        note.includes("\n\u2014 witness.test/explorer ");
  }, "the witnessed verdict in a checkpoint");
  await waitFor(async () => await checkpointSize(base, issuanceLog.treeId) >= 1n,
                "the issuance in a checkpoint");
  // The identity map catches up with the issuance log.
  const index = createHash("sha256").update(agentId).digest("hex");
  await waitFor(async () => {
    const r = await fetch(`${base}/explorer/api/maps/${identityMap.treeId}/leaves/${index}`);
    return r.ok && (await r.json()).leafValue !== "";
  }, "the identity map");
  ({ browser, shots } = await launchBrowser(work));
});

after(() => cleanUp(browser, work));

test("a verdict shows each check, and the evidence behind it verifies", async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${base}/explorer/#/records/${attestationLog.treeId}/${failedAuditId}`);
  await shown(page, "evidence-verdict");
  assert.deepEqual(await verdicts(page, "inclusion-verdict"), ["valid"]);
  assert.deepEqual(await verdicts(page, "verdict-outcome"), ["invalid"]);
  assert.deepEqual(await verdicts(page, "check-ima_pcr_valid"), ["invalid"]);
  assert.deepEqual(await verdicts(page, "check-quote_signature_valid"), ["valid"]);
  assert.match(await page.locator("[data-testid=checks]").innerText(),
               /the policy requires an IMA list/);
  assert.equal(await page.locator("[data-testid=verdict-host]").innerText(), "host-a");
  assert.deepEqual(await verdicts(page, "evidence-verdict"), ["valid"]);
  assert.deepEqual(await verdicts(page, "evidence-nonce"), ["valid"]);
  await page.screenshot({ path: join(shots, "verdict.png"), fullPage: true });

  // Evidence changed in flight no longer hashes to the verdict's digest.
  await page.route("**/explorer/api/evidence/*", async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    const evidence = Buffer.from(body.evidence, "base64").toString("utf8")
        .replace('"hash_alg":"sha256"', '"hash_alg":"sha1"');
    await route.fulfill({ response, json: { evidence: Buffer.from(evidence).toString("base64") } });
  });
  await page.reload();
  await shown(page, "evidence-verdict");
  assert.deepEqual(await verdicts(page, "evidence-verdict"), ["invalid"]);
  await context.close();
});

test("an SVID is followed to its verdict and evidence, witnessed", async () => {
  const { context, page } = await newPage(browser);
  // From the trees page to the issuance log, and its latest leaf's record.
  await page.goto(`${base}/explorer/`);
  await page.locator(`[data-testid=tree-${issuanceLog.treeId}]`).click();
  await shown(page, "record-link");
  assert.match(await page.locator("[data-testid=leaf-value]").first().innerText(),
               /AGENT_X509_SVID for spiffe:\/\/example.org\/spire\/agent\/unified_identity\/host-a/);
  await page.locator("[data-testid=record-link]").first().click();
  await shown(page, "evidence-verdict");
  const issuance = page.locator("[data-testid=record-proof]");
  const verdictProof = page.locator("[data-testid=verdict-proof]");
  assert.equal(await page.locator("[data-testid=issuance-spiffe-id]").innerText(), agentId);
  for (const section of [issuance, verdictProof]) {
    assert.deepEqual(await section.locator("[data-testid=checkpoint-verdict]")
                         .getAttribute("data-verdict"), "valid");
    assert.deepEqual(await section.locator("[data-testid=inclusion-verdict]")
                         .getAttribute("data-verdict"), "valid");
  }
  // The verdict's log is witnessed: its checkpoint carries w1's cosignature.
  assert.equal(await verdictProof.locator("[data-testid=cosignature-w1]")
                   .getAttribute("data-verdict"), "valid");
  assert.equal(await verdictProof.locator("[data-testid=quorum-verdict]")
                   .getAttribute("data-verdict"), "valid");
  assert.deepEqual(await verdicts(page, "verdict-outcome"), ["valid"]);
  assert.deepEqual(await verdicts(page, "evidence-verdict"), ["valid"]);
  await page.screenshot({ path: join(shots, "svid-chain.png"), fullPage: true });

  // A cosignature changed in flight is INVALID and the quorum is not met.
  await page.route(`**/logs/${attestationLog.treeId}/checkpoint`, async (route) => {
    const response = await route.fetch();
    const lines = (await response.text()).split("\n");
    const at = lines.findIndex((l) => l.startsWith("\u2014 witness.test/explorer "));
    const signature = Buffer.from(lines[at].split(" ")[2], "base64");
    signature[20] ^= 1;
    lines[at] = `\u2014 witness.test/explorer ${signature.toString("base64")}`;
    await route.fulfill({ response, body: lines.join("\n") });
  });
  await page.reload();
  await shown(page, "quorum-verdict");
  assert.equal(await verdictProof.locator("[data-testid=cosignature-w1]")
                   .getAttribute("data-verdict"), "invalid");
  assert.equal(await verdictProof.locator("[data-testid=quorum-verdict]")
                   .getAttribute("data-verdict"), "invalid");
  await page.unroute(`**/logs/${attestationLog.treeId}/checkpoint`);

  // A verdict leaf substituted in flight is not the one the SVID names.
  await page.route(`**/explorer/api/logs/${attestationLog.treeId}/leaves?hash=*`,
                   async (route) => {
    const size = new URL(route.request().url()).searchParams.get("tree_size");
    const other = await (await fetch(
        `${base}/explorer/api/logs/${attestationLog.treeId}/leaves/0?tree_size=${size}`)).json();
    await route.fulfill({ status: 200, contentType: "application/json",
                          body: JSON.stringify(other) });
  });
  await page.reload();
  await shown(page, "inclusion-verdict");
  await waitFor(async () => (await verdictProof.locator("[data-testid=inclusion-verdict]")
                                 .count()) === 1, "the verdict's proof");
  assert.equal(await verdictProof.locator("[data-testid=inclusion-verdict]")
                   .getAttribute("data-verdict"), "invalid");
  assert.equal(await page.locator("[data-testid=verdict]").count(), 0);
  await page.unroute(`**/explorer/api/logs/${attestationLog.treeId}/leaves?hash=*`);

  // A policy pasted from elsewhere (another witness) replaces the one pinned:
  // the served checkpoint lacks its quorum and is not trusted.
  const name = "witness.test/other";
  const key = Buffer.concat([Buffer.of(4), Buffer.alloc(32, 9)]);
  const id = createHash("sha256").update(Buffer.concat([Buffer.from(`${name}\n`), key]))
      .digest().subarray(0, 4).toString("hex");
  await page.goto(`${base}/explorer/#/logs/${attestationLog.treeId}`);
  await page.getByRole("heading", { name: `Log ${attestationLog.treeId}` }).waitFor();
  await shown(page, "policy-input");
  await page.fill("[data-testid=policy-input]",
                  `witness other ${name}+${id}+${key.toString("base64")}\nquorum other\n`);
  await page.locator("[data-testid=witnesses] button").click();
  await shown(page, "policy-changed");
  await shown(page, "quorum-verdict", /not trusted/);
  assert.deepEqual(await verdicts(page, "quorum-verdict"), ["invalid"]);
  assert.deepEqual(await verdicts(page, "cosignature-other"), ["pending"]);
  // Nothing is proven against it: no consistency check, no leaves.
  assert.equal(await page.locator("[data-testid=consistency-verdict]").count(), 0);
  assert.equal(await page.locator("[data-testid=leaf]").count(), 0);
  await context.close();
});

test("a SPIFFE ID is looked up in the identity map with its proof", async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${base}/explorer/#/maps/${identityMap.treeId}`);
  await page.fill("[data-testid=map-key]", agentId);
  await page.click("[data-testid=map-lookup]");
  await shown(page, "map-verdict");
  assert.deepEqual(await verdicts(page, "map-verdict"), ["valid"]);
  assert.equal(await page.locator("[data-testid=map-spiffe-id]").innerText(), agentId);
  assert.match(await page.locator("[data-testid=map-verdict-link]").innerText(),
               /^VERIFIED for host-a$/);
  await page.screenshot({ path: join(shots, "map.png"), fullPage: true });
  // The verdict link leads to the proven verdict.
  await page.locator("[data-testid=map-verdict-link]").click();
  await shown(page, "evidence-verdict");
  assert.deepEqual(await verdicts(page, "inclusion-verdict"), ["valid"]);

  // An identity never issued is proven absent.
  await page.goto(`${base}/explorer/#/maps/${identityMap.treeId}?key=${
      encodeURIComponent("spiffe://example.org/nobody")}`);
  await shown(page, "map-verdict", /proven absent/);

  // A sibling hash changed in flight, or a root its signature does not cover.
  await page.route("**/explorer/api/maps/*/leaves/*", async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    // The map holds one identity: every sibling is an empty subtree ("").
    body.proof[0] = Buffer.alloc(32, 7).toString("base64");
    await route.fulfill({ response, json: body });
  });
  await page.goto(`${base}/explorer/#/maps/${identityMap.treeId}?key=${
      encodeURIComponent(agentId)}`);
  await shown(page, "map-verdict", /does not lead to the signed root/);
  assert.deepEqual(await verdicts(page, "map-verdict"), ["invalid"]);
  await page.unroute("**/explorer/api/maps/*/leaves/*");
  await page.route("**/explorer/api/maps/*/leaves/*", async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    const root = Buffer.from(body.mapRoot, "base64");
    root[5] ^= 1;  // In the root hash: the signature no longer covers it.
    body.mapRoot = root.toString("base64");
    await route.fulfill({ response, json: body });
  });
  await page.reload();
  await shown(page, "map-verdict", /signature does not verify/);
  await page.unroute("**/explorer/api/maps/*/leaves/*");

  // A root older than one seen before is a rollback.
  await page.evaluate((id) => localStorage.setItem(
      `trellis-explorer:map-root:${id}`,
      JSON.stringify({ revision: "999", rootHash: "AAAA" })), identityMap.treeId);
  await page.reload();
  await shown(page, "map-verdict", /not an advance on revision 999/);
  await context.close();
});
