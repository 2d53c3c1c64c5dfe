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
        warden_core::tell::views::Stale::decl(&cfg),
        warden_core::tell::views::AccountView::decl(&cfg),
        warden_core::IdleAfter::decl(&cfg),
        warden_core::IdlePolicy::decl(&cfg),
        warden_core::IdlePlan::decl(&cfg),
        crate::settings::QuietHours::decl(&cfg),
        crate::settings::AppSettings::decl(&cfg),
        crate::settings::About::decl(&cfg),
        crate::settings::Settings::decl(&cfg),
        crate::commands::UiError::decl(&cfg),
        crate::commands::DialectChoice::decl(&cfg),
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
}
