//! A real Secret Service for tests: `dbus-daemon` on a private session bus
//! with `gnome-keyring-daemon` on it, started and stopped by the test, never
//! the user's own. Shared by the core's and the CLI's keychain tests.

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

#[path = "processes.rs"]
pub mod processes;

use processes::PrivateBus;

/// A private session bus with gnome-keyring-daemon as its Secret Service.
pub struct SecretService {
    daemon: Option<Child>,
    bus: PrivateBus,
    dir: tempfile::TempDir,
}

impl SecretService {
    pub fn start(unlock: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["data", "run", "home"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let bus = PrivateBus::start(&dir.path().join("bus"));
        let mut s = Self {
            daemon: None,
            bus,
            dir,
        };
        s.start_daemon(unlock);
        s
    }

    pub fn env(&self, cmd: &mut Command) {
        let d = self.dir.path();
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.bus.address)
            .env("XDG_DATA_HOME", d.join("data"))
            .env("XDG_RUNTIME_DIR", d.join("run"))
            .env("HOME", d.join("home"))
            .env_remove("DISPLAY")
            .env_remove("TOSS_KEYSTORE");
    }

    /// `unlock` feeds the login keyring's password on stdin (creating the
    /// keyring the first time); without it the keyring stays locked.
    pub fn start_daemon(&mut self, unlock: bool) {
        let mut cmd = Command::new("gnome-keyring-daemon");
        cmd.args(["--foreground", "--components=secrets"]);
        if unlock {
            cmd.arg("--unlock");
        }
        self.env(&mut cmd);
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (apt: gnome-keyring) must be installed");
        let mut stdin = child.stdin.take().unwrap();
        if unlock {
            stdin.write_all(b"testpw").unwrap();
        }
        drop(stdin);
        self.daemon = Some(child);
        self.bus.wait_for("org.freedesktop.secrets", true);
    }

    pub fn stop_daemon(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            d.kill().ok();
            d.wait().ok();
        }
        self.bus.wait_for("org.freedesktop.secrets", false);
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            d.kill().ok();
            d.wait().ok();
        }
    }
}

/// Runs a child and fails the test if it is still running at the deadline:
/// "no hang" is part of what is tested.
pub fn run_with_deadline(mut cmd: Command, stdin: &[u8], deadline: Duration) -> Output {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > deadline {
            child.kill().ok();
            panic!("the child hung for more than {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
