// No console window on Windows release builds: this is a tray app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Parsed before any window, tray or D-Bus name exists: `--version`, `--help` or a
    // mistyped option start nothing.
    let args = <session_warden_lib::Args as clap::Parser>::parse();
    session_warden_lib::run(args);
}
