//! Both BLE roles, the real btleplug and bluer code, against BlueZ played
//! by python3-dbusmock on a private D-Bus daemon standing in for the
//! system bus. Our template (tests/ble/bluez_radio.py) carries GATT
//! operations between the two adapters, as the air would: the till
//! advertises with bluer on hci1, the payer's laptop scans and connects
//! with btleplug on hci0, and a signed intent crosses through Noise.
//!
//! Needs dbus-daemon and python3-dbusmock (Debian's /usr/bin/python3);
//! scripts/test installs them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use solana_program::pubkey::Pubkey;
use toss_core::intent::{Intent, MemoryLedger, RiskLimits, Verifier, cluster, sign};
use toss_core::noise::{Handshake, StaticKey, prologue};
use toss_core::transport::ble::central::Central;
use toss_core::transport::ble::peripheral::Advertiser;
use toss_core::transport::ble::{BleError, Channel};
use zeroize::Zeroizing;

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `dbus-send` to the mock's `org.bluez.Mock` interface on `bus`.
fn mock(bus: &str, method: &str, args: &[&str]) -> Output {
    let out = Command::new("dbus-send")
        .arg(format!("--bus={bus}"))
        .args(["--print-reply=literal", "--dest=org.bluez", "/"])
        .arg(format!("org.bluez.Mock.{method}"))
        .args(args)
        .output()
        .expect("dbus-send (package dbus)");
    assert!(
        out.status.success(),
        "{method}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn ble_roles_against_a_bluez_mock() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("system_bus_socket");
    let bus = format!("unix:path={}", socket.display());
    let mut daemon = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--nosyslog", "--print-address=1"])
        .arg(format!("--address={bus}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon (package dbus)");
    let mut ready = String::new();
    BufReader::new(daemon.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let _daemon = Running(daemon);
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ble/bluez_radio.py");
    let _bluez = Running(
        Command::new("/usr/bin/python3")
            .args(["-m", "dbusmock", "--system", "-t"])
            .arg(&template)
            .arg("-l")
            .arg(dir.path().join("bluez.log"))
            .env("DBUS_SYSTEM_BUS_ADDRESS", &bus)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3-dbusmock"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let owned = Command::new("dbus-send")
            .arg(format!("--bus={bus}"))
            .args([
                "--print-reply=literal",
                "--dest=org.freedesktop.DBus",
                "/",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.bluez",
            ])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&owned.stdout).contains("true") {
            break;
        }
        assert!(Instant::now() < deadline, "the BlueZ mock did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    mock(&bus, "AddAdapter", &["string:hci0", "string:payer-laptop"]);
    mock(&bus, "AddAdapter", &["string:hci1", "string:till"]);
    mock(&bus, "EnablePeripheralRole", &["string:hci1"]);

    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "ble_cases",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("DBUS_SYSTEM_BUS_ADDRESS", &bus)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(dir.path().join("bluez.log")).unwrap_or_default();
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{text}\n--- the BlueZ mock's log:\n{log}"
    );
}

fn registered(adapter: &str) -> String {
    let bus = std::env::var("DBUS_SYSTEM_BUS_ADDRESS").unwrap();
    String::from_utf8(mock(&bus, "Registered", &[&format!("string:{adapter}")]).stdout).unwrap()
}

fn set_powered(adapter: &str, on: bool) {
    let bus = std::env::var("DBUS_SYSTEM_BUS_ADDRESS").unwrap();
    let out = Command::new("dbus-send")
        .arg(format!("--bus={bus}"))
        .args(["--print-reply", "--dest=org.bluez"])
        .arg(format!("/org/bluez/{adapter}"))
        .args([
            "org.freedesktop.DBus.Properties.Set",
            "string:org.bluez.Adapter1",
            "string:Powered",
        ])
        .arg(format!("variant:boolean:{on}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by ble_roles_against_a_bluez_mock, on its private bus"]
async fn ble_cases() {
    let till_key = SigningKey::from_bytes(&[80; 32]);
    let till = Pubkey::new_from_array(till_key.verifying_key().to_bytes());
    let payer_key = SigningKey::from_bytes(&[81; 32]);
    let program_id = Pubkey::new_from_array([3; 32]);
    let now: u32 = 1_790_000_000;
    let reference = [4u8; 32];

    // The till advertises (bluer): its application and advertisement are
    // registered with BlueZ.
    let mut advertiser = Advertiser::start(Some("hci1"), "Till 1").await.unwrap();
    let seen = registered("hci1");
    assert!(seen.contains("app /") && seen.contains("adv /"), "{seen}");
    let till_task = tokio::spawn(async move {
        let link = advertiser.accept().await.unwrap();
        let frame_size = link.frame_size();
        let mut channel = Channel::new(link, frame_size).unwrap();
        let noise = StaticKey::from_secret(Zeroizing::new([82; 32]));
        let mut hs = Handshake::xx(&noise, &prologue(&reference), false, None).unwrap();
        hs.read(&channel.recv().await.unwrap()).unwrap();
        channel.send(&hs.write(&[]).unwrap()).await.unwrap();
        hs.read(&channel.recv().await.unwrap()).unwrap();
        let mut session = hs.finish().unwrap();
        let wire = session
            .open(&channel.recv().await.unwrap())
            .unwrap()
            .unwrap();
        let verifier = Verifier {
            cluster: cluster::DEVNET,
            program_id,
            payee: till,
            limits: RiskLimits::default(),
        };
        let accepted = verifier
            .verify(&wire, None, now + 5, &MemoryLedger::default())
            .unwrap();
        let receipt = format!("received {} lamports", accepted.signed.intent.amount);
        for frame in session.seal(receipt.as_bytes()).unwrap() {
            channel.send(&frame).await.unwrap();
        }
        // The payer hangs up: the till's link says so.
        let after = channel.recv().await;
        (frame_size, session.verification_code().to_owned(), after)
    });

    // The payer's laptop (btleplug) scans, picks the till, connects.
    assert_eq!(
        Central::open(Some("hci7")).await.err(),
        Some(BleError::NoAdapter)
    );
    let central = Central::open(Some("hci0")).await.unwrap();
    let found = central.scan(Duration::from_millis(1_500)).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].name.as_deref(), Some("Till 1"));
    assert_eq!(found[0].rssi, Some(-50));
    assert_eq!(
        central.connect("not-a-device").await.err(),
        Some(BleError::NotFound)
    );
    let link = central.connect(&found[0].id).await.unwrap();
    // ATT MTU 247 on both sides: 244-byte frames.
    assert_eq!(link.frame_size(), 244);
    let mut channel = Channel::new(link, 244).unwrap();
    let noise = StaticKey::from_secret(Zeroizing::new([83; 32]));
    let mut hs = Handshake::xx(&noise, &prologue(&reference), true, None).unwrap();
    channel.send(&hs.write(&[]).unwrap()).await.unwrap();
    hs.read(&channel.recv().await.unwrap()).unwrap();
    channel.send(&hs.write(&[]).unwrap()).await.unwrap();
    let mut session = hs.finish().unwrap();
    let intent = Intent {
        cluster: cluster::DEVNET,
        program_id,
        payer: Pubkey::new_from_array(payer_key.verifying_key().to_bytes()),
        payee: till,
        mint: None,
        amount: 7_500,
        reference: None,
        memo: Some("coffee".into()),
        nonce: 9,
        created_at: now,
        expires_at: now + 86_400,
        durable_nonce: None,
    };
    let wire = sign(intent, &payer_key).unwrap().to_bytes().unwrap();
    for frame in session.seal(&wire).unwrap() {
        channel.send(&frame).await.unwrap();
    }
    let receipt = session
        .open(&channel.recv().await.unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(receipt, b"received 7500 lamports");
    channel.into_link().disconnect().await.unwrap();

    let (till_frame, till_code, after) = tokio::time::timeout(Duration::from_secs(20), till_task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(till_frame, 244);
    assert_eq!(till_code, session.verification_code());
    assert_eq!(after.err(), Some(BleError::Disconnected));

    // Bluetooth switched off: both roles say so.
    set_powered("hci0", false);
    assert_eq!(
        Central::open(Some("hci0")).await.err(),
        Some(BleError::AdapterOff)
    );
    set_powered("hci1", false);
    assert_eq!(
        Advertiser::start(Some("hci1"), "Till 1").await.err(),
        Some(BleError::AdapterOff)
    );
}
