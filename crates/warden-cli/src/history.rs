//! `warden history` (the timeline, its exports, following it) and `ledger recover`.

use warden_core::{Accounts, Error, Home};

use crate::{output, watch};

/// `history`: the timeline of one account or all, or its export; `--follow` goes on.
pub async fn show(
    accounts: &Accounts,
    which: Option<&str>,
    export: Option<&str>,
    follow: bool,
    json: bool,
) -> anyhow::Result<()> {
    let chosen = which.map(|a| accounts.find(a)).transpose()?;
    let entries = accounts.history(chosen.as_ref())?;
    match export {
        Some("csv") => print!("{}", warden_core::ledger::history::to_csv(&entries)?),
        Some(_) => println!("{}", warden_core::ledger::history::to_json(&entries)?),
        None if json => {}
        None => output::history(&entries, &accounts.list()?)?,
    }
    if follow {
        watch::follow(accounts, json, watch::FollowUntil::Interrupted).await?;
    }
    Ok(())
}

/// `ledger recover`: only a ledger that does not open is set aside; a sound one is left be.
pub(crate) fn recover_ledger() -> anyhow::Result<()> {
    use warden_core::ledger::Ledger;
    let path = Home::from_env()?.ledger_path();
    match Ledger::open(&path) {
        Ok(_) => {
            println!("{} is sound: nothing to recover", path.display());
            Ok(())
        }
        Err(Error::DamagedLedger { .. }) => {
            let aside = Ledger::set_aside(&path)?;
            Ledger::open(&path)?;
            println!(
                "kept the damaged history aside as {}; a new one is at {}. Add your accounts \
                 again with `warden accounts add`.",
                aside.display(),
                path.display()
            );
            Ok(())
        }
        Err(other) => Err(other.into()),
    }
}
