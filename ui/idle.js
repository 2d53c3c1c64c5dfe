// The idle policy of the account shown: sessions not used for a while signed out on their
// own. What it would end is shown before it is turned on.

import * as api from "./api.js";
import { $, $input, $select, count, el, note, relative, showError } from "./dom.js";
import { busy } from "./nav.js";
import { state } from "./state.js";

/** @typedef {import("./bindings").IdlePolicy} IdlePolicy */
/** @typedef {import("./bindings").Session} Session */

/** The choices, in core's words ("a week", "3 months"…); asked once. */
export function fillIdleChoices() {
  $select("idle-after").replaceChildren(el("option", { value: "" }, "— off —"),
    ...state.words.idleAfter.map((c) => el("option", { value: c.value }, c.title)));
}

/** The policy the form describes; null for off. @returns {IdlePolicy | null} */
function formPolicy() {
  const after = state.words.idleAfter.find((c) => c.value === $select("idle-after").value);
  return after ? { after: after.value, includeTrusted: $input("idle-trusted").checked } : null;
}

/** "a week", as the form shows the chosen span. */
function chosenWords() {
  return $select("idle-after").selectedOptions[0]?.textContent ?? "";
}

/** @type {string | null} */
let shownFor = null;

/** Loads the account's policy into the form, once per account shown. @param {string} accountId */
export async function loadIdle(accountId) {
  if (shownFor === accountId) return;
  shownFor = accountId;
  const policy = await api.idlePolicy(accountId);
  $select("idle-after").value = policy?.after ?? "";
  $input("idle-trusted").checked = policy?.includeTrusted ?? false;
  $("idle-state").textContent = policy ? `after ${chosenWords()}` : "off";
  $("idle-preview").replaceChildren();
}

/** @param {Session} s */
const sessionLine = (s) => `${s.device.label}${s.ip ? ` (${s.ip})` : ""}, last active ${relative(s.lastActiveAt)}`;

/** What the chosen policy would sign out now: seen before it is turned on. */
export async function previewIdle() {
  const policy = formPolicy();
  const out = $("idle-preview");
  if (!policy || !state.selected) { out.replaceChildren(); return; }
  try {
    const plan = await api.idlePreview(state.selected, policy);
    /** @param {string} title @param {Session[]} sessions */
    const list = (title, sessions) => sessions.length
      ? [el("p", {}, title), el("ul", {}, ...sessions.map((s) => el("li", {}, sessionLine(s))))]
      : [];
    out.replaceChildren(
      el("p", { class: "strong" }, plan.ending.length
        ? `It would sign out ${count(plan.ending.length, "session")} now:`
        : "It would sign out nothing now."),
      ...(plan.ending.length ? [el("ul", { id: "idle-ending" }, ...plan.ending.map((s) => el("li", {}, sessionLine(s))))] : []),
      ...list("Spared, trusted (It's me):", plan.sparedTrusted),
      ...list("Left alone, no last activity known:", plan.unknownActivity),
      ...(plan.note ? [el("p", { class: "muted" }, plan.note)] : []));
  } catch (error) {
    showError($("sessions-error"), error);
  }
}

/** @param {SubmitEvent} event */
export async function saveIdle(event) {
  event.preventDefault();
  const account = state.selected;
  if (!account) return;
  const policy = formPolicy();
  const saved = await busy("idle", async () => {
    await api.setIdlePolicy(account, policy);
    return true;
  });
  if (!saved) return;
  $("idle-state").textContent = policy ? `after ${chosenWords()}` : "off";
  note($("sessions-note"), policy
    ? `Idle policy on: sessions not used for over ${chosenWords()} are signed out at the next check.`
    : "Idle policy off.");
}
