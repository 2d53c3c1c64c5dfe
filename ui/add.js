// Adding an account: its API (detected, or chosen from core's list), the fields that API
// asks for (core's `sign_in_form`), what watching it costs, a warning before a password goes
// out unencrypted; and the one-time code a sign-in may ask for. The password leaves the page
// as soon as it is sent.

import * as api from "./api.js";
import { $, $button, $dialog, $form, $input, $select, el, errorText, setText, showError } from "./dom.js";
import { select } from "./nav.js";
import { state, upsert } from "./state.js";

/** @typedef {import("./bindings").DialectKind} DialectKind */

/** The API chosen in the form, as core names it. */
function chosenDialect() {
  const chosen = state.words.dialects.find((d) => d.value === $select("add-dialect").value);
  return chosen?.value ?? state.words.dialects[0]?.value ?? "secureauth";
}

/** The add form's API list: every API core speaks, in core's words. */
export function fillDialects() {
  $select("add-dialect").replaceChildren(...state.words.dialects.map((d) => el("option", { value: d.value }, d.title)));
}

/** A demo says so above everything: its accounts and its server are made up. */
export async function showDemo() {
  const demo = await api.demo();
  if (!demo) return;
  setText($("demo-banner"), `Demo: Session Warden is watching ${demo.accounts.join(" and ")}, made-up accounts on the bundled mock server (${demo.server}). ` +
    "Nothing is written to your keyring or your history, and the demo's files go when you quit it from the tray. " +
    "A stranger signs in from another continent about a minute in, and into the home server a minute later.");
  $("demo-banner").hidden = false;
  $("demo-badge").hidden = false;
  document.title = "Session Warden — Demo";
}

// Each question below may be overtaken by the next (the person types on): only the answer
// to the latest is shown.
let formAsked = 0;
let caveatAsked = 0;
let transportAsked = 0;
let detecting = 0;

export async function dialectChanged() {
  const dialect = chosenDialect();
  showTransportWarning();
  showCaveat(dialect);
  const ticket = ++formAsked;
  const form = await api.signInForm(dialect);
  if (ticket !== formAsked) return;
  $("add-login-label").textContent = form.loginLabel;
  $("add-password-row").hidden = form.passwordLabel === null;
  $("add-password-label").textContent = form.passwordLabel ?? "";
}

// What watching the account this way costs, said before the person signs in.
/** @param {DialectKind} dialect */
async function showCaveat(dialect) {
  const ticket = ++caveatAsked;
  const node = $("add-caveat");
  /** @type {string | null} */
  let text = null;
  try {
    text = await api.dialectCaveat(dialect);
  } catch {
    // Only a note: the form works without it.
  }
  if (ticket !== caveatAsked) return;
  node.textContent = text ?? "";
  node.hidden = !text;
}

// Plain http:// to another machine: said, and asked, before anything is sent.
export async function showTransportWarning() {
  const ticket = ++transportAsked;
  const url = $input("add-url").value.trim();
  /** @type {string | null} */
  let text = null;
  try {
    if (url) text = await api.transportWarning(url, chosenDialect());
  } catch {
    // A URL that does not parse is said so by the sign-in itself.
  }
  if (ticket !== transportAsked) return;
  $("add-transport").textContent = text ?? "";
  $("add-transport-row").hidden = !text;
  if (!text) $input("add-transport-ok").checked = false;
}

export async function detect() {
  const url = $input("add-url").value.trim();
  const hint = $("add-detected");
  if (!url) return;
  const ticket = ++detecting;
  hint.textContent = "Detecting the API…";
  try {
    const dialect = await api.detectDialect(url);
    if (ticket !== detecting) return;
    $select("add-dialect").value = dialect;
    dialectChanged();
    hint.textContent = `Detected: ${$select("add-dialect").selectedOptions[0]?.textContent ?? dialect}. Change it if this is wrong.`;
  } catch (error) {
    if (ticket === detecting) hint.textContent = `Could not detect the API: ${errorText(error)}. Choose it below.`;
  }
}

/** @param {SubmitEvent} event */
export async function addAccount(event) {
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
    const view = await api.addAccount({
      url: $input("add-url").value,
      dialect: chosenDialect(),
      login: $input("add-login").value,
      label: $input("add-label").value || null,
    }, $("add-password-row").hidden ? "" : password.value);
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

/** @param {import("./bindings").Question} question */
export function askCode(question) {
  const dialog = $dialog("code-dialog");
  $("code-question").textContent = `${question.question} (${question.account})`;
  const input = $input("code-input");
  input.value = "";
  input.inputMode = question.kind === "totp-or-backup" ? "text" : "numeric";
  if (!dialog.open) dialog.showModal();
  input.focus();
}

/** @param {SubmitEvent} event */
export async function submitCode(event) {
  event.preventDefault();
  const input = $input("code-input");
  const code = input.value.trim();
  input.value = "";
  $dialog("code-dialog").close();
  try {
    await api.submitCode(code);
  } catch (error) {
    showError($("add-error"), error);
  }
}

export function cancelCode() {
  $dialog("code-dialog").close();
  api.cancelCode();
}
