//! `cargo xtask` is what installs the system's libraries, so it must build where none is
//! installed yet: on a new machine with the Rust toolchain and a C compiler alone. This fails,
//! naming the chain (`xtask → … → libdbus-sys`), the moment a crate in xtask's own build links
//! a system library it does not build from sources it carries.
//!
//! What xtask's build really holds comes from `cargo tree -p xtask -e normal,build`: the
//! dependencies and features of xtask built alone. (`cargo metadata` resolves the whole
//! workspace at once, features unified, so it would count the app's `bundled` SQLite as
//! xtask's.) What a crate links comes from `cargo metadata`: its `links` key.

use std::collections::{HashMap, HashSet};
use std::process::Command;

/// How a crate that declares `links`, or probes the system with pkg-config, gets what it
/// links without a system library.
enum Source {
    /// Compiles what it links from sources inside the crate, whatever its features.
    Carried,
    /// Compiles from carried sources only with this feature on; without it, pkg-config.
    WithFeature(&'static str),
    /// Its `links` key names no library: it only passes values to dependants' build scripts.
    NoLibrary,
}

/// Every crate known to be fine in a toolchain-only build, and why. A crate not listed here
/// that links or probes something is a failure: the fix is to keep it out of xtask's tree, or,
/// once its build has been read, to add it here.
const KNOWN: &[(&str, Source)] = &[
    // BoringSSL-derived C and assembly in the crate, built with `cc`.
    ("ring", Source::Carried),
    // AWS-LC's sources in the crate, built with `cc` (no CMake on Linux x86_64).
    ("aws-lc-sys", Source::Carried),
    // `links` only names the aws-lc-sys it wraps, so two versions never mix.
    ("aws-lc-rs", Source::NoLibrary),
    ("libsqlite3-sys", Source::WithFeature("bundled")),
    ("libdbus-sys", Source::WithFeature("vendored")),
    ("openssl-sys", Source::WithFeature("vendored")),
    // Marker keys that only hand values to build scripts.
    ("prettyplease", Source::NoLibrary),
    ("rayon-core", Source::NoLibrary),
];

/// Build dependencies that find system libraries.
const PROBES: &[&str] = &["pkg-config", "system-deps"];

/// One line of `cargo tree --prefix depth -f '{p}|{f}'`.
struct Line<'a> {
    depth: usize,
    name: &'a str,
    version: &'a str,
    features: HashSet<&'a str>,
}

fn parse(line: &str) -> Option<Line<'_>> {
    let digits = line.find(|c: char| !c.is_ascii_digit())?;
    let depth = line[..digits].parse().ok()?;
    let (package, features) = line[digits..].split_once('|')?;
    let mut words = package.split_whitespace();
    let name = words.next()?;
    let version = words.next()?.trim_start_matches('v');
    let features = features
        .trim_end_matches(" (*)")
        .split(',')
        .filter(|f| !f.is_empty())
        .collect();
    Some(Line {
        depth,
        name,
        version,
        features,
    })
}

