// What the explorer's browser tests share: the built programs, real
// processes on loopback stopped by PID, Debian's Chromium through
// playwright-core, and waits on conditions.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createConnection } from "node:net";
import { join } from "node:path";

const require = createRequire(new URL("../../explorer/package.json", import.meta.url));
const { chromium } = require("playwright-core");

export const root = process.cwd();
export const bin = (name) => join(root, `bazel-bin/cmd/${name}/${name}`);

export async function waitFor(condition, what, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Runs a program to completion; its stdout, or a failed assertion.
export function run(program, args, env = {}) {
  const result = spawnSync(program, args,
                           { encoding: "utf8", env: { ...process.env, ...env } });
  assert.equal(result.status, 0,
               `${program} ${args.join(" ")}:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

// Processes started here, stopped by PID at the end.
const started = [];

export function start(program, args) {
  const child = spawn(program, args, { stdio: ["ignore", "ignore", "inherit"] });
  started.push(child);
  return child;
}

export async function stopAll() {
  for (const child of started.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

const readPort = (file) => existsSync(file) && readFileSync(file, "utf8").trim();

// trellisd on free loopback ports with its data in `dataDir`, the explorer's
// pages served; roles without an address in `flags` are off. Returns the
// process, its tlog listener's URL, the operator socket and port reader.
export async function startTrellisd(dataDir, flags = []) {
  const ports = {};
  const args = [`--data_dir=${dataDir}`, "--grpc_addr=127.0.0.1:0",
                `--port_file=${dataDir}.port`, "--tlog_addr=127.0.0.1:0",
                `--tlog_port_file=${dataDir}.tlog_port`, "--metrics_addr=",
                "--checkpoint_interval=100ms", `--explorer_dir=${root}/explorer/dist`];
  for (const role of ["verifier", "spire", "gta"]) {
    if (flags.includes(`--${role}_addr=127.0.0.1:0`)) {
      args.push(`--${role}_port_file=${dataDir}.${role}_port`);
    } else if (!flags.some((f) => f.startsWith(`--${role}_addr=`))) {
      args.push(`--${role}_addr=`);
    }
  }
  const server = start(bin("trellisd"), [...args, ...flags]);
  const tlog = await waitFor(() => readPort(`${dataDir}.tlog_port`), "trellisd");
  for (const role of ["verifier", "spire"]) {
    if (args.includes(`--${role}_port_file=${dataDir}.${role}_port`)) {
      ports[role] = await waitFor(() => readPort(`${dataDir}.${role}_port`), role);
    }
  }
  return { server, base: `http://127.0.0.1:${tlog}`, ports,
           operator: `unix:${dataDir}/operator.sock` };
}

// The trellis CLI against `operator`, JSON out.
export function cli(operator, stateDir, ...args) {
  return run(bin("trellis"), [`--addr=${operator}`, "--output=json", ...args],
             { XDG_STATE_HOME: stateDir });
}

// Chromium for a test file, and where its screenshots go
// (EXPLORER_SCREENSHOTS=docs/explorer refreshes those in docs/).
export async function launchBrowser(work) {
  const shots = process.env.EXPLORER_SCREENSHOTS ?? join(work, "screenshots");
  mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
  return { browser, shots };
}

// A fresh browser context (nothing pinned yet) and a page in it.
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  return { context, page: await context.newPage() };
}

// Closes the browser, stops every process started here, removes `work`.
export async function cleanUp(browser, work) {
  await browser?.close();
  await stopAll();
  rmSync(work, { recursive: true, force: true });
}

// Waits for an element with `testId` (whose text matches `pattern`, if
// given: the page may still show the previous answer for a moment); on
// failure, says what the page shows instead.
export async function shown(page, testId, pattern = undefined) {
  try {
    await page.locator(`[data-testid=${testId}]`, pattern ? { hasText: pattern } : {})
        .first().waitFor({ timeout: 15000 });
  } catch (e) {
    const text = await page.locator("#app").innerText().catch(() => "?");
    throw new Error(`${testId} ${pattern ?? ""} never showed at ${page.url()}; ` +
                    `the page shows:\n${text}\n${e}`);
  }
}

// The data-verdict of every element with `testId` (valid, invalid, pending).
export async function verdicts(page, testId) {
  return page.locator(`[data-testid=${testId}]`).evaluateAll(
      (nodes) => nodes.map((n) => n.getAttribute("data-verdict")));
}

export const trees = async (base) =>
    (await (await fetch(`${base}/explorer/api/trees`)).json()).trees;

async function accepts(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => { socket.destroy(); resolve(true); });
    socket.once("error", () => resolve(false));
  });
}

// A software TPM (swtpm) with its state in `stateDir`; its TCTI string.
// Ports are below Linux's ephemeral range, where port-0 servers never land.
export async function startSwtpm(stateDir) {
  mkdirSync(stateDir, { recursive: true });
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20000 + 2 * Math.floor(Math.random() * 6000);
    if (await accepts(port) || await accepts(port + 1)) continue;
    const tpm = start("swtpm", [
      "socket", "--tpm2", "--tpmstate", `dir=${stateDir}`,
      "--server", `type=tcp,port=${port},bindaddr=127.0.0.1`,
      "--ctrl", `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
      "--flags", "not-need-init,startup-clear"]);
    try {
      await waitFor(async () => tpm.exitCode !== null || await accepts(port),
                    "swtpm", 5);
    } catch { /* tried again below */ }
    if (tpm.exitCode === null && await accepts(port)) {
      return `swtpm:host=127.0.0.1,port=${port}`;
    }
    tpm.kill("SIGKILL");
  }
  throw new Error("could not start swtpm");
}
