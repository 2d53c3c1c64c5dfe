//! The window's commands: each takes the state, calls the engine (or `actions`, shared
//! with the tray and notifications), and maps errors to `{code, message}`. No secret is
//! ever returned; the only secrets that come in are what the person types.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use tauri::{AppHandle, Manager, State};
use warden_core::ledger::history::{HistoryEntry, to_csv, to_json};
use warden_core::tell::words::Words;
use warden_core::watch::WatchSettings;
use warden_core::watch::defence::{Defence, DefenceChoice};
use warden_core::{
    Account, AccountId, CodePrompt, DialectKind, Error, ErrorCode, NewAccount, Secret, Session,
    SessionId,
};

use crate::actions;
use crate::demo::{DemoInfo, DemoMode};
use crate::settings::{About, Settings};
use crate::state::{AccountView, AppState};

/// How an error reaches the UI: a code to branch on, a message to show.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct UiError {
    code: ErrorCode,
    message: String,
}

impl From<Error> for UiError {
    fn from(e: Error) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

type Answer<T> = Result<T, UiError>;

/// The account the window names, or none ("all accounts").
fn find_optional(state: &AppState, account: Option<AccountId>) -> Answer<Option<Account>> {
    Ok(account
        .map(|a| state.accounts.find(a.as_str()))
        .transpose()?)
}

#[tauri::command]
pub(crate) fn accounts(state: State<'_, AppState>) -> Answer<Vec<AccountView>> {
    Ok(state
        .accounts
        .list()?
        .into_iter()
        .map(|a| state.views.view(a))
        .collect())
}

/// Which API a URL speaks, probed without credentials, for the add form to preselect.
#[tauri::command]
pub(crate) async fn detect_dialect(state: State<'_, AppState>, url: String) -> Answer<DialectKind> {
    Ok(state.accounts.detect_dialect(&url).await?)
}

/// What watching an account through `dialect` costs, if anything: the add form says it
/// before the person signs in.
#[tauri::command]
pub(crate) fn dialect_caveat(dialect: DialectKind) -> Option<String> {
    dialect.caveat()
}

/// Core's words for what the window lists and filters by (`tell::words`): the window keeps
/// no copy of its own.
#[tauri::command]
pub(crate) fn words() -> Words {
    Words::new()
}

/// What signing in to an account of `dialect` asks: the add form's fields come from core.
#[tauri::command]
pub(crate) fn sign_in_form(dialect: DialectKind) -> warden_core::SignInForm {
    dialect.sign_in_form()
}

/// What to tell the person before a password goes to `url` in the clear (plain http:// to
/// another machine): the add form shows it and asks before sending. `None`: nothing to say.
#[tauri::command]
pub(crate) fn transport_warning(url: String, dialect: DialectKind) -> Option<String> {
    let url = warden_core::accounts::account::parse_base_url(&url).ok()?;
    warden_core::accounts::account::transport_warning(&url, dialect)
}

/// The password arrives from the add-account form, wrapped at once, and goes to the
/// keyring only; it never travels back. A one-time code, if the service asks for one, is
/// asked in the window (`warden://code-requested`, answered by `submit_code`).
#[tauri::command]
pub(crate) async fn add_account(
    app: AppHandle,
    state: State<'_, AppState>,
    account: NewAccount,
    password: Secret,
) -> Answer<AccountView> {
    let prompt: Arc<dyn CodePrompt> = state.prompt.clone();
    let account = state.accounts.add_with(account, password, &prompt).await?;
    state.watcher.watch(account.clone());
    crate::tray::rebuild(&app);
    Ok(state.views.view(account))
}

#[tauri::command]
pub(crate) fn submit_code(state: State<'_, AppState>, code: Secret) -> Answer<()> {
    if state.prompt.answer(Some(code)) {
        Ok(())
    } else {
        Err(Error::InvalidInput("no code was asked for (it may have timed out)".into()).into())
    }
}

#[tauri::command]
pub(crate) fn cancel_code(state: State<'_, AppState>) {
    state.prompt.answer(None);
}

/// For an account that needs the person: a new password, or a new one-time code.
#[tauri::command]
pub(crate) async fn sign_in_again(
    app: AppHandle,
    state: State<'_, AppState>,
    account: AccountId,
    password: Option<Secret>,
) -> Answer<AccountView> {
    let account = state.accounts.get(&account)?;
    let prompt: Arc<dyn CodePrompt> = state.prompt.clone();
    state
        .accounts
        .sign_in_again(&account, password.filter(|p| !p.is_empty()), &prompt)
        .await?;
    state.watcher.watch(account.clone());
    actions::poll_now(&app, account.clone());
    Ok(state.views.view(account))
}

/// Lists now: "Test connection".
#[tauri::command]
pub(crate) async fn test_account(state: State<'_, AppState>, account: AccountId) -> Answer<usize> {
    let account = state.accounts.get(&account)?;
    let snapshot = state.accounts.snapshot(&account).await?;
    state.watcher.poll_now(&account.id);
    Ok(snapshot.sessions.len())
}

/// Stops watching, signs our session out, and deletes the keyring entries.
#[tauri::command]
pub(crate) async fn remove_account(
    app: AppHandle,
    state: State<'_, AppState>,
    account: AccountId,
) -> Answer<()> {
    let account = state.accounts.get(&account)?;
    state.watcher.unwatch(&account.id);
    if let Err(e) = state.accounts.remove(&account).await {
        // Nothing was removed (a locked keyring, say): it stays watched.
        state.watcher.watch(account);
        return Err(e.into());
    }
    state.views.forget(&account.id);
    crate::tray::rebuild(&app);
    Ok(())
}

/// Ends the session and checks it is gone.
#[tauri::command]
pub(crate) async fn revoke_session(
    app: AppHandle,
    account: AccountId,
    session: SessionId,
) -> Answer<Session> {
    Ok(actions::revoke(&app, &account, &session).await?)
}

/// The account's idle policy, if one is on.
#[tauri::command]
pub(crate) fn idle_policy(
    state: State<'_, AppState>,
    account: AccountId,
) -> Answer<Option<warden_core::IdlePolicy>> {
    let account = state.accounts.get(&account)?;
    Ok(state.accounts.idle_policy(&account)?)
}

/// What `policy` would sign out now: the window shows it before the policy is turned on.
#[tauri::command]
pub(crate) async fn idle_preview(
    state: State<'_, AppState>,
    account: AccountId,
    policy: warden_core::IdlePolicy,
) -> Answer<warden_core::IdlePlan> {
    let account = state.accounts.get(&account)?;
    Ok(state.accounts.idle_preview(&account, policy).await?)
}

/// Turns the account's idle policy on, changes it, or (null) turns it off; the watcher
/// applies it from its next poll, which is asked for now.
#[tauri::command]
pub(crate) fn set_idle_policy(
    app: AppHandle,
    state: State<'_, AppState>,
    account: AccountId,
    policy: Option<warden_core::IdlePolicy>,
) -> Answer<()> {
    let account = state.accounts.get(&account)?;
    state.accounts.set_idle_policy(&account, policy)?;
    actions::poll_now(&app, account);
    Ok(())
}

/// The account's defence, as the three choices the window offers (one chosen), with what
/// each does, in core's words.
#[tauri::command]
pub(crate) fn defence(
    state: State<'_, AppState>,
    account: AccountId,
) -> Answer<Vec<DefenceChoice>> {
    let account = state.accounts.get(&account)?;
    Ok(DefenceChoice::all(state.accounts.defence(&account)?))
}

/// Sets the account's defence; the watcher applies it from the next alert.
#[tauri::command]
pub(crate) fn set_defence(
    state: State<'_, AppState>,
    account: AccountId,
    defence: Defence,
) -> Answer<Vec<DefenceChoice>> {
    let account = state.accounts.get(&account)?;
    state.accounts.set_defence(&account, defence)?;
    Ok(DefenceChoice::all(state.accounts.defence(&account)?))
}

/// The defence accounts added from now on start with, as the settings offer it.
#[tauri::command]
pub(crate) fn default_defence(state: State<'_, AppState>) -> Answer<Vec<DefenceChoice>> {
    Ok(DefenceChoice::all(state.accounts.default_defence()?))
}

#[tauri::command]
pub(crate) fn set_default_defence(
    state: State<'_, AppState>,
    defence: Defence,
) -> Answer<Vec<DefenceChoice>> {
    state.accounts.set_default_defence(defence)?;
    Ok(DefenceChoice::all(state.accounts.default_defence()?))
}

/// "Sign out now" on a pending sign-out: carried out at the poll this asks for.
#[tauri::command]
pub(crate) fn sign_out_now(app: AppHandle, account: AccountId, session: SessionId) -> Answer<bool> {
    Ok(actions::sign_out_now(&app, &account, &session)?)
}

/// Signs out every other device; returns how many were ended.
#[tauri::command]
pub(crate) async fn sign_out_others(app: AppHandle, account: AccountId) -> Answer<usize> {
    Ok(actions::sign_out_others(&app, &account).await?.len())
}

#[tauri::command]
pub(crate) async fn trust_session(
    app: AppHandle,
    account: AccountId,
    session: SessionId,
) -> Answer<Session> {
    Ok(actions::trust(&app, &account, &session).await?)
}

/// Rename: a name of ours, or the server's own where it keeps one (Matrix).
#[tauri::command]
pub(crate) async fn set_label(
    app: AppHandle,
    state: State<'_, AppState>,
    account: AccountId,
    session: SessionId,
    label: String,
) -> Answer<()> {
    let account = state.accounts.get(&account)?;
    state
        .accounts
        .rename(&account, &session, label.trim())
        .await?;
    actions::poll_now(&app, account);
    Ok(())
}

#[tauri::command]
pub(crate) fn history(
    state: State<'_, AppState>,
    account: Option<AccountId>,
) -> Answer<Vec<HistoryEntry>> {
    let account = find_optional(&state, account)?;
    Ok(state.accounts.history(account.as_ref())?)
}

/// Writes the history to the Downloads folder (the home, if there is none); returns where.
#[tauri::command]
pub(crate) fn export_history(
    app: AppHandle,
    state: State<'_, AppState>,
    account: Option<AccountId>,
    format: String,
) -> Answer<String> {
    let account = find_optional(&state, account)?;
    let entries = state.accounts.history(account.as_ref())?;
    let text = match format.as_str() {
        "csv" => to_csv(&entries)?,
        "json" => to_json(&entries)?,
        other => return Err(Error::InvalidInput(format!("no export format {other:?}")).into()),
    };
    let dir: PathBuf = app
        .path()
        .download_dir()
        .ok()
        .filter(|d| d.is_dir())
        .unwrap_or_else(|| state.home.root().to_path_buf());
    let name = format!(
        "session-warden-history-{}.{format}",
        chrono::Local::now().format("%Y%m%d-%H%M%S")
    );
    let path = dir.join(name);
    warden_core::home::write_atomically(&path, text.as_bytes())?;
    Ok(path.display().to_string())
}

#[tauri::command]
pub(crate) fn settings(state: State<'_, AppState>) -> Answer<Settings> {
    Ok(Settings {
        app: state.settings.get(),
        rules: state.accounts.judge().thresholds(),
        about: About::of(&state.accounts.geoip()),
    })
}

/// Saves and applies at once: the interval restarts the watcher's tasks, the thresholds
/// reach the rules, start-at-login writes (or removes) the desktop's autostart entry.
#[tauri::command]
pub(crate) fn save_settings(
    app: AppHandle,
    state: State<'_, AppState>,
    settings: Settings,
) -> Answer<Settings> {
    let before = state.settings.get();
    // A demo's settings go with it; the desktop's autostart entry would outlive it and
    // start the real app at the next login.
    if app.state::<DemoMode>().info().is_some() && settings.app.start_at_login {
        return Err(Error::InvalidInput(
            "the demo cannot start at login; install an account of your own for that".into(),
        )
        .into());
    }
    state.settings.save(settings.app.clone())?;
    settings.rules.save(&state.home.rules_path())?;
    state
        .accounts
        .judge()
        .set_thresholds(settings.rules.clone());
    if before.poll_seconds != settings.app.poll_seconds
        && crate::settings::poll_override().is_none()
    {
        state.watcher.set_settings(WatchSettings {
            interval: std::time::Duration::from_secs(settings.app.poll_seconds.into()),
            ..state.watcher.settings()
        });
    }
    if before.start_at_login != settings.app.start_at_login {
        crate::autostart::set(&app, settings.app.start_at_login)?;
    }
    if before.ip_database != settings.app.ip_database {
        let configured = settings
            .app
            .ip_database
            .as_deref()
            .map(std::path::Path::new);
        state
            .accounts
            .set_geoip(Arc::new(warden_core::GeoIp::discover(configured)));
    }
    Ok(Settings {
        about: About::of(&state.accounts.geoip()),
        ..settings
    })
}

/// `Some` in demo mode: the window says so above everything else.
#[tauri::command]
pub(crate) fn demo(mode: State<'_, DemoMode>) -> Option<DemoInfo> {
    mode.info().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_reaches_the_ui_as_code_and_message() {
        let json = serde_json::to_value(UiError::from(Error::BadCredentials {
            login: "demo@example.com".into(),
        }))
        .expect("serializes");
        assert_eq!(json["code"], "BAD_CREDENTIALS");
        assert_eq!(
            json["message"],
            "the server rejected the sign-in of demo@example.com: a wrong password, or no such account"
        );
    }
}
