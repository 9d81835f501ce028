// The explorer's pages: trees, and a log's checkpoint, consistency with the
// checkpoint seen before, and leaves with their inclusion proofs, each
// verified here with WebCrypto against the key pinned in this browser.
import {checkpointText, consistencyProof, leafAt, leafByHash, listTrees,
        TreeSummary} from "./api.js";
import {pinKey, pinnedKey, rememberCheckpoint, rememberOrigin, seenCheckpoint,
        seenOrigin} from "./pins.js";
import {hashLeaf, verifyConsistency, verifyInclusion} from "./verify/merkle.js";
import {Checkpoint, openNote, parseCheckpoint, parseVerifierKey} from "./verify/note.js";

const app = document.getElementById("app")!;

// Each navigation starts a new page; output of an older one is dropped.
let generation = 0;
class Superseded extends Error {}

function element<K extends keyof HTMLElementTagNameMap>(
    tag: K, attributes: Record<string, string> = {},
    ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function verdict(testId: string, valid: boolean | null, text: string) {
  const state = valid === null ? "pending" : valid ? "valid" : "invalid";
  return element("span", {class: `verdict ${state}`, "data-testid": testId,
                          "data-verdict": state}, text);
}

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const toHex = (bytes: Uint8Array) =>
    Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

// Printable UTF-8 as text, anything else as hex.
function showValue(bytes: Uint8Array): string {
  const text = new TextDecoder("utf-8", {fatal: false}).decode(bytes);
  return /^[\x20-\x7e\u00a0-\uffff\n\t]*$/.test(text) && !text.includes("\ufffd")
      ? text : `0x${toHex(bytes)}`;
}

async function treesPage() {
  app.replaceChildren(element("h1", {}, "Trees"));
  const trees = await listTrees();
  const rows = trees.map((tree) => element(
      "tr", {},
      element("td", {}, tree.treeType === "MAP"
          ? tree.treeId
          : element("a", {href: `#/logs/${tree.treeId}`,
                          "data-testid": `tree-${tree.treeId}`}, tree.treeId)),
      element("td", {}, tree.treeType),
      element("td", {}, tree.treeState),
      element("td", {}, tree.displayName),
      element("td", {class: "mono"}, tree.origin)));
  app.append(element("table", {},
      element("tr", {}, ...["Tree", "Type", "State", "Name", "Origin"].map(
          (h) => element("th", {}, h))),
      ...rows));
}

// The pinned key of `tree`'s origin, pinning the served one on first use
// (only a key that parses and is named for the origin).
async function trustedKey(tree: TreeSummary, notes: HTMLElement) {
  const pinned = pinnedKey(tree.origin);
  if (pinned !== null) {
    if (pinned !== tree.noteVerifierKey) {
      notes.append(element("p", {class: "error", "data-testid": "key-changed"},
          "The server now names another key than the one pinned here; ",
          "checks below use the pinned one."));
    }
    return parseVerifierKey(pinned);
  }
  const served = await parseVerifierKey(tree.noteVerifierKey);
  if (served.name !== tree.origin) {
    throw new Error(`the served key is named ${served.name}, not ${tree.origin}`);
  }
  pinKey(tree.origin, served.text);
  notes.append(element("p", {class: "note", "data-testid": "pinned-now"},
      "First visit: the key this server gave is now pinned in this browser. ",
      "Compare it with one obtained out of band, or pin that one below."));
  return served;
}

async function logPage(treeId: string, page: number) {
  const live = () => {
    if (page !== generation) throw new Superseded();
  };
  app.replaceChildren(element("h1", {}, `Log ${treeId}`));
  const tree = (await listTrees()).find((t) => t.treeId === treeId);
  live();
  if (tree === undefined || tree.treeType === "MAP") {
    throw new Error(`no log ${treeId}`);
  }
  const notes = element("div");
  app.append(notes,
      element("div", {class: "card"},
          element("div", {}, "Origin: ", element("code", {}, tree.origin)),
          pinForm(tree.origin)));
  // A log keeps its origin: another one would mean another pin.
  const origin = seenOrigin(treeId);
  if (origin !== null && origin !== tree.origin) {
    app.append(verdict("checkpoint-verdict", false,
        `INVALID: this log's origin was ${origin}, now ${tree.origin}`));
    return;
  }
  rememberOrigin(treeId, tree.origin);
  const key = await trustedKey(tree, notes);
  live();
  notes.append(element("div", {class: "card"}, "Pinned key: ",
      element("code", {"data-testid": "pinned-key"}, key.text)));

  // The checkpoint, signed by the pinned key.
  app.append(element("h2", {}, "Checkpoint"));
  const card = element("div", {class: "card"});
  app.append(card);
  let checkpoint: Checkpoint;
  try {
    const opened = await openNote(await checkpointText(treeId), [key]);
    live();
    checkpoint = parseCheckpoint(opened.text);
    if (checkpoint.origin !== tree.origin) {
      throw new Error(`the checkpoint is for ${checkpoint.origin}`);
    }
    card.append(
        verdict("checkpoint-verdict", true, `signed by ${key.name}`),
        element("div", {}, "Size: ",
                element("span", {"data-testid": "tree-size"},
                        checkpoint.size.toString())),
        element("div", {}, "Root: ",
                element("code", {}, toBase64(checkpoint.rootHash))),
        element("div", {class: "note"}, opened.otherSignatures.length
            ? `Also signed by ${opened.otherSignatures.join(", ")} (witness ` +
              "cosignatures; their keys are not pinned here)"
            : "No witness cosignatures."));
  } catch (e) {
    if (e instanceof Superseded) throw e;
    card.append(verdict("checkpoint-verdict", false, `INVALID: ${e}`));
    return;
  }

  // Consistency with the checkpoint this browser saw before.
  const seen = seenCheckpoint(tree.origin);
  const consistency = element("div", {class: "card"});
  app.append(consistency);
  if (seen === null || BigInt(seen.size) === 0n) {
    consistency.append(verdict("consistency-verdict", null,
                               "first checkpoint seen here"));
  } else {
    const oldSize = BigInt(seen.size);
    const oldRoot = Uint8Array.from(atob(seen.rootHash), (c) => c.charCodeAt(0));
    try {
      if (oldSize > checkpoint.size) throw new Error("the log shrank");
      const proof = oldSize === checkpoint.size
          ? [] : await consistencyProof(treeId, oldSize, checkpoint.size);
      await verifyConsistency(oldSize, checkpoint.size, proof, oldRoot,
                              checkpoint.rootHash);
      live();
      consistency.append(verdict("consistency-verdict", true,
          `consistent with the checkpoint of size ${oldSize} seen before`));
    } catch (e) {
      if (e instanceof Superseded) throw e;
      consistency.append(verdict("consistency-verdict", false,
          `INVALID: not an extension of size ${oldSize} seen before: ${e}`));
      return;  // A split view: keep the old checkpoint as the one remembered.
    }
  }
  rememberCheckpoint(tree.origin, {size: checkpoint.size.toString(),
                                   rootHash: toBase64(checkpoint.rootHash)});

  // Leaves, each proven into the checkpoint.
  app.append(element("h2", {}, "Leaves"));
  const results = element("div");
  const index = element("input", {name: "index", placeholder: "leaf index",
                                  "data-testid": "leaf-index"});
  const hash = element("input", {name: "hash",
                                 placeholder: "leaf hash (hex)",
                                 "data-testid": "leaf-hash"});
  const form = element("form", {},
      index, element("button", {type: "submit", "data-testid": "show-leaf"},
                     "Show leaf"),
      hash, element("button", {type: "button", "data-testid": "find-leaf"},
                    "Find by hash"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!/^[0-9]{1,20}$/.test(index.value.trim())) return;
    const wanted = BigInt(index.value.trim());
    showLeaf(treeId, checkpoint, {index: wanted},
             () => leafAt(treeId, wanted, checkpoint.size), results, page);
  });
  form.querySelector("[data-testid=find-leaf]")!.addEventListener("click", () => {
    const wanted = hash.value.trim().toLowerCase();
    showLeaf(treeId, checkpoint, {hashHex: wanted},
             () => leafByHash(treeId, wanted, checkpoint.size), results, page);
  });
  app.append(form, results);
  const last = checkpoint.size;
  for (let i = last - 1n; i >= 0n && i >= last - 5n; i--) {
    await showLeaf(treeId, checkpoint, {index: i},
                   () => leafAt(treeId, i, checkpoint.size), results, page);
  }
}

