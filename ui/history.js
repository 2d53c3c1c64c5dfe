// The history: every sign-in, flag, end and outage the ledger holds, filtered by account,
// kind (core's kinds, in core's words) and search, exported as CSV or JSON.

import * as api from "./api.js";
import { $, $input, $select, el, errorText, exact, note, relative } from "./dom.js";
import { labelOf, state } from "./state.js";

/** The kinds to filter by, as core names them; asked once. */
export function fillHistoryKinds() {
  $select("history-kind").replaceChildren(el("option", { value: "" }, "All events"),
    ...state.words.historyKinds.map((k) => el("option", { value: k.value }, k.title)));
}

export async function loadHistory() {
  const select = $select("history-account");
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, "All accounts"),
    ...state.order.map((id) => el("option", { value: id }, labelOf(id))));
  select.value = chosen;
  try {
    state.history = await api.history(select.value || null);
  } catch (error) {
    note($("history-note"), errorText(error));
  }
  renderHistory();
}

export function renderHistory() {
  const kind = $select("history-kind").value;
  const words = $input("history-search").value.trim().toLowerCase();
  const titles = new Map(state.words.historyKinds.map((k) => [k.value, k.title]));
  /** @param {string} id */
  const label = (id) => state.accounts.get(id)?.account.label;
  const shown = state.history
    .filter((e) => !kind || e.kind === kind)
    .filter((e) => !words || [e.device, e.ip, e.place, e.detail, label(e.account)].some((t) => t?.toLowerCase().includes(words)))
    .reverse();
  $("history-empty").hidden = shown.length > 0;
  $("history-list").replaceChildren(...shown.slice(0, 500).map((e) =>
    el("li", { class: `event ${e.kind} ${e.severity ?? ""}`, dataset: { kind: e.kind } },
      el("time", { datetime: e.at, title: exact(e.at) }, relative(e.at)),
      el("span", { class: "what" }, titles.get(e.kind) ?? e.kind),
      el("span", { class: "who" }, [label(e.account) ?? "removed account", e.device, e.ip, e.place].filter(Boolean).join(" · ")),
      e.detail ? el("span", { class: "detail" }, e.detail) : null)));
}

/** @param {"csv" | "json"} format */
export async function exportHistory(format) {
  try {
    const path = await api.exportHistory($select("history-account").value || null, format);
    note($("history-note"), `Saved to ${path}`);
  } catch (error) {
    note($("history-note"), `Could not export: ${errorText(error)}`);
  }
}
