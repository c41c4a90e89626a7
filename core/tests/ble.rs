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

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use solana_program::pubkey::Pubkey;
use toss_core::amount::Separator;
use toss_core::config::Cluster;
use toss_core::handover::{self, Handover, Outcome, Role};
use toss_core::intent::{Intent, RiskLimits, Verifier, cluster, sign};
use toss_core::noise::StaticKey;
use toss_core::request::PaymentRequest;
use toss_core::sale::{OpenSale, Till};
use toss_core::store::{State, Store};
use toss_core::transport::ble::central::Central;
use toss_core::transport::ble::peripheral::Advertiser;
use toss_core::transport::ble::{BleError, Channel};
use zeroize::Zeroizing;

/// The reference of the sale the till shows and the payer scanned.
const REFERENCE: [u8; 32] = [44; 32];

#[path = "support/processes.rs"]
mod processes;

use processes::{PrivateBus, Running};

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
    let system_bus = PrivateBus::start(&dir.path().join("system_bus_socket"));
    let bus = system_bus.address.clone();
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
    system_bus.wait_for("org.bluez", true);
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

    // The till advertises (bluer): its application and advertisement are
    // registered with BlueZ.
    let mut advertiser = Advertiser::start(Some("hci1"), "Till 1").await.unwrap();
    let seen = registered("hci1");
    assert!(seen.contains("app /") && seen.contains("adv /"), "{seen}");
    let db = tempfile::tempdir().unwrap();
    let store_path = db.path().join("till.db");
    let till_task = tokio::spawn(async move {
        let link = advertiser.accept().await.unwrap();
        let frame_size = link.frame_size();
        let mut channel = Channel::new(link, frame_size).unwrap();
        let noise = StaticKey::from_secret(Zeroizing::new([82; 32]));
        // The till shows a sale of 0.0015 SOL; what arrives is verified
        // offline, held to the sale, and kept in its store.
        let store = Store::open(&store_path, &Zeroizing::new([5; 32])).unwrap();
        let verifier = Verifier {
            cluster: cluster::DEVNET,
            program_id,
            payee: till,
            limits: RiskLimits::default(),
        };
        let mut request = PaymentRequest::new(till);
        request.amount = Some("0.0015".into());
        request.references = vec![Pubkey::new_from_array(REFERENCE)];
        let sale = Arc::new(Till::default());
        sale.open(OpenSale::new(&request, Cluster::Devnet, Separator::Point).unwrap());
        let accept = toss_core::session::take_for_sale(sale, verifier, store, 8, move || now + 5);
        // The till's side is bound to its open sale.
        let payee = Handover::payee(Role::Responder, &noise, accept)
            .unwrap()
            .for_sale(REFERENCE, None);
        let mut shown = None;
        let outcome = handover::run(
            &mut channel,
            payee,
            |c| shown = Some(c.to_owned()),
            |_| async { false },
        )
        .await
        .unwrap();
        assert!(shown.is_some(), "the till's screen got the code");
        // The payer hangs up: the till's link says so.
        let after = channel.recv().await;
        (frame_size, outcome, after)
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
    let intent = |nonce, amount| Intent {
        cluster: cluster::DEVNET,
        program_id,
        payer: Pubkey::new_from_array(payer_key.verifying_key().to_bytes()),
        payee: till,
        mint: None,
        amount,
        reference: None,
        memo: Some("coffee".into()),
        nonce,
        created_at: now,
        expires_at: now + 86_400,
        durable_nonce: None,
    };
    // Two intents that together pay the sale.
    let good = sign(intent(9, 1_000_000), &payer_key).unwrap();
    let rest = sign(intent(10, 500_000), &payer_key).unwrap();
    // The payer scanned the till's request: bound to its sale, holding the
    // till to the key the request named; no code to confirm.
    let till_noise = StaticKey::from_secret(Zeroizing::new([82; 32])).public();
    let payer = Handover::payer(
        Role::Initiator,
        &noise,
        vec![good.to_bytes().unwrap(), rest.to_bytes().unwrap()],
    )
    .unwrap()
    .for_sale(REFERENCE, Some(till_noise));
    let Outcome::Paid {
        acknowledgement,
        verification_code,
    } = handover::run(
        &mut channel,
        payer,
        |_| {},
        |_| async { panic!("asked to confirm") },
    )
    .await
    .unwrap()
    else {
        panic!("the payer's outcome")
    };
    assert_eq!(acknowledgement.entries[0].refused, None);
    assert_eq!(acknowledgement.entries[1].refused, None);
    // The payer's own store: only what the till accepted counts as handed over.
    let mut wallet = Store::open(&db.path().join("payer.db"), &Zeroizing::new([6; 32])).unwrap();
    let ids = [good.id().unwrap(), rest.id().unwrap()];
    wallet.record_sent(&good, None, 1).unwrap();
    wallet.record_sent(&rest, None, 1).unwrap();
    let changed = toss_core::session::record_acknowledgement(
        &mut wallet,
        &ids,
        &acknowledgement,
        "handed over by Bluetooth",
        2,
    );
    assert_eq!(changed.unwrap(), 2);
    assert_eq!(wallet.get(&ids[0]).unwrap().state, State::Sent);
    assert_eq!(wallet.get(&ids[1]).unwrap().state, State::Sent);
    channel.into_link().disconnect().await.unwrap();

    let (till_frame, till_outcome, after) =
        tokio::time::timeout(Duration::from_secs(20), till_task)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(till_frame, 244);
    let Outcome::Received {
        verdicts,
        verification_code: till_code,
    } = till_outcome
    else {
        panic!("the till's outcome")
    };
    assert_eq!(till_code, verification_code);
    assert_eq!(
        verdicts,
        vec![Ok(good.id().unwrap()), Ok(rest.id().unwrap())]
    );
    assert_eq!(after.err(), Some(BleError::Disconnected));
    let store = Store::open(&db.path().join("till.db"), &Zeroizing::new([5; 32])).unwrap();
    assert_eq!(
        store.get(&good.id().unwrap()).unwrap().state,
        State::Verified
    );
    assert_eq!(store.list().unwrap().len(), 2, "both kept, for one sale");

    // A till no longer waiting (its sale paid online) stops advertising
    // for a payer at once.
    let mut advertiser = Advertiser::start(Some("hci1"), "Till 1").await.unwrap();
    let asked = std::time::Instant::now();
    assert_eq!(
        advertiser.accept_while(|| false).await.err(),
        Some(BleError::Stopped)
    );
    assert!(asked.elapsed() < std::time::Duration::from_secs(5));
    drop(advertiser);

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
