// @ts-check
// Session Warden's window. It renders what the engine reports and sends clicks back as
// commands; it never sees a secret except what the person types (a password, a code),
// which it hands over at once and clears.
"use strict";

// The shapes of what crosses IPC are generated from the Rust types (ui/bindings.d.ts,
// checked by a test in CI); an editor with TypeScript support reads them from here.
/** @typedef {import("./bindings").AccountView} AccountView */
/** @typedef {import("./bindings").Session} Session */
/** @typedef {import("./bindings").HistoryEntry} HistoryEntry */
/** @typedef {import("./bindings").Settings} Settings */
/** @typedef {import("./bindings").UiError} UiError */
/** @typedef {import("./bindings").Question} Question */
/** @typedef {import("./bindings").SignInForm} SignInForm */
/** @typedef {import("./bindings").DialectChoice} DialectChoice */
/** @typedef {import("./bindings").IdlePolicy} IdlePolicy */
/** @typedef {import("./bindings").IdlePlan} IdlePlan */

const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;

const state = {
  /** @type {Map<string, AccountView>} */
  accounts: new Map(), // account id -> AccountView
  order: [],
  selected: null,
  view: "sessions", // sessions | add | history | settings
  busy: new Set(), // "<action>:<session id>" in flight
  focusSession: null, // a session a notification pointed at
  /** @type {HistoryEntry[]} */
  history: [],
};

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
// Typed by what the page's ids name (index.html), so the checker knows an input has a value
// and a dialog opens.
/** @param {string} id */
const $button = (id) => /** @type {HTMLButtonElement} */ ($(id));
/** @param {string} id */
const $dialog = (id) => /** @type {HTMLDialogElement} */ ($(id));
/** @param {string} id */
const $form = (id) => /** @type {HTMLFormElement} */ ($(id));
/** @param {string} id */
const $input = (id) => /** @type {HTMLInputElement} */ ($(id));
/** @param {string} id */
const $select = (id) => /** @type {HTMLSelectElement} */ ($(id));

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// "5 minutes ago", "in 3 days", in the person's language: the browser's own formatter.
const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "always" });

/**
 * @param {string | null} iso
 * @param {boolean} [future] a time to come (an expiry): "soon" rather than "just now"
 */
function relative(iso, future = false) {
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

function exact(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

// Device icons as SVG shapes (no icon font or emoji font is guaranteed on a desktop).
const KIND_SHAPES = {
  desktop: [["rect", { x: 3, y: 4, width: 18, height: 12, rx: 1.5 }], ["path", { d: "M9 20h6M12 16v4" }]],
  mobile: [["rect", { x: 7, y: 2.5, width: 10, height: 19, rx: 2 }], ["path", { d: "M11 18h2" }]],
  tablet: [["rect", { x: 4, y: 3, width: 16, height: 18, rx: 2 }], ["path", { d: "M11 18h2" }]],
  tv: [["rect", { x: 2.5, y: 4, width: 19, height: 13, rx: 1.5 }], ["path", { d: "M8 21h8" }]],
  token: [["circle", { cx: 8, cy: 12, r: 4 }], ["path", { d: "M12 12h9M18 12v3M21 12v2" }]],
  unknown: [["circle", { cx: 12, cy: 12, r: 9 }], ["path", { d: "M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.7.3-1 .8-1 1.5M12 17h.01" }]],
};

function kindIcon(kind) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 24 24", width: 18, height: 18, fill: "none", stroke: "currentColor", "stroke-width": 1.8, "stroke-linecap": "round", "aria-hidden": "true" })) {
    svg.setAttribute(k, String(v));
  }
  for (const [tag, attrs] of KIND_SHAPES[kind] ?? KIND_SHAPES.unknown) {
    const shape = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) shape.setAttribute(k, v);
    svg.append(shape);
  }
  return svg;
}

const HEALTH_TEXT = {
  connecting: () => "Connecting…",
  ok: (v) => {
    const n = v.snapshot.sessions.length;
    const flagged = Object.keys(v.suspicious ?? {}).length;
    return flagged ? `${flagged} suspicious` : `${n} session${n === 1 ? "" : "s"}`;
  },
  stale: (v) => `Stale since ${new Date(v.stale.since).toLocaleTimeString()}`,
  "needs-sign-in": () => "Needs sign-in",
};

function healthOf(view) {
  if (view.health === "ok" && Object.keys(view.suspicious ?? {}).length) return "alert";
  return view.health;
}

