// Settings: how often to check, notifications and quiet hours, start at login, the IP
// database, and the rules' thresholds; the About line (version, license, IP data credits).

import * as api from "./api.js";
import { $, $input, note, setText, showError } from "./dom.js";

/** @typedef {import("./bindings").Settings} Settings */

/** The settings as last read or saved: what the form does not show is sent back as it was.
 * @type {Settings | null} */
let settings = null;

export async function loadSettings() {
  try {
    settings = await api.settings();
  } catch (error) {
    showError($("settings-error"), error);
    return;
  }
  const { app, rules } = settings;
  $input("set-poll").value = String(app.pollSeconds);
  $input("set-login").checked = app.startAtLogin;
  $input("set-notify").checked = app.notifications;
  $input("set-every").checked = app.everySignIn;
  $input("set-ipdb").value = app.ipDatabase ?? "";
  showAbout(settings.about);
  $input("set-quiet").checked = Boolean(app.quietHours);
  $input("set-quiet-from").value = String(app.quietHours?.from ?? 22);
  $input("set-quiet-to").value = String(app.quietHours?.to ?? 7);
  $input("set-home").value = rules.homeCountries.join(", ");
  $input("set-max-sessions").value = String(rules.maxSessions);
  $input("set-speed").value = String(rules.maxSpeedKmh);
  $input("set-shared").value = String(rules.sharedAddressAccounts);
  quietChanged();
}

/** @param {import("./bindings").About} about */
export function showAbout(about) {
  const databases = about.ipDatabases.length
    ? `IP databases: ${about.ipDatabases.join(", ")}.`
    : "No IP database found: places come only from servers that give them.";
  setText($("about"), [`Session Warden ${about.version}, ${about.license}.`, databases, ...about.credits].join(" "));
  // Without IP data the rules on places cannot judge: said above every view, not only here.
  setText($("ip-data-banner"), about.ipDataMissing ?? "");
  $("ip-data-banner").hidden = !about.ipDataMissing;
}

export function quietChanged() {
  for (const id of ["set-quiet-from", "set-quiet-to"]) $input(id).disabled = !$input("set-quiet").checked;
}

/** @param {SubmitEvent} event */
export async function saveSettings(event) {
  event.preventDefault();
  $("settings-error").hidden = true;
  $("settings-note").hidden = true;
  if (!settings) return;
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
    settings = await api.saveSettings(next);
    showAbout(settings.about);
    note($("settings-note"), "Saved.");
  } catch (error) {
    showError($("settings-error"), error);
  }
}
