// What every part of the window uses to build and change the page: finding its elements
// by id (typed by what index.html puts there), making elements, writing text only when it
// changes, saying things, asking a question, and times in the person's own words.

/** @param {string} id */
export const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** @param {string} id */
export const $button = (id) => /** @type {HTMLButtonElement} */ ($(id));
/** @param {string} id */
export const $dialog = (id) => /** @type {HTMLDialogElement} */ ($(id));
/** @param {string} id */
export const $form = (id) => /** @type {HTMLFormElement} */ ($(id));
/** @param {string} id */
export const $input = (id) => /** @type {HTMLInputElement} */ ($(id));
/** @param {string} id */
export const $select = (id) => /** @type {HTMLSelectElement} */ ($(id));

/** @typedef {Node | string | null | undefined} Child */

/**
 * An element with its attributes, listeners (`onclick`…), class and dataset.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown>} [props]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

/**
 * Writes text (and a hover title) only when it changes: WebKit loses a click whose text node
 * is replaced under the pressed pointer, and a refresh every few seconds would do that.
 * @param {HTMLElement} node @param {string} text @param {string} [title]
 */
export function setText(node, text, title) {
  if (node.textContent !== text) node.textContent = text;
  if (title !== undefined && node.title !== title) node.title = title;
}

/** @param {HTMLElement} node @param {string} text */
export function note(node, text) {
  node.textContent = text;
  node.hidden = false;
}

/** What went wrong, in the engine's words, whatever was thrown. @param {unknown} error */
export function errorText(error) {
  const message = /** @type {{ message?: unknown } | null} */ (error)?.message;
  return typeof message === "string" ? message : String(error);
}

// The engine's messages are written to follow a colon ("cannot reach …"); shown alone,
// they start a sentence.
/** @param {HTMLElement} node @param {unknown} error */
export function showError(node, error) {
  const text = errorText(error);
  node.textContent = text.charAt(0).toUpperCase() + text.slice(1);
  node.hidden = false;
}

/**
 * A modal question; resolves true on Confirm. Escape or Cancel say no.
 * @param {string} title @param {string} text @param {string} yes
 * @returns {Promise<boolean>}
 */
export function confirmAction(title, text, yes) {
  const dialog = $dialog("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $button("confirm-yes").textContent = yes;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

/** "1 session", "3 sessions". @param {number} n @param {string} noun */
export function count(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

// "5 minutes ago", "in 3 days", in the person's language: the browser's own formatter.
const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "always" });

/**
 * @param {string | null} iso
 * @param {boolean} [future] a time to come (an expiry): "soon" rather than "just now"
 */
export function relative(iso, future = false) {
  if (!iso) return "—";
  const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
  const away = Math.abs(seconds);
  if (away < 45) return future ? "soon" : "just now";
  /** @type {[number, Intl.RelativeTimeFormatUnit]} */
  const [n, unit] =
    away < 3600 ? [seconds / 60, "minute"]
    : away < 86400 ? [seconds / 3600, "hour"]
    : [seconds / 86400, "day"];
  const rounded = Math.round(n) || Math.sign(n);
  return RELATIVE.format(rounded, unit);
}

/** @param {string | null} iso */
export function exact(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

/** @typedef {[string, Record<string, string | number>][]} Shapes */

// Device icons as SVG shapes (no icon font or emoji font is guaranteed on a desktop).
/** @type {Record<import("./bindings").DeviceKind, Shapes>} */
const KIND_SHAPES = {
  desktop: [["rect", { x: 3, y: 4, width: 18, height: 12, rx: 1.5 }], ["path", { d: "M9 20h6M12 16v4" }]],
  mobile: [["rect", { x: 7, y: 2.5, width: 10, height: 19, rx: 2 }], ["path", { d: "M11 18h2" }]],
  tablet: [["rect", { x: 4, y: 3, width: 16, height: 18, rx: 2 }], ["path", { d: "M11 18h2" }]],
  tv: [["rect", { x: 2.5, y: 4, width: 19, height: 13, rx: 1.5 }], ["path", { d: "M8 21h8" }]],
  token: [["circle", { cx: 8, cy: 12, r: 4 }], ["path", { d: "M12 12h9M18 12v3M21 12v2" }]],
  unknown: [["circle", { cx: 12, cy: 12, r: 9 }], ["path", { d: "M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.7.3-1 .8-1 1.5M12 17h.01" }]],
};

/** @param {import("./bindings").DeviceKind} kind */
export function kindIcon(kind) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 24 24", width: 18, height: 18, fill: "none", stroke: "currentColor", "stroke-width": 1.8, "stroke-linecap": "round", "aria-hidden": "true" })) {
    svg.setAttribute(k, String(v));
  }
  for (const [tag, attrs] of KIND_SHAPES[kind] ?? KIND_SHAPES.unknown) {
    const shape = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) shape.setAttribute(k, String(v));
    svg.append(shape);
  }
  return svg;
}
