//! The tray icon and its menu. Menu ids are typed and live here only. The menu is rebuilt
//! when what it shows changes (an account, a session, an age in minutes, the pause), not on
//! every poll, so a menu held open is not replaced under the pointer.

use std::str::FromStr;
use std::sync::Mutex;

use chrono::Utc;
use tauri::image::Image;
use tauri::menu::{IsMenuItem, Menu, MenuId, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};
use warden_core::{AccountId, SessionId};

use crate::actions;
use crate::demo::DemoMode;
use crate::notify::Notifications;
use crate::state::{AccountView, AppState, Level, Views};
use crate::window;

const TRAY: &str = "main";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayItem {
    Open,
    Quit,
    PauseHour,
    Resume,
    Revoke {
        account: AccountId,
        session: SessionId,
    },
    SignOutOthers {
        account: AccountId,
    },
    /// The window, on the session: where signing it out costs more than the session (a
    /// Matrix device's encryption keys), the window says so before it happens.
    Review {
        account: AccountId,
        session: Option<SessionId>,
    },
    /// "It's me" on a pending sign-out of the defence's: cancelled, and the device trusted.
    KeepSignedIn {
        account: AccountId,
        session: SessionId,
    },
    /// "Sign out now" on a pending sign-out.
    SignOutNow {
        account: AccountId,
        session: SessionId,
    },
}

impl TrayItem {
    fn id(&self) -> String {
        match self {
            TrayItem::Open => "open".into(),
            TrayItem::Quit => "quit".into(),
            TrayItem::PauseHour => "pause-hour".into(),
            TrayItem::Resume => "resume".into(),
            TrayItem::Revoke { account, session } => format!("revoke/{account}/{session}"),
            TrayItem::SignOutOthers { account } => format!("others/{account}"),
            TrayItem::KeepSignedIn { account, session } => format!("keep/{account}/{session}"),
            TrayItem::SignOutNow { account, session } => format!("now/{account}/{session}"),
            TrayItem::Review {
                account,
                session: Some(session),
            } => format!("review/{account}/{session}"),
            TrayItem::Review {
                account,
                session: None,
            } => format!("review/{account}"),
        }
    }

    fn parse(id: &str) -> Option<TrayItem> {
        let parts: Vec<&str> = id.split('/').collect();
        Some(match parts.as_slice() {
            ["open"] => TrayItem::Open,
            ["quit"] => TrayItem::Quit,
            ["pause-hour"] => TrayItem::PauseHour,
            ["resume"] => TrayItem::Resume,
            ["revoke", account, session] => TrayItem::Revoke {
                account: AccountId::from_stored((*account).to_owned()),
                session: SessionId::from_str(session).ok()?,
            },
            ["others", account] => TrayItem::SignOutOthers {
                account: AccountId::from_stored((*account).to_owned()),
            },
            ["keep", account, session] => TrayItem::KeepSignedIn {
                account: AccountId::from_stored((*account).to_owned()),
                session: SessionId::from_str(session).ok()?,
            },
            ["now", account, session] => TrayItem::SignOutNow {
                account: AccountId::from_stored((*account).to_owned()),
                session: SessionId::from_str(session).ok()?,
            },
            ["review", account, session] => TrayItem::Review {
                account: AccountId::from_stored((*account).to_owned()),
                session: Some(SessionId::from_str(session).ok()?),
            },
            ["review", account] => TrayItem::Review {
                account: AccountId::from_stored((*account).to_owned()),
                session: None,
            },
            _ => return None,
        })
    }
}

impl From<&TrayItem> for MenuId {
    fn from(item: &TrayItem) -> Self {
        MenuId::new(item.id())
    }
}

const QUIET_ICON: &[u8] = include_bytes!("../../icons/tray-quiet.png");
const ATTENTION_ICON: &[u8] = include_bytes!("../../icons/tray-attention.png");
const SUSPICIOUS_ICON: &[u8] = include_bytes!("../../icons/tray-alert.png");

fn icon(level: Level) -> &'static [u8] {
    match level {
        Level::Quiet => QUIET_ICON,
        Level::Attention => ATTENTION_ICON,
        Level::Suspicious => SUSPICIOUS_ICON,
    }
}

