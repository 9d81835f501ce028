// A log: its verified checkpoint and witnesses, and leaves by index or hash,
// each proven into the checkpoint here. Leaves of trellisd's record logs
// are decoded and link to their record pages.
import {LeafAnswer, leafAt, leafByHash, treeById} from "../api.js";
import {element, Navigation, showValue, toHex, verdict} from "../dom.js";
import {RECORD_LOGS} from "../records/records.js";
import {hashLeaf, verifyInclusion} from "../verify/merkle.js";
import {Checkpoint} from "../verify/note.js";
import {verifiedCheckpoint} from "./checkpoint.js";
import {recordLink, recordSummary} from "./record.js";

// Shows a leaf the server returned for a lookup, with its verdict: the leaf
// asked for (by index or hash), included in the checkpoint.
async function showLeaf(treeId: string, logName: string, checkpoint: Checkpoint,
                        asked: {index?: bigint; hashHex?: string},
                        fetchLeaf: () => Promise<LeafAnswer>,
                        into: HTMLElement, nav: Navigation) {
  const card = element("div", {class: "card", "data-testid": "leaf"});
  try {
    const leaf = await fetchLeaf();
    if (!nav.current) return;
    into.prepend(card);
    // The hash is computed here from the value, never taken from the server.
    const leafHash = await hashLeaf(leaf.leafValue);
    const isRecord = RECORD_LOGS[logName] !== undefined;
    card.append(element("div", {}, `Leaf ${leaf.leafIndex} of log ${treeId}: `,
                        element("code", {"data-testid": "leaf-value"},
                                isRecord ? recordSummary(logName, leaf.leafValue)
                                         : showValue(leaf.leafValue))),
                element("div", {class: "note"}, "Hash: ",
                        isRecord
                            ? element("a", {href: recordLink(treeId, toHex(leafHash)),
                                            "data-testid": "record-link"},
                                      toHex(leafHash))
                            : element("code", {}, toHex(leafHash))));
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
    if (!nav.current) return;
    into.prepend(card);
    card.append(element("span", {class: "error"}, String(e)));
  }
}

export async function logPage(treeId: string, nav: Navigation, app: HTMLElement) {
  app.replaceChildren(element("h1", {}, `Log ${treeId}`));
  const tree = await treeById(treeId);
  nav.live();
  if (tree.treeType === "MAP") throw new Error(`tree ${treeId} is a map`);
  const checkpoint = await verifiedCheckpoint(tree, app, nav);
  if (checkpoint === null) return;

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
  const name = tree.displayName;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!/^[0-9]{1,20}$/.test(index.value.trim())) return;
    const wanted = BigInt(index.value.trim());
    showLeaf(treeId, name, checkpoint, {index: wanted},
             () => leafAt(treeId, wanted, checkpoint.size), results, nav);
  });
  form.querySelector("[data-testid=find-leaf]")!.addEventListener("click", () => {
    const wanted = hash.value.trim().toLowerCase();
    showLeaf(treeId, name, checkpoint, {hashHex: wanted},
             () => leafByHash(treeId, wanted, checkpoint.size), results, nav);
  });
  app.append(form, results);
  const last = checkpoint.size;
  for (let i = last - 1n; i >= 0n && i >= last - 5n; i--) {
    await showLeaf(treeId, name, checkpoint, {index: i},
                   () => leafAt(treeId, i, checkpoint.size), results, nav);
  }
}
