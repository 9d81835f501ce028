// The explorer's router: trees, a log (checkpoint, witnesses, leaves), a
// record (verdict or SVID issuance, followed to its evidence), and map
// lookups. Every page checks what it shows with WebCrypto against keys
// pinned in this browser.
import {element, Navigation, Superseded} from "./dom.js";
import {logPage} from "./pages/log.js";
import {mapPage} from "./pages/map.js";
import {recordPage} from "./pages/record.js";
import {treesPage} from "./pages/trees.js";

const app = document.getElementById("app")!;

async function route() {
  const nav = new Navigation();
  const path = location.hash.replace(/^#/, "") || "/";
  const log = /^\/logs\/(\d{1,19})$/.exec(path);
  const record = /^\/records\/(\d{1,19})\/([0-9a-f]{64})$/.exec(path);
  const map = /^\/maps\/(\d{1,19})(?:\?key=(.*))?$/.exec(path);
  try {
    if (log !== null) {
      await logPage(log[1], nav, app);
    } else if (record !== null) {
      await recordPage(record[1], record[2], nav, app);
    } else if (map !== null) {
      await mapPage(map[1], map[2] === undefined ? null : decodeURIComponent(map[2]),
                    nav, app);
    } else {
      await treesPage(nav, app);
    }
  } catch (e) {
    if (e instanceof Superseded || !nav.current) return;
    app.append(element("p", {class: "error", "data-testid": "page-error"},
                       String(e)));
  }
}

window.addEventListener("hashchange", route);
route();
