//! `warden sessions`, `revoke`, `trust` and `label`: the sessions of the watched accounts,
//! listed (every account it can, the others named), ended and marked.

use std::sync::Arc;

use warden_cli::args::RevokeArgs;
use warden_core::watch::locks::WatchLock;
use warden_core::{Account, Accounts, Error, Snapshot};

use crate::output;
use crate::terminal::confirmed;

/// `sessions --all`: every session the ledger has seen, live or ended.
pub fn seen(accounts: &Accounts, which: Option<&str>, json: bool) -> anyhow::Result<()> {
    let chosen = chosen_accounts(accounts, which)?;
    let mut seen = Vec::new();
    for account in &chosen {
        seen.extend(accounts.seen_sessions(account)?);
    }
    output::seen(&seen, accounts.clock().now(), json)
}

/// `sessions`: the live sessions, listed now, with what the listing cannot say.
pub async fn list(accounts: &Arc<Accounts>, which: Option<&str>, json: bool) -> anyhow::Result<()> {
    let chosen = chosen_accounts(accounts, which)?;
    let (snapshots, failed) = reachable(accounts, &chosen).await;
    output::sessions(&snapshots, accounts.clock().now(), json, failed.is_empty())?;
    let addresses = snapshots.iter().flat_map(|(_, s)| &s.sessions).any(|s| {
        s.ip.as_deref()
            .is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_ok())
    });
    if addresses && let Some(missing) = accounts.geoip().missing() {
        eprintln!("warden: {missing}");
    }
    // What an API does not keep (Home Assistant: no browser; renewals, not use).
    for (account, _) in &snapshots {
        if let Some(known) = account.dialect.what_is_known() {
            eprintln!("warden: {}: {known}", account.label);
        }
    }
    fail_for(failed)
}

/// `trust`: "It's me".
pub async fn trust(
    accounts: &Arc<Accounts>,
    session_id: &str,
    which: Option<&str>,
) -> anyhow::Result<()> {
    let (account, session) = find_session(accounts, session_id, which).await?;
    let trusted = accounts.trust(&account, &session.id).await?;
    println!(
        "trusted {} on {}: {}",
        trusted.device.label,
        account.label,
        warden_core::tell::message::TRUSTED
    );
    Ok(())
}

/// `label`: a name of the person's own for the session's device.
pub async fn label(
    accounts: &Arc<Accounts>,
    session_id: &str,
    label: &str,
    which: Option<&str>,
) -> anyhow::Result<()> {
    let (account, session) = find_session(accounts, session_id, which).await?;
    accounts.set_label(&account, &session.id, label)?;
    println!(
        "{} on {} is now {:?}",
        session.device.label, account.label, label
    );
    Ok(())
}

/// Lists every account it can; the ones that fail are named on stderr and returned with
/// their error, so one broken account never hides the others. With nothing watching the
/// home, each listing is looked at as a watcher would and recorded (new sign-ins judged,
/// ended sessions noted): whatever any process sees is in the history. With a watcher
/// running, it records, and this only lists.
pub(crate) async fn reachable(
    accounts: &Arc<Accounts>,
    chosen: &[Account],
) -> (Vec<(Account, Snapshot)>, Vec<(Account, Error)>) {
    let now = accounts.clock().now();
    let holding = match WatchLock::try_acquire(accounts.home(), "warden (a one-off command)", now) {
        Ok(held) => held.ok(),
        Err(e) => {
            tracing::warn!("cannot tell whether a watcher runs: {e}");
            None
        }
    };
    let mut listed = Vec::new();
    let mut failed = Vec::new();
    for account in chosen {
        let listing = match &holding {
            Some(_) => warden_core::watch::look_once(accounts, account).await,
            None => accounts.snapshot(account).await,
        };
        match listing {
            Ok(snapshot) => listed.push((account.clone(), snapshot)),
            // Said once, by the caller (`fail_for`, or where the session was not found).
            Err(e) => failed.push((account.clone(), e)),
        }
    }
    (listed, failed)
}

/// The failures as the command's error, each account named once with its reason; the
/// first one's code is the exit status.
pub(crate) fn fail_for(failed: Vec<(Account, Error)>) -> anyhow::Result<()> {
    let mut failed = failed.into_iter();
    let Some((first, error)) = failed.next() else {
        return Ok(());
    };
    let mut said: Vec<String> = failed
        .map(|(account, e)| format!("{} could not be listed ({e})", account.label))
        .collect();
    said.push(format!("{} could not be listed", first.label));
    Err(anyhow::Error::new(error).context(said.join("; ")))
}

