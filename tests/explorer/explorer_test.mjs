// The browser explorer end to end: a real trellisd serving the built pages
// (scripts/build_explorer.sh), a log written with the trellis CLI, and
// Debian's Chromium driven by playwright-core. The pages load, the
// checkpoint verifies against the key pinned on first visit, leaves'
// inclusion proofs verify in the page; a tampered proof, a tampered
// checkpoint and a rolled-back log show as invalid. Run from the repository
// root after the build (EXPLORER_SCREENSHOTS=docs/explorer refreshes the
// screenshots in docs/):
//   node --test tests/explorer/explorer_test.mjs
import assert from "node:assert/strict";
import { mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, after, before } from "node:test";
import { createHash } from "node:crypto";

import { cleanUp, cli as runCli, launchBrowser, newPage, root, shown,
         startTrellisd, verdicts, waitFor } from "./harness.mjs";

// Screenshots for docs/explorer/ when asked (EXPLORER_SCREENSHOTS=docs/explorer).
let shots;
const work = mkdtempSync(join(tmpdir(), "trellis-explorer-"));
let browser, base, treeId, operator;

const cli = (...args) => runCli(operator, work, ...args);

before(async () => {
  assert.ok(existsSync(join(root, "explorer/dist/index.html")),
            "run scripts/build_explorer.sh first");
  ({ base, operator } = await startTrellisd(`${work}/data`));
  treeId = JSON.parse(cli("tree", "create", "--name=explorer-demo")).treeId;
  cli("log", "append", treeId, "--wait", "first leaf", "second leaf",
      "third leaf", "fourth leaf", "fifth leaf", "sixth leaf");
  await waitFor(async () => {
    const r = await fetch(`${base}/logs/${treeId}/checkpoint`);
    return r.ok && (await r.text()).split("\n")[1] === "6";
  }, "the checkpoint of 6 leaves");
  ({ browser, shots } = await launchBrowser(work));
});

after(() => cleanUp(browser, work));

