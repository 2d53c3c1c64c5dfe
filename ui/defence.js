// The defence of the account shown: what Session Warden does on its own when an alert says
// a session is surely not the person's (core's three choices, in core's words), and the
// sign-outs it has pending, each with its time left, It's me and Sign out now.

import * as api from "./api.js";
import { $, el, setText, showError } from "./dom.js";
import { busy } from "./nav.js";
import { state } from "./state.js";

/** @typedef {import("./bindings").DefenceChoice} DefenceChoice */
/** @typedef {import("./bindings").PendingSignOut} PendingSignOut */

/** @type {string | null} */
let shownFor = null;

/**
 * Core's three choices as radio buttons in `fieldset` (its legend kept), each with what it
 * does; `onChoose` gets the one picked.
 * @param {HTMLElement} fieldset @param {string} name @param {DefenceChoice[]} choices
 * @param {(choice: DefenceChoice) => void} onChoose
 */
function renderChoices(fieldset, name, choices, onChoose) {
  const legend = fieldset.querySelector("legend");
  fieldset.replaceChildren(...(legend ? [legend] : []),
    ...choices.map((choice, i) => {
      const id = `${name}-${i}`;
      const radio = el("input", {
        type: "radio", name, id, checked: choice.chosen,
        "aria-describedby": `${id}-text`,
        onchange: () => onChoose(choice),
      });
      return el("div", { class: "choice" },
        radio, el("label", { for: id }, choice.title),
        el("p", { id: `${id}-text`, class: "muted" }, choice.explained));
    }));
}

/** @param {DefenceChoice[]} choices */
function showChoices(choices) {
  setText($("defence-state"), choices.find((c) => c.chosen)?.title ?? "");
  renderChoices($("defence-choices"), "defence", choices, choose);
}

/** @param {DefenceChoice} choice */
async function choose(choice) {
  const account = state.selected;
  if (!account) return;
  const choices = await busy("defence", () => api.setDefence(account, choice.defence));
  if (choices) showChoices(choices);
}

/** Loads the account's defence into the panel, once per account shown. @param {string} accountId */
export async function loadDefence(accountId) {
  if (shownFor === accountId) return;
  shownFor = accountId;
  try {
    showChoices(await api.defence(accountId));
  } catch (error) {
    showError($("sessions-error"), error);
  }
}

/** The default for accounts added from now on, in the settings; saved when picked. */
export async function loadDefaultDefence() {
  /** @param {DefenceChoice[]} choices */
  const show = (choices) => renderChoices($("default-defence"), "default-defence", choices, async (choice) => {
    try {
      show(await api.setDefaultDefence(choice.defence));
    } catch (error) {
      showError($("settings-error"), error);
    }
  });
  try {
    show(await api.defaultDefence());
  } catch (error) {
    showError($("settings-error"), error);
  }
}

/** "in 1:42", or "due now" once the wait ran out (carried out at that moment's check). @param {string} due */
function timeLeft(due) {
  const seconds = Math.round((Date.parse(due) - Date.now()) / 1000);
  if (seconds <= 0) return "due now";
  return `in ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/**
 * One pending sign-out's card, made once.
 * @typedef {{ li: HTMLLIElement, title: HTMLElement, reason: HTMLElement, error: HTMLElement,
 *   trust: HTMLButtonElement, now: HTMLButtonElement }} Card
 */

/** Cards by session, updated in place: the countdown changes every second, and a button
 * replaced under the pointer loses its click. @type {Map<string, Card>} */
const cards = new Map();

/** @param {string} accountId @param {PendingSignOut} p @returns {Card} */
function cardFor(accountId, p) {
  const known = cards.get(p.session);
  if (known) return known;
  const trust = el("button", { type: "button", class: "secondary small", "aria-label": `It's me: keep ${p.device} signed in` }, "It's me");
  trust.addEventListener("click", () => busy(`trust:${p.session}`, () => api.trustSession(accountId, p.session)));
  const now = el("button", { type: "button", class: "danger small", "aria-label": `Sign out ${p.device} now` }, "Sign out now");
  now.addEventListener("click", () => busy(`now:${p.session}`, () => api.signOutNow(accountId, p.session)));
  const title = el("p", { class: "strong" });
  const reason = el("p");
  const error = el("p", { class: "error" });
  const li = el("li", { class: "sign-out", dataset: { session: p.session } },
    title, reason, error, el("div", { class: "toolbar" }, trust, now));
  const card = { li, title, reason, error, trust, now };
  cards.set(p.session, card);
  return card;
}

/** The account's pending sign-outs, each with its countdown and both actions.
 * @param {string} accountId @param {PendingSignOut[]} pending */
export function renderSignOuts(accountId, pending) {
  $("sign-outs").hidden = pending.length === 0;
  const shown = new Set(pending.map((p) => p.session));
  for (const session of [...cards.keys()]) if (!shown.has(session)) cards.delete(session);
  const items = pending.map((p) => {
    const card = cardFor(accountId, p);
    setText(card.title, `Signing out ${p.device} ${timeLeft(p.due)}`);
    setText(card.reason, p.reason);
    setText(card.error, p.lastError ? `The last try failed: ${p.lastError}. Tried again at each check.` : "");
    card.error.hidden = !p.lastError;
    card.trust.disabled = state.busy.has(`trust:${p.session}`);
    card.now.disabled = state.busy.has(`now:${p.session}`);
    return card.li;
  });
  const list = $("sign-out-list");
  const same = items.length === list.children.length && items.every((li, i) => list.children[i] === li);
  if (!same) list.replaceChildren(...items);
}
