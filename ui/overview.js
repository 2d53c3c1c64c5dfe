// Every account on one screen: every live session, newest activity first, filtered by
// account or "suspicious only", several signed out together.

import * as api from "./api.js";
import { $, $button, $input, $select, confirmAction, count, el, errorText, exact, note, relative, setText, showError } from "./dom.js";
import { busy } from "./nav.js";
import { labelOf, state } from "./state.js";

/** @typedef {import("./bindings").AccountView} AccountView */
/** @typedef {import("./bindings").Session} Session */
/** @typedef {{ view: AccountView, session: Session }} Row */

/** Selected rows, by "account/session". @type {Set<string>} */
const selected = new Set();

/** @param {Row} row */
const keyOf = ({ view, session }) => `${view.account.id}/${session.id}`;

/** Every live session of every account, newest activity first, as the filters say. */
function rows() {
  const account = $select("overview-account").value;
  const suspiciousOnly = $input("overview-suspicious").checked;
  /** @type {Row[]} */
  const found = [];
  for (const id of state.order) {
    const view = state.accounts.get(id);
    if (!view || (account && account !== id)) continue;
    for (const session of view.snapshot?.sessions ?? []) {
      if (suspiciousOnly && !view.suspicious?.[session.id]) continue;
      found.push({ view, session });
    }
  }
  /** @param {Session} s */
  const at = (s) => (s.lastActiveAt ? Date.parse(s.lastActiveAt) : -Infinity);
  found.sort((a, b) => at(b.session) - at(a.session));
  return found;
}

/**
 * @typedef {{
 *   row: HTMLTableRowElement,
 *   cells: { box: HTMLInputElement, account: HTMLElement, device: HTMLElement, place: HTMLElement, active: HTMLElement, flags: HTMLElement },
 * }} Made
 */

/** Rows by "account/session", made once and updated in place: a view arriving every few
 * seconds must not replace the checkbox under the pointer. @type {Map<string, Made>} */
const made = new Map();

/** @param {string} key */
function rowFor(key) {
  const known = made.get(key);
  if (known) return known;
  const box = el("input", {
    type: "checkbox",
    onchange: () => {
      if (box.checked) selected.add(key);
      else selected.delete(key);
      renderSelection();
    },
  });
  const cells = {
    box,
    account: el("td", {}),
    device: el("td", { class: "c-device" }),
    place: el("td", { class: "c-place" }),
    active: el("td", { class: "c-time" }),
    flags: el("td", { class: "flags" }),
  };
  const row = el("tr", { dataset: { key } },
    el("td", { class: "c-select" }, box), cells.account, cells.device, cells.place, cells.active, cells.flags);
  const entry = { row, cells };
  made.set(key, entry);
  return entry;
}

/** Rows keep the places they are shown in while the pointer is over the table or a row is
 * selected: our own sessions' activity moves at every poll, and a row jumping away between
 * aiming and clicking would select the wrong session. New rows go below; the order is newest
 * activity first again once the pointer leaves with nothing selected.
 * @param {Row[]} found newest activity first */
function holdOrder(found) {
  const table = $("overview-rows").closest("table");
  if (!table?.matches(":hover") && selected.size === 0) return found;
  const place = new Map([...$("overview-rows").children].map((row, i) => [/** @type {HTMLElement} */ (row).dataset.key, i]));
  const placed = found.filter((r) => place.has(keyOf(r)));
  placed.sort((a, b) => (place.get(keyOf(a)) ?? 0) - (place.get(keyOf(b)) ?? 0));
  return [...placed, ...found.filter((r) => !place.has(keyOf(r)))];
}

