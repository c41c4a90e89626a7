//! Helper processes the tests start and always stop: a private D-Bus
//! daemon, servers that say they are ready by printing a line.
#![allow(dead_code)] // each test file uses its own part of this
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test harness: fail loudly

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed and reaped when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` with its output piped and waits for the first line it
/// prints (its sign of being ready), which it returns.
pub fn until_first_line(mut command: Command) -> (Running, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} could not start ({e}); scripts/test installs it"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (Running(child), line.trim().to_owned())
}

/// A `dbus-daemon` of the test's own at `socket`, never the user's.
pub struct PrivateBus {
    _daemon: Running,
    pub address: String,
}

impl PrivateBus {
    pub fn start(socket: &Path) -> Self {
        let mut cmd = Command::new("dbus-daemon");
        cmd.args(["--session", "--nofork", "--nosyslog", "--print-address=1"])
            .arg(format!("--address=unix:path={}", socket.display()));
        let (daemon, address) = until_first_line(cmd);
        PrivateBus {
            _daemon: daemon,
            address,
        }
    }

    /// A bus at `dir`/bus that starts nothing on demand (no service
    /// activation from the system's service files): only what the test
    /// starts is ever on it.
    pub fn start_bare(dir: &Path) -> Self {
        let config = dir.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                dir.join("bus").display()
            ),
        )
        .unwrap();
        let mut cmd = Command::new("dbus-daemon");
        cmd.args(["--nofork", "--nosyslog", "--print-address=1"])
            .arg(format!("--config-file={}", config.display()));
        let (daemon, address) = until_first_line(cmd);
        PrivateBus {
            _daemon: daemon,
            address,
        }
    }

    pub fn has_owner(&self, name: &str) -> bool {
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

    /// Waits until `name` is on the bus (`present`) or gone.
    pub fn wait_for(&self, name: &str, present: bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.has_owner(name) != present {
            assert!(
                Instant::now() < deadline,
                "{name} did not {} the bus",
                if present { "come onto" } else { "leave" }
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
