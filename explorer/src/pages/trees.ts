// The trees this server holds: logs link to their checkpoints and leaves,
// maps to their lookups.
import {listTrees} from "../api.js";
import {element, Navigation} from "../dom.js";

export async function treesPage(nav: Navigation, app: HTMLElement) {
  app.replaceChildren(element("h1", {}, "Trees"));
  const trees = await listTrees();
  nav.live();
  const rows = trees.map((tree) => element(
      "tr", {},
      element("td", {}, element("a", {
        href: `#/${tree.treeType === "MAP" ? "maps" : "logs"}/${tree.treeId}`,
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
