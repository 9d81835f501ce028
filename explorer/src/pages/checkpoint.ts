// A log's checkpoint as the pages trust it: signed by the key pinned for
// its origin, cosigned by the quorum of the witness policy pinned for it,
// and consistent with the checkpoint this browser saw before.
import {checkpointText, consistencyProof, TreeSummary} from "../api.js";
import {element, Navigation, Superseded, toBase64, verdict} from "../dom.js";
import {pinKey, pinnedKey, pinnedPolicy, pinPolicy, rememberCheckpoint,
        rememberOrigin, seenCheckpoint, seenOrigin} from "../pins.js";
import {checkCosignatures, parseWitnessPolicy, quorumMet} from "../verify/cosignature.js";
import {verifyConsistency} from "../verify/merkle.js";
import {base64, Checkpoint, openNote, OpenedNote, parseCheckpoint,
        parseVerifierKey} from "../verify/note.js";

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

// Shows the current page again (after a pin).
const rerender = () => window.dispatchEvent(new HashChangeEvent("hashchange"));

// A form that pins what the user pastes into `input`, once `pin` takes it,
// then shows the page again.
function pasteForm(input: HTMLInputElement | HTMLTextAreaElement, label: string,
                   pin: (text: string) => Promise<void>) {
  const form = element("form", {}, input, element("button", {type: "submit"}, label));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await pin(input.value);
      rerender();
    } catch (e) {
      form.append(element("span", {class: "error"}, String(e)));
    }
  });
  return form;
}

const keyForm = (origin: string) => pasteForm(
    element("input", {placeholder: "verifier key from a trusted source",
                      "data-testid": "pin-input"}),
    "Pin this key", async (text) => {
      const key = await parseVerifierKey(text);
      if (key.name !== origin) throw new Error("the key names another origin");
      pinKey(origin, key.text);
    });

const policyForm = (origin: string) => pasteForm(
    element("textarea", {rows: "3", cols: "60",
        placeholder: "witness policy (C2SP tlog-policy) from a trusted source",
        "data-testid": "policy-input"}),
    "Pin this policy", async (text) => {
      const policy = text.trim() === "" ? "" : text;
      if (policy !== "") await parseWitnessPolicy(policy);
      pinPolicy(origin, policy);
    });

// The witnesses' cosignatures of an opened checkpoint note, against the
// policy pinned for the log (the served one, possibly none, on first use):
// whether its quorum is met, and the card that shows it.
async function witnessCard(tree: TreeSummary, opened: OpenedNote):
    Promise<{met: boolean; card: HTMLElement}> {
  const card = element("div", {class: "card", "data-testid": "witnesses"});
  let text = pinnedPolicy(tree.origin);
  if (text === null) {
    text = tree.witnessPolicy;
    pinPolicy(tree.origin, text);
    if (text !== "") {
      card.append(element("p", {class: "note"},
          "First visit: this log's witness policy is now pinned in this browser."));
    }
  } else if (text !== tree.witnessPolicy) {
    card.append(element("p", {class: "error", "data-testid": "policy-changed"},
        "The server now names another witness policy than the one pinned ",
        "here; cosignatures below are checked against the pinned one."));
  }
  card.append(policyForm(tree.origin));
  if (text === "") {
    card.prepend(element("div", {class: "note"}, opened.otherSignatures.length
        ? `Also signed by ${opened.otherSignatures.join(", ")}; no witness ` +
          "policy is pinned for this log to check them with."
        : "This log has no witnesses."));
    return {met: true, card};
  }
  try {
    const policy = await parseWitnessPolicy(text);
    const results = await checkCosignatures(policy, opened.text, opened.otherLines);
    const cosigned = new Set(results.filter((r) => r.state === "valid")
                                    .map((r) => r.witness.name));
    const met = quorumMet(policy, cosigned);
    card.prepend(
        element("div", {}, "Witnesses: ", verdict("quorum-verdict", met, met
            ? `quorum ${policy.quorum} met (${cosigned.size} of ${results.length} cosigned)`
            : `INVALID: quorum ${policy.quorum} not met (${cosigned.size} of ` +
              `${results.length} cosigned): this checkpoint is not trusted`)),
        element("table", {},
            element("tr", {}, ...["Witness", "Key", "Cosignature", "Signed at"].map(
                (h) => element("th", {}, h))),
            ...results.map((r) => element("tr", {},
                element("td", {}, r.witness.name),
                element("td", {class: "mono"}, r.witness.key.text),
                element("td", {}, verdict(`cosignature-${r.witness.name}`,
                    r.state === "absent" ? null : r.state === "valid",
                    r.state === "valid" ? "valid" : r.state === "invalid"
                        ? "INVALID" : "none")),
                element("td", {}, r.time === null ? ""
                    : new Date(Number(r.time) * 1000).toISOString())))));
    return {met, card};
  } catch (e) {
    card.prepend(verdict("quorum-verdict", false, `INVALID witness policy: ${e}`));
    return {met: false, card};
  }
}

