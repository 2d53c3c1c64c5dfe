//! The TypeScript declarations of every type that crosses IPC, generated from the Rust types
//! (ts-rs) into `ui/bindings.d.ts`, which the window's script refers to in its JSDoc. A test
//! fails when the checked-in file no longer matches the Rust types, so CI catches a change on
//! one side only. `UPDATE_BINDINGS=1 cargo test -p session-warden bindings` rewrites it.

use ts_rs::{Config, TS};

/// Every declaration, in one file, in a stable order.
pub fn render() -> String {
    // serde sends 64-bit integers as JSON numbers, not bigints.
    let cfg = Config::new().with_large_int("number");
    let decls = [
        warden_core::AccountId::decl(&cfg),
        warden_core::SessionId::decl(&cfg),
        warden_core::DialectKind::decl(&cfg),
        warden_core::SignInForm::decl(&cfg),
        warden_core::Account::decl(&cfg),
        warden_core::NewAccount::decl(&cfg),
        warden_core::DeviceKind::decl(&cfg),
        warden_core::Device::decl(&cfg),
        warden_core::Operator::decl(&cfg),
        warden_core::session::Coordinates::decl(&cfg),
        warden_core::Session::decl(&cfg),
        warden_core::Snapshot::decl(&cfg),
        warden_core::rules::Severity::decl(&cfg),
        warden_core::rules::RuleId::decl(&cfg),
        warden_core::rules::Finding::decl(&cfg),
        warden_core::rules::Thresholds::decl(&cfg),
        warden_core::ledger::history::HistoryKind::decl(&cfg),
        warden_core::ledger::history::HistoryEntry::decl(&cfg),
        warden_core::ErrorCode::decl(&cfg),
        warden_core::tell::views::Health::decl(&cfg),
        warden_core::tell::views::Level::decl(&cfg),
        warden_core::tell::views::Stale::decl(&cfg),
        warden_core::watch::defence::Defence::decl(&cfg),
        warden_core::watch::defence::PendingSignOut::decl(&cfg),
        warden_core::watch::defence::DefenceChoice::decl(&cfg),
        warden_core::tell::views::AccountView::decl(&cfg),
        warden_core::IdleAfter::decl(&cfg),
        warden_core::IdlePolicy::decl(&cfg),
        warden_core::IdlePlan::decl(&cfg),
        warden_core::tell::words::Titled::<warden_core::DialectKind>::decl(&cfg),
        warden_core::tell::words::Words::decl(&cfg),
        crate::settings::QuietHours::decl(&cfg),
        crate::settings::AppSettings::decl(&cfg),
        crate::settings::About::decl(&cfg),
        crate::settings::Settings::decl(&cfg),
        crate::commands::UiError::decl(&cfg),
        crate::prompt::Question::decl(&cfg),
        crate::window::Focus::decl(&cfg),
        crate::demo::DemoInfo::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust types by `session-warden`'s bindings test (ts-rs): do not edit.\n\
         // UPDATE_BINDINGS=1 cargo test -p session-warden bindings\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_in_bindings_match_the_rust_types() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/bindings.d.ts");
        let fresh = render();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &fresh).expect("writes ui/bindings.d.ts");
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == fresh,
            "ui/bindings.d.ts is stale: run `UPDATE_BINDINGS=1 cargo test -p session-warden bindings`"
        );
    }

    #[test]
    fn no_secret_has_a_place_in_the_bindings() {
        let all = render();
        // Field names: a rule may be *called* "token-hopping"; no type may *carry* a token.
        for field in [
            "serverId",
            "password",
            "token",
            "accessToken",
            "cookie",
            "secret",
        ] {
            let declared = [
                format!(" {field}:"),
                format!(" {field}?:"),
                format!("\n{field}:"),
            ];
            assert!(
                !declared.iter().any(|d| all.contains(d.as_str())),
                "an IPC type has a field {field}:\n{all}"
            );
        }
    }

    fn ui_file(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../ui")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The window reaches the engine through `ui/api.js` alone, which has one function per
    /// command the shell registers, and calls no command the shell does not have.
    #[test]
    fn api_js_is_the_window_s_only_way_to_every_command() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui");
        let mut scripts: Vec<String> = std::fs::read_dir(&dir)
            .expect("ui/ is there")
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with(".js"))
            .collect();
        scripts.sort();
        assert!(
            scripts.len() > 1,
            "the window is made of modules: {scripts:?}"
        );
        for name in &scripts {
            let touches = ui_file(name).contains("__TAURI__");
            assert_eq!(touches, name == "api.js", "{name} and window.__TAURI__");
        }
        let api = ui_file("api.js");
        let called: std::collections::BTreeSet<&str> = api
            .split("call(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        let shell = include_str!("lib.rs");
        let handler = shell
            .split("generate_handler![")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .expect("lib.rs registers its commands");
        let registered: std::collections::BTreeSet<&str> = handler
            .split(',')
            .map(|c| c.trim().trim_start_matches("commands::"))
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            called, registered,
            "api.js calls exactly the registered commands"
        );
    }
}
