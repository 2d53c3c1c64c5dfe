//! The manual page and the shell completions are generated from the command line's own
//! definitions (`warden_cli::command`), so they can never describe another `warden`.

use clap_complete::Shell;

#[test]
fn the_definitions_are_sound_and_every_subcommand_has_its_words() {
    let command = warden_cli::command();
    command.clone().debug_assert();
    for sub in command.get_subcommands() {
        assert!(
            sub.get_about().is_some(),
            "`warden {}` says nothing of itself",
            sub.get_name()
        );
    }
}

#[test]
fn the_manual_page_names_every_command() -> std::io::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(warden_cli::command()).render(&mut page)?;
    let page = String::from_utf8_lossy(&page);
    let title = page
        .lines()
        .find(|l| l.starts_with(".TH "))
        .unwrap_or_default();
    assert!(title.starts_with(".TH warden 1"), "{title}");
    for sub in [
        "accounts", "sessions", "revoke", "policy", "watch", "history", "trust",
    ] {
        assert!(page.contains(sub), "the manual lacks `{sub}`");
    }
    Ok(())
}

#[test]
fn bash_zsh_and_fish_complete_the_subcommands() {
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut warden_cli::command(), "warden", &mut script);
        let script = String::from_utf8_lossy(&script);
        for word in ["accounts", "policy", "--idle"] {
            assert!(script.contains(word), "{shell}: no `{word}`");
        }
    }
}

#[test]
fn every_exit_status_warden_can_give_is_documented_here_and_in_the_readme() {
    use warden_core::ErrorCode::*;
    let readme = include_str!("../../../README.md");
    let codes = [
        BadCredentials,
        BadCode,
        NeedsSignIn,
        Unreachable,
        Refused,
        NotFound,
        InvalidInput,
        Keyring,
        Storage,
        Internal,
    ];
    for code in codes.into_iter().map(Some).chain([None]) {
        let status = warden_cli::exit_status(code);
        assert!(
            warden_cli::EXIT_STATUS.iter().any(|(s, _)| *s == status),
            "{code:?} exits {status}, which the manual does not explain"
        );
    }
    for (status, _) in warden_cli::EXIT_STATUS {
        assert!(
            readme.contains(&format!("\n| {status} | ")),
            "README.md does not explain exit status {status}"
        );
    }
}
