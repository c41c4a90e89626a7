//! Crash safety: a writer process is killed with SIGKILL in the middle of
//! many writes; every write it acknowledged must be there, intact, and the
//! database consistent.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use ed25519_dalek::SigningKey;
use solana_program::pubkey::Pubkey;
use toss_core::intent::{Intent, cluster, sign};
use toss_core::store::{State, Store};
use zeroize::Zeroizing;

const KEY: [u8; 32] = [42; 32];

fn db() -> std::path::PathBuf {
    std::path::PathBuf::from(std::env::var("TOSS_CRASH_DB").expect("run by the parent test"))
}

#[test]
#[ignore = "run by acknowledged_writes_survive_sigkill"]
fn child_writer() {
    let start: u64 = std::env::var("TOSS_CRASH_START").unwrap().parse().unwrap();
    let key = SigningKey::from_bytes(&[1; 32]);
    let mut store = Store::open(&db(), &Zeroizing::new(KEY)).unwrap();
    let mut out = std::io::stdout().lock();
    for nonce in start.. {
        let intent = Intent {
            cluster: cluster::DEVNET,
            program_id: Pubkey::new_from_array([3; 32]),
            payer: Pubkey::new_from_array(key.verifying_key().to_bytes()),
            payee: Pubkey::new_from_array([2; 32]),
            mint: None,
            amount: 1 + nonce,
            reference: None,
            memo: None,
            nonce,
            created_at: 1_790_000_000,
            expires_at: 1_790_086_400,
            durable_nonce: None,
        };
        let id = store
            .record_sent(&sign(intent, &key).unwrap(), None, 1)
            .unwrap();
        store.append(&id, State::Sent, None, 2).unwrap();
        // Acknowledged only once both writes returned.
        writeln!(out, "ack {}", hex::encode(id)).unwrap();
        out.flush().unwrap();
    }
}

/// The id an "ack" line carries. libtest prints "test child_writer ... "
/// without a newline before the test runs, so the first ack of every writer
/// shares its line with that banner.
fn ack(line: &str) -> Option<String> {
    line.rsplit_once("ack ").map(|(_, id)| id.to_owned())
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("toss.db");
    let mut acked: Vec<[u8; 32]> = Vec::new();
    for (round, kill_after) in [150usize, 333, 71].into_iter().enumerate() {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "child_writer",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("TOSS_CRASH_DB", &path)
            .env("TOSS_CRASH_START", (round * 1_000_000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut this_round = 0;
        while this_round < kill_after {
            let line = lines.next().expect("the writer stopped early").unwrap();
            if let Some(id) = ack(&line) {
                acked.push(hex::decode(id).unwrap().try_into().unwrap());
                this_round += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL, mid-write as often as not
        child.wait().unwrap();
        // Acks already in the pipe were acknowledged too.
        for line in lines {
            if let Some(id) = ack(&line.unwrap()) {
                acked.push(hex::decode(id).unwrap().try_into().unwrap());
            }
        }

        let store = Store::open(&path, &Zeroizing::new(KEY)).unwrap();
        for id in &acked {
            let got = store.get(id).unwrap();
            assert_eq!(got.state, State::Sent, "acknowledged history is complete");
        }
        let listed = store.list().unwrap().len();
        assert!(
            listed >= acked.len(),
            "round {round}: {listed} < {}",
            acked.len()
        );
        // Each killed writer may have committed one intent it never acknowledged.
        assert!(
            listed <= acked.len() + round + 1,
            "round {round}: {listed} listed, {} acknowledged",
            acked.len()
        );
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
