// Session Warden's window. It renders what the engine reports and sends clicks back as
// commands; it never sees a secret except what the person types (a password, a code),
// which it hands over at once and clears. This module starts it: every control wired, core's
// words asked once, the first screen chosen.

import * as api from "./api.js";
import { addAccount, askCode, cancelCode, detect, dialectChanged, fillDialects, showDemo, showTransportWarning, submitCode } from "./add.js";
import { $, $button, $dialog, $form, $input, $select, showError } from "./dom.js";
import { loadDefaultDefence, renderSignOuts } from "./defence.js";
import { exportHistory, fillHistoryKinds, loadHistory, renderHistory } from "./history.js";
import { fillIdleChoices, previewIdle, saveIdle } from "./idle.js";
import { forget, render, select, show, showAdd } from "./nav.js";
import { renderOverview, selectAllShown, signOutSelected } from "./overview.js";
import { focusOn, removeAccount, renderSessions, signInAgain, signOutOthers, testAccount } from "./sessions.js";
import { loadSettings, quietChanged, saveSettings, showAbout } from "./settings.js";
import { selectedView, state, upsert } from "./state.js";

/** A session named in the window's address (`#account=…&session=…`): a notification opened it.
 * @returns {import("./bindings").Focus | null} */
function focusFromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  const account = params.get("account");
  return account ? { account, session: params.get("session") } : null;
}

function wire() {
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
  $dialog("code-dialog").addEventListener("cancel", () => api.cancelCode());
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
  $button("show-settings").addEventListener("click", () => { show("settings"); loadSettings(); loadDefaultDefence(); });
  $select("history-account").addEventListener("change", loadHistory);
  $select("history-kind").addEventListener("change", renderHistory);
  $input("history-search").addEventListener("input", renderHistory);
  $button("export-csv").addEventListener("click", () => exportHistory("csv"));
  $button("export-json").addEventListener("click", () => exportHistory("json"));
  $form("settings-form").addEventListener("submit", saveSettings);
  $input("set-quiet").addEventListener("change", quietChanged);
}

/** @type {ReturnType<typeof setTimeout> | null} */
let historyReload = null;

async function start() {
  wire();
  await showDemo();
  try {
    state.words = await api.words();
  } catch (error) {
    showError($("add-error"), error);
  }
  fillDialects();
  fillHistoryKinds();
  fillIdleChoices();
  try {
    showAbout((await api.settings()).about);
  } catch (error) {
    showError($("settings-error"), error);
  }
  dialectChanged();
  await api.onAccountChanged((view) => {
    upsert(view);
    render();
    // An open timeline follows what the watcher records (at most once a second).
    if (state.view === "history" && !historyReload) {
      historyReload = setTimeout(() => { historyReload = null; loadHistory(); }, 1000);
    }
  });
  await api.onAccountRemoved(forget);
  await api.onCodeRequested(askCode);
  await api.onFocusSession(focusOn);
  try {
    for (const view of await api.accounts()) upsert(view);
  } catch (error) {
    showError($("add-error"), error);
  }
  // With more than one account, the first screen answers "where am I signed in, anywhere?".
  const first = state.order[0];
  if (first === undefined) showAdd();
  else if (state.order.length > 1) show("overview");
  else select(first);
  focusOn(focusFromUrl());
  // Relative times age while the window is open; a pending sign-out counts down by the second.
  setInterval(() => { renderSessions(); if (state.view === "history") renderHistory(); }, 30_000);
  setInterval(() => {
    const view = selectedView();
    if (state.view === "sessions" && view?.signOuts.length) renderSignOuts(view.account.id, view.signOuts);
  }, 1000);
}

start();
