fn main() {
    // The window's files are embedded by `generate_context!`; cargo must rebuild the app
    // when any of them changes, not only when one is added or removed (which is all a
    // directory's own timestamp tells).
    if let Ok(entries) = std::fs::read_dir("../ui") {
        for entry in entries.flatten() {
            println!("cargo:rerun-if-changed={}", entry.path().display());
        }
    }
    println!("cargo:rerun-if-changed=../ui");
    tauri_build::build();
}
