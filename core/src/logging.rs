//! Logging: human-readable or JSON lines, to stderr and to a daily-rotated file
//! in the data directory (so a merchant can send us a log after a bad day).
//!
//! What may be logged is decided where values are created: secret types in the
//! core have redacting `Debug` impls and no `Display`, so they cannot reach a
//! log line by accident.

use std::io::IsTerminal;
use std::str::FromStr;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::home::Home;

/// Log files kept before the oldest is deleted (one per day).
const KEEP_FILES: usize = 14;
/// The variable holding a `tracing` filter such as `info` or `toss_core=debug`.
pub const FILTER_VAR: &str = "TOSS_LOG";

/// How log lines are written, to stderr and to the file alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `tracing`'s plain text format (`human` or `text`).
    #[default]
    Human,
    /// One JSON object per line (`json`).
    Json,
}

impl FromStr for LogFormat {
    type Err = LoggingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "human" | "text" => Ok(Self::Human),
            "json" => Ok(Self::Json),
            _ => Err(LoggingError::Format(s.to_owned())),
        }
    }
}

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// A log format name other than human, text or json; carries it.
    #[error("log format {0:?} is not known; use human or json")]
    Format(String),
    /// `TOSS_LOG` is not a valid `tracing` filter; carries the parser's message.
    #[error("{FILTER_VAR}: {0}")]
    Filter(String),
    /// The rotating log file could not be opened.
    #[error("cannot open the log file in {dir}: {message}")]
    File {
        /// The logs directory.
        dir: String,
        /// Why the file appender failed.
        message: String,
    },
    /// A global subscriber was already installed in this process.
    #[error("logging was already set up in this process")]
    AlreadySet,
}

/// Keeps the file writer's background thread alive; dropping it flushes.
#[derive(Debug)]
pub struct LogGuard {
    _writer: WorkerGuard,
}

/// Installs the process-wide subscriber. The home directory must exist.
pub fn init(home: &Home, format: LogFormat) -> Result<LogGuard, LoggingError> {
    let filter = || -> Result<EnvFilter, LoggingError> {
        match std::env::var(FILTER_VAR) {
            Ok(f) if !f.is_empty() => {
                EnvFilter::try_new(&f).map_err(|e| LoggingError::Filter(e.to_string()))
            }
            _ => Ok(EnvFilter::new("info")),
        }
    };
    let dir = home.logs_dir();
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("toss")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(&dir)
        .map_err(|e| LoggingError::File {
            dir: dir.display().to_string(),
            message: e.to_string(),
        })?;
    let (file, guard) = tracing_appender::non_blocking(appender);

    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let to_file = tracing_subscriber::fmt::layer()
        .with_writer(file)
        .with_ansi(false);
    let (stderr, to_file) = match format {
        LogFormat::Human => (stderr.boxed(), to_file.boxed()),
        LogFormat::Json => (stderr.json().boxed(), to_file.json().boxed()),
    };
    tracing_subscriber::registry()
        .with(stderr.with_filter(filter()?))
        .with(to_file.with_filter(filter()?))
        .try_init()
        .map_err(|_| LoggingError::AlreadySet)?;
    Ok(LogGuard { _writer: guard })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_unknown_ones_are_refused() {
        assert_eq!("JSON".parse::<LogFormat>().unwrap(), LogFormat::Json);
        assert_eq!("human".parse::<LogFormat>().unwrap(), LogFormat::Human);
        let err = "xml".parse::<LogFormat>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "log format \"xml\" is not known; use human or json"
        );
    }

    /// The only test in this binary that installs the global subscriber.
    #[test]
    fn writes_json_lines_to_the_rotating_file() {
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::at(tmp.path());
        home.ensure().unwrap();
        let guard = init(&home, LogFormat::Json).unwrap();
        tracing::info!(answer = 42, "logging works");
        assert!(matches!(
            init(&home, LogFormat::Human),
            Err(LoggingError::AlreadySet)
        ));
        drop(guard); // flushes the background writer
        let files: Vec<_> = std::fs::read_dir(home.logs_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("toss.") && name.ends_with(".log"),
            "{name}"
        );
        let text = std::fs::read_to_string(&files[0]).unwrap();
        // Other tests in this binary log through the same subscriber meanwhile.
        let line: serde_json::Value = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|v| v["fields"]["message"] == "logging works")
            .expect("the event is in the file");
        assert_eq!(line["fields"]["answer"], 42);
    }
}