export function renderOverview() {
  $("overview-view").hidden = state.view !== "overview";
  if (state.view !== "overview") return;
  const filter = $select("overview-account");
  const labels = state.order.map((id) => `${id}\u0000${labelOf(id)}`).join("\n");
  if (filter.dataset.accounts !== labels) {
    const chosen = filter.value;
    filter.dataset.accounts = labels;
    filter.replaceChildren(el("option", { value: "" }, "All accounts"),
      ...state.order.map((id) => el("option", { value: id }, labelOf(id))));
    filter.value = chosen;
  }
  const shownRows = holdOrder(rows());
  const shown = new Set(shownRows.map(keyOf));
  for (const key of [...selected]) if (!shown.has(key)) selected.delete(key);
  for (const key of [...made.keys()]) if (!shown.has(key)) made.delete(key);
  const ordered = shownRows.map((r) => {
    const { view, session } = r;
    const key = keyOf(r);
    const { row, cells } = rowFor(key);
    const findings = view.suspicious?.[session.id] ?? null;
    row.classList.toggle("suspicious", Boolean(findings));
    row.dataset.device = session.device.label;
    cells.box.checked = selected.has(key);
    // Session Warden's own session is listed, never signed out from here.
    cells.box.disabled = session.isCurrent;
    cells.box.setAttribute("aria-label", `Select ${session.device.label} on ${view.account.label}`);
    setText(cells.account, view.account.label);
    setText(cells.device, session.device.label);
    setText(cells.place, [session.locationShown, session.ip].filter(Boolean).join(" · ") || "—");
    setText(cells.active, relative(session.lastActiveAt), exact(session.lastActiveAt));
    setText(cells.flags, [session.isCurrent ? "this app" : null, findings ? findings.map((f) => f.reason).join("; ") : null,
      session.unreadable]
      .filter(Boolean).join(" · "));
    cells.flags.classList.toggle("suspicious", Boolean(findings));
    return row;
  });
  const body = $("overview-rows");
  const same = ordered.length === body.children.length && ordered.every((row, i) => body.children[i] === row);
  if (!same) body.replaceChildren(...ordered);
  const accounts = new Set(shownRows.map((r) => r.view.account.id)).size;
  $("overview-summary").textContent = `${count(shownRows.length, "session")} on ${count(accounts, "account")}, newest activity first`;
  renderSelection();
}

function renderSelection() {
  const n = selected.size;
  const button = $button("overview-sign-out");
  button.disabled = n === 0;
  // Unchanged text is not written again: a new text node under a pressed pointer loses the click.
  setText(button, n === 0 ? "Sign out selected" : `Sign out ${n} selected`);
}

export function selectAllShown() {
  const all = $input("overview-all").checked;
  for (const r of rows()) {
    if (r.session.isCurrent) continue;
    if (all) selected.add(keyOf(r));
    else selected.delete(keyOf(r));
  }
  renderOverview();
}

export async function signOutSelected() {
  const chosen = rows().filter((r) => selected.has(keyOf(r)));
  if (chosen.length === 0) return;
  const names = chosen.map(({ view, session }) => `${session.device.label}${session.ip ? ` (${session.ip})` : ""} on ${view.account.label}`);
  const warnings = [...new Set(chosen.map(({ view }) => view.revokeWarning).filter(Boolean))];
  const yes = await confirmAction(
    `Sign out ${count(chosen.length, "session")}?`,
    `These will be signed out: ${names.join("; ")}.${warnings.length ? ` ${warnings.join(" ")}` : ""}`,
    "Sign out");
  if (!yes) return;
  $("overview-error").hidden = true;
  /** @type {string[]} */
  const failed = [];
  let ended = 0;
  await busy("overview", async () => {
    for (const r of chosen) {
      try {
        await api.revokeSession(r.view.account.id, r.session.id);
        selected.delete(keyOf(r));
        ended += 1;
      } catch (error) {
        failed.push(`${r.session.device.label} on ${r.view.account.label}: ${errorText(error)}`);
      }
    }
    return true;
  });
  // Each row leaves with its account's next view, which core sends.
  note($("overview-note"), `Signed out ${count(ended, "session")}; each checked gone.`);
  if (failed.length) showError($("overview-error"), `Not signed out: ${failed.join("; ")}`);
  renderOverview();
}
