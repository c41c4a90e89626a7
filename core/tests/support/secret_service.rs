//! A real Secret Service for tests: `dbus-daemon` on a private session bus
//! with `gnome-keyring-daemon` on it, started and stopped by the test, never
//! the user's own. Shared by the core's and the CLI's keychain tests.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A private session bus with gnome-keyring-daemon as its Secret Service.
pub struct SecretService {
    dir: tempfile::TempDir,
    bus: Child,
    address: String,
    daemon: Option<Child>,
}

impl SecretService {
    pub fn start(unlock: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["data", "run", "home"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nosyslog", "--print-address=1"])
            .arg(format!("--address=unix:path={}/bus", dir.path().display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (apt: dbus) must be installed; scripts/test installs it");
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let mut s = Self {
            dir,
            bus,
            address: line.trim().to_owned(),
            daemon: None,
        };
        s.start_daemon(unlock);
        s
    }

    pub fn env(&self, cmd: &mut Command) {
        let d = self.dir.path();
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.address)
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
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.has_owner("org.freedesktop.secrets") {
            assert!(
                Instant::now() < deadline,
                "the Secret Service did not come up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stop_daemon(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            d.kill().ok();
            d.wait().ok();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.has_owner("org.freedesktop.secrets") {
            assert!(
                Instant::now() < deadline,
                "the Secret Service did not go away"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn has_owner(&self, name: &str) -> bool {
        let out = Command::new("dbus-send")
            .arg(format!("--bus={}", self.address))
            .args([
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/",
                "org.freedesktop.DBus.NameHasOwner",
            ])
            .arg(format!("string:{name}"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).contains("boolean true")
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            d.kill().ok();
            d.wait().ok();
        }
        self.bus.kill().ok();
        self.bus.wait().ok();
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