/// What the menu and icon show, to tell whether they need rebuilding.
#[derive(Default)]
pub struct Shown(Mutex<Option<(Vec<String>, Level, String)>>);

pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let demo = app.state::<DemoMode>().info().is_some();
    let builder = TrayIconBuilder::with_id(TRAY);
    // Where the tray shows text beside icons, a demo says so there too.
    let builder = if demo { builder.title("Demo") } else { builder };
    builder
        .icon(Image::from_bytes(QUIET_ICON)?)
        .tooltip(if demo {
            "Session Warden — Demo"
        } else {
            "Session Warden"
        })
        .menu(&Menu::new(app)?)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match TrayItem::parse(event.id().as_ref()) {
            Some(item) => clicked(app, item),
            None => tracing::warn!(id = ?event.id(), "unknown tray menu item"),
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
                && let Err(e) = window::open(tray.app_handle(), None)
            {
                tracing::error!("cannot open the window: {e}");
            }
        })
        .build(app)?;
    rebuild(app);
    Ok(())
}

fn clicked(app: &AppHandle, item: TrayItem) {
    match item {
        TrayItem::Open => {
            if let Err(e) = window::open(app, None) {
                tracing::error!("cannot open the window: {e}");
            }
        }
        TrayItem::Review { account, session } => {
            let focus = window::Focus { account, session };
            if let Err(e) = window::open(app, Some(&focus)) {
                tracing::error!("cannot open the window: {e}");
            }
        }
        TrayItem::Quit => app.exit(0),
        TrayItem::PauseHour => {
            app.state::<Notifications>()
                .pause_for(chrono::Duration::hours(1));
            rebuild(app);
            // The menu says "paused until …": when that time comes, it says so no longer.
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                rebuild(&app);
            });
        }
        TrayItem::Resume => {
            app.state::<Notifications>().resume();
            rebuild(app);
        }
        TrayItem::Revoke { account, session } => {
            let app2 = app.clone();
            Notifications::spawn_reported("revoke the session".into(), async move {
                let ended = actions::revoke(&app2, &account, &session).await?;
                Ok(format!("Signed out {}", ended.device.label))
            });
        }
        TrayItem::KeepSignedIn { account, session } => {
            let app2 = app.clone();
            Notifications::spawn_reported("keep the device signed in".into(), async move {
                let trusted = actions::trust(&app2, &account, &session).await?;
                Ok(format!("{} stays signed in, trusted", trusted.device.label))
            });
        }
        TrayItem::SignOutNow { account, session } => {
            if let Err(e) = actions::sign_out_now(app, &account, &session) {
                tracing::warn!(%account, "cannot sign out now: {e}");
            }
        }
        TrayItem::SignOutOthers { account } => {
            let app2 = app.clone();
            Notifications::spawn_reported("sign out the other devices".into(), async move {
                let ended = actions::sign_out_others(&app2, &account).await?;
                let n = ended.len();
                Ok(format!(
                    "Signed out {n} other device{}",
                    if n == 1 { "" } else { "s" }
                ))
            });
        }
    }
}

/// A menu line for a session: "Firefox on Linux · 203.0.113.7 · 5 min ago".
fn session_line(session: &warden_core::Session, suspicious: bool) -> String {
    let mut line = String::new();
    if suspicious {
        line.push_str("⚠ ");
    }
    line.push_str(session.label.as_deref().unwrap_or(&session.device.label));
    if let Some(ip) = &session.ip {
        line.push_str(&format!(" · {ip}"));
    }
    if let Some(at) = session.last_active_at {
        let minutes = (Utc::now() - at).num_minutes().max(0);
        line.push_str(&match minutes {
            0 => " · now".to_owned(),
            m if m < 60 => format!(" · {m} min ago"),
            m if m < 48 * 60 => format!(" · {} h ago", m / 60),
            m => format!(" · {} days ago", m / (24 * 60)),
        });
    }
    line
}