/// The live session with this id, on the named account or whichever holds it. Accounts
/// that cannot be listed are skipped (and named): the session may be on a healthy one.
pub(crate) async fn find_session(
    accounts: &Arc<Accounts>,
    wanted: &str,
    which: Option<&str>,
) -> anyhow::Result<(Account, warden_core::Session)> {
    let (account, session, _) = find_listed(accounts, wanted, which).await?;
    Ok((account, session))
}

/// [`find_session`], with the listing it was found in.
pub(crate) async fn find_listed(
    accounts: &Arc<Accounts>,
    wanted: &str,
    which: Option<&str>,
) -> anyhow::Result<(Account, warden_core::Session, Snapshot)> {
    let wanted_id: warden_core::SessionId = wanted.parse()?;
    let chosen = chosen_accounts(accounts, which)?;
    let (listed, failed) = reachable(accounts, &chosen).await;
    for (account, snapshot) in listed {
        if let Some(session) = snapshot.get(&wanted_id).cloned() {
            return Ok((account, session, snapshot));
        }
    }
    let not_found = Error::SessionNotFound(wanted.to_owned());
    if failed.is_empty() {
        return Err(not_found.into());
    }
    let unchecked: Vec<String> = failed
        .iter()
        .map(|(a, e)| format!("{} ({e})", a.label))
        .collect();
    Err(anyhow::Error::new(not_found).context(format!(
        "not on any account that answered; not checked: {}",
        unchecked.join(", ")
    )))
}

pub(crate) fn chosen_accounts(
    accounts: &Accounts,
    which: Option<&str>,
) -> anyhow::Result<Vec<Account>> {
    Ok(match which {
        Some(which) => vec![accounts.find(which)?],
        None => accounts.list()?,
    })
}

pub(crate) async fn revoke(accounts: &Arc<Accounts>, args: RevokeArgs) -> anyhow::Result<()> {
    let chosen = chosen_accounts(accounts, args.account.as_deref())?;
    if args.panic {
        return panic(accounts, &chosen).await;
    }
    if args.others {
        let [account] = chosen.as_slice() else {
            return Err(Error::InvalidInput(format!(
                "{} accounts: say which with --account",
                chosen.len()
            ))
            .into());
        };
        if !confirmed(account, "sign out every other device")? {
            return Ok(());
        }
        let ended = accounts.sign_out_others(account).await?;
        println!(
            "signed out {} other session(s) of {}; checked gone",
            ended.len(),
            account.label
        );
        return Ok(());
    }
    // Each id is tried, whatever befell the one before; the first failure is the answer.
    let mut first_error = None;
    for wanted in &args.session_ids {
        if let Err(e) = revoke_one(accounts, wanted, args.account.as_deref()).await {
            if args.session_ids.len() > 1 {
                eprintln!("warden: {wanted}: {e:#}");
            }
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

async fn revoke_one(
    accounts: &Arc<Accounts>,
    wanted: &str,
    which: Option<&str>,
) -> anyhow::Result<()> {
    // The id alone names the session: find the account whose list holds it.
    let (account, session, listing) = find_listed(accounts, wanted, which).await?;
    // What would be refused is said before any warning or question.
    accounts.check_revocable(&session, &listing)?;
    if !confirmed(&account, &format!("sign out {}", session.device.label))? {
        return Ok(());
    }
    let revoked = accounts.revoke_listed(&account, session, &listing).await?;
    println!(
        "revoked {} ({}) on {}; checked gone",
        revoked.device.label,
        revoked.ip.as_deref().unwrap_or("unknown address"),
        account.label
    );
    if let Some(note) = accounts.after_revoke(&account, &revoked) {
        println!("note: {note}");
    }
    Ok(())
}

/// Every account: sign out all others, each checked; goes on past a failure and reports it.
async fn panic(accounts: &Accounts, chosen: &[Account]) -> anyhow::Result<()> {
    let mut first_error = None;
    for account in chosen {
        match accounts.sign_out_others(account).await {
            Ok(ended) => println!(
                "signed out {} other session(s) of {}; checked gone",
                ended.len(),
                account.label
            ),
            Err(e) => {
                println!("FAILED on {}: {e}", account.label);
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}
