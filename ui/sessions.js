// The list of accounts, and one account's sessions: its table (rows made once, updated in
// place), Revoke, It's me, Rename, Sign out all others, Sign in again, Test, Remove.

import * as api from "./api.js";
import {
  $, $button, $form, $input, confirmAction, count, el, exact, kindIcon, note, relative, setText,
} from "./dom.js";
import { loadDefence, renderSignOuts } from "./defence.js";
import { loadIdle } from "./idle.js";
import { busy, forget, render, select } from "./nav.js";
import { selectedView, state, upsert } from "./state.js";

/** @typedef {import("./bindings").Session} Session */

export function renderSidebar() {
  const list = $("account-list");
  list.replaceChildren(
    ...state.order.flatMap((id) => {
      const view = state.accounts.get(id);
      if (!view) return [];
      // The level and the words are core's (`AccountView.level`, `.summary`).
      return [el("li", {},
        el("button", {
          type: "button",
          "aria-current": String(state.view === "sessions" && id === state.selected),
          "aria-label": `${view.account.label}: ${view.summary}`,
          dataset: { accountId: id, health: view.health, level: view.level },
          onclick: () => select(id),
        },
          el("span", { class: "account-name" }, el("span", { class: `dot ${view.level}`, "aria-hidden": "true" }), view.account.label),
          el("span", { class: `state ${view.level}` }, view.summary)))];
    }),
  );
  /** @type {[HTMLButtonElement, import("./state.js").Screen][]} */
  const views = [[$button("show-history"), "history"], [$button("show-settings"), "settings"], [$button("show-overview"), "overview"]];
  $button("show-overview").hidden = state.order.length < 2;
  for (const [button, view] of views) {
    button.setAttribute("aria-current", String(state.view === view));
  }
}

/**
 * A row's cells, made once.
 * @typedef {{
 *   kind: HTMLElement, name: HTMLElement, label: HTMLElement, current: HTMLElement,
 *   flag: HTMLElement, reasons: HTMLElement, meta: HTMLElement, renameSlot: HTMLElement,
 *   ip: HTMLElement, place: HTMLElement, created: HTMLElement, active: HTMLElement,
 *   expires: HTMLElement, action: HTMLElement,
 *   controls?: { trust: HTMLButtonElement, rename: HTMLButtonElement, revoke: HTMLButtonElement },
 *   editing?: boolean,
 * }} RowCells
 */

/** @type {WeakMap<Element, RowCells>} <tr> -> its cells */
const rowCells = new WeakMap();

// A row's elements are made once and then updated in place: a refresh every few seconds
// must not replace the button under the user's pointer, or the element a keyboard has focused.
/** @param {string} accountId @param {Session} session */
function sessionRow(accountId, session) {
  /** @type {RowCells} */
  const c = {
    kind: el("span", { class: "kind" }),
    name: el("span", { class: "name" }),
    label: el("span", { class: "label" }),
    current: el("span", { class: "badge current", title: "The session Session Warden itself is signed in with" }, "This app"),
    flag: el("span", { class: "badge warn" }, "Suspicious"),
    reasons: el("ul", { class: "reasons" }),
    meta: el("span", { class: "meta" }),
    renameSlot: el("span"),
    ip: el("td", { class: "mono" }),
    place: el("td", { class: "place" }),
    created: el("td", { class: "time" }),
    active: el("td", { class: "time" }),
    expires: el("td", { class: "time" }),
    action: el("td", { class: "row-actions" }),
  };
  const row = el("tr", {},
    el("td", {},
      el("div", { class: "device" }, c.kind,
        el("div", { class: "device-text" },
          el("div", {}, c.name, c.current, c.flag), el("div", { class: "meta-line" }, c.meta, c.renameSlot), c.label, c.reasons))),
    c.ip, c.place, c.created, c.active, c.expires, c.action);
  rowCells.set(row, c);
  if (!session.isCurrent) {
    c.controls = {
      trust: el("button", { type: "button", class: "secondary small trust" }, "It's me"),
      rename: el("button", { type: "button", class: "link rename" }, "Rename"),
      revoke: el("button", { type: "button", class: "revoke" }, "Revoke"),
    };
    c.renameSlot.append(c.controls.rename);
    c.action.append(c.controls.trust, c.controls.revoke);
  }
  fillRow(row, accountId, session);
  return row;
}