/// Rebuilds the menu, icon and tooltip if what they show changed. Always on the main thread,
/// one rebuild after another: the tray's own calls go there anyway, and a rebuild started
/// from a watcher thread must not hold `Shown` while it waits for the main thread, which
/// may itself be in a menu handler that rebuilds (a deadlock).
pub fn rebuild(app: &AppHandle) {
    let handle = app.clone();
    let queued = app.run_on_main_thread(move || {
        if let Err(e) = rebuild_now(&handle) {
            tracing::warn!("cannot update the tray: {e}");
        }
    });
    if let Err(e) = queued {
        tracing::warn!("cannot update the tray: {e}");
    }
}

/// One entry of the menu, before it is made: its text, and its item (`None`: disabled).
enum Entry {
    Item(String, Option<TrayItem>),
    Separator,
    Sub(String, Vec<Entry>),
}

fn entries(app: &AppHandle) -> (Vec<Entry>, Level, String) {
    let state = app.state::<AppState>();
    let views: Vec<AccountView> = (state.accounts.list().unwrap_or_default().into_iter())
        .map(|a| state.views.view(a))
        .collect();
    let (level, mut tooltip) = Views::summary(&views);
    let mut menu = Vec::new();
    // A demo says so first, on the tray as in the window: its accounts are made up.
    if let Some(demo) = app.state::<DemoMode>().info() {
        tooltip = format!("Demo — {tooltip}");
        menu.push(Entry::Item(
            format!("Demo mode: made-up accounts on {}", demo.server),
            None,
        ));
    }
    menu.extend([Entry::Item(tooltip.clone(), None), Entry::Separator]);
    for view in &views {
        let account = &view.account;
        let mut sub = Vec::new();
        let sessions = view
            .snapshot
            .as_ref()
            .map(|s| s.sessions.as_slice())
            .unwrap_or_default();
        // The defence's pending sign-outs first, each with its time left and both actions.
        for pending in &view.sign_outs {
            let left = (pending.due - Utc::now()).num_seconds().max(0);
            sub.push(Entry::Sub(
                format!(
                    "Signing out {} in {}:{:02}",
                    pending.device,
                    left / 60,
                    left % 60
                ),
                vec![
                    Entry::Item(
                        "It's me".into(),
                        Some(TrayItem::KeepSignedIn {
                            account: account.id.clone(),
                            session: pending.session.clone(),
                        }),
                    ),
                    Entry::Item(
                        "Sign out now".into(),
                        Some(TrayItem::SignOutNow {
                            account: account.id.clone(),
                            session: pending.session.clone(),
                        }),
                    ),
                ],
            ));
        }
        for session in sessions {
            let line = session_line(session, view.suspicious.contains_key(&session.id));
            if session.is_current {
                sub.push(Entry::Item(format!("{line} (this app)"), None));
            } else {
                let (text, item) = if view.revoke_warning.is_some() {
                    (
                        "Revoke…",
                        TrayItem::Review {
                            account: account.id.clone(),
                            session: Some(session.id.clone()),
                        },
                    )
                } else {
                    (
                        "Revoke",
                        TrayItem::Revoke {
                            account: account.id.clone(),
                            session: session.id.clone(),
                        },
                    )
                };
                sub.push(Entry::Sub(line, vec![Entry::Item(text.into(), Some(item))]));
            }
        }
        if sessions.is_empty() {
            sub.push(Entry::Item("No sessions listed yet".into(), None));
        }
        sub.push(Entry::Separator);
        sub.push(if view.revoke_warning.is_some() {
            Entry::Item(
                "Sign out all other devices…".into(),
                Some(TrayItem::Review {
                    account: account.id.clone(),
                    session: None,
                }),
            )
        } else {
            Entry::Item(
                "Sign out all other devices".into(),
                Some(TrayItem::SignOutOthers {
                    account: account.id.clone(),
                }),
            )
        });
        menu.push(Entry::Sub(account.label.clone(), sub));
    }
    menu.push(Entry::Separator);
    // A pause holds back every notification but an alert's (the top severity): the words say
    // so, since an alert that still shows would otherwise look like a broken pause.
    menu.push(match app.state::<Notifications>().paused_until() {
        Some(until) => Entry::Item(
            format!(
                "Resume notifications (paused until {}; alerts still show)",
                until.with_timezone(&chrono::Local).format("%H:%M")
            ),
            Some(TrayItem::Resume),
        ),
        None => Entry::Item(
            "Pause notifications for 1 hour (alerts still show)".into(),
            Some(TrayItem::PauseHour),
        ),
    });
    menu.push(Entry::Item(
        "Open Session Warden".into(),
        Some(TrayItem::Open),
    ));
    menu.push(Entry::Separator);
    menu.push(Entry::Item("Quit".into(), Some(TrayItem::Quit)));
    (menu, level, tooltip)
}