// Verifies and shows `tree`'s checkpoint in `into`: null (with the reason
// shown) unless it is signed by the pinned key for the log's origin and
// consistent with what this browser saw before.
export async function verifiedCheckpoint(tree: TreeSummary, into: HTMLElement,
                                         nav: Navigation): Promise<Checkpoint | null> {
  const notes = element("div");
  into.append(notes,
      element("div", {class: "card"},
          element("div", {}, "Origin: ", element("code", {}, tree.origin)),
          keyForm(tree.origin)));
  // A log keeps its origin: another one would mean another pin.
  const origin = seenOrigin(tree.treeId);
  if (origin !== null && origin !== tree.origin) {
    into.append(verdict("checkpoint-verdict", false,
        `INVALID: this log's origin was ${origin}, now ${tree.origin}`));
    return null;
  }
  rememberOrigin(tree.treeId, tree.origin);
  const key = await trustedKey(tree, notes);
  nav.live();
  notes.append(element("div", {class: "card"}, "Pinned key: ",
      element("code", {"data-testid": "pinned-key"}, key.text)));

  into.append(element("h2", {}, "Checkpoint"));
  const card = element("div", {class: "card"});
  into.append(card);
  let checkpoint: Checkpoint;
  try {
    const opened = await openNote(await checkpointText(tree.treeId), [key]);
    nav.live();
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
                element("code", {}, toBase64(checkpoint.rootHash))));
    const witnesses = await witnessCard(tree, opened);
    nav.live();
    into.append(witnesses.card);
    if (!witnesses.met) return null;
  } catch (e) {
    if (e instanceof Superseded) throw e;
    card.append(verdict("checkpoint-verdict", false, `INVALID: ${e}`));
    return null;
  }

  // Consistency with the checkpoint this browser saw before.
  const seen = seenCheckpoint(tree.origin);
  const consistency = element("div", {class: "card"});
  into.append(consistency);
  if (seen === null || BigInt(seen.size) === 0n) {
    consistency.append(verdict("consistency-verdict", null,
                               "first checkpoint seen here"));
  } else {
    const oldSize = BigInt(seen.size);
    const oldRoot = base64(seen.rootHash);
    try {
      if (oldSize > checkpoint.size) throw new Error("the log shrank");
      const proof = oldSize === checkpoint.size
          ? [] : await consistencyProof(tree.treeId, oldSize, checkpoint.size);
      await verifyConsistency(oldSize, checkpoint.size, proof, oldRoot,
                              checkpoint.rootHash);
      nav.live();
      consistency.append(verdict("consistency-verdict", true,
          `consistent with the checkpoint of size ${oldSize} seen before`));
    } catch (e) {
      if (e instanceof Superseded) throw e;
      consistency.append(verdict("consistency-verdict", false,
          `INVALID: not an extension of size ${oldSize} seen before: ${e}`));
      return null;  // A split view: keep the old checkpoint as the one remembered.
    }
  }
  rememberCheckpoint(tree.origin, {size: checkpoint.size.toString(),
                                   rootHash: toBase64(checkpoint.rootHash)});
  return checkpoint;
}
