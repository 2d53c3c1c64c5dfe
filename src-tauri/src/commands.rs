//! The window's commands: each takes the state, calls the engine, and maps errors to
//! `{code, message}`. No secret is ever returned.

use serde::Serialize;
use tauri::State;
use warden_core::{AccountId, Error, ErrorCode, NewAccount, Secret, Session, SessionId};

use crate::state::{AccountView, AppState};

/// How an error reaches the UI: a code to branch on, a message to show.
#[derive(Debug, Serialize)]
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

#[tauri::command]
pub(crate) fn accounts(state: State<'_, AppState>) -> Result<Vec<AccountView>, UiError> {
    Ok(state
        .accounts
        .list()?
        .into_iter()
        .map(|a| state.views.view(a))
        .collect())
}

/// The password arrives from the add-account form, wrapped at once, and goes to the
/// keyring only; it never travels back.
#[tauri::command]
pub(crate) async fn add_account(
    state: State<'_, AppState>,
    account: NewAccount,
    password: Secret,
) -> Result<AccountView, UiError> {
    let account = state.accounts.add(account, password).await?;
    state.watcher.watch(account.clone());
    Ok(state.views.view(account))
}

/// Ends the session and checks it is gone; the window then follows the watcher.
#[tauri::command]
pub(crate) async fn revoke_session(
    state: State<'_, AppState>,
    account: AccountId,
    session: SessionId,
) -> Result<Session, UiError> {
    let account = state.accounts.find(account.as_str())?;
    let revoked = state.accounts.revoke(&account, &session).await?;
    state.watcher.poll_now(&account.id);
    Ok(revoked)
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
            "the server rejected the email or password for demo@example.com"
        );
    }
}