fn signature(entries: &[Entry], out: &mut Vec<String>) {
    for entry in entries {
        match entry {
            Entry::Item(text, item) => {
                out.push(format!("{text}|{:?}", item.as_ref().map(TrayItem::id)))
            }
            Entry::Separator => out.push("-".into()),
            Entry::Sub(text, children) => {
                out.push(format!("{text}>"));
                signature(children, out);
                out.push("<".into());
            }
        }
    }
}

/// Menu text as it should read. The menu library takes `&` for a mnemonic marker (Windows
/// style; `&&` is a literal one); this menu has no mnemonics, and its text includes names
/// people and servers chose ("Tom & Jerry", "AT&T"), so every `&` is literal.
fn literal(text: &str) -> String {
    text.replace('&', "&&")
}

fn make(app: &AppHandle, entries: &[Entry]) -> tauri::Result<Vec<Box<dyn IsMenuItem<Wry>>>> {
    let mut items: Vec<Box<dyn IsMenuItem<Wry>>> = Vec::new();
    for entry in entries {
        match entry {
            Entry::Item(text, Some(item)) => {
                items.push(Box::new(MenuItem::with_id(
                    app,
                    item,
                    literal(text),
                    true,
                    None::<&str>,
                )?));
            }
            Entry::Item(text, None) => {
                items.push(Box::new(MenuItem::new(
                    app,
                    literal(text),
                    false,
                    None::<&str>,
                )?));
            }
            Entry::Separator => items.push(Box::new(PredefinedMenuItem::separator(app)?)),
            Entry::Sub(text, children) => {
                let children = make(app, children)?;
                let refs: Vec<&dyn IsMenuItem<Wry>> = children.iter().map(|c| c.as_ref()).collect();
                items.push(Box::new(Submenu::with_items(
                    app,
                    literal(text),
                    true,
                    &refs,
                )?));
            }
        }
    }
    Ok(items)
}

fn rebuild_now(app: &AppHandle) -> tauri::Result<()> {
    let Some(tray) = app.tray_by_id(TRAY) else {
        return Ok(());
    };
    let (entries, level, tooltip) = entries(app);
    let mut sig = Vec::new();
    signature(&entries, &mut sig);
    let shown = app.state::<Shown>();
    let mut last = shown.0.lock().unwrap_or_else(|p| p.into_inner());
    let now = Some((sig, level, tooltip.clone()));
    if *last == now {
        return Ok(());
    }
    let level_changed = last.as_ref().is_none_or(|(_, l, _)| *l != level);
    let items = make(app, &entries)?;
    let refs: Vec<&dyn IsMenuItem<Wry>> = items.iter().map(|c| c.as_ref()).collect();
    tray.set_menu(Some(Menu::with_items(app, &refs)?))?;
    tray.set_tooltip(Some(&tooltip))?;
    if level_changed {
        tray.set_icon(Some(Image::from_bytes(icon(level))?))?;
    }
    *last = now;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_menu_id_maps_back_to_its_item() {
        let account = AccountId::from_stored("a1b2c3d4e5f6".into());
        let session = SessionId::from_str("0123456789abcdef").expect("an id");
        for item in [
            TrayItem::Open,
            TrayItem::Quit,
            TrayItem::PauseHour,
            TrayItem::Resume,
            TrayItem::Revoke {
                account: account.clone(),
                session: session.clone(),
            },
            TrayItem::Review {
                account: account.clone(),
                session: Some(session),
            },
            TrayItem::Review {
                account: account.clone(),
                session: None,
            },
            TrayItem::SignOutOthers { account },
        ] {
            assert_eq!(TrayItem::parse(&item.id()), Some(item.clone()));
        }
        assert_eq!(TrayItem::parse("nope"), None);
        assert_eq!(TrayItem::parse("revoke/acc/not-an-id"), None);
    }
}