/** @param {HTMLTableRowElement} row @param {string} accountId @param {Session} session */
function fillRow(row, accountId, session) {
  const c = rowCells.get(row);
  if (!c) return;
  const view = state.accounts.get(accountId);
  const findings = view?.suspicious?.[session.id] ?? null;
  const name = session.device.label;
  row.dataset.sessionId = session.id;
  row.dataset.device = name;
  row.classList.toggle("suspicious", Boolean(findings));
  row.classList.toggle("focused", state.focusSession === session.id);
  if (c.kind.dataset.kind !== session.device.kind) {
    c.kind.dataset.kind = session.device.kind;
    c.kind.title = session.device.kind;
    c.kind.replaceChildren(kindIcon(session.device.kind));
  }
  setText(c.name, name);
  setText(c.label, session.label ? `“${session.label}”` : "");
  c.label.hidden = !session.label;
  c.current.hidden = !session.isCurrent;
  c.flag.hidden = !findings;
  // The findings, and what the server sent of this session that could not be read.
  const lines = (findings ?? []).map((f) => ({ cls: f.severity, text: f.reason }))
    .concat(session.unreadable ? [{ cls: "notice", text: session.unreadable }] : []);
  const reasons = lines.map((l) => l.text).join("\n");
  if (c.reasons.dataset.text !== reasons) {
    c.reasons.dataset.text = reasons;
    c.reasons.replaceChildren(...lines.map((l) => el("li", { class: l.cls }, l.text)));
  }
  // Browser and OS under the name: the table fits a laptop screen with Revoke in view.
  setText(c.meta, session.isCurrent
    ? "Session Warden's own session"
    : [session.device.browser, session.device.os, session.device.kind === "unknown" ? null : session.device.kind]
      .filter(Boolean).join(" · "));
  // Some APIs rewrite a session's address with every request: it is where it was last seen.
  const known = view?.whatIsKnown ? ` (${view.whatIsKnown})` : "";
  setText(c.ip, session.ip ?? "—",
    session.ip && view?.addressIsLastSeen ? `${session.ip}: where it was last seen, not where it signed in${known}` : session.ip ?? "");
  // Where it is and whose network: "Berlin, DE · Deutsche Telekom AG"; the AS on hover.
  const operator = session.operator;
  // Core says how sure the place is: "Berlin, DE", "near Berlin, DE", or "Germany".
  setText(c.place, [session.locationShown, operator?.name].filter(Boolean).join(" · ") || "—",
    operator ? `${operator.name}${operator.asn ? ` (AS${operator.asn})` : ""}${operator.hosting ? ", a hosting provider" : ""}` : "");
  setText(c.created, relative(session.createdAt), exact(session.createdAt));
  // What the API knows of activity (Better Auth: to the day; Home Assistant: renewals), on
  // hover, in core's words.
  setText(c.active, relative(session.lastActiveAt),
    session.lastActiveAt ? `${exact(session.lastActiveAt)}${known}` : "");
  setText(c.expires, relative(session.expiresAt, true), exact(session.expiresAt));
  if (c.controls) {
    const { trust: trustButton, rename: renameButton, revoke: revokeButton } = c.controls;
    const who = `${name}${session.ip ? ` at ${session.ip}` : ""}`;
    const revoking = state.busy.has(`revoke:${session.id}`);
    revokeButton.onclick = () => revoke(accountId, session);
    revokeButton.disabled = revoking;
    revokeButton.setAttribute("aria-label", `Revoke ${who}`);
    setText(revokeButton, revoking ? "Revoking…" : "Revoke");
    trustButton.onclick = () => trust(accountId, session);
    trustButton.disabled = state.busy.has(`trust:${session.id}`);
    trustButton.setAttribute("aria-label", `It's me: trust ${who}`);
    renameButton.onclick = () => rename(accountId, session);
    renameButton.setAttribute("aria-label", `Rename ${who}`);
  }
}

