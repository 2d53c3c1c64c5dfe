//! What the CLI asks on a terminal (or reads from standard input when a script runs it):
//! passwords, one-time codes, confirmations.

use std::io::{BufRead, IsTerminal};

use warden_core::{Account, CodePrompt, CodeRequest, DialectKind, Error, Secret};

/// Where signing out costs more than the session (a Matrix device's encryption keys), the
/// person reads what before it happens: asked on a terminal; said on stderr when a script
/// runs it (which asked for it by running it).
pub(crate) fn confirmed(account: &Account, what: &str) -> anyhow::Result<bool> {
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

/// Asks before a password crosses the network in the clear; without a terminal to ask on,
/// refuses (`--allow-plain-http` says yes in advance).
pub(crate) fn confirm_plain_http(warning: &str) -> anyhow::Result<()> {
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

/// Asks for one-time codes on the terminal, or reads the next line of standard input when
/// there is no terminal (scripts pipe the password, then the code).
pub(crate) struct TerminalPrompt;

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
pub(crate) fn read_password(
    dialect: DialectKind,
    login: &str,
    from_stdin: bool,
) -> anyhow::Result<Secret> {
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
