//! One-time codes asked in the window. The engine asks on a blocking thread; the window
//! gets an event with the question and answers through the `submit_code` command (or
//! `cancel_code`). Only one question is open at a time: adding an account is one flow.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use serde::Serialize;
use tauri::{AppHandle, Emitter};
use warden_core::{CodePrompt, CodeRequest, Error, Result, Secret};

/// The event the window listens to for a question.
pub const CODE_REQUESTED: &str = "warden://code-requested";
/// A person who walked away is not waited for forever.
const PATIENCE: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[derive(ts_rs::TS)]
pub struct Question {
    pub account: String,
    pub question: String,
    /// What kind of code, for the input's hints.
    #[ts(type = "\"sms\" | \"totp\" | \"totp-or-backup\"")]
    pub kind: &'static str,
}

pub struct WindowPrompt {
    app: AppHandle,
    waiting: Mutex<Option<SyncSender<Option<Secret>>>>,
}

impl WindowPrompt {
    pub fn new(app: AppHandle) -> Self {
        Self {
            app,
            waiting: Mutex::new(None),
        }
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, Option<SyncSender<Option<Secret>>>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The person's answer; `None` cancels. False when nothing was asked.
    pub fn answer(&self, code: Option<Secret>) -> bool {
        match self.waiting().take() {
            Some(tx) => tx.send(code).is_ok(),
            None => false,
        }
    }

    fn ask(&self, question: Question) -> Result<Receiver<Option<Secret>>> {
        let (tx, rx) = sync_channel(1);
        *self.waiting() = Some(tx);
        self.app
            .emit(CODE_REQUESTED, &question)
            .map_err(|e| Error::InvalidInput(format!("cannot ask in the window: {e}")))?;
        Ok(rx)
    }
}

impl CodePrompt for WindowPrompt {
    fn code(&self, account: &str, request: &CodeRequest) -> Result<Secret> {
        let kind = match request {
            CodeRequest::Sms { .. } => "sms",
            CodeRequest::Totp => "totp",
            CodeRequest::TotpOrBackup => "totp-or-backup",
        };
        let rx = self.ask(Question {
            account: account.to_owned(),
            question: request.question(),
            kind,
        })?;
        match rx.recv_timeout(PATIENCE) {
            Ok(Some(code)) => Ok(code),
            Ok(None) => Err(Error::BadCode("cancelled".into())),
            Err(_) => {
                self.waiting().take();
                Err(Error::BadCode("no code was entered in time".into()))
            }
        }
    }
}
