//! The app's tray menu over D-Bus (`com.canonical.dbusmenu`), as a tray host sees it: read
//! its layout, click an item. No tray host is needed: the menu is exported regardless.

use std::time::Duration;

use anyhow::Context;

use crate::desktop::Desktop;
use crate::wait::{wait_until, wait_until_async};

pub struct TrayMenu<'a> {
    desktop: &'a Desktop,
    dest: String,
    path: String,
}

impl<'a> TrayMenu<'a> {
    /// Finds the connection and object path exporting a dbusmenu on this desktop's bus.
    pub fn find(desktop: &'a Desktop, timeout: Duration) -> anyhow::Result<TrayMenu<'a>> {
        let (dest, path) = wait_until("the tray menu on D-Bus", timeout, || {
            let names = desktop
                .run(
                    "gdbus",
                    &[
                        "call",
                        "--session",
                        "--dest",
                        "org.freedesktop.DBus",
                        "--object-path",
                        "/org/freedesktop/DBus",
                        "--method",
                        "org.freedesktop.DBus.ListNames",
                    ],
                )
                .ok()?;
            names
                .split('\'')
                .filter(|n| n.starts_with(":1."))
                .find_map(|name| menu_path(desktop, name).map(|p| (name.to_owned(), p)))
        })?;
        Ok(TrayMenu {
            desktop,
            dest,
            path,
        })
    }

    fn call(&self, method: &str, args: &[&str]) -> anyhow::Result<String> {
        let mut all = vec![
            "call",
            "--session",
            "--dest",
            &self.dest,
            "--object-path",
            &self.path,
            "--method",
            method,
        ];
        all.extend_from_slice(args);
        self.desktop.run("gdbus", &all)
    }

    /// The whole menu, as gdbus prints it.
    pub fn layout(&self) -> anyhow::Result<String> {
        self.call(
            "com.canonical.dbusmenu.GetLayout",
            &["0", "int32 -1", "@as []"],
        )
    }

    /// The id of the first item whose label starts with `label` after the item whose label
    /// contains `after` (a submenu's own entry comes before its children).
    pub fn item_after(&self, after: &str, label: &str) -> anyhow::Result<u32> {
        let layout = self.layout()?;
        let start = layout
            .find(after)
            .with_context(|| format!("no {after:?} in the tray menu:\n{layout}"))?;
        let needle = format!("'label': <'{label}");
        let at = start
            + layout[start..]
                .find(&needle)
                .with_context(|| format!("no {label:?} after {after:?}:\n{layout}"))?;
        let open = layout[..at].rfind("<(").context("an item without an id")? + 2;
        let id: String = layout[open..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        Ok(id.parse()?)
    }

    /// Clicks an item, as a tray host does when the person picks it.
    pub fn click(&self, id: u32) -> anyhow::Result<()> {
        self.call(
            "com.canonical.dbusmenu.Event",
            &[&id.to_string(), "clicked", "<0>", "0"],
        )?;
        Ok(())
    }
}

impl TrayMenu<'_> {
    /// Clicks the first `label` item after `after` until `done` holds. The item is looked up
    /// afresh for each click, at most once a second: the app rebuilds its menu when what it
    /// shows changes, and a rebuilt menu numbers its items anew (a tray host refetches the
    /// layout on `LayoutUpdated`; a test must do the same).
    pub async fn click_until<F, Fut>(
        &self,
        after: &str,
        label: &str,
        timeout: Duration,
        done: F,
    ) -> anyhow::Result<()>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        let last = std::sync::Mutex::new(None::<std::time::Instant>);
        wait_until_async(
            &format!("{label:?} in the tray to take effect"),
            timeout,
            || async {
                if done().await {
                    return Some(());
                }
                let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
                if last.is_none_or(|at| at.elapsed() >= Duration::from_secs(1))
                    && let Ok(id) = self.item_after(after, label)
                    && self.click(id).is_ok()
                {
                    *last = Some(std::time::Instant::now());
                }
                None
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}; the menu is:\n{:?}", self.layout()))
    }
}

/// The path of the dbusmenu `name` exports, if it exports one.
fn menu_path(desktop: &Desktop, name: &str) -> Option<String> {
    let tree = desktop
        .run(
            "gdbus",
            &[
                "introspect",
                "--session",
                "--dest",
                name,
                "--object-path",
                "/",
                "--recurse",
            ],
        )
        .ok()?;
    let mut node = None;
    for line in tree.lines() {
        let line = line.trim();
        if let Some(path) = line.strip_prefix("node ") {
            node = Some(path.trim_end_matches('{').trim().to_owned());
        } else if line.starts_with("interface com.canonical.dbusmenu") {
            return node;
        }
    }
    None
}
