//! The app's settings, kept in `app.toml` under the home (the rules' thresholds stay in
//! core's `rules.toml`, which the CLI reads too).

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use warden_core::rules::Thresholds;
use warden_core::{Error, Home, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
#[derive(ts_rs::TS)]
pub struct AppSettings {
    /// Seconds between two polls of an account.
    pub poll_seconds: u32,
    pub notifications: bool,
    /// Local hours in which only alerts (the top severity) notify.
    pub quiet_hours: Option<QuietHours>,
    pub start_at_login: bool,
    /// Tell of every new sign-in, a known device's from a known network too (off: those
    /// are history only).
    pub every_sign_in: bool,
    /// An IP database (file or folder) to use instead of the ones found on their own.
    pub ip_database: Option<String>,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            poll_seconds: 15,
            notifications: true,
            quiet_hours: None,
            start_at_login: false,
            every_sign_in: false,
            ip_database: None,
        }
    }
}

// Quiet hours are the notification policy's (core decides what interrupts the person).
pub use warden_core::tell::notification::QuietHours;

impl AppSettings {
    /// The part of the settings the notification policy reads.
    pub fn notifications(&self) -> warden_core::tell::notification::NotificationSettings {
        warden_core::tell::notification::NotificationSettings {
            notifications: self.notifications,
            quiet_hours: self.quiet_hours,
            every_sign_in: self.every_sign_in,
        }
    }
}

/// Seconds between polls; tests and the demo shorten it.
const POLL_ENV: &str = "WARDEN_POLL_SECONDS";

/// The interval forced by the environment, which wins over the settings.
pub fn poll_override() -> Option<std::time::Duration> {
    std::env::var(POLL_ENV)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(std::time::Duration::from_secs_f64)
}

/// Everything the settings view edits, as one value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[derive(ts_rs::TS)]
pub struct Settings {
    pub app: AppSettings,
    pub rules: Thresholds,
    /// What the About line says; the window never sends it back.
    #[serde(default, skip_deserializing)]
    pub about: About,
}

/// The version, the license, and the IP databases in use with the credit each asks for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct About {
    pub version: String,
    pub license: String,
    pub ip_databases: Vec<String>,
    pub credits: Vec<String>,
    /// What the person must know when IP data is missing (`GeoIp::missing`): the window
    /// says it above every view, since the rules on places are silent without it.
    pub ip_data_missing: Option<String>,
}

impl About {
    pub fn of(geoip: &warden_core::GeoIp) -> Self {
        About {
            version: env!("CARGO_PKG_VERSION").into(),
            license: env!("CARGO_PKG_LICENSE").into(),
            ip_databases: geoip
                .sources()
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            credits: geoip
                .attributions()
                .iter()
                .map(|c| (*c).to_owned())
                .collect(),
            ip_data_missing: geoip.missing(),
        }
    }
}

impl AppSettings {
    pub fn validate(&self) -> Result<()> {
        if !(5..=86_400).contains(&self.poll_seconds) {
            return Err(Error::InvalidInput(
                "the poll interval must be between 5 seconds and a day".into(),
            ));
        }
        if let Some(q) = self.quiet_hours
            && (q.from > 23 || q.to > 23 || q.from == q.to)
        {
            return Err(Error::InvalidInput(
                "quiet hours run from one hour (0–23) to another".into(),
            ));
        }
        Ok(())
    }
}

pub struct SettingsStore {
    home: Home,
    current: Mutex<AppSettings>,
}

impl SettingsStore {
    /// Reads `app.toml`; a damaged file is reported and replaced by the defaults in memory
    /// (the file is kept until the person saves).
    pub fn open(home: &Home) -> Self {
        let path = home.app_settings_path();
        let current = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!("{} is not valid, using defaults: {e}", path.display());
                AppSettings::default()
            }),
            Err(_) => AppSettings::default(),
        };
        Self {
            home: home.clone(),
            current: Mutex::new(current),
        }
    }

    pub fn get(&self) -> AppSettings {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn save(&self, settings: AppSettings) -> Result<()> {
        settings.validate()?;
        let text = toml::to_string(&settings)
            .map_err(|e| Error::InvalidInput(format!("cannot write the settings: {e}")))?;
        warden_core::home::write_atomically(&self.home.app_settings_path(), text.as_bytes())?;
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = settings;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_survive_a_reopen_and_bad_ones_are_refused() {
        let dir = std::env::temp_dir().join(format!("warden-settings-{}", std::process::id()));
        let home = Home::at(&dir);
        let store = SettingsStore::open(&home);
        assert_eq!(store.get(), AppSettings::default());
        let changed = AppSettings {
            poll_seconds: 60,
            notifications: false,
            quiet_hours: Some(QuietHours { from: 22, to: 7 }),
            start_at_login: true,
            every_sign_in: true,
            ip_database: Some("/usr/share/GeoIP".into()),
        };
        store.save(changed.clone()).expect("saves");
        assert_eq!(SettingsStore::open(&home).get(), changed);
        let bad = AppSettings {
            poll_seconds: 1,
            ..AppSettings::default()
        };
        assert!(store.save(bad).is_err());
        assert_eq!(store.get(), changed, "a refused change changes nothing");
        let _ = std::fs::remove_dir_all(dir);
    }
}
