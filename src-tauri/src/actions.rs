//! What a click does, wherever it was clicked (window, tray menu, notification): one
//! implementation per action, so the three stay the same.

use tauri::{AppHandle, Manager};
use warden_core::{Account, AccountId, Result, Session, SessionId};

use crate::state::AppState;

fn account(app: &AppHandle, id: &AccountId) -> Result<Account> {
    app.state::<AppState>().accounts.get(id)
}

/// Polls the account again at once; what it finds reaches the window and the tray as any
/// change does (`Views::subscribe`).
pub fn poll_now(app: &AppHandle, account: Account) {
    app.state::<AppState>().watcher.poll_now(&account.id);
}

/// After an action on `sessions`: their flags go (they ended, or are trusted), a sign-out
/// of theirs that "It's me" cancelled leaves the window and the tray, and the account is
/// listed again.
fn settle<'a>(
    app: &AppHandle,
    account: Account,
    sessions: impl IntoIterator<Item = &'a SessionId>,
) {
    let state = app.state::<AppState>();
    for session in sessions {
        state.views.unflag(&account.id, session);
    }
    state.views.follow_sign_outs(&account.id, &state.accounts);
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
        .sign_out_others(&account)
        .await?;
    settle(app, account, ended.iter().map(|s| &s.id));
    Ok(ended)
}

/// "Sign out now" on a pending sign-out of the defence's: due at once, and the account
/// polled now, which carries it out. `false` when none was pending (cancelled, or done).
pub fn sign_out_now(app: &AppHandle, id: &AccountId, session: &SessionId) -> Result<bool> {
    let account = account(app, id)?;
    let state = app.state::<AppState>();
    let hastened = state.accounts.sign_out_now(&account.id, session)?;
    if hastened {
        state.watcher.poll_now(&account.id);
    }
    Ok(hastened)
}

/// "It's me": the device is trusted from now on (a pending sign-out of it is cancelled),
/// and its flag goes.
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
