//! The tray icon and its menu. Menu ids are typed and live here only.

use tauri::image::Image;
use tauri::menu::{Menu, MenuId, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Runtime};

use crate::window;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayItem {
    Open,
    Quit,
}

impl TrayItem {
    const ALL: [TrayItem; 2] = [TrayItem::Open, TrayItem::Quit];

    fn id(self) -> &'static str {
        match self {
            TrayItem::Open => "open",
            TrayItem::Quit => "quit",
        }
    }
}

impl From<TrayItem> for MenuId {
    fn from(item: TrayItem) -> Self {
        MenuId::new(item.id())
    }
}

impl TryFrom<&MenuId> for TrayItem {
    type Error = ();

    fn try_from(id: &MenuId) -> Result<Self, ()> {
        TrayItem::ALL
            .into_iter()
            .find(|item| item.id() == id.as_ref())
            .ok_or(())
    }
}

const QUIET_ICON: &[u8] = include_bytes!("../../icons/tray-quiet.png");

pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let menu = Menu::with_items(
        app,
        &[
            &MenuItem::with_id(
                app,
                TrayItem::Open,
                "Open Session Warden",
                true,
                None::<&str>,
            )?,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, TrayItem::Quit, "Quit", true, None::<&str>)?,
        ],
    )?;
    TrayIconBuilder::with_id("main")
        .icon(Image::from_bytes(QUIET_ICON)?)
        .tooltip("Session Warden")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match TrayItem::try_from(event.id()) {
            Ok(TrayItem::Open) => {
                if let Err(e) = window::open(app) {
                    tracing::error!("cannot open the window: {e}");
                }
            }
            Ok(TrayItem::Quit) => app.exit(0),
            Err(()) => tracing::warn!(id = ?event.id(), "unknown tray menu item"),
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
                && let Err(e) = window::open(tray.app_handle())
            {
                tracing::error!("cannot open the window: {e}");
            }
        })
        .build(app)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_menu_id_maps_back_to_its_item() {
        for item in TrayItem::ALL {
            assert_eq!(TrayItem::try_from(&MenuId::from(item)), Ok(item));
        }
        assert_eq!(TrayItem::try_from(&MenuId::new("nope")), Err(()));
    }
}
