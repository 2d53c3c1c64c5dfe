// What the window holds: the newest view of each account (core's, never edited here), which
// screen is shown, what is in flight, and core's words.

/** @typedef {import("./bindings").AccountView} AccountView */
/** @typedef {import("./bindings").HistoryEntry} HistoryEntry */
/** @typedef {import("./bindings").Words} Words */
/** @typedef {"sessions" | "add" | "history" | "settings" | "overview"} Screen */

export const state = {
  /** @type {Map<string, AccountView>} account id -> its newest view */
  accounts: new Map(),
  /** @type {string[]} account ids, in the order they arrived */
  order: [],
  /** @type {string | null} the account the sessions screen shows */
  selected: null,
  /** @type {Screen} */
  view: "sessions",
  /** @type {Set<string>} "<action>:<session id>" in flight */
  busy: new Set(),
  /** @type {string | null} a session a notification pointed at */
  focusSession: null,
  /** @type {HistoryEntry[]} */
  history: [],
  /** @type {Words} core's words, asked once at start */
  words: { dialects: [], historyKinds: [], idleAfter: [], trusted: "" },
};

/** The selected account's view, if it has one. */
export function selectedView() {
  return state.selected === null ? undefined : state.accounts.get(state.selected);
}

// Views reach the window from commands' answers and from events, not always in the order
// they were made: an older one never replaces a newer one.
/** @param {AccountView} view */
export function upsert(view) {
  const known = state.accounts.get(view.account.id);
  if (!known) state.order.push(view.account.id);
  else if (known.revision > view.revision) return;
  state.accounts.set(view.account.id, view);
}

/** The account's label, or its id when the window does not know it. @param {string} id */
export function labelOf(id) {
  return state.accounts.get(id)?.account.label ?? id;
}
