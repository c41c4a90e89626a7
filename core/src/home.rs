//! The data directory: settings, logs and (later) the store live here.
//!
//! By default it is the platform's data directory (XDG on Linux, Application
//! Support on macOS, AppData on Windows). `TOSS_HOME` moves it, so tests and
//! several wallets on one machine never share files.

use std::path::{Path, PathBuf};

/// The variable that overrides the data directory.
pub const HOME_VAR: &str = "TOSS_HOME";

/// Why the data directory cannot be found or created.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// No override is set and the platform reports no home directory.
    #[error("no data directory: the platform reports no home directory; set {HOME_VAR}")]
    NoPlatformDir,
    /// `TOSS_HOME` is set to a path that cannot be used; carries it and why.
    #[error("{HOME_VAR}={0:?} is not usable: {1}")]
    BadOverride(String, &'static str),
    /// The directory tree could not be created.
    #[error("cannot create data directory {}: {source}", path.display())]
    Create {
        /// The directory that could not be created.
        path: PathBuf,
        /// Why creating it failed.
        source: std::io::Error,
    },
}

/// The wallet's data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// `TOSS_HOME` if set and non-empty, else the platform's data directory.
    pub fn locate() -> Result<Self, HomeError> {
        Self::locate_with(std::env::var_os(HOME_VAR).map(PathBuf::from))
    }

    fn locate_with(over: Option<PathBuf>) -> Result<Self, HomeError> {
        match over.filter(|p| !p.as_os_str().is_empty()) {
            Some(p) => {
                let root = std::path::absolute(&p).map_err(|_| {
                    HomeError::BadOverride(p.display().to_string(), "cannot make it absolute")
                })?;
                Ok(Self { root })
            }
            None => directories::ProjectDirs::from("org", "TOSS", "TOSS Desktop")
                .map(|d| Self {
                    root: d.data_dir().to_path_buf(),
                })
                .ok_or(HomeError::NoPlatformDir),
        }
    }

    /// The data directory at `root`, as given; nothing is checked or created.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The settings file, `settings.toml`.
    pub fn settings_file(&self) -> PathBuf {
        self.root.join("settings.toml")
    }

    /// The SQLite store of intents and their history.
    pub fn store_file(&self) -> PathBuf {
        self.root.join("toss.db")
    }

    /// Where the daily log files go.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// Creates the directory tree, private to the user: it will hold the
    /// encrypted store and its metadata, which are nobody else's business.
    pub fn ensure(&self) -> Result<(), HomeError> {
        for dir in [self.root.clone(), self.logs_dir()] {
            create_private_dir(&dir).map_err(|source| HomeError::Create { path: dir, source })?;
        }
        Ok(())
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_wins_and_is_made_absolute() {
        let h = Home::locate_with(Some(PathBuf::from("rel/dir"))).unwrap();
        assert!(h.root().is_absolute());
        assert!(h.root().ends_with("rel/dir"));
        assert_eq!(h.settings_file(), h.root().join("settings.toml"));
    }

    #[test]
    fn empty_override_falls_back_to_the_platform_dir() {
        let a = Home::locate_with(Some(PathBuf::new())).unwrap();
        let b = Home::locate_with(None).unwrap();
        assert_eq!(a, b);
        assert!(a.root().to_string_lossy().to_lowercase().contains("toss"));
    }

    #[cfg(unix)]
    #[test]
    fn ensure_creates_private_dirs_and_reports_failure() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let h = Home::at(tmp.path().join("a/b"));
        h.ensure().unwrap();
        let mode = std::fs::metadata(h.root()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert!(h.logs_dir().is_dir());

        // A file where the directory should be.
        let blocker = tmp.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let err = Home::at(blocker.join("sub")).ensure().unwrap_err();
        assert!(matches!(err, HomeError::Create { .. }), "{err:?}");
    }
}
