// Small DOM and formatting helpers shared by the pages.

export function element<K extends keyof HTMLElementTagNameMap>(
    tag: K, attributes: Record<string, string> = {},
    ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

// A check's outcome: valid, invalid, or pending (null: nothing to check).
export function verdict(testId: string, valid: boolean | null, text: string) {
  const state = valid === null ? "pending" : valid ? "valid" : "invalid";
  return element("span", {class: `verdict ${state}`, "data-testid": testId,
                          "data-verdict": state}, text);
}

// A two-column table of labelled values.
export function facts(rows: [string, Node | string][], testId = "") {
  return element("table", testId ? {"data-testid": testId} : {},
      ...rows.map(([label, value]) => element("tr", {},
          element("th", {}, label), element("td", {}, value))));
}

export const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
export const toHex = (bytes: Uint8Array) =>
    Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

// Printable UTF-8 as text, anything else as hex.
export function showValue(bytes: Uint8Array): string {
  const text = new TextDecoder("utf-8", {fatal: false}).decode(bytes);
  return /^[\x20-\x7e\u00a0-\uffff\n\t]*$/.test(text) && !text.includes("\ufffd")
      ? text : `0x${toHex(bytes)}`;
}

// Unix nanoseconds or seconds as an ISO time.
export function isoTime(value: bigint, unit: "s" | "ns"): string {
  const millis = unit === "s" ? value * 1000n : value / 1000000n;
  const date = new Date(Number(millis));
  return Number.isNaN(date.getTime()) ? value.toString() : date.toISOString();
}

// Each navigation starts a new page; output of an older one is dropped.
export class Superseded extends Error {}
export class Navigation {
  private static latest = 0;
  readonly page = ++Navigation.latest;
  // Whether this is still the page shown.
  get current() {
    return this.page === Navigation.latest;
  }
  // Throws Superseded once another page is shown.
  live() {
    if (!this.current) throw new Superseded();
  }
}
