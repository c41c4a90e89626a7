//! NFC against a real PC/SC stack: `pcscd` with the `vsmartcard-vpcd`
//! virtual reader, started here in a private mount namespace (pcscd's
//! socket path is fixed), and a phone played by a thread speaking vpcd's
//! card protocol over TCP with the TOSS applet (`nfc::card`) inside.
//!
//! Needs root (for the namespace) and the packages pcscd and
//! vsmartcard-vpcd; scripts/test installs them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use solana_program::pubkey::Pubkey;
use toss_core::handover::{Handover, Outcome, Role, Step};
use toss_core::intent::{Intent, MemoryLedger, RiskLimits, Verifier, cluster, sign};
use toss_core::noise::StaticKey;
use toss_core::transport::nfc::card::Applet;
use toss_core::transport::nfc::{Change, NfcError, Readers, Status, sw};
use zeroize::Zeroizing;

#[test]
fn nfc_through_pcscd_and_a_virtual_reader() {
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mkdir -p /run/pcscd && mount -t tmpfs tmpfs /run/pcscd && exec "$0" "$@""#)
        .arg(std::env::current_exe().unwrap())
        .args([
            "nfc_cases",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .expect("unshare (util-linux)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "the NFC cases failed (they need root for a private mount namespace, pcscd and vsmartcard-vpcd):\n{text}"
    );
}

/// pcscd in the foreground, with one vpcd reader on `port`.
struct Pcscd(Child);

impl Pcscd {
    fn start(dir: &Path, port: u16) -> Self {
        let conf = dir.join("reader.conf.d");
        std::fs::create_dir_all(&conf).unwrap();
        std::fs::write(
            conf.join("vpcd"),
            format!(
                "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME /dev/null:{port}\nLIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID {port}\n"
            ),
        )
        .unwrap();
        let child = Command::new("pcscd")
            .args(["--foreground", "--config"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pcscd is installed");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !(Path::new("/run/pcscd/pcscd.comm").exists() && listening(port)) {
            assert!(Instant::now() < deadline, "pcscd did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        Pcscd(child)
    }

    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether something listens on TCP `port` (read from the kernel, as a
/// connection would count as a card coming onto the reader).
fn listening(port: u16) -> bool {
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let needle = format!(":{port:04X} ");
    tcp.lines().any(|l| {
        l.split_whitespace()
            .nth(1)
            .is_some_and(|a| format!("{a} ").ends_with(&needle))
            && l.split_whitespace().nth(3) == Some("0A")
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A phone on the reader, answering vpcd's requests on its own thread.
struct Phone {
    link: TcpStream,
    thread: JoinHandle<()>,
}

impl Phone {
    /// Comes onto the reader and answers each command with `apdu`, until
    /// it has answered `leave_after` of them (then it leaves the field,
    /// mid-exchange) or [`Phone::leave`].
    fn tap(
        port: u16,
        leave_after: Option<usize>,
        mut apdu: impl FnMut(&[u8]) -> Vec<u8> + Send + 'static,
    ) -> Self {
        let link = TcpStream::connect(("127.0.0.1", port)).unwrap();
        link.set_nodelay(true).unwrap();
        let mut s = link.try_clone().unwrap();
        let thread = std::thread::spawn(move || {
            let mut answered = 0;
            loop {
                let mut len = [0u8; 2];
                if s.read_exact(&mut len).is_err() {
                    return;
                }
                let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
                if s.read_exact(&mut msg).is_err() {
                    return;
                }
                let reply = match msg.as_slice() {
                    [4] => vec![0x3B, 0x80, 0x80, 0x01, 0x01], // a contactless target's ATR
                    [_] => continue,                           // power off / on / reset
                    command => {
                        if leave_after == Some(answered) {
                            let _ = s.shutdown(std::net::Shutdown::Both);
                            return;
                        }
                        answered += 1;
                        apdu(command)
                    }
                };
                let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
                framed.extend_from_slice(&reply);
                if s.write_all(&framed).is_err() {
                    return;
                }
            }
        });
        Phone { link, thread }
    }

    fn leave(self) {
        let _ = self.link.shutdown(std::net::Shutdown::Both);
        self.thread.join().unwrap();
    }
}

/// Waits until the reader reports a card, or panics.
fn until_present(readers: &mut Readers, reader: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !readers.card_present(reader) {
        assert!(Instant::now() < deadline, "no card appeared on {reader}");
        if let Change::CardPresent(r) = readers.wait(Duration::from_millis(500)).unwrap() {
            assert_eq!(r, reader);
        }
    }
}

fn until_gone(readers: &mut Readers, reader: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while readers.card_present(reader) {
        assert!(Instant::now() < deadline, "the card stayed on {reader}");
        readers.wait(Duration::from_millis(500)).unwrap();
    }
}

fn payer_intent(payee: Pubkey, program_id: Pubkey, now: u32) -> Vec<u8> {
    let payer = SigningKey::from_bytes(&[61; 32]);
    let intent = Intent {
        cluster: cluster::DEVNET,
        program_id,
        payer: Pubkey::new_from_array(payer.verifying_key().to_bytes()),
        payee,
        mint: None,
        amount: 420_000,
        reference: None,
        memo: None,
        nonce: 1,
        created_at: now,
        expires_at: now + 86_400,
        durable_nonce: None,
    };
    sign(intent, &payer).unwrap().to_bytes().unwrap()
}

#[test]
#[ignore = "run by nfc_through_pcscd_and_a_virtual_reader, in a private mount namespace"]
fn nfc_cases() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut pcscd = Pcscd::start(dir.path(), port);
    let mut readers = Readers::open().unwrap();
    let names = readers.list().unwrap();
    let reader = names
        .iter()
        .find(|n| n.starts_with("Virtual PCD"))
        .unwrap_or_else(|| panic!("the virtual reader is listed: {names:?}"))
        .clone();

    // Nothing on the reader: connecting says so; waiting stays quiet.
    assert_eq!(readers.connect(&reader).err(), Some(NfcError::NoCard));
    assert_eq!(
        readers.wait(Duration::from_millis(200)).unwrap(),
        Change::Quiet
    );
    // Waiting for a tap: a reader the settings name that is not there is
    // named, with those that are; no phone within the wait is said plainly.
    let missing = readers
        .wait_for_tap(
            Some("Reader on the shelf"),
            Duration::from_millis(300),
            &|| true,
        )
        .err()
        .unwrap();
    assert_eq!(
        missing,
        NfcError::ReaderMissing {
            wanted: "Reader on the shelf".into(),
            connected: names.clone(),
        }
    );
    assert!(missing.to_string().contains(&reader), "{missing}");
    assert_eq!(
        readers
            .wait_for_tap(None, Duration::from_millis(300), &|| true)
            .err(),
        Some(NfcError::NoTap)
    );
    // A wait no longer wanted (the sale was paid online) ends at once,
    // long before its time is up.
    let asked = std::time::Instant::now();
    assert_eq!(
        readers
            .wait_for_tap(None, Duration::from_secs(60), &|| false)
            .err(),
        Some(NfcError::Stopped)
    );
    assert!(asked.elapsed() < Duration::from_secs(30));

    // Happy path: the till (reader) and the payer's phone (card) hand
    // over: Noise XX, the phone's signed intent, the till's acknowledgement. The
    // phone runs the card side of the handover inside its applet.
    let till_key = SigningKey::from_bytes(&[60; 32]);
    let till = Pubkey::new_from_array(till_key.verifying_key().to_bytes());
    let program_id = Pubkey::new_from_array([3; 32]);
    let now: u32 = 1_790_000_000;
    let wire = payer_intent(till, program_id, now);
    let (outcome_tx, outcome_rx) = std::sync::mpsc::channel();
    // The phone scanned the till's request: bound to its sale, the till's
    // key pinned.
    let reference = [45; 32];
    let till_noise = StaticKey::from_secret(Zeroizing::new([72; 32]));
    let mut phone_side = Handover::payer(
        Role::Responder,
        &StaticKey::from_secret(Zeroizing::new([71; 32])),
        vec![wire.clone()],
    )
    .unwrap()
    .for_sale(reference, Some(till_noise.public()));
    let mut app = Applet::new(move |m: Vec<u8>| match phone_side.on_message(&m).ok()? {
        Step::Send(reply) => Some(reply),
        Step::Finish(reply, outcome) => {
            outcome_tx.send(outcome).ok()?;
            reply
        }
        // A card cannot ask its person mid-exchange: it answers nothing.
        Step::Confirm(_) => None,
    });
    let card = Phone::tap(port, None, move |apdu| app.process(apdu));
    until_present(&mut readers, &reader);
    let link = readers.connect(&reader).unwrap();
    let verifier = Verifier {
        cluster: cluster::DEVNET,
        program_id,
        payee: till,
        limits: RiskLimits::default(),
    };
    let mut ledger = MemoryLedger::default();
    let till_side = Handover::payee(Role::Initiator, &till_noise, move |list: &[Vec<u8>]| {
        list.iter()
            .map(|w| {
                let accepted = verifier
                    .verify(w, None, now + 10, &ledger)
                    .map_err(|e| e.to_string())?;
                ledger.record(&accepted);
                Ok(accepted.id)
            })
            .collect()
    })
    .unwrap()
    .for_sale(reference, None);
    let Outcome::Received {
        verdicts,
        verification_code,
    } = link.hand_over(till_side, |_| {}, |_| false).unwrap()
    else {
        panic!("the till's outcome")
    };
    assert_eq!(verdicts.len(), 1);
    assert!(verdicts[0].is_ok(), "{verdicts:?}");
    let Outcome::Paid {
        acknowledgement,
        verification_code: phone_code,
    } = outcome_rx.recv_timeout(Duration::from_secs(5)).unwrap()
    else {
        panic!("the phone's outcome")
    };
    assert_eq!(acknowledgement.entries[0].refused, None);
    assert_eq!(phone_code, verification_code);
    drop(link);
    card.leave();
    until_gone(&mut readers, &reader);

    // A 2 KB message each way: chained in, fetched out with GET RESPONSE.
    let mut app = Applet::new(|m: Vec<u8>| Some(m.into_iter().rev().collect::<Vec<u8>>()));
    let card = Phone::tap(port, None, move |apdu| app.process(apdu));
    until_present(&mut readers, &reader);
    let link = readers.connect(&reader).unwrap();
    let big: Vec<u8> = (0..2_048u32).map(|i| (i * 13) as u8).collect();
    let reversed: Vec<u8> = big.iter().rev().copied().collect();
    assert_eq!(link.exchange(&big).unwrap(), reversed);
    assert_eq!(link.exchange(&[]).unwrap(), Vec::<u8>::new());
    assert_eq!(
        link.exchange(&vec![0; 65_536]).err(),
        Some(NfcError::TooLarge(65_536))
    );
    drop(link);
    card.leave();
    until_gone(&mut readers, &reader);

    // Cards that are not TOSS, or an older TOSS: clear refusals.
    for (card_answer, expected) in [
        (sw::NOT_FOUND, NfcError::NotToss),
        (sw::UNKNOWN_INS, NfcError::Refused(Status(sw::UNKNOWN_INS))),
    ] {
        let mut app = Applet::new(|m: Vec<u8>| Some(m));
        let card = Phone::tap(port, None, move |apdu| {
            if card_answer == sw::UNKNOWN_INS && apdu[1] == 0xA4 {
                app.process(apdu) // knows TOSS, not the instruction
            } else {
                card_answer.to_be_bytes().to_vec()
            }
        });
        until_present(&mut readers, &reader);
        let result = readers
            .connect(&reader)
            .and_then(|link| link.exchange(b"hello"));
        assert_eq!(result.err(), Some(expected));
        card.leave();
        until_gone(&mut readers, &reader);
    }

    // The phone leaves the field in the middle of a chained message.
    let mut app = Applet::new(|m: Vec<u8>| Some(m));
    let card = Phone::tap(port, Some(4), move |apdu| app.process(apdu));
    until_present(&mut readers, &reader);
    let link = readers.connect(&reader).unwrap();
    let err = link.exchange(&vec![7; 2_048]).err().unwrap();
    assert_eq!(err, NfcError::CardRemoved, "{err}");
    drop(link);
    card.leave();
    until_gone(&mut readers, &reader);

    // The reader is unplugged (here: the PC/SC service goes away with it).
    // A fresh service and reader first: vpcd does not take a new card
    // after one vanished mid-command.
    pcscd.stop();
    let port = free_port();
    let mut pcscd = Pcscd::start(dir.path(), port);
    let mut readers = Readers::open().unwrap();
    let mut app = Applet::new(|m: Vec<u8>| Some(m));
    let _card = Phone::tap(port, None, move |apdu| app.process(apdu));
    until_present(&mut readers, &reader);
    let link = readers.connect(&reader).unwrap();
    assert_eq!(link.exchange(b"still here").unwrap(), b"still here");
    pcscd.stop();
    let gone = link.exchange(b"and now?").err().unwrap();
    assert!(
        matches!(
            gone,
            NfcError::NoService | NfcError::ReaderGone | NfcError::CardRemoved
        ),
        "{gone:?}"
    );
}
