// The window's only way to the engine: one typed function per command of the shell
// (src-tauri/src/commands.rs) and one per event it sends. The only file that touches
// `window.__TAURI__`; the types are generated from the Rust ones (bindings.d.ts).

/** @typedef {import("./bindings").About} About */
/** @typedef {import("./bindings").AccountId} AccountId */
/** @typedef {import("./bindings").AccountView} AccountView */
/** @typedef {import("./bindings").DemoInfo} DemoInfo */
/** @typedef {import("./bindings").DialectKind} DialectKind */
/** @typedef {import("./bindings").Focus} Focus */
/** @typedef {import("./bindings").HistoryEntry} HistoryEntry */
/** @typedef {import("./bindings").IdlePlan} IdlePlan */
/** @typedef {import("./bindings").IdlePolicy} IdlePolicy */
/** @typedef {import("./bindings").NewAccount} NewAccount */
/** @typedef {import("./bindings").Question} Question */
/** @typedef {import("./bindings").Session} Session */
/** @typedef {import("./bindings").SessionId} SessionId */
/** @typedef {import("./bindings").Settings} Settings */
/** @typedef {import("./bindings").SignInForm} SignInForm */
/** @typedef {import("./bindings").UiError} UiError */
/** @typedef {import("./bindings").Words} Words */

const tauri = window.__TAURI__;

/**
 * @template T
 * @param {string} command
 * @param {Record<string, unknown>} [args]
 * @returns {Promise<T>}
 */
function call(command, args) {
  return tauri.core.invoke(command, args);
}

// --- Accounts ------------------------------------------------------------------------------

/** @returns {Promise<AccountView[]>} */
export function accounts() { return call("accounts"); }

/** @param {NewAccount} account @param {string} password @returns {Promise<AccountView>} */
export function addAccount(account, password) { return call("add_account", { account, password }); }

/** @param {AccountId} account @param {string | null} password @returns {Promise<AccountView>} */
export function signInAgain(account, password) { return call("sign_in_again", { account, password }); }

/** @param {AccountId} account @returns {Promise<number>} the sessions listed */
export function testAccount(account) { return call("test_account", { account }); }

/** @param {AccountId} account @returns {Promise<void>} */
export function removeAccount(account) { return call("remove_account", { account }); }

/** @param {string} url @returns {Promise<DialectKind>} */
export function detectDialect(url) { return call("detect_dialect", { url }); }

/** @param {DialectKind} dialect @returns {Promise<string | null>} */
export function dialectCaveat(dialect) { return call("dialect_caveat", { dialect }); }

/** @param {DialectKind} dialect @returns {Promise<SignInForm>} */
export function signInForm(dialect) { return call("sign_in_form", { dialect }); }

/** @param {string} url @param {DialectKind} dialect @returns {Promise<string | null>} */
export function transportWarning(url, dialect) { return call("transport_warning", { url, dialect }); }

/** @param {string} code @returns {Promise<void>} */
export function submitCode(code) { return call("submit_code", { code }); }

/** @returns {Promise<void>} */
export function cancelCode() { return call("cancel_code"); }

// --- Sessions ------------------------------------------------------------------------------

/** @param {AccountId} account @param {SessionId} session @returns {Promise<Session>} */
export function revokeSession(account, session) { return call("revoke_session", { account, session }); }

/** @param {AccountId} account @returns {Promise<number>} the devices signed out */
export function signOutOthers(account) { return call("sign_out_others", { account }); }

/** @param {AccountId} account @param {SessionId} session @returns {Promise<Session>} */
export function trustSession(account, session) { return call("trust_session", { account, session }); }

/** @param {AccountId} account @param {SessionId} session @param {string} label @returns {Promise<void>} */
export function setLabel(account, session, label) { return call("set_label", { account, session, label }); }

// --- The idle policy -----------------------------------------------------------------------

/** @param {AccountId} account @returns {Promise<IdlePolicy | null>} */
export function idlePolicy(account) { return call("idle_policy", { account }); }

/** @param {AccountId} account @param {IdlePolicy} policy @returns {Promise<IdlePlan>} */
export function idlePreview(account, policy) { return call("idle_preview", { account, policy }); }

/** @param {AccountId} account @param {IdlePolicy | null} policy @returns {Promise<void>} */
export function setIdlePolicy(account, policy) { return call("set_idle_policy", { account, policy }); }

// --- The defence ------------------------------------------------------------------------

/** @typedef {import("./bindings").Defence} Defence */
/** @typedef {import("./bindings").DefenceChoice} DefenceChoice */

/** @param {AccountId} account @returns {Promise<DefenceChoice[]>} */
export function defence(account) { return call("defence", { account }); }

/** @param {AccountId} account @param {Defence} defence @returns {Promise<DefenceChoice[]>} */
export function setDefence(account, defence) { return call("set_defence", { account, defence }); }

/** @returns {Promise<DefenceChoice[]>} */
export function defaultDefence() { return call("default_defence"); }

/** @param {Defence} defence @returns {Promise<DefenceChoice[]>} */
export function setDefaultDefence(defence) { return call("set_default_defence", { defence }); }

/** @param {AccountId} account @param {SessionId} session @returns {Promise<boolean>} */
export function signOutNow(account, session) { return call("sign_out_now", { account, session }); }

// --- History, settings, words ---------------------------------------------------------------

/** @param {AccountId | null} account @returns {Promise<HistoryEntry[]>} */
export function history(account) { return call("history", { account }); }

/** @param {AccountId | null} account @param {"csv" | "json"} format @returns {Promise<string>} the file written */
export function exportHistory(account, format) { return call("export_history", { account, format }); }

/** @returns {Promise<Settings>} */
export function settings() { return call("settings"); }

/** @param {Omit<Settings, "about">} settings @returns {Promise<Settings>} */
export function saveSettings(settings) { return call("save_settings", { settings }); }

/** @returns {Promise<Words>} */
export function words() { return call("words"); }

/** @returns {Promise<DemoInfo | null>} */
export function demo() { return call("demo"); }

// --- Events --------------------------------------------------------------------------------

/**
 * @template T
 * @param {string} event
 * @param {(payload: T) => void} handler
 * @returns {Promise<() => void>}
 */
function on(event, handler) {
  return tauri.event.listen(event, (e) => handler(e.payload));
}

/** A new view of an account, on any change. @param {(view: AccountView) => void} handler */
export function onAccountChanged(handler) { return on("warden://account-changed", handler); }

/** An account removed, here or by another process. @param {(id: AccountId) => void} handler */
export function onAccountRemoved(handler) { return on("warden://account-removed", handler); }

/** A sign-in asks for a one-time code. @param {(question: Question) => void} handler */
export function onCodeRequested(handler) { return on("warden://code-requested", handler); }

/** A notification's "Open" points at a session. @param {(focus: Focus) => void} handler */
export function onFocusSession(handler) { return on("warden://focus-session", handler); }
