//! What a click does, wherever it was clicked (window, tray menu, notification): one
//! implementation per action, so the three stay the same.

use tauri::{AppHandle, Emitter, Manager};
use warden_core::{Account, AccountId, Result, Session, SessionId};

use crate::sink::ACCOUNT_CHANGED;
use crate::state::AppState;

fn account(app: &AppHandle, id: &AccountId) -> Result<Account> {
    app.state::<AppState>().accounts.find(id.as_str())
}

/// Sends the account's view now, and polls it again at once.
pub fn refresh(app: &AppHandle, account: Account) {
    let state = app.state::<AppState>();
    state.watcher.poll_now(&account.id);
    let view = state.views.view(account);
    if let Err(e) = app.emit(ACCOUNT_CHANGED, &view) {
        tracing::warn!("could not update the window: {e}");
    }
    crate::tray::refresh(app);
}

/// Ends one session; core lists again to check it is gone.
pub async fn revoke(app: &AppHandle, id: &AccountId, session: &SessionId) -> Result<Session> {
    let account = account(app, id)?;
    let state = app.state::<AppState>();
    let revoked = state.accounts.revoke(&account, session).await?;
    state.views.unflag(&account.id, session);
    refresh(app, account);
    Ok(revoked)
}

/// Signs out every device but Session Warden's own session.
pub async fn sign_out_others(app: &AppHandle, id: &AccountId) -> Result<Vec<Session>> {
    let account = account(app, id)?;
    let state = app.state::<AppState>();
    let ended = state.accounts.revoke_others(&account).await?;
    for session in &ended {
        state.views.unflag(&account.id, &session.id);
    }
    refresh(app, account);
    Ok(ended)
}

/// "It's me": the device is trusted from now on, and its flag goes.
pub async fn trust(app: &AppHandle, id: &AccountId, session: &SessionId) -> Result<Session> {
    let account = account(app, id)?;
    let state = app.state::<AppState>();
    let trusted = state.accounts.trust(&account, session).await?;
    state.views.unflag(&account.id, session);
    refresh(app, account);
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