export function renderSessions() {
  const view = selectedView();
  $("sessions-view").hidden = state.view !== "sessions" || !view;
  if (!view || state.view !== "sessions") return;
  $("account-title").textContent = view.account.label;
  loadIdle(view.account.id);
  loadDefence(view.account.id);
  renderSignOuts(view.account.id, view.signOuts);
  const until = view.signedInUntil
    ? ` · signed in until ${new Date(view.signedInUntil).toLocaleString([], { dateStyle: "medium", timeStyle: "short" })}`
    : "";
  $("account-meta").textContent = `${view.account.login} · ${view.account.dialect} · ${view.account.baseUrl}${until}`;
  const status = $("account-status");
  if (view.stale) {
    status.textContent = `Cannot check since ${new Date(view.stale.since).toLocaleTimeString()}: ${view.stale.error}`;
    status.className = "status stale";
  } else if (view.snapshot) {
    status.textContent = `Checked ${new Date(view.snapshot.fetchedAt).toLocaleTimeString()}`;
    status.className = "status";
  } else {
    status.textContent = view.summary;
    status.className = "status";
  }
  const caveat = $("account-caveat");
  caveat.hidden = !view.caveat;
  caveat.textContent = view.caveat ?? "";
  const reauth = $form("reauth");
  reauth.hidden = view.health !== "needs-sign-in";
  if (!reauth.hidden) {
    const passwordLabel = view.signIn.passwordLabel;
    $("reauth-text").textContent = view.signIn.signInAgain;
    $input("reauth-password").hidden = passwordLabel === null;
    $("reauth-password-label").hidden = passwordLabel === null;
    $("reauth-password-label").textContent = passwordLabel === null ? "" : `New ${passwordLabel.toLowerCase()}`;
  }
  const sessions = view.snapshot ? view.snapshot.sessions : [];
  $("sessions-empty").hidden = Boolean(view.snapshot);
  $button("sign-out-others").disabled = !sessions.some((s) => !s.isCurrent) || state.busy.has("others");
  // Keyed update: rows that stay keep their element, so nothing jumps or loses focus.
  const body = /** @type {HTMLTableSectionElement} */ ($("session-rows"));
  const existing = new Map([...body.rows].map((row) => [row.dataset.sessionId, row]));
  const rows = sessions.map((session) => {
    const row = existing.get(session.id);
    if (!row) return sessionRow(view.account.id, session);
    existing.delete(session.id);
    fillRow(row, view.account.id, session);
    return row;
  });
  for (const gone of existing.values()) gone.remove();
  rows.forEach((row, i) => {
    if (body.rows[i] !== row) body.insertBefore(row, body.rows[i] ?? null);
  });
}

/** @param {string} accountId @param {Session} session */
async function revoke(accountId, session) {
  // Where signing out costs more than the session (a Matrix device's encryption keys),
  // the person reads what before it happens.
  const warning = state.accounts.get(accountId)?.revokeWarning;
  if (warning && !(await confirmAction(`Sign out ${session.device.label}?`, warning, "Sign out"))) return;
  const done = await busy(`revoke:${session.id}`, () => api.revokeSession(accountId, session.id));
  // The engine listed again and the session is gone; the row goes with the account's next
  // view, which core sends (the window never edits its own copy of a view).
  if (done) {
    note($("sessions-note"), `Signed out ${session.device.label}.`);
    render();
  }
}