function renderSidebar() {
  const list = $("account-list");
  list.replaceChildren(
    ...state.order.map((id) => {
      const view = state.accounts.get(id);
      const health = healthOf(view);
      const text = HEALTH_TEXT[view.health](view);
      return el("li", {},
        el("button", {
          type: "button",
          "aria-current": String(state.view === "sessions" && id === state.selected),
          "aria-label": `${view.account.label}: ${text}`,
          dataset: { accountId: id, health },
          onclick: () => select(id),
        },
          el("span", { class: "account-name" }, el("span", { class: `dot ${health}`, "aria-hidden": "true" }), view.account.label),
          el("span", { class: `state ${health}` }, text)));
    }),
  );
  /** @type {[HTMLButtonElement, string][]} */
  const views = [[$button("show-history"), "history"], [$button("show-settings"), "settings"], [$button("show-overview"), "overview"]];
  $button("show-overview").hidden = state.order.length < 2;
  for (const [button, view] of views) {
    button.setAttribute("aria-current", String(state.view === view));
  }
}

const rowCells = new WeakMap(); // <tr> -> its cells, made once

// A row's elements are made once and then updated in place: a refresh every few seconds
// must not replace the button under the user's pointer, or the element a keyboard has focused.
function sessionRow(accountId, session) {
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
    c.trust = el("button", { type: "button", class: "secondary small trust" }, "It's me");
    c.rename = el("button", { type: "button", class: "link rename" }, "Rename");
    c.button = el("button", { type: "button", class: "revoke" }, "Revoke");
    c.renameSlot.append(c.rename);
    c.action.append(c.trust, c.button);
  }
  fillRow(row, accountId, session);
  return row;
}

function setText(node, text, title) {
  if (node.textContent !== text) node.textContent = text;
  if (title !== undefined && node.title !== title) node.title = title;
}

function fillRow(row, accountId, session) {
  const c = rowCells.get(row);
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
  if (c.button) {
    const who = `${name}${session.ip ? ` at ${session.ip}` : ""}`;
    const revoking = state.busy.has(`revoke:${session.id}`);
    c.button.onclick = () => revoke(accountId, session);
    c.button.disabled = revoking;
    c.button.setAttribute("aria-label", `Revoke ${who}`);
    setText(c.button, revoking ? "Revoking…" : "Revoke");
    c.trust.onclick = () => trust(accountId, session);
    c.trust.disabled = state.busy.has(`trust:${session.id}`);
    c.trust.setAttribute("aria-label", `It's me: trust ${who}`);
    c.rename.onclick = () => rename(accountId, session);
    c.rename.setAttribute("aria-label", `Rename ${who}`);
  }
}

