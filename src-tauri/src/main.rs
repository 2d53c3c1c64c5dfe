// No console window on Windows release builds: this is a tray app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Answered before any window, tray or D-Bus name exists: a package manager or a person
    // asking which version is installed starts nothing.
    if std::env::args()
        .skip(1)
        .any(|a| a == "--version" || a == "-V")
    {
        println!("session-warden {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    session_warden_lib::run();
}
