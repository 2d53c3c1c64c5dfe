//! `warden defence`: what Session Warden does on its own when an alert says a session is
//! surely not the person's, per account and as the default for new accounts; and cancelling
//! a pending sign-out from anywhere (the watching process sees it in the ledger).

use std::sync::Arc;

use warden_cli::args::DefenceArgs;
use warden_core::watch::defence::Defence;
use warden_core::{Accounts, Error, SessionId};

pub async fn run(accounts: &Arc<Accounts>, args: DefenceArgs) -> anyhow::Result<()> {
    if let Some(session) = &args.cancel {
        return cancel(accounts, session, args.account.as_deref());
    }
    let choice = if args.tell {
        Some(Defence::Tell)
    } else if let Some(wait) = args.wait {
        let wait = chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX);
        Some(Defence::wait(wait).map_err(Error::InvalidInput)?)
    } else if args.at_once {
        Some(Defence::AtOnce)
    } else {
        None
    };
    if args.default {
        if let Some(defence) = choice {
            accounts.set_default_defence(defence)?;
        }
        let defence = accounts.default_defence()?;
        println!(
            "accounts added from now on: {}. {}",
            defence.title(),
            defence.explained()
        );
        return Ok(());
    }
    let account = accounts.find(args.account.as_deref().unwrap_or_default())?;
    if let Some(defence) = choice {
        accounts.set_defence(&account, defence)?;
    }
    let defence = accounts.defence(&account)?;
    println!(
        "{}: {}. {}",
        account.label,
        defence.title(),
        defence.explained()
    );
    // An API that cannot revoke without costing more than the session never acts alone.
    if defence != Defence::Tell
        && let Some(warning) = account.dialect.revoke_warning()
    {
        eprintln!(
            "warden: on {}, Session Warden asks before signing out instead: {warning}",
            account.dialect.title()
        );
    }
    for pending in accounts.pending_sign_outs(Some(&account.id))? {
        println!(
            "pending: {} is signed out at {} UTC ({}){} — cancel: warden defence --cancel {}",
            pending.device,
            pending.due.format("%H:%M:%S"),
            pending.reason,
            pending
                .last_error
                .map(|e| format!("; the last try failed: {e}"))
                .unwrap_or_default(),
            pending.session
        );
    }
    Ok(())
}

/// `--cancel SESSION`: the pending sign-out of that session, on the named account or
/// whichever has it.
fn cancel(accounts: &Accounts, session: &str, which: Option<&str>) -> anyhow::Result<()> {
    let id: SessionId = session.parse()?;
    let account = which.map(|a| accounts.find(a)).transpose()?;
    let pending = accounts
        .pending_sign_outs(account.as_ref().map(|a| &a.id))?
        .into_iter()
        .find(|p| p.session == id)
        .ok_or_else(|| {
            anyhow::Error::new(Error::SessionNotFound(id.to_string()))
                .context("no sign-out of it is pending")
        })?;
    accounts.cancel_sign_out(&pending.account, &pending.session)?;
    println!(
        "cancelled: {} stays signed in (trust it with `warden trust {}` if it is yours)",
        pending.device, pending.session
    );
    Ok(())
}