function renderSessions() {
  const view = state.accounts.get(state.selected);
  $("sessions-view").hidden = state.view !== "sessions" || !view;
  if (!view || state.view !== "sessions") return;
  $("account-title").textContent = view.account.label;
  loadIdle(view.account.id);
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
    status.textContent = "Connecting…";
    status.className = "status";
  }
  const caveat = $("account-caveat");
  caveat.hidden = !view.caveat;
  caveat.textContent = view.caveat ?? "";
  const reauth = $form("reauth");
  reauth.hidden = view.health !== "needs-sign-in";
  if (!reauth.hidden) {
    const usesPassword = view.signIn.passwordLabel !== null;
    $("reauth-text").textContent = view.signIn.signInAgain;
    $input("reauth-password").hidden = !usesPassword;
    $("reauth-password-label").hidden = !usesPassword;
    $("reauth-password-label").textContent = usesPassword ? `New ${view.signIn.passwordLabel.toLowerCase()}` : "";
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

function render() {
  renderSidebar();
  renderSessions();
  renderOverview();
  $("add-view").hidden = state.view !== "add";
  $("history-view").hidden = state.view !== "history";
  $("settings-view").hidden = state.view !== "settings";
}

function show(view) {
  state.view = view;
  for (const id of ["sessions-error", "sessions-note"]) $(id).hidden = true;
  render();
}

function select(id) {
  if (state.selected !== id) $("session-rows").replaceChildren();
  state.selected = id;
  show("sessions");
}

function showAdd() {
  show("add");
  $button("add-cancel").hidden = state.order.length === 0;
  $input("add-url").focus();
}

// Views reach the window from commands' answers and from events, not always in the order
// they were made: an older one never replaces a newer one.
function upsert(view) {
  const known = state.accounts.get(view.account.id);
  if (!known) state.order.push(view.account.id);
  else if (known.revision > view.revision) return;
  state.accounts.set(view.account.id, view);
}

// The engine's messages are written to follow a colon ("cannot reach …"); shown alone,
// they start a sentence.
function showError(node, error) {
  const text = error?.message ?? String(error);
  node.textContent = text.charAt(0).toUpperCase() + text.slice(1);
  node.hidden = false;
}

function note(node, text) {
  node.textContent = text;
  node.hidden = false;
}

// A modal question; resolves true on Confirm. Escape or Cancel say no.
function confirmAction(title, text, yes) {
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

async function busy(key, work) {
  state.busy.add(key);
  $("sessions-error").hidden = true;
  render();
  try {
    return await work();
  } catch (error) {
    showError($("sessions-error"), error);
    return undefined;
  } finally {
    state.busy.delete(key);
    render();
  }
}

async function revoke(accountId, session) {
  // Where signing out costs more than the session (a Matrix device's encryption keys),
  // the person reads what before it happens.
  const warning = state.accounts.get(accountId)?.revokeWarning;
  if (warning && !(await confirmAction(`Sign out ${session.device.label}?`, warning, "Sign out"))) return;
  const done = await busy(`revoke:${session.id}`, () =>
    invoke("revoke_session", { account: accountId, session: session.id }));
  // The engine listed again and the session is gone; the row goes with the account's next
  // view, which core sends (the window never edits its own copy of a view).
  if (done) {
    note($("sessions-note"), `Signed out ${session.device.label}.`);
    render();
  }
}

async function signOutOthers() {
  const view = state.accounts.get(state.selected);
  if (!view) return;
  const others = (view.snapshot?.sessions ?? []).filter((s) => !s.isCurrent);
  const yes = await confirmAction(
    "Sign out all other devices?",
    `${others.length} device${others.length === 1 ? "" : "s"} on ${view.account.label} will be signed out. Only Session Warden stays signed in.${view.revokeWarning ? ` ${view.revokeWarning}` : ""}`,
    "Sign out all others");
  if (!yes) return;
  const count = await busy("others", () => invoke("sign_out_others", { account: view.account.id }));
  if (count !== undefined) {
    note($("sessions-note"), `Signed out ${count} other device${count === 1 ? "" : "s"}.`);
    render();
  }
}

async function trust(accountId, session) {
  const done = await busy(`trust:${session.id}`, () =>
    invoke("trust_session", { account: accountId, session: session.id }));
  if (done) {
    note($("sessions-note"), `${session.device.label} is trusted: nothing is flagged for it, unless its session is used from elsewhere.`);
    render();
  }
}

async function rename(accountId, session) {
  const row = $("session-rows").querySelector(`tr[data-session-id="${session.id}"]`);
  const c = rowCells.get(row);
  if (!c || c.editing) return;
  c.editing = true;
  // Matrix keeps device names on the server: Rename edits that name, for every client.
  const onServer = state.accounts.get(accountId)?.renamesOnServer ?? false;
  const current = onServer ? session.device.label : (session.label ?? "");
  const input = el("input", { type: "text", class: "rename-input", value: current, "aria-label": `Name for ${session.device.label}` });
  c.label.hidden = false;
  c.label.replaceChildren(input);
  input.focus();
  const finish = async (save) => {
    if (!c.editing) return;
    c.editing = false;
    const label = input.value.trim();
    c.label.replaceChildren();
    if (save) {
      // The new name arrives with the account's next view, which core sends at once.
      await busy(`label:${session.id}`, () => invoke("set_label", { account: accountId, session: session.id, label }));
    }
    render();
    c.rename.focus();
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") finish(true);
    if (e.key === "Escape") finish(false);
  });
  input.addEventListener("blur", () => finish(true));
}

// --- Every account on one screen ---------------------------------------------------------

/** Selected rows of the overview, by "account/session". */
const overviewSelected = new Set();

/** Every live session of every account, newest activity first, as the filters say. */
function overviewRows() {
  const account = $select("overview-account").value;
  const suspiciousOnly = $input("overview-suspicious").checked;
  /** @type {{ view: AccountView, session: Session }[]} */
  const rows = [];
  for (const id of state.order) {
    const view = state.accounts.get(id);
    if (!view || (account && account !== id)) continue;
    for (const session of view.snapshot?.sessions ?? []) {
      if (suspiciousOnly && !view.suspicious?.[session.id]) continue;
      rows.push({ view, session });
    }
  }
  const at = (/** @type {Session} */ s) => (s.lastActiveAt ? Date.parse(s.lastActiveAt) : -Infinity);
  rows.sort((a, b) => at(b.session) - at(a.session));
  return rows;
}

/** Overview rows by "account/session", made once and updated in place: a view arriving
 * every few seconds must not replace the checkbox under the pointer. */
const overviewRowsByKey = new Map();

function overviewRow(key) {
  let entry = overviewRowsByKey.get(key);
  if (entry) return entry;
  const box = el("input", {
    type: "checkbox",
    onchange: () => {
      if (box.checked) overviewSelected.add(key);
      else overviewSelected.delete(key);
      renderOverviewSelection();
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
  entry = { row, cells };
  overviewRowsByKey.set(key, entry);
  return entry;
}

/** Rows keep the places they are shown in while the pointer is over the table or a row is
 * selected: our own sessions' activity moves at every poll, and a row jumping away between
 * aiming and clicking would select the wrong session. New rows go below; the order is newest
 * activity first again once the pointer leaves with nothing selected.
 * @param {{ view: AccountView, session: Session }[]} rows newest activity first */
function holdOverviewOrder(rows) {
  const table = $("overview-rows").closest("table");
  if (!table?.matches(":hover") && overviewSelected.size === 0) return rows;
  const place = new Map([...$("overview-rows").children].map((row, i) => [/** @type {HTMLElement} */ (row).dataset.key, i]));
  const key = (/** @type {{ view: AccountView, session: Session }} */ r) => `${r.view.account.id}/${r.session.id}`;
  const placed = rows.filter((r) => place.has(key(r)));
  placed.sort((a, b) => (place.get(key(a)) ?? 0) - (place.get(key(b)) ?? 0));
  return [...placed, ...rows.filter((r) => !place.has(key(r)))];
}

function renderOverview() {
  $("overview-view").hidden = state.view !== "overview";
  if (state.view !== "overview") return;
  const filter = $select("overview-account");
  const labels = state.order.map((id) => `${id}\u0000${state.accounts.get(id)?.account.label ?? id}`).join("\n");
  if (filter.dataset.accounts !== labels) {
    const chosen = filter.value;
    filter.dataset.accounts = labels;
    filter.replaceChildren(el("option", { value: "" }, "All accounts"),
      ...state.order.map((id) => el("option", { value: id }, state.accounts.get(id)?.account.label ?? id)));
    filter.value = chosen;
  }
  const rows = holdOverviewOrder(overviewRows());
  const shown = new Set(rows.map(({ view, session }) => `${view.account.id}/${session.id}`));
  for (const key of [...overviewSelected]) if (!shown.has(key)) overviewSelected.delete(key);
  for (const key of [...overviewRowsByKey.keys()]) if (!shown.has(key)) overviewRowsByKey.delete(key);
  const ordered = rows.map(({ view, session }) => {
    const key = `${view.account.id}/${session.id}`;
    const { row, cells } = overviewRow(key);
    const findings = view.suspicious?.[session.id] ?? null;
    row.classList.toggle("suspicious", Boolean(findings));
    row.dataset.device = session.device.label;
    cells.box.checked = overviewSelected.has(key);
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
  const accounts = new Set(rows.map((r) => r.view.account.id)).size;
  $("overview-summary").textContent =
    `${rows.length} session${rows.length === 1 ? "" : "s"} on ${accounts} account${accounts === 1 ? "" : "s"}, newest activity first`;
  renderOverviewSelection();
}

function renderOverviewSelection() {
  const n = overviewSelected.size;
  const button = $button("overview-sign-out");
  button.disabled = n === 0;
  // Unchanged text is not written again: a new text node under a pressed pointer loses the click.
  setText(button, n === 0 ? "Sign out selected" : `Sign out ${n} selected`);
}

function selectAllShown() {
  const all = $input("overview-all").checked;
  for (const { view, session } of overviewRows()) {
    if (session.isCurrent) continue;
    const key = `${view.account.id}/${session.id}`;
    if (all) overviewSelected.add(key);
    else overviewSelected.delete(key);
  }
  renderOverview();
}

async function signOutSelected() {
  const chosen = overviewRows().filter(({ view, session }) => overviewSelected.has(`${view.account.id}/${session.id}`));
  if (chosen.length === 0) return;
  const names = chosen.map(({ view, session }) => `${session.device.label}${session.ip ? ` (${session.ip})` : ""} on ${view.account.label}`);
  const warnings = [...new Set(chosen.map(({ view }) => view.revokeWarning).filter(Boolean))];
  const yes = await confirmAction(
    `Sign out ${chosen.length} session${chosen.length === 1 ? "" : "s"}?`,
    `These will be signed out: ${names.join("; ")}.${warnings.length ? ` ${warnings.join(" ")}` : ""}`,
    "Sign out");
  if (!yes) return;
  $("overview-error").hidden = true;
  /** @type {string[]} */
  const failed = [];
  let ended = 0;
  await busy("overview", async () => {
    for (const { view, session } of chosen) {
      try {
        await invoke("revoke_session", { account: view.account.id, session: session.id });
        overviewSelected.delete(`${view.account.id}/${session.id}`);
        ended += 1;
      } catch (error) {
        failed.push(`${session.device.label} on ${view.account.label}: ${/** @type {UiError} */ (error)?.message ?? error}`);
      }
    }
    return true;
  });
  // Each row leaves with its account's next view, which core sends.
  note($("overview-note"), `Signed out ${ended} session${ended === 1 ? "" : "s"}; each checked gone.`);
  if (failed.length) showError($("overview-error"), `Not signed out: ${failed.join("; ")}`);
  renderOverview();
}

// --- The idle policy ------------------------------------------------------------------------

/** The policy the form describes; null for off. @returns {IdlePolicy | null} */
function idleFormPolicy() {
  const after = $select("idle-after").value;
  return after ? { after: /** @type {IdlePolicy["after"]} */ (after), includeTrusted: $input("idle-trusted").checked } : null;
}

let idleShownFor = /** @type {string | null} */ (null);

/** Loads the account's policy into the form, once per account shown. */
async function loadIdle(accountId) {
  if (idleShownFor === accountId) return;
  idleShownFor = accountId;
  /** @type {IdlePolicy | null} */
  const policy = await invoke("idle_policy", { account: accountId });
  $select("idle-after").value = policy?.after ?? "";
  $input("idle-trusted").checked = policy?.includeTrusted ?? false;
  $("idle-state").textContent = policy ? `after ${$select("idle-after").selectedOptions[0].textContent}` : "off";
  $("idle-preview").replaceChildren();
}

/** What the chosen policy would sign out now: seen before it is turned on. */
async function previewIdle() {
  const policy = idleFormPolicy();
  const out = $("idle-preview");
  if (!policy || !state.selected) { out.replaceChildren(); return; }
  try {
    /** @type {IdlePlan} */
    const plan = await invoke("idle_preview", { account: state.selected, policy });
    const list = (/** @type {string} */ title, /** @type {Session[]} */ sessions) => sessions.length
      ? [el("p", {}, title), el("ul", {}, ...sessions.map((s) => el("li", {}, `${s.device.label}${s.ip ? ` (${s.ip})` : ""}, last active ${relative(s.lastActiveAt)}`)))]
      : [];
    out.replaceChildren(
      el("p", { class: "strong" }, plan.ending.length
        ? `It would sign out ${plan.ending.length} session${plan.ending.length === 1 ? "" : "s"} now:`
        : "It would sign out nothing now."),
      ...(plan.ending.length ? [el("ul", { id: "idle-ending" }, ...plan.ending.map((s) => el("li", {}, `${s.device.label}${s.ip ? ` (${s.ip})` : ""}, last active ${relative(s.lastActiveAt)}`)))] : []),
      ...list("Spared, trusted (It's me):", plan.sparedTrusted),
      ...list("Left alone, no last activity known:", plan.unknownActivity),
      ...(plan.note ? [el("p", { class: "muted" }, plan.note)] : []));
  } catch (error) {
    showError($("sessions-error"), error);
  }
}

/** @param {SubmitEvent} event */
async function saveIdle(event) {
  event.preventDefault();
  if (!state.selected) return;
  const policy = idleFormPolicy();
  const saved = await busy("idle", async () => {
    await invoke("set_idle_policy", { account: state.selected, policy });
    return true;
  });
  if (!saved) return;
  $("idle-state").textContent = policy ? `after ${$select("idle-after").selectedOptions[0].textContent}` : "off";
  note($("sessions-note"), policy
    ? `Idle policy on: sessions not used for over ${$select("idle-after").selectedOptions[0].textContent} are signed out at the next check.`
    : "Idle policy off.");
}

async function removeAccount() {
  const view = state.accounts.get(state.selected);
  if (!view) return;
  const yes = await confirmAction(
    `Remove ${view.account.label}?`,
    "Session Warden signs its own session out, forgets the password (from the keyring) and stops watching. The history stays.",
    "Remove account");
  if (!yes) return;
  const done = await busy("remove", async () => {
    await invoke("remove_account", { account: view.account.id });
    return true;
  });
  if (!done) return;
  forget(view.account.id);
}

// An account leaves the window: removed here, or by another process.
function forget(id) {
  if (!state.accounts.delete(id)) return;
  state.order = state.order.filter((known) => known !== id);
  if (state.selected !== id) render();
  else if (state.order.length) select(state.order[0]);
  else showAdd();
}

async function testAccount() {
  const view = state.accounts.get(state.selected);
  if (!view) return;
  const n = await busy("test", () => invoke("test_account", { account: view.account.id }));
  if (n !== undefined) note($("sessions-note"), `Connected: ${n} session${n === 1 ? "" : "s"} listed.`);
}

async function signInAgain(event) {
  event.preventDefault();
  const view = state.accounts.get(state.selected);
  const password = $input("reauth-password");
  const done = await busy("reauth", () => invoke("sign_in_again", {
    account: view.account.id,
    password: password.value || null,
  }));
  password.value = "";
  if (done) {
    upsert(done);
    note($("sessions-note"), "Signed in again.");
    render();
  }
}

// --- Adding an account -------------------------------------------------------------

// The fields each API asks for come from core (`sign_in_form`), never decided here.
let formAsked = 0;
/** The add form's API list: every API core speaks, in core's words. */
/** A demo says so above everything: its accounts and its server are made up. */
async function showDemo() {
  /** @type {import("./bindings").DemoInfo | null} */
  const demo = await invoke("demo");
  if (!demo) return;
  setText($("demo-banner"), `Demo: Session Warden is watching ${demo.accounts.join(" and ")}, made-up accounts on the bundled mock server (${demo.server}). ` +
    "Nothing is written to your keyring or your history, and the demo's files go when you quit it from the tray. " +
    "A stranger signs in from another continent about a minute in, and into the home server a minute later.");
  $("demo-banner").hidden = false;
  $("demo-badge").hidden = false;
  document.title = "Session Warden — Demo";
}

async function fillDialects() {
  /** @type {DialectChoice[]} */
  const choices = await invoke("dialects");
  $select("add-dialect").replaceChildren(...choices.map((c) => el("option", { value: c.kind }, c.title)));
}

async function dialectChanged() {
  const dialect = $select("add-dialect").value;
  showTransportWarning();
  showCaveat(dialect);
  const ticket = ++formAsked;
  /** @type {SignInForm} */
  const form = await invoke("sign_in_form", { dialect });
  if (ticket !== formAsked) return;
  $("add-login-label").textContent = form.loginLabel;
  $("add-password-row").hidden = form.passwordLabel === null;
  $("add-password-label").textContent = form.passwordLabel ?? "";
}

// What watching the account this way costs, said before the person signs in.
let caveatAsked = 0;
async function showCaveat(dialect) {
  const ticket = ++caveatAsked;
  const node = $("add-caveat");
  let text = null;
  try {
    text = await invoke("dialect_caveat", { dialect });
  } catch {
    // Only a note: the form works without it.
  }
  if (ticket !== caveatAsked) return;
  node.textContent = text ?? "";
  node.hidden = !text;
}

// Plain http:// to another machine: said, and asked, before anything is sent.
let transportAsked = 0;
async function showTransportWarning() {
  const ticket = ++transportAsked;
  const url = $input("add-url").value.trim();
  let text = null;
  try {
    if (url) text = await invoke("transport_warning", { url, dialect: $select("add-dialect").value });
  } catch {
    // A URL that does not parse is said so by the sign-in itself.
  }
  if (ticket !== transportAsked) return;
  $("add-transport").textContent = text ?? "";
  $("add-transport-row").hidden = !text;
  if (!text) $input("add-transport-ok").checked = false;
}

let detecting = 0;
async function detect() {
  const url = $input("add-url").value.trim();
  const hint = $("add-detected");
  if (!url) return;
  const ticket = ++detecting;
  hint.textContent = "Detecting the API…";
  try {
    const dialect = await invoke("detect_dialect", { url });
    if (ticket !== detecting) return;
    $select("add-dialect").value = dialect;
    dialectChanged();
    hint.textContent = `Detected: ${$select("add-dialect").selectedOptions[0].textContent}. Change it if this is wrong.`;
  } catch (error) {
    if (ticket === detecting) hint.textContent = `Could not detect the API: ${error?.message ?? error}. Choose it below.`;
  }
}

async function addAccount(event) {
  event.preventDefault();
  const form = $form("add-form");
  const submit = $button("add-submit");
  $("add-error").hidden = true;
  await showTransportWarning();
  if (!$("add-transport-row").hidden && !$input("add-transport-ok").checked) {
    showError($("add-error"), { message: "Nothing was sent: check “Send it unencrypted anyway” to sign in over plain HTTP." });
    $input("add-transport-ok").focus();
    return;
  }
  submit.disabled = true;
  submit.textContent = "Signing in…";
  const password = $input("add-password");
  try {
    const view = await invoke("add_account", {
      account: {
        url: $input("add-url").value,
        dialect: $select("add-dialect").value,
        login: $input("add-login").value,
        label: $input("add-label").value || null,
      },
      password: $("add-password-row").hidden ? "" : password.value,
    });
    form.reset();
    $("add-detected").textContent = "";
    dialectChanged();
    upsert(view);
    select(view.account.id);
  } catch (error) {
    showError($("add-error"), error);
  } finally {
    // The password leaves the page either way: it lives in the keyring now, or nowhere.
    password.value = "";
    submit.disabled = false;
    submit.textContent = "Add account";
  }
}

function askCode(question) {
  const dialog = $dialog("code-dialog");
  $("code-question").textContent = `${question.question} (${question.account})`;
  const input = $input("code-input");
  input.value = "";
  input.inputMode = question.kind === "totp-or-backup" ? "text" : "numeric";
  if (!dialog.open) dialog.showModal();
  input.focus();
}

async function submitCode(event) {
  event.preventDefault();
  const input = $input("code-input");
  const code = input.value.trim();
  input.value = "";
  $dialog("code-dialog").close();
  try {
    await invoke("submit_code", { code });
  } catch (error) {
    showError($("add-error"), error);
  }
}

function cancelCode() {
  $dialog("code-dialog").close();
  invoke("cancel_code");
}

// --- History -----------------------------------------------------------------------

const KIND_TEXT = {
  appeared: "Signed in", suspicious: "Suspicious", ended: "Ended", stale: "Cannot check",
  recovered: "Checking again", trusted: "Trusted", "sign-in-ending": "Sign-in ending",
  trimmed: "History trimmed",
};

let historyReload = null;

async function loadHistory() {
  const select = $select("history-account");
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, "All accounts"),
    ...state.order.map((id) => el("option", { value: id }, state.accounts.get(id).account.label)));
  select.value = chosen;
  try {
    state.history = await invoke("history", { account: select.value || null });
  } catch (error) {
    note($("history-note"), error?.message ?? String(error));
  }
  renderHistory();
}

function renderHistory() {
  const kind = $select("history-kind").value;
  const words = $input("history-search").value.trim().toLowerCase();
  const labels = new Map(state.order.map((id) => [id, state.accounts.get(id).account.label]));
  const shown = state.history
    .filter((e) => !kind || e.kind === kind)
    .filter((e) => !words || [e.device, e.ip, e.place, e.detail, labels.get(e.account)].some((t) => t?.toLowerCase().includes(words)))
    .reverse();
  $("history-empty").hidden = shown.length > 0;
  $("history-list").replaceChildren(...shown.slice(0, 500).map((e) =>
    el("li", { class: `event ${e.kind} ${e.severity ?? ""}`, dataset: { kind: e.kind } },
      el("time", { datetime: e.at, title: exact(e.at) }, relative(e.at)),
      el("span", { class: "what" }, KIND_TEXT[e.kind] ?? e.kind),
      el("span", { class: "who" }, [labels.get(e.account) ?? "removed account", e.device, e.ip, e.place].filter(Boolean).join(" · ")),
      e.detail ? el("span", { class: "detail" }, e.detail) : null)));
}

async function exportHistory(format) {
  try {
    const path = await invoke("export_history", { account: $select("history-account").value || null, format });
    note($("history-note"), `Saved to ${path}`);
  } catch (error) {
    note($("history-note"), `Could not export: ${error?.message ?? error}`);
  }
}

// --- Settings ----------------------------------------------------------------------

let settings = null;

async function loadSettings() {
  try {
    settings = await invoke("settings");
  } catch (error) {
    showError($("settings-error"), error);
    return;
  }
  const { app, rules } = settings;
  $input("set-poll").value = app.pollSeconds;
  $input("set-login").checked = app.startAtLogin;
  $input("set-notify").checked = app.notifications;
  $input("set-every").checked = app.everySignIn;
  $input("set-ipdb").value = app.ipDatabase ?? "";
  showAbout(settings.about);
  $input("set-quiet").checked = Boolean(app.quietHours);
  $input("set-quiet-from").value = app.quietHours?.from ?? 22;
  $input("set-quiet-to").value = app.quietHours?.to ?? 7;
  $input("set-home").value = rules.homeCountries.join(", ");
  $input("set-max-sessions").value = rules.maxSessions;
  $input("set-speed").value = rules.maxSpeedKmh;
  $input("set-shared").value = rules.sharedAddressAccounts;
  quietChanged();
}

/** @param {import("./bindings").About} about */
function showAbout(about) {
  const databases = about.ipDatabases.length
    ? `IP databases: ${about.ipDatabases.join(", ")}.`
    : "No IP database found: places come only from servers that give them.";
  setText($("about"), [`Session Warden ${about.version}, ${about.license}.`, databases, ...about.credits].join(" "));
  // Without IP data the rules on places cannot judge: said above every view, not only here.
  setText($("ip-data-banner"), about.ipDataMissing ?? "");
  $("ip-data-banner").hidden = !about.ipDataMissing;
}

function quietChanged() {
  for (const id of ["set-quiet-from", "set-quiet-to"]) $input(id).disabled = !$input("set-quiet").checked;
}

async function saveSettings(event) {
  event.preventDefault();
  $("settings-error").hidden = true;
  $("settings-note").hidden = true;
  /** @param {string} id */
  const number = (id) => Number($input(id).value);
  const next = {
    app: {
      pollSeconds: number("set-poll"),
      notifications: $input("set-notify").checked,
      quietHours: $input("set-quiet").checked ? { from: number("set-quiet-from"), to: number("set-quiet-to") } : null,
      startAtLogin: $input("set-login").checked,
      everySignIn: $input("set-every").checked,
      ipDatabase: $input("set-ipdb").value.trim() || null,
    },
    rules: {
      ...settings.rules,
      homeCountries: $input("set-home").value.split(",").map((c) => c.trim().toUpperCase()).filter(Boolean),
      maxSessions: number("set-max-sessions"),
      maxSpeedKmh: number("set-speed"),
      sharedAddressAccounts: number("set-shared"),
    },
  };
  try {
    settings = await invoke("save_settings", { settings: next });
    showAbout(settings.about);
    note($("settings-note"), "Saved.");
  } catch (error) {
    showError($("settings-error"), error);
  }
}

// --- Start -------------------------------------------------------------------------

// A notification's "Open" points at a session: select its account and bring it into view.
function focusOn(focus) {
  if (!focus?.account || !state.accounts.has(focus.account)) return;
  state.focusSession = focus.session ?? null;
  select(focus.account);
  const row = focus.session && $("session-rows").querySelector(`tr[data-session-id="${focus.session}"]`);
  if (row) {
    row.scrollIntoView({ block: "center" });
    /** @type {HTMLElement} */ (row.querySelector("button.revoke") ?? row).focus();
  }
}

function focusFromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  return params.has("account") ? { account: params.get("account"), session: params.get("session") } : null;
}

async function start() {
  $form("add-form").addEventListener("submit", addAccount);
  $input("add-url").addEventListener("change", detect);
  $input("add-url").addEventListener("change", showTransportWarning);
  $select("add-dialect").addEventListener("change", dialectChanged);
  $button("show-add").addEventListener("click", showAdd);
  $button("add-cancel").addEventListener("click", () => select(state.selected ?? state.order[0]));
  $button("sign-out-others").addEventListener("click", signOutOthers);
  $button("remove-account").addEventListener("click", removeAccount);
  $button("test-account").addEventListener("click", testAccount);
  $form("reauth").addEventListener("submit", signInAgain);
  $form("code-form").addEventListener("submit", submitCode);
  $button("code-cancel").addEventListener("click", cancelCode);
  $dialog("code-dialog").addEventListener("cancel", () => invoke("cancel_code"));
  $button("show-history").addEventListener("click", () => { show("history"); loadHistory(); });
  $button("show-overview").addEventListener("click", () => show("overview"));
  $select("overview-account").addEventListener("change", renderOverview);
  $input("overview-suspicious").addEventListener("change", renderOverview);
  $("overview-rows").closest("table")?.addEventListener("pointerleave", renderOverview);
  $input("overview-all").addEventListener("change", selectAllShown);
  $button("overview-sign-out").addEventListener("click", signOutSelected);
  $select("idle-after").addEventListener("change", previewIdle);
  $input("idle-trusted").addEventListener("change", previewIdle);
  $form("idle-form").addEventListener("submit", saveIdle);
  $button("show-settings").addEventListener("click", () => { show("settings"); loadSettings(); });
  $select("history-account").addEventListener("change", loadHistory);
  $select("history-kind").addEventListener("change", renderHistory);
  $input("history-search").addEventListener("input", renderHistory);
  $button("export-csv").addEventListener("click", () => exportHistory("csv"));
  $button("export-json").addEventListener("click", () => exportHistory("json"));
  $form("settings-form").addEventListener("submit", saveSettings);
  $input("set-quiet").addEventListener("change", quietChanged);
  await showDemo();
  try {
    showAbout((await invoke("settings")).about);
  } catch (error) {
    showError($("settings-error"), error);
  }
  await fillDialects();
  dialectChanged();
  await listen("warden://account-changed", (event) => {
    upsert(event.payload);
    render();
    // An open timeline follows what the watcher records (at most once a second).
    if (state.view === "history" && !historyReload) {
      historyReload = setTimeout(() => { historyReload = null; loadHistory(); }, 1000);
    }
  });
  await listen("warden://account-removed", (event) => forget(event.payload));
  await listen("warden://code-requested", (event) => askCode(event.payload));
  await listen("warden://focus-session", (event) => focusOn(event.payload));
  try {
    for (const view of await invoke("accounts")) upsert(view);
  } catch (error) {
    showError($("add-error"), error);
  }
  // With more than one account, the first screen answers "where am I signed in, anywhere?".
  if (state.order.length === 0) showAdd();
  else if (state.order.length > 1) show("overview");
  else select(state.order[0]);
  focusOn(focusFromUrl());
  // Relative times age while the window is open.
  setInterval(() => { renderSessions(); if (state.view === "history") renderHistory(); }, 30_000);
}

start();