export async function signOutOthers() {
  const view = selectedView();
  if (!view) return;
  const others = (view.snapshot?.sessions ?? []).filter((s) => !s.isCurrent);
  const yes = await confirmAction(
    "Sign out all other devices?",
    `${count(others.length, "device")} on ${view.account.label} will be signed out. Only Session Warden stays signed in.${view.revokeWarning ? ` ${view.revokeWarning}` : ""}`,
    "Sign out all others");
  if (!yes) return;
  const ended = await busy("others", () => api.signOutOthers(view.account.id));
  if (ended !== undefined) {
    note($("sessions-note"), `Signed out ${count(ended, "other device")}.`);
    render();
  }
}

/** @param {string} accountId @param {Session} session */
async function trust(accountId, session) {
  const done = await busy(`trust:${session.id}`, () => api.trustSession(accountId, session.id));
  if (done) {
    // What trusting does is core's sentence (`tell::message::TRUSTED`), as the CLI says it.
    note($("sessions-note"), `${session.device.label} is trusted: ${state.words.trusted}.`);
    render();
  }
}

/** @param {string} accountId @param {Session} session */
function rename(accountId, session) {
  const row = $("session-rows").querySelector(`tr[data-session-id="${CSS.escape(session.id)}"]`);
  const c = row ? rowCells.get(row) : undefined;
  if (!c?.controls || c.editing) return;
  const renameButton = c.controls.rename;
  c.editing = true;
  // Matrix keeps device names on the server: Rename edits that name, for every client.
  const onServer = state.accounts.get(accountId)?.renamesOnServer ?? false;
  const current = onServer ? session.device.label : (session.label ?? "");
  const input = el("input", { type: "text", class: "rename-input", value: current, "aria-label": `Name for ${session.device.label}` });
  c.label.hidden = false;
  c.label.replaceChildren(input);
  input.focus();
  /** @param {boolean} save */
  const finish = async (save) => {
    if (!c.editing) return;
    c.editing = false;
    const label = input.value.trim();
    c.label.replaceChildren();
    if (save) {
      // The new name arrives with the account's next view, which core sends at once.
      await busy(`label:${session.id}`, () => api.setLabel(accountId, session.id, label));
    }
    render();
    renameButton.focus();
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") finish(true);
    if (e.key === "Escape") finish(false);
  });
  input.addEventListener("blur", () => finish(true));
}

export async function removeAccount() {
  const view = selectedView();
  if (!view) return;
  const yes = await confirmAction(
    `Remove ${view.account.label}?`,
    "Session Warden signs its own session out, forgets the password (from the keyring) and stops watching. The history stays.",
    "Remove account");
  if (!yes) return;
  const done = await busy("remove", async () => {
    await api.removeAccount(view.account.id);
    return true;
  });
  if (!done) return;
  forget(view.account.id);
}

export async function testAccount() {
  const view = selectedView();
  if (!view) return;
  const n = await busy("test", () => api.testAccount(view.account.id));
  if (n !== undefined) note($("sessions-note"), `Connected: ${count(n, "session")} listed.`);
}

/** @param {SubmitEvent} event */
export async function signInAgain(event) {
  event.preventDefault();
  const view = selectedView();
  if (!view) return;
  const password = $input("reauth-password");
  const done = await busy("reauth", () => api.signInAgain(view.account.id, password.value || null));
  password.value = "";
  if (done) {
    upsert(done);
    note($("sessions-note"), "Signed in again.");
    render();
  }
}

/**
 * A notification's "Open" points at a session: select its account and bring it into view.
 * @param {import("./bindings").Focus | null} focus
 */
export function focusOn(focus) {
  if (!focus?.account || !state.accounts.has(focus.account)) return;
  state.focusSession = focus.session ?? null;
  select(focus.account);
  const row = focus.session && $("session-rows").querySelector(`tr[data-session-id="${CSS.escape(focus.session)}"]`);
  if (row) {
    row.scrollIntoView({ block: "center" });
    /** @type {HTMLElement} */ (row.querySelector("button.revoke") ?? row).focus();
  }
}
