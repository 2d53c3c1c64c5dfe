//! `warden accounts …`: add, sign in again, list, remove and test the watched accounts.

use std::io::IsTerminal;
use std::sync::Arc;

use warden_cli::args::{AccountsCommand, DialectChoice};
use warden_core::{Account, Accounts, CodePrompt, Error, NewAccount, Secret};

use crate::sessions::chosen_accounts;
use crate::terminal::{TerminalPrompt, confirm_plain_http, read_password};

pub async fn run(accounts: &Arc<Accounts>, command: AccountsCommand) -> anyhow::Result<()> {
    match command {
        AccountsCommand::Add {
            url,
            dialect,
            login,
            label,
            password_stdin,
            allow_plain_http,
        } => {
            let dialect = match dialect {
                DialectChoice::Named(dialect) => dialect,
                DialectChoice::Auto => {
                    let found = accounts.detect_dialect(&url).await?;
                    eprintln!("warden: {url} speaks {found}");
                    found
                }
            };
            // Before the password prompt, so there is still time to choose otherwise.
            if let Some(caveat) = dialect.caveat() {
                eprintln!("warden: note: {caveat}");
            }
            let base = warden_core::accounts::account::parse_base_url(&url)?;
            if let Some(warning) = warden_core::accounts::account::transport_warning(&base, dialect)
                && !allow_plain_http
            {
                confirm_plain_http(&warning)?;
            }
            let password = if dialect.uses_password() {
                read_password(dialect, &login, password_stdin)?
            } else {
                Secret::new("")
            };
            accounts.set_prompt(Arc::new(TerminalPrompt));
            let new = NewAccount {
                url,
                dialect,
                login,
                label,
            };
            let account = accounts.add(new, password).await?;
            if let Some(lifetime) = accounts.access_lifetime(&account) {
                eprintln!(
                    "warden: this server's access tokens last {} minutes",
                    lifetime.num_minutes()
                );
            }
            println!("{}", account.id);
        }
        AccountsCommand::Login {
            account,
            password_stdin,
        } => {
            let account = accounts.find(&account)?;
            login_again(accounts, &account, password_stdin).await?;
            println!("{} is signed in again and watched", account.label);
        }
        AccountsCommand::List { json } => {
            let mut listed = Vec::new();
            for account in accounts.list()? {
                let until = accounts.signed_in_until(&account).await;
                listed.push((account, until));
            }
            crate::output::accounts(&listed, json)?;
        }
        AccountsCommand::Remove { account } => {
            let account = accounts.find(&account)?;
            accounts.remove(&account).await.map_err(|e| match e {
                Error::Keyring(reason) => Error::Keyring(format!(
                    "{reason}; nothing was removed: unlock the keyring and try again"
                )),
                other => other,
            })?;
            eprintln!("removed {} and its keyring entries", account.label);
        }
        AccountsCommand::Test { account } => test_accounts(accounts, account.as_deref()).await?,
    }
    Ok(())
}

/// Lists each account once; says which work and why the others do not.
pub(crate) async fn test_accounts(accounts: &Accounts, which: Option<&str>) -> anyhow::Result<()> {
    let mut first_error = None;
    for account in chosen_accounts(accounts, which)? {
        match accounts.snapshot(&account).await {
            Ok(snapshot) => println!(
                "ok      {}: {} session(s) listed",
                account.label,
                snapshot.sessions.len()
            ),
            Err(e) => {
                println!("failed  {}: {e}", account.label);
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// `accounts login`: the stored password (or a new one piped in), and a prompt for any code;
/// a password the server rejects is asked for again on a terminal.
pub(crate) async fn login_again(
    accounts: &Accounts,
    account: &Account,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let prompt: Arc<dyn CodePrompt> = Arc::new(TerminalPrompt);
    let typed = if password_stdin && account.dialect.uses_password() {
        Some(read_password(account.dialect, &account.login, true)?)
    } else {
        None
    };
    match accounts
        .sign_in_again(account, typed.clone(), &prompt)
        .await
    {
        Err(Error::BadCredentials { .. } | Error::MissingCredential(_))
            if typed.is_none() && std::io::stdin().is_terminal() =>
        {
            eprintln!("warden: the stored password did not work; type the current one");
            let password = read_password(account.dialect, &account.login, false)?;
            accounts
                .sign_in_again(account, Some(password), &prompt)
                .await?;
        }
        other => other?,
    }
    Ok(())
}
