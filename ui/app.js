// Session Warden's window. It renders what the engine reports and sends clicks back as
// commands; it never sees a secret except the password typed into the add-account form.
"use strict";

const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;

const state = {
  accounts: new Map(), // account id -> AccountView
  order: [],
  selected: null,
  revoking: new Set(), // session ids with a revoke in flight
};

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function relative(iso) {
  if (!iso) return "—";
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 45) return "just now";
  const [n, unit] =
    seconds < 3600 ? [Math.round(seconds / 60), "minute"]
    : seconds < 86400 ? [Math.round(seconds / 3600), "hour"]
    : [Math.round(seconds / 86400), "day"];
  const count = Math.max(n, 1);
  return `${count} ${unit}${count === 1 ? "" : "s"} ago`;
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
  unknown: [["circle", { cx: 12, cy: 12, r: 9 }], ["path", { d: "M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.7.3-1 .8-1 1.5M12 17h.01" }]],
};

function kindIcon(kind) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 24 24", width: 18, height: 18, fill: "none", stroke: "currentColor", "stroke-width": 1.8, "stroke-linecap": "round", "aria-hidden": "true" })) {
    svg.setAttribute(k, v);
  }
  for (const [tag, attrs] of KIND_SHAPES[kind] ?? KIND_SHAPES.unknown) {
    const shape = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) shape.setAttribute(k, v);
    svg.append(shape);
  }
  return svg;
}

function accountState(view) {
  if (view.stale) return { text: `Stale since ${new Date(view.stale.since).toLocaleTimeString()}`, stale: true };
  if (!view.snapshot) return { text: "Connecting…", stale: false };
  const n = view.snapshot.sessions.length;
  return { text: `${n} session${n === 1 ? "" : "s"}`, stale: false };
}

function renderSidebar() {
  const list = $("account-list");
  list.replaceChildren(
    ...state.order.map((id) => {
      const view = state.accounts.get(id);
      const status = accountState(view);
      return el("li", {},
        el("button", {
          type: "button",
          "aria-current": String(id === state.selected),
          onclick: () => select(id),
        },
          el("span", {}, view.account.label),
          el("span", { class: `state${status.stale ? " stale" : ""}` }, status.text)));
    }),
  );
}

const rowCells = new WeakMap(); // <tr> -> its cells, made once

// A row's elements are made once and then updated in place: a refresh every few seconds
// must not replace the button under the user's pointer, or the element a keyboard has focused.
function sessionRow(accountId, session) {
  const name = el("span", { class: "name" });
  const badge = el("span", { class: "badge", title: "The session Session Warden itself is signed in with" }, "This app");
  const kind = el("span", { class: "kind" });
  const cells = {
    kind,
    name,
    badge,
    ip: el("td", { class: "mono" }),
    created: el("td"),
    active: el("td"),
    action: el("td"),
  };
  const row = el("tr", {},
    el("td", {}, el("div", { class: "device" }, kind, el("span", {}, name, badge))),
    cells.ip, cells.created, cells.active, cells.action);
  rowCells.set(row, cells);
  if (!session.isCurrent) {
    cells.button = el("button", { type: "button", class: "revoke" }, "Revoke");
    cells.action.append(cells.button);
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
  row.dataset.sessionId = session.id;
  row.dataset.device = session.device.label;
  if (c.kind.dataset.kind !== session.device.kind) {
    c.kind.dataset.kind = session.device.kind;
    c.kind.title = session.device.kind;
    c.kind.replaceChildren(kindIcon(session.device.kind));
  }
  setText(c.name, session.device.label);
  c.badge.hidden = !session.isCurrent;
  setText(c.ip, session.ip ?? "—");
  setText(c.created, relative(session.createdAt), exact(session.createdAt));
  setText(c.active, relative(session.lastActiveAt), exact(session.lastActiveAt));
  if (c.button) {
    const busy = state.revoking.has(session.id);
    c.button.onclick = () => revoke(accountId, session);
    c.button.disabled = busy;
    c.button.setAttribute("aria-label", `Revoke ${session.device.label}${session.ip ? ` at ${session.ip}` : ""}`);
    setText(c.button, busy ? "Revoking…" : "Revoke");
  }
}

function renderSessions() {
  const view = state.accounts.get(state.selected);
  $("sessions-view").hidden = !view;
  if (!view) return;
  $("account-title").textContent = view.account.label;
  $("account-meta").textContent = `${view.account.login} · ${view.account.dialect} · ${view.account.baseUrl}`;
  const status = $("account-status");
  if (view.stale) {
    status.textContent = `Cannot check since ${new Date(view.stale.since).toLocaleTimeString()}: ${view.stale.error}`;
    status.className = "status stale";
  } else if (view.snapshot) {
    status.textContent = `Checked ${new Date(view.snapshot.fetchedAt).toLocaleTimeString()}`;
    status.className = "status";
  } else {
    status.textContent = "";
  }
  const sessions = view.snapshot ? view.snapshot.sessions : [];
  $("sessions-empty").hidden = view.snapshot !== null && view.snapshot !== undefined;
  // Keyed update: rows that stay keep their element, so nothing jumps or loses focus.
  const body = $("session-rows");
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
}

function select(id) {
  state.selected = id;
  $("add-view").hidden = true;
  $("sessions-error").hidden = true;
  render();
}

function showAdd() {
  $("sessions-view").hidden = true;
  $("add-view").hidden = false;
  $("add-cancel").hidden = state.order.length === 0;
  $("add-url").focus();
}

function upsert(view) {
  if (!state.accounts.has(view.account.id)) state.order.push(view.account.id);
  state.accounts.set(view.account.id, view);
}

function showError(node, error) {
  node.textContent = error?.message ?? String(error);
  node.hidden = false;
}

async function revoke(accountId, session) {
  state.revoking.add(session.id);
  $("sessions-error").hidden = true;
  renderSessions();
  try {
    await invoke("revoke_session", { account: accountId, session: session.id });
    // The engine checked it is gone: drop the row now; the watcher's next view agrees.
    const view = state.accounts.get(accountId);
    if (view?.snapshot) {
      view.snapshot.sessions = view.snapshot.sessions.filter((s) => s.id !== session.id);
    }
  } catch (error) {
    showError($("sessions-error"), error);
  } finally {
    state.revoking.delete(session.id);
    render();
  }
}

async function addAccount(event) {
  event.preventDefault();
  const form = $("add-form");
  const submit = $("add-submit");
  $("add-error").hidden = true;
  submit.disabled = true;
  submit.textContent = "Signing in…";
  const password = $("add-password");
  try {
    const view = await invoke("add_account", {
      account: {
        url: $("add-url").value,
        dialect: $("add-dialect").value,
        login: $("add-login").value,
        label: $("add-label").value || null,
      },
      password: password.value,
    });
    form.reset();
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

async function start() {
  $("add-form").addEventListener("submit", addAccount);
  $("show-add").addEventListener("click", showAdd);
  $("add-cancel").addEventListener("click", () => select(state.selected ?? state.order[0]));
  await listen("warden://account-changed", (event) => {
    upsert(event.payload);
    render();
  });
  try {
    for (const view of await invoke("accounts")) upsert(view);
  } catch (error) {
    showError($("add-error"), error);
  }
  if (state.order.length === 0) {
    showAdd();
  } else {
    select(state.order[0]);
  }
  // Relative times age while the window is open.
  setInterval(renderSessions, 30_000);
}

start();
