//! `toss wallet` and `toss intent create --from` against a real Secret
//! Service (gnome-keyring on a private bus started by this test).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[allow(dead_code)] // shared with the core's tests, which restart the daemon
#[path = "../../core/tests/support/secret_service.rs"]
mod secret_service;

#[path = "../../core/tests/support/files.rs"]
mod files;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use secret_service::{SecretService, run_with_deadline};

const PHRASE: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const ADDRESS: &str = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk";
const PROGRAM: &str = "GyGKxMyg1p9SsHfm15MkNUu1u9TN2JtTspcdmrtGUdse";
const PAYEE: &str = "9hSR6S7WPtxmTojgo6GG3k4yDPecgJY292j7xrsUGWBu";

fn toss(
    ss: &SecretService,
    home: &Path,
    args: &[&str],
    stdin: &str,
    env: &[(&str, &str)],
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_toss"));
    ss.env(&mut cmd);
    for var in toss_core::config::setting::ALL {
        cmd.env_remove(var.env);
    }
    cmd.args(args)
        .env("TOSS_HOME", home)
        .env("TOSS_PROGRAM_ID", PROGRAM)
        .envs(env.iter().copied());
    run_with_deadline(cmd, stdin.as_bytes(), Duration::from_secs(60))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_wallet_is_imported_listed_and_pays_from_the_keychain_behind_the_gate() {
    let ss = SecretService::start(true);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();

    let out = toss(
        &ss,
        home,
        &["wallet", "import", "--label", "Till", "--phrase"],
        &format!("{PHRASE}\n"),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(ADDRESS));

    let out = toss(
        &ss,
        home,
        &[
            "wallet", "create", "--label", "Spare", "--words", "24", "--json",
        ],
        "",
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["phrase"].as_str().unwrap().split(' ').count(), 24);

    let out = toss(&ss, home, &["wallet", "list"], "", &[]);
    let list = text(&out.stdout);
    assert!(list.contains(&format!("{ADDRESS}  Till")), "{list}");
    assert!(list.contains("Spare"), "{list}");
    let out = toss(
        &ss,
        home,
        &["wallet", "address", "--label", "Till"],
        "",
        &[],
    );
    assert_eq!(text(&out.stdout).trim(), ADDRESS);

    // With the gate on, signing needs the passphrase: none set, then wrong, then right.
    let gate = [("REQUIRE_BIOMETRIC_FOR_INTENT", "true")];
    let file = home.join("pay.toss");
    let create = [
        "intent",
        "create",
        "--from",
        "Till",
        "--to",
        PAYEE,
        "--amount",
        "0.25",
        "--passphrase-stdin",
        "--out",
        file.to_str().unwrap(),
    ];
    let out = toss(&ss, home, &create, "whatever\n", &gate);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("none is set"),
        "{}",
        text(&out.stderr)
    );

    let out = toss(
        &ss,
        home,
        &["wallet", "passphrase"],
        "till passphrase\n",
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = toss(&ss, home, &create, "wrong passphrase\n", &gate);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("wrong passphrase"),
        "{}",
        text(&out.stderr)
    );
    assert!(!file.exists(), "nothing is written when the gate refuses");

    let out = toss(&ss, home, &create, "till passphrase\n", &gate);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = toss(
        &ss,
        home,
        &["intent", "inspect", "--json", file.to_str().unwrap()],
        "",
        &[],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["payer"], ADDRESS);
    assert_eq!(v["signature_valid"], true);

    // The sent intent is in the wallet's store.
    let out = toss(&ss, home, &["history", "--json"], "", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let h: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(h[0]["id"], v["id"]);
    assert_eq!(h[0]["state"], "created");
    assert_eq!(h[0]["direction"], "sent");

    // A payee wallet on the same machine (another data directory) records it
    // once; the second time it is a replay.
    let merchant = tmp.path().join("merchant");
    let verify = [
        "intent",
        "verify",
        file.to_str().unwrap(),
        "--payee",
        PAYEE,
        "--record",
    ];
    let out = toss(&ss, &merchant, &verify, "", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = toss(&ss, &merchant, &verify, "", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("already received"),
        "{}",
        text(&out.stderr)
    );
    let out = toss(&ss, &merchant, &["history"], "", &[]);
    assert!(
        text(&out.stdout).contains("received"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).contains("verified"),
        "{}",
        text(&out.stdout)
    );

    // Showing the intent as a QR code hands it over: it becomes `sent`.
    let svg = home.join("pay.svg");
    let out = toss(
        &ss,
        home,
        &[
            "intent",
            "export-qr",
            file.to_str().unwrap(),
            "--svg",
            svg.to_str().unwrap(),
        ],
        "",
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let out = toss(&ss, home, &["history", "--json"], "", &[]);
    let h: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(h[0]["state"], "sent");

    // Online commands: the funds gate (REQUIRE_BIOMETRIC_FOR_NONCE) refuses
    // before any network use; past it, an unreachable cluster is exit 75.
    let offline = [
        ("SOLANA_RPC_URL", "http://127.0.0.1:9"),
        ("MAX_SETTLEMENT_RETRIES", "0"),
        ("REQUIRE_BIOMETRIC_FOR_NONCE", "true"),
    ];
    let deposit = [
        "escrow",
        "deposit",
        "1",
        "--from",
        "Till",
        "--passphrase-stdin",
    ];
    let failures = |home: &Path| {
        let out = toss(&ss, home, &["metrics", "--json"], "", &[]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        m["gate_failures"].as_i64().unwrap()
    };
    let before = failures(home);
    let out = toss(&ss, home, &deposit, "wrong passphrase\n", &offline);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("wrong passphrase"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        failures(home),
        before + 1,
        "the CLI's gate refusal is counted"
    );
    // An RPC address with an API key in it (user name, path, query): what
    // the cluster's failure prints and logs shows none of it.
    let keyed = [
        (
            "SOLANA_RPC_URL",
            "http://till:SECRETKEY@127.0.0.1:9/SECRETKEY/?api-key=SECRETKEY",
        ),
        ("MAX_SETTLEMENT_RETRIES", "0"),
        ("REQUIRE_BIOMETRIC_FOR_NONCE", "true"),
    ];
    let out = toss(&ss, home, &deposit, "till passphrase\n", &keyed);
    assert_eq!(out.status.code(), Some(75), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("could not be reached"), "{err}");
    assert!(err.contains("http://127.0.0.1:9/…"), "{err}");
    assert!(!err.contains("SECRETKEY"), "{err}");
    for file in files::every_file_under(home) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !files::contains(&bytes, b"SECRETKEY"),
            "{} holds the RPC key",
            file.display()
        );
    }
    let out = toss(
        &ss,
        &merchant,
        &["settle", "--all", "--keypair", file.to_str().unwrap()],
        "",
        &offline,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "not a keypair file: {}",
        text(&out.stderr)
    );
    // The pool is empty until created online: a durable intent is refused.
    let out = toss(
        &ss,
        home,
        &["nonce", "list", "--from", "Till"],
        "",
        &offline,
    );
    assert!(
        text(&out.stdout).contains("no nonce accounts"),
        "{}",
        text(&out.stdout)
    );
    let mut durable = create.to_vec();
    durable.push("--durable");
    let out = toss(&ss, home, &durable, "till passphrase\n", &gate);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no nonce account is available"),
        "{}",
        text(&out.stderr)
    );

    // Removing the account removes its key; paying from it then fails plainly.
    let out = toss(&ss, home, &["wallet", "remove", ADDRESS], "", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = toss(&ss, home, &create, "till passphrase\n", &gate);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no account"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_bad_recovery_phrase_is_refused_and_nothing_is_stored() {
    let ss = SecretService::start(true);
    let tmp = tempfile::tempdir().unwrap();
    let out = toss(
        &ss,
        tmp.path(),
        &["wallet", "import", "--phrase"],
        "abandon abandon abandon\n",
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("recovery phrase"),
        "{}",
        text(&out.stderr)
    );
    assert!(!tmp.path().join("accounts.json").exists());
}