test("trees, checkpoint and leaves verify in the page", async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${base}/explorer/`);
  await shown(page, `tree-${treeId}`);
  await page.screenshot({ path: join(shots, "trees.png") });
  await page.locator(`[data-testid=tree-${treeId}]`).click();
  await shown(page, "checkpoint-verdict");
  assert.deepEqual(await verdicts(page, "checkpoint-verdict"), ["valid"]);
  assert.equal(await page.locator("[data-testid=tree-size]").textContent(), "6");
  assert.equal(await page.locator("[data-testid=pinned-now]").count(), 1);
  // The five latest leaves, each proven into the checkpoint.
  await waitFor(async () => (await verdicts(page, "inclusion-verdict")).length === 5,
                "five leaves");
  assert.deepEqual(await verdicts(page, "inclusion-verdict"), Array(5).fill("valid"));
  // Leaf 0 by index.
  await page.fill("[data-testid=leaf-index]", "0");
  await page.click("[data-testid=show-leaf]");
  await waitFor(async () => (await verdicts(page, "inclusion-verdict")).length === 6,
                "leaf 0");
  assert.equal(await page.locator("[data-testid=leaf-value]").first().textContent(),
               "first leaf");
  assert.equal((await verdicts(page, "inclusion-verdict"))[0], "valid");
  // A leaf by its Merkle hash, computed here from its value.
  const third = createHash("sha256").update(Buffer.from([0]))
      .update("third leaf").digest("hex");
  await page.fill("[data-testid=leaf-hash]", third);
  await page.click("[data-testid=find-leaf]");
  await waitFor(async () => (await verdicts(page, "inclusion-verdict")).length === 7,
                "the leaf found by hash");
  assert.equal(await page.locator("[data-testid=leaf-value]").first().textContent(),
               "third leaf");
  assert.equal((await verdicts(page, "inclusion-verdict"))[0], "valid");
  await page.screenshot({ path: join(shots, "log.png"), fullPage: true });

  // More leaves; the next visit proves the log extends the one seen.
  cli("log", "append", treeId, "--wait", "seventh leaf");
  await waitFor(async () => {
    const r = await fetch(`${base}/logs/${treeId}/checkpoint`);
    return (await r.text()).split("\n")[1] === "7";
  }, "the checkpoint of 7 leaves");
  await page.reload();
  await shown(page, "consistency-verdict");
  assert.deepEqual(await verdicts(page, "consistency-verdict"), ["valid"]);
  assert.equal(await page.locator("[data-testid=pinned-now]").count(), 0);
  await context.close();
});

test("a tampered proof, checkpoint or history shows as invalid", async () => {
  const { context, page } = await newPage(browser);
  // A proof with one bit of its first hash flipped.
  await page.route(`**/explorer/api/logs/${treeId}/leaves/*`, async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    const hash = Buffer.from(body.proof[0], "base64");
    hash[0] ^= 1;
    body.proof[0] = hash.toString("base64");
    await route.fulfill({ response, json: body });
  });
  await page.goto(`${base}/explorer/#/logs/${treeId}`);
  await waitFor(async () => (await verdicts(page, "inclusion-verdict")).length === 5,
                "five leaves");
  assert.deepEqual(await verdicts(page, "inclusion-verdict"), Array(5).fill("invalid"));
  await page.screenshot({ path: join(shots, "tampered-proof.png"), fullPage: true });
  await page.unroute(`**/explorer/api/logs/${treeId}/leaves/*`);

  // A lookup by hash answered with another, genuinely included leaf.
  await page.route(`**/explorer/api/logs/${treeId}/leaves?hash=*`, async (route) => {
    const size = new URL(route.request().url()).searchParams.get("tree_size");
    const other = await fetch(`${base}/explorer/api/logs/${treeId}/leaves/0?tree_size=${size}`);
    await route.fulfill({ status: 200, contentType: "application/json",
                          body: await other.text() });
  });
  await page.reload();
  await waitFor(async () => (await verdicts(page, "inclusion-verdict")).length === 5,
                "five leaves");
  await page.fill("[data-testid=leaf-hash]", createHash("sha256")
      .update(Buffer.from([0])).update("third leaf").digest("hex"));
  await page.click("[data-testid=find-leaf]");
  await waitFor(async () => (await verdicts(page, "inclusion-verdict")).length === 6,
                "the substituted leaf");
  assert.equal((await verdicts(page, "inclusion-verdict"))[0], "invalid");
  await page.unroute(`**/explorer/api/logs/${treeId}/leaves?hash=*`);

  // A checkpoint whose size was changed after signing.
  await page.route(`**/logs/${treeId}/checkpoint`, async (route) => {
    const response = await route.fetch();
    const text = (await response.text()).replace(/\n7\n/, "\n8\n");
    await route.fulfill({ response, body: text });
  });
  await page.reload();
  await shown(page, "checkpoint-verdict");
  assert.deepEqual(await verdicts(page, "checkpoint-verdict"), ["invalid"]);
  await page.unroute(`**/logs/${treeId}/checkpoint`);

  // A server that shows an older, different history: the checkpoint this
  // browser remembers (size 7) is not extended by it.
  await page.route(`**/explorer/api/logs/${treeId}/consistency*`, async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    body.proof = body.proof.map((h) => {
      const b = Buffer.from(h, "base64"); b[31] ^= 0x80; return b.toString("base64");
    });
    await route.fulfill({ response, json: body });
  });
  cli("log", "append", treeId, "--wait", "eighth leaf");
  await waitFor(async () => {
    const r = await fetch(`${base}/logs/${treeId}/checkpoint`);
    return (await r.text()).split("\n")[1] === "8";
  }, "the checkpoint of 8 leaves");
  await page.reload();
  await shown(page, "consistency-verdict");
  assert.deepEqual(await verdicts(page, "consistency-verdict"), ["invalid"]);
  // The checkpoint this browser trusts stays the one it could verify.
  const origin = (await (await fetch(`${base}/explorer/api/trees`)).json())
      .trees.find((t) => t.treeId === treeId).origin;
  const seen = await page.evaluate(
      (o) => localStorage.getItem(`trellis-explorer:seen:${o}`), origin);
  assert.equal(JSON.parse(seen).size, "7");
  await context.close();
});