function pinForm(origin: string) {
  const input = element("input", {placeholder: "verifier key from a trusted source",
                                  "data-testid": "pin-input"});
  const form = element("form", {}, input,
      element("button", {type: "submit"}, "Pin this key"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const key = await parseVerifierKey(input.value);
      if (key.name !== origin) throw new Error("the key names another origin");
      pinKey(origin, key.text);
      route();
    } catch (e) {
      form.append(element("span", {class: "error"}, String(e)));
    }
  });
  return form;
}

// Shows a leaf the server returned for a lookup, with its verdict: the leaf
// asked for (by index or hash), included in the checkpoint.
async function showLeaf(treeId: string, checkpoint: Checkpoint,
                        asked: {index?: bigint; hashHex?: string},
                        fetchLeaf: () => Promise<import("./api.js").LeafAnswer>,
                        into: HTMLElement, page: number) {
  const card = element("div", {class: "card", "data-testid": "leaf"});
  try {
    const leaf = await fetchLeaf();
    if (page !== generation) return;
    into.prepend(card);
    // The hash is computed here from the value, never taken from the server.
    const leafHash = await hashLeaf(leaf.leafValue);
    card.append(element("div", {}, `Leaf ${leaf.leafIndex} of log ${treeId}: `,
                        element("code", {"data-testid": "leaf-value"},
                                showValue(leaf.leafValue))),
                element("div", {class: "note"}, "Hash: ",
                        element("code", {}, toHex(leafHash))));
    try {
      if (leaf.treeSize !== checkpoint.size) {
        throw new Error(`proof for size ${leaf.treeSize}, not ${checkpoint.size}`);
      }
      if (asked.index !== undefined && leaf.leafIndex !== asked.index) {
        throw new Error(`leaf ${leaf.leafIndex} came for leaf ${asked.index}`);
      }
      if (asked.hashHex !== undefined && toHex(leafHash) !== asked.hashHex) {
        throw new Error("the leaf returned has another hash than the one asked");
      }
      await verifyInclusion(leaf.leafIndex, checkpoint.size, leafHash,
                            leaf.proof, checkpoint.rootHash);
      card.append(verdict("inclusion-verdict", true,
          `included in the checkpoint of size ${checkpoint.size}`));
    } catch (e) {
      card.append(verdict("inclusion-verdict", false, `INVALID: ${e}`));
    }
  } catch (e) {
    if (page !== generation) return;
    into.prepend(card);
    card.append(element("span", {class: "error"}, String(e)));
  }
}

async function route() {
  const page = ++generation;
  const path = location.hash.replace(/^#/, "") || "/";
  const log = /^\/logs\/(\d+)$/.exec(path);
  try {
    if (log !== null) {
      await logPage(log[1], page);
    } else {
      await treesPage();
    }
  } catch (e) {
    if (e instanceof Superseded || page !== generation) return;
    app.append(element("p", {class: "error", "data-testid": "page-error"},
                       String(e)));
  }
}

window.addEventListener("hashchange", route);
route();
