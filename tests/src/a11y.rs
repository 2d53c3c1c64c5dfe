//! axe-core, run in the real window over WebDriver: each screen is checked as it is shown,
//! and any serious or critical violation fails the test, named with the elements it is on.
//! axe-core comes from npm, pinned by `tests/a11y/package-lock.json` and installed by
//! `cargo xtask setup`.

use std::path::Path;

use anyhow::Context;
use fantoccini::Client;
use serde::Deserialize;

/// The impacts that fail a check: what keeps someone from using the screen at all.
const FAILING: &[&str] = &["serious", "critical"];

#[derive(Debug, Deserialize)]
struct Violation {
    id: String,
    impact: Option<String>,
    help: String,
    nodes: Vec<Node>,
}

#[derive(Debug, Deserialize)]
struct Node {
    target: Vec<serde_json::Value>,
    #[serde(rename = "failureSummary")]
    failure_summary: Option<String>,
}

fn axe_source() -> anyhow::Result<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("a11y/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: axe-core is installed by `cargo xtask setup`",
            path.display()
        )
    })
}

/// Runs axe-core on the window as it is now; fails on any serious or critical violation,
/// saying which rule, why, and on which elements. `screen` names what is shown, for the
/// message.
pub async fn check(client: &Client, screen: &str) -> anyhow::Result<()> {
    let loaded = client
        .execute("return typeof window.axe === 'object'", vec![])
        .await?;
    if loaded != serde_json::Value::Bool(true) {
        // Through WebDriver, as a person's assistive technology would read the page: the
        // window's own CSP is for what the page loads, not for its automation.
        let source = axe_source()?;
        client
            .execute(&format!("{source}\nreturn typeof window.axe"), vec![])
            .await
            .context("loading axe-core into the window")?;
    }
    let answer = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { resultTypes: ["violations"] })
                 .then((r) => done(JSON.stringify(r.violations)))
                 .catch((e) => done("axe failed: " + e));"#,
            vec![],
        )
        .await?;
    let text = answer.as_str().context("axe-core's answer")?;
    let violations: Vec<Violation> =
        serde_json::from_str(text).with_context(|| text.chars().take(300).collect::<String>())?;
    let failing: Vec<String> = violations
        .iter()
        .filter(|v| v.impact.as_deref().is_some_and(|i| FAILING.contains(&i)))
        .map(|v| {
            let nodes: Vec<String> = v
                .nodes
                .iter()
                .map(|n| {
                    format!(
                        "    {} — {}",
                        n.target
                            .iter()
                            .map(|t| t.to_string())
                            .collect::<Vec<_>>()
                            .join(" "),
                        n.failure_summary
                            .as_deref()
                            .unwrap_or("")
                            .replace('\n', " ")
                    )
                })
                .collect();
            format!(
                "  {} ({}): {}\n{}",
                v.id,
                v.impact.as_deref().unwrap_or("?"),
                v.help,
                nodes.join("\n")
            )
        })
        .collect();
    anyhow::ensure!(
        failing.is_empty(),
        "axe-core: {} serious or critical violation(s) on the {screen} screen:\n{}",
        failing.len(),
        failing.join("\n")
    );
    Ok(())
}