/// Every crate of `tree` (cargo tree's output) that needs a system library, as the chain
/// from the root that brings it in. `links` maps `name version` to the crate's `links` key.
fn audit(tree: &str, links: &HashMap<String, String>) -> Vec<String> {
    let lines: Vec<Line> = tree.lines().filter_map(parse).collect();
    // Crates whose build probes the system: one of their children is a probe.
    let mut probing: HashSet<(&str, &str)> = HashSet::new();
    let mut parents: Vec<&Line> = Vec::new();
    for line in &lines {
        parents.truncate(line.depth);
        if let Some(parent) = parents.last()
            && PROBES.contains(&line.name)
        {
            probing.insert((parent.name, parent.version));
        }
        parents.push(line);
    }
    let mut chain: Vec<&str> = Vec::new();
    let mut found = Vec::new();
    for line in &lines {
        chain.truncate(line.depth);
        chain.push(line.name);
        let key = format!("{} {}", line.name, line.version);
        let mut needs = Vec::new();
        if let Some(library) = links.get(&key) {
            needs.push(format!("links `{library}`"));
        }
        if probing.contains(&(line.name, line.version)) {
            needs.push("probes the system with pkg-config".to_owned());
        }
        if needs.is_empty() {
            continue;
        }
        let verdict = match KNOWN.iter().find(|(name, _)| *name == line.name) {
            Some((_, Source::Carried | Source::NoLibrary)) => None,
            Some((_, Source::WithFeature(feature))) if line.features.contains(feature) => None,
            Some((_, Source::WithFeature(feature))) => {
                Some(format!("without its `{feature}` feature"))
            }
            None => Some("not known to build it from carried sources".to_owned()),
        };
        if let Some(verdict) = verdict {
            found.push(format!(
                "{} ({}; {verdict})",
                chain.join(" → "),
                needs.join(", ")
            ));
        }
    }
    found.sort();
    found.dedup();
    found
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    command
}

fn output(command: &mut Command) -> String {
    let out = command.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("cargo prints UTF-8")
}

#[test]
fn xtask_builds_with_nothing_but_the_toolchain_and_a_c_compiler() {
    let metadata: serde_json::Value = serde_json::from_str(&output(cargo().args([
        "metadata",
        "--format-version",
        "1",
        "--locked",
    ])))
    .expect("cargo metadata prints JSON");
    let links: HashMap<String, String> = metadata["packages"]
        .as_array()
        .expect("a list of packages")
        .iter()
        .filter_map(|p| {
            let library = p["links"].as_str()?;
            Some((
                format!("{} {}", p["name"].as_str()?, p["version"].as_str()?),
                library.to_owned(),
            ))
        })
        .collect();
    assert!(
        links.keys().any(|k| k.starts_with("ring ")),
        "cargo metadata names no crate's `links`: the check would see nothing"
    );
    let tree = output(cargo().args([
        "tree",
        "--locked",
        "--package",
        "xtask",
        "--edges",
        "normal,build",
        "--prefix",
        "depth",
        "--format",
        "{p}|{f}",
    ]));
    assert!(tree.starts_with("0xtask "), "not xtask's tree: {tree}");
    let found = audit(&tree, &links);
    assert!(
        found.is_empty(),
        "xtask would not build on a new machine, before its set-up installs the system's \
         libraries; keep these out of xtask (run what needs them as a program of the workspace \
         after the set-up):\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn the_audit_names_the_chain_to_a_system_library_and_spares_a_bundled_one() {
    let tree = "\
0xtask v0.1.0 (/src/xtask)|
1warden-core v0.1.0 (/src/crates/warden-core)|
2keyring v3.6.3|default,sync-secret-service
3dbus-secret-service v4.1.0|crypto-rust
4dbus v0.9.9|default
5libdbus-sys v0.2.7|default,pkg-config
6cc v1.2.0|
6pkg-config v0.3.32|
2rusqlite v0.40.0|bundled
3libsqlite3-sys v0.38.2|bundled,cc
4cc v1.2.0|
1webkit2gtk-sys v2.0.2|
2gtk-sys v0.18.2| (*)
1ring v0.17.14|alloc,default
2cc v1.2.0|
";
    let links: HashMap<String, String> = [
        ("libdbus-sys 0.2.7", "dbus"),
        ("libsqlite3-sys 0.38.2", "sqlite3"),
        ("ring 0.17.14", "ring_core_0_17_14_"),
        ("webkit2gtk-sys 2.0.2", "web_kit2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(
        audit(tree, &links),
        [
            "xtask → warden-core → keyring → dbus-secret-service → dbus → libdbus-sys \
             (links `dbus`, probes the system with pkg-config; without its `vendored` feature)",
            "xtask → webkit2gtk-sys (links `web_kit2`; not known to build it from carried \
             sources)",
        ]
    );
}
