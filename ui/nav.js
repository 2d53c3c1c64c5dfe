// Which screen is shown, and the one render of them all: every change (a view from core, a
// click) renders the whole window from `state`, each part updating its elements in place.

import { $, $button, $input, showError } from "./dom.js";
import { renderOverview } from "./overview.js";
import { renderSessions, renderSidebar } from "./sessions.js";
import { state } from "./state.js";

export function render() {
  renderSidebar();
  renderSessions();
  renderOverview();
  $("add-view").hidden = state.view !== "add";
  $("history-view").hidden = state.view !== "history";
  $("settings-view").hidden = state.view !== "settings";
}

/** @param {import("./state.js").Screen} view */
export function show(view) {
  state.view = view;
  for (const id of ["sessions-error", "sessions-note"]) $(id).hidden = true;
  render();
}

/** The sessions of one account. @param {string} id */
export function select(id) {
  if (state.selected !== id) $("session-rows").replaceChildren();
  state.selected = id;
  show("sessions");
}

export function showAdd() {
  show("add");
  $button("add-cancel").hidden = state.order.length === 0;
  $input("add-url").focus();
}

/** An account leaves the window: removed here, or by another process. @param {string} id */
export function forget(id) {
  if (!state.accounts.delete(id)) return;
  state.order = state.order.filter((known) => known !== id);
  if (state.selected !== id) render();
  else if (state.order.length) select(state.order[0]);
  else showAdd();
}

/**
 * Runs a command with `key` marked in flight (its button disabled, its text saying so); an
 * error is said above the sessions. Resolves to the answer, or undefined when it failed.
 * @template T
 * @param {string} key
 * @param {() => Promise<T>} work
 * @returns {Promise<T | undefined>}
 */
export async function busy(key, work) {
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
