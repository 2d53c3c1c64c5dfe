//! `warden`: Session Warden's engine from a terminal. Output on stdout is for people, or
//! for scripts with `--json`; diagnostics go to stderr.
#![forbid(unsafe_code)]

mod output;
mod watch;

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use warden_cli::args::{AccountsCommand, Cli, Command, DialectChoice, LedgerCommand, RevokeArgs};
use warden_core::watch::locks::WatchLock;
use warden_core::{
    Account, Accounts, CodePrompt, CodeRequest, DialectKind, Error, GeoIp, Home, IdlePolicy,
    KeyringStore, NewAccount, Secret, Snapshot, SystemClock,
};

/// Exit codes scripts can rely on (`warden_cli::EXIT_STATUS`).
fn exit_code(error: &anyhow::Error) -> u8 {
    warden_cli::exit_status(error.downcast_ref::<Error>().map(Error::code))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(warden_core::log_filter("warn"))
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("warden: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("warden: {error:#}");
            ExitCode::from(exit_code(&error))
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // Before the ledger is opened: opening a damaged one is what fails.
    if let Command::Ledger(LedgerCommand::Recover) = cli.command {
        return recover_ledger();
    }
    let ip_database = std::env::var_os("WARDEN_IP_DATABASE").map(std::path::PathBuf::from);
    let accounts = Arc::new(
        Accounts::open(
            &Home::from_env()?,
            Arc::new(KeyringStore::new()),
            Arc::new(SystemClock),
        )?
        .with_geoip(Arc::new(GeoIp::discover(ip_database.as_deref()))),
    );
    match cli.command {
        Command::Accounts(AccountsCommand::Add {
            url,
            dialect,
            login,
            label,
            password_stdin,
            allow_plain_http,
        }) => {
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
        Command::Accounts(AccountsCommand::Login {
            account,
            password_stdin,
        }) => {
            let account = accounts.find(&account)?;
            login_again(&accounts, &account, password_stdin).await?;
            println!("{} is signed in again and watched", account.label);
        }
        Command::Ledger(LedgerCommand::Recover) => recover_ledger()?,
        Command::Accounts(AccountsCommand::List { json }) => {
            let mut listed = Vec::new();
            for account in accounts.list()? {
                let until = accounts.signed_in_until(&account).await;
                listed.push((account, until));
            }
            output::accounts(&listed, json)?;
        }
        Command::Accounts(AccountsCommand::Remove { account }) => {
            let account = accounts.find(&account)?;
            accounts.remove(&account).await.map_err(|e| match e {
                Error::Keyring(reason) => Error::Keyring(format!(
                    "{reason}; nothing was removed: unlock the keyring and try again"
                )),
                other => other,
            })?;
            eprintln!("removed {} and its keyring entries", account.label);
        }
        Command::Sessions {
            account,
            all: true,
            json,
        } => {
            let chosen = chosen_accounts(&accounts, account.as_deref())?;
            let mut seen = Vec::new();
            for account in &chosen {
                seen.extend(accounts.seen_sessions(account)?);
            }
            output::seen(&seen, accounts.clock().now(), json)?;
        }
        Command::Sessions { account, json, .. } => {
            let chosen = chosen_accounts(&accounts, account.as_deref())?;
            let (snapshots, failed) = reachable(&accounts, &chosen).await;
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
            fail_for(failed)?;
        }
        Command::Revoke(args) => revoke(&accounts, args).await?,
        Command::Policy {
            account,
            idle,
            include_trusted,
            yes,
        } => policy(&accounts, &account, idle.as_deref(), include_trusted, yes).await?,
        Command::Accounts(AccountsCommand::Test { account }) => {
            test_accounts(&accounts, account.as_deref()).await?;
        }
        Command::Watch {
            json,
            notify,
            every_sign_in,
            interval,
        } => {
            let tell = watch::Tell {
                notify,
                every_sign_in,
            };
            watch::run(Arc::clone(&accounts), json, tell, interval).await?
        }
        Command::History {
            account,
            export,
            follow,
            json,
        } => {
            let chosen = account.as_deref().map(|a| accounts.find(a)).transpose()?;
            let entries = accounts.history(chosen.as_ref())?;
            match export.as_deref() {
                Some("csv") => print!("{}", warden_core::ledger::history::to_csv(&entries)?),
                Some(_) => println!("{}", warden_core::ledger::history::to_json(&entries)?),
                None if json => {}
                None => output::history(&entries, &accounts.list()?)?,
            }
            if follow {
                watch::follow(&accounts, json, watch::FollowUntil::Interrupted).await?;
            }
        }
        Command::Trust {
            session_id,
            account,
        } => {
            let (account, session) =
                find_session(&accounts, &session_id, account.as_deref()).await?;
            let trusted = accounts.trust(&account, &session.id).await?;
            println!(
                "trusted {} on {}: it raises no alert again",
                trusted.device.label, account.label
            );
        }
        Command::Label {
            session_id,
            label,
            account,
        } => {
            let (account, session) =
                find_session(&accounts, &session_id, account.as_deref()).await?;
            accounts.set_label(&account, &session.id, &label)?;
            println!(
                "{} on {} is now {:?}",
                session.device.label, account.label, label
            );
        }
    }
    Ok(())
}

/// `ledger recover`: only a ledger that does not open is set aside; a sound one is left be.
fn recover_ledger() -> anyhow::Result<()> {
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

/// Lists every account it can; the ones that fail are named on stderr and returned with
/// their error, so one broken account never hides the others. With nothing watching the
/// home, each listing is looked at as a watcher would and recorded (new sign-ins judged,
/// ended sessions noted): whatever any process sees is in the history. With a watcher
/// running, it records, and this only lists.
async fn reachable(
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
fn fail_for(failed: Vec<(Account, Error)>) -> anyhow::Result<()> {
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
async fn find_session(
    accounts: &Arc<Accounts>,
    wanted: &str,
    which: Option<&str>,
) -> anyhow::Result<(Account, warden_core::Session)> {
    let (account, session, _) = find_listed(accounts, wanted, which).await?;
    Ok((account, session))
}

/// [`find_session`], with the listing it was found in.
async fn find_listed(
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

/// Lists each account once; says which work and why the others do not.
async fn test_accounts(accounts: &Accounts, which: Option<&str>) -> anyhow::Result<()> {
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

fn chosen_accounts(accounts: &Accounts, which: Option<&str>) -> anyhow::Result<Vec<Account>> {
    Ok(match which {
        Some(which) => vec![accounts.find(which)?],
        None => accounts.list()?,
    })
}

async fn revoke(accounts: &Arc<Accounts>, args: RevokeArgs) -> anyhow::Result<()> {
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

/// `warden policy`: shows the idle policy and what it would sign out now; with `--idle`,
/// shows what the new one would sign out, then turns it on (asked on a terminal).
async fn policy(
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

/// Where signing out costs more than the session (a Matrix device's encryption keys), the
/// person reads what before it happens: asked on a terminal; said on stderr when a script
/// runs it (which asked for it by running it).
fn confirmed(account: &Account, what: &str) -> anyhow::Result<bool> {
    let Some(warning) = account.dialect.revoke_warning() else {
        return Ok(true);
    };
    eprintln!("warden: {warning}");
    if !std::io::stdin().is_terminal() {
        return Ok(true);
    }
    eprint!("{what} on {}? [y/N] ", account.label);
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    let yes = matches!(answer.trim(), "y" | "Y" | "yes");
    if !yes {
        eprintln!("warden: nothing was signed out");
    }
    Ok(yes)
}

/// `accounts login`: the stored password (or a new one piped in), and a prompt for any code;
/// a password the server rejects is asked for again on a terminal.
async fn login_again(
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

/// Asks before a password crosses the network in the clear; without a terminal to ask on,
/// refuses (`--allow-plain-http` says yes in advance).
fn confirm_plain_http(warning: &str) -> anyhow::Result<()> {
    eprintln!("warden: warning: {warning}");
    if !std::io::stdin().is_terminal() {
        return Err(Error::InvalidInput(
            "not sending it without asking; pass --allow-plain-http to send it anyway".into(),
        )
        .into());
    }
    eprint!("Send it anyway? [y/N] ");
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(Error::InvalidInput("not added: nothing was sent".into()).into())
    }
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

/// Asks for one-time codes on the terminal, or reads the next line of standard input when
/// there is no terminal (scripts pipe the password, then the code).
struct TerminalPrompt;

impl CodePrompt for TerminalPrompt {
    fn code(&self, account: &str, request: &CodeRequest) -> warden_core::Result<Secret> {
        let question = format!("{} for {account}: ", request.question());
        let code = if std::io::stdin().is_terminal() {
            rpassword::prompt_password(question)
                .map_err(|e| Error::InvalidInput(format!("cannot read the code: {e}")))?
        } else {
            // The first non-empty line: a script that pipes an empty password line before
            // SecureAuth's code (it has no password) is understood.
            let mut line = String::new();
            for _ in 0..2 {
                line.clear();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map_err(|e| Error::InvalidInput(format!("cannot read the code: {e}")))?;
                if !line.trim().is_empty() {
                    break;
                }
            }
            line.trim().to_owned()
        };
        if code.trim().is_empty() {
            return Err(Error::BadCode("no code was entered".into()));
        }
        Ok(Secret::new(code.trim()))
    }
}

/// The account's secret, asked as its API names it ("Password", "Admin secret").
fn read_password(dialect: DialectKind, login: &str, from_stdin: bool) -> anyhow::Result<Secret> {
    let label = dialect
        .sign_in_form()
        .password_label
        .unwrap_or_else(|| "Password".into());
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("{label} for {login}: "))?
    } else {
        return Err(Error::InvalidInput(
            "no terminal to ask for the password: pass --password-stdin".into(),
        )
        .into());
    };
    Ok(Secret::new(password))
}
