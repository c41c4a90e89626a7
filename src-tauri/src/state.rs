//! What the app opens once at start and every command reads.

use std::sync::RwLock;

use toss_core::config::Config;
use toss_core::home::Home;
use toss_core::logging::{self, LogFormat, LogGuard};

/// The app's state. Start-up problems (no data directory, bad settings) are
/// kept as messages instead of aborting, so the window can open and tell the
/// user what to fix.
#[derive(Debug)]
pub struct AppState {
    pub home: Result<Home, String>,
    /// Replaced when the settings screen saves.
    config: RwLock<Result<Config, String>>,
    _log: Option<LogGuard>,
}

impl AppState {
    pub fn start(json_logs: bool) -> Self {
        let format = if json_logs {
            LogFormat::Json
        } else {
            LogFormat::Human
        };
        let home = Home::locate().and_then(|h| h.ensure().map(|()| h));
        let log = match &home {
            Ok(h) => logging::init(h, format)
                .map_err(|e| eprintln!("TOSS: logging to file is off: {e}"))
                .ok(),
            Err(_) => None,
        };
        let state = Self::open(home.map_err(|e| e.to_string()));
        match (&state.home, &state.config()) {
            (Ok(h), Ok(c)) => tracing::info!(
                version = toss_core::VERSION,
                data_dir = %h.root().display(),
                cluster = %c.cluster,
                "TOSS Desktop started"
            ),
            (_, Err(e)) => {
                tracing::warn!(error = %e, "TOSS Desktop started with a settings problem")
            }
            (Err(e), Ok(_)) => {
                tracing::warn!(error = %e, "TOSS Desktop started without a data directory")
            }
        }
        Self { _log: log, ..state }
    }

    /// The state for a data directory (or the reason there is none), with
    /// its settings; no logging set up (tests, or before it can be).
    pub fn open(home: Result<Home, String>) -> Self {
        let config = match &home {
            Ok(h) => Config::load(&h.settings_file()).map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        Self {
            home,
            config: RwLock::new(config),
            _log: None,
        }
    }

    /// The settings in force, or why there are none.
    pub fn config(&self) -> Result<Config, String> {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Saves `changes` to the settings file and puts the result in force.
    pub fn save_config(&self, changes: &[(String, Option<String>)]) -> Result<Config, String> {
        let home = self.home.as_ref().map_err(Clone::clone)?;
        let config = Config::save(&home.settings_file(), changes).map_err(|e| e.to_string())?;
        match self.config.write() {
            Ok(mut c) => *c = Ok(config.clone()),
            Err(poisoned) => *poisoned.into_inner() = Ok(config.clone()),
        }
        Ok(config)
    }
}
