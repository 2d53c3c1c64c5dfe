//! What a click does, wherever it was clicked (window, tray menu, notification): one
//! implementation per action, so the three stay the same.

use tauri::{AppHandle, Emitter, Manager};
use warden_core::{Account, AccountId, Result, Session, SessionId};

use crate::sink::ACCOUNT_CHANGED;
use crate::state::AppState;

fn account(app: &AppHandle, id: &AccountId) -> Result<Account> {
    app.state::<AppState>().accounts.get(id)
}

/// Shows the account's latest view: the window gets it, the tray follows.
pub fn show(app: &AppHandle, account: Account) {
    let view = app.state::<AppState>().views.view(account);
    if let Err(e) = app.emit(ACCOUNT_CHANGED, &view) {
        tracing::warn!("could not update the window: {e}");
    }
    crate::tray::rebuild(app);
}

/// Polls the account again at once, and shows what is known meanwhile.
pub fn poll_now(app: &AppHandle, account: Account) {
    app.state::<AppState>().watcher.poll_now(&account.id);
    show(app, account);
}

/// After an action on `sessions`: their flags go (they ended, or are trusted), and the
/// account is listed again.
fn settle<'a>(
    app: &AppHandle,
    account: Account,
    sessions: impl IntoIterator<Item = &'a SessionId>,
) {
    let views = &app.state::<AppState>().views;
    for session in sessions {
        views.unflag(&account.id, session);
    }
    poll_now(app, account);
}

/// Ends one session; core lists again to check it is gone.
pub async fn revoke(app: &AppHandle, id: &AccountId, session: &SessionId) -> Result<Session> {
    let account = account(app, id)?;
    let revoked = app
        .state::<AppState>()
        .accounts
        .revoke(&account, session)
        .await?;
    settle(app, account, [session]);
    Ok(revoked)
}

/// Signs out every device but Session Warden's own session.
pub async fn sign_out_others(app: &AppHandle, id: &AccountId) -> Result<Vec<Session>> {
    let account = account(app, id)?;
    let ended = app
        .state::<AppState>()
        .accounts
        .revoke_others(&account)
        .await?;
    settle(app, account, ended.iter().map(|s| &s.id));
    Ok(ended)
}

/// "It's me": the device is trusted from now on, and its flag goes.
pub async fn trust(app: &AppHandle, id: &AccountId, session: &SessionId) -> Result<Session> {
    let account = account(app, id)?;
    let trusted = app
        .state::<AppState>()
        .accounts
        .trust(&account, session)
        .await?;
    settle(app, account, [session]);
    Ok(trusted)
}

/// Runs an action started outside the window (tray, notification): its outcome is told
/// in a notification, since there may be no window to show it.
pub fn spawn_reported<F>(app: &AppHandle, what: String, action: F)
where
    F: Future<Output = Result<String>> + Send + 'static,
{
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let (summary, body) = match action.await {
            Ok(done) => (done, String::new()),
            Err(e) => (format!("Could not {what}"), e.to_string()),
        };
        app.state::<AppState>().notifications.tell(&summary, &body);
    });
}
