//! `warden policy`: the idle policy of an account, shown with what it would sign out.

use std::io::IsTerminal;
use std::sync::Arc;

use warden_core::{Accounts, Error, IdlePolicy};

use crate::output;

/// `warden policy`: shows the idle policy and what it would sign out now; with `--idle`,
/// shows what the new one would sign out, then turns it on (asked on a terminal).
pub(crate) async fn policy(
    accounts: &Arc<Accounts>,
    account: &str,
    idle: Option<&str>,
    include_trusted: bool,
    yes: bool,
) -> anyhow::Result<()> {
    let account = accounts.find(account)?;
    let wanted = match idle {
        None => None,
        Some("off") => {
            accounts.set_idle_policy(&account, None)?;
            println!("idle policy of {}: off", account.label);
            return Ok(());
        }
        Some(after) => Some(IdlePolicy {
            after: after.parse()?,
            include_trusted,
        }),
    };
    let Some(policy) = wanted.or(accounts.idle_policy(&account)?) else {
        println!(
            "idle policy of {}: off (turn it on with --idle 1w|1m|3m|6m|1y)",
            account.label
        );
        return Ok(());
    };
    let plan = accounts.idle_preview(&account, policy).await?;
    let on = if wanted.is_some() { "would be" } else { "is" };
    println!(
        "idle policy of {} {on}: sign out sessions not used for over {}{}",
        account.label,
        policy.after.words(),
        if policy.include_trusted {
            ", trusted devices too"
        } else {
            " (trusted devices spared)"
        }
    );
    output::idle_plan(&plan);
    if wanted.is_none() {
        return Ok(());
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::InvalidInput(
                "not turned on: add --yes to turn it on from a script".into(),
            )
            .into());
        }
        eprint!("turn it on? [y/N] ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("warden: the idle policy was not changed");
            return Ok(());
        }
    }
    accounts.set_idle_policy(&account, Some(policy))?;
    println!(
        "idle policy of {}: on; whatever watches the account (the app, `warden watch`) signs \
         these out at its next poll",
        account.label
    );
    Ok(())
}
