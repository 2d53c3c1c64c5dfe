//! The code cites the project's own spec by section (`docs/apis.md §5`): every citation must
//! name a section that exists, and nothing may cite a spec the repository does not hold.

use std::path::{Path, PathBuf};

const SPEC: &str = "docs/apis.md";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// The project's own text files: sources, docs, the window, packaging.
fn files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with('.') && !["target", "node_modules"].contains(&name.as_str()) {
                files(&path, found);
            }
        } else if ["rs", "md", "js", "html", "toml", "xml"]
            .iter()
            .any(|ext| name.ends_with(&format!(".{ext}")))
        {
            found.push(path);
        }
    }
}

/// The section numbers cited in `text` (`apis.md §N`).
fn citations(text: &str) -> Vec<u32> {
    text.match_indices("apis.md §")
        .filter_map(|(at, cite)| {
            let digits: String = text[at + cite.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .collect()
}

/// The numbered sections of the spec (`## N. Title`).
fn sections(spec: &str) -> Vec<u32> {
    spec.lines()
        .filter_map(|line| line.strip_prefix("## ")?.split_once('.')?.0.parse().ok())
        .collect()
}

#[test]
fn every_citation_of_the_spec_names_a_section_that_exists() {
    let root = root();
    let spec = std::fs::read_to_string(root.join(SPEC)).expect("the spec is in the repository");
    let sections = sections(&spec);
    assert!(
        sections.len() >= 9,
        "the spec's sections are not numbered: {sections:?}"
    );
    let mut all = Vec::new();
    files(&root, &mut all);
    let mut cited = 0;
    let mut wrong = Vec::new();
    for path in &all {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let shown = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        for section in citations(&text) {
            cited += 1;
            if !sections.contains(&section) {
                wrong.push(format!(
                    "{shown} cites {SPEC} §{section}, which does not exist"
                ));
            }
        }
        if text.contains(concat!("wire-", "formats.md")) {
            wrong.push(format!("{shown} cites a spec outside the repository"));
        }
    }
    assert!(
        cited >= 20,
        "only {cited} citations found: is the scan reading the sources?"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn citations_and_sections_are_read_as_written() {
    assert_eq!(
        // Written with escapes, so this file cites nothing itself.
        citations("(docs/apis.md \u{a7}1) and (apis.md \u{a7}12, quirk 1), not apis.md \u{a7} x"),
        [1, 12]
    );
    assert_eq!(
        sections("# Title\n## 1. SecureAuth — x\n### sub\n## 12. More\n## Other"),
        [1, 12]
    );
}
