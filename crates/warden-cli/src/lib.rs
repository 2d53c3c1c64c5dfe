//! The `warden` command line's definitions, shared by the binary and by what is generated
//! from them (the manual page, shell completions).
#![forbid(unsafe_code)]

pub mod args;

use warden_core::ErrorCode;

/// What each exit status means. Scripts rely on them: README.md and `man warden` list them
/// from here.
pub const EXIT_STATUS: &[(u8, &str)] = &[
    (0, "done"),
    (
        1,
        "anything else: a server error or unreadable answer, Session Warden's own files or \
         database (a full disk, a damaged warden.db)",
    ),
    (2, "bad input (usage, URL, label already taken)"),
    (
        3,
        "the server rejected the login, password or one-time code, or a sign-in needs a code",
    ),
    (
        4,
        "the server could not be reached or did not answer in time",
    ),
    (5, "no such account or session"),
    (
        6,
        "refused: by the server, or by Session Warden itself before sending anything (ending \
         its own session)",
    ),
    (
        7,
        "the OS keyring failed (locked, absent: nothing was changed), or holds no password for \
         the account",
    ),
];

/// The exit status of a failure (`None`: not one of the engine's errors).
pub fn exit_status(code: Option<ErrorCode>) -> u8 {
    match code {
        Some(ErrorCode::BadCredentials | ErrorCode::BadCode | ErrorCode::NeedsSignIn) => 3,
        Some(ErrorCode::Unreachable) => 4,
        Some(ErrorCode::NotFound) => 5,
        Some(ErrorCode::Refused) => 6,
        Some(ErrorCode::Keyring) => 7,
        Some(ErrorCode::InvalidInput) => 2,
        Some(ErrorCode::Storage | ErrorCode::Internal) | None => 1,
    }
}

/// What `warden` reads from its environment.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "WARDEN_HOME",
        "the directory all of Session Warden's files are kept in (default: \
         $XDG_DATA_HOME/session-warden, that is ~/.local/share/session-warden); secrets are \
         never among them",
    ),
    (
        "WARDEN_LOG",
        "what to log on stderr, e.g. debug or warden_core=trace (default: warn)",
    ),
];

/// What `man warden` says of each session API: its name on the command line, and what the
/// person should know of watching an account through it (what it keeps, what watching costs,
/// who signs in again), in core's words.
pub fn session_apis() -> Vec<(String, String)> {
    use warden_core::DialectKind;
    DialectKind::ALL
        .into_iter()
        .map(|kind| {
            let form = kind.sign_in_form();
            let mut text = format!(
                "{}: signs in with the {}",
                kind.title(),
                form.login_label.to_lowercase()
            );
            if let Some(password) = &form.password_label {
                text.push_str(&format!(" and the {}", password.to_lowercase()));
            }
            if let Some(codes) = &form.codes {
                text.push_str(&format!(", then {codes}"));
            }
            text.push('.');
            for note in [kind.what_is_known().map(str::to_owned), kind.caveat()]
                .into_iter()
                .flatten()
            {
                text.push_str(&format!(" {}.", note.trim_end_matches('.')));
            }
            if !kind.signs_in_alone() {
                text.push_str(
                    " Session Warden never signs in there again by itself: when its session \
                     ends, `warden accounts login` does.",
                );
            }
            (kind.as_str().to_owned(), text)
        })
        .collect()
}

/// The whole command line, as clap describes it.
pub fn command() -> clap::Command {
    <args::Cli as clap::CommandFactory>::command()
}
