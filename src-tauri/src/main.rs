// No console window on Windows release builds: this is a tray app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    session_warden_lib::run();
}
