//! The `toss` binary as a script sees it: stdout, stderr and exit codes.
#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

use std::process::{Command, Output};

fn toss(home: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_toss"));
    cmd.args(args).env("TOSS_HOME", home);
    // Keep the developer's own settings out of the test.
    for var in toss_core::config::setting::ALL {
        cmd.env_remove(var.env);
    }
    cmd.envs(env.iter().copied()).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn help_lists_the_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let out = toss(tmp.path(), &["--help"], &[]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for cmd in ["version", "config", "status"] {
        assert!(help.contains(cmd), "{help}");
    }
}

#[test]
fn version_prints_the_crate_version() {
    let tmp = tempfile::tempdir().unwrap();
    let out = toss(tmp.path(), &["version"], &[]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("toss {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn config_as_json_reflects_the_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let out = toss(
        tmp.path(),
        &["config", "--json"],
        &[("SOLANA_CLUSTER", "testnet")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cluster"], "testnet");
    assert_eq!(v["rpc_url"], "https://api.testnet.solana.com/");
    assert!(tmp.path().join("logs").is_dir(), "log directory created");

    // For people: every setting the table has, one line each.
    let out = toss(tmp.path(), &["config"], &[("TOSS_KEYSTORE", "file")]);
    let shown = text(&out.stdout);
    for setting in toss_core::config::setting::ALL {
        assert!(
            shown.lines().any(|l| l.starts_with(setting.key)),
            "{} missing:\n{shown}",
            setting.key
        );
    }
    assert!(
        shown.contains("keystore                       file"),
        "{shown}"
    );
}

#[test]
fn a_bad_setting_exits_78_naming_the_variable() {
    let tmp = tempfile::tempdir().unwrap();
    let out = toss(
        tmp.path(),
        &["config"],
        &[("MAX_SETTLEMENT_RETRIES", "lots")],
    );
    assert_eq!(out.status.code(), Some(78));
    let err = text(&out.stderr);
    assert!(err.contains("MAX_SETTLEMENT_RETRIES"), "{err}");
    assert!(err.contains("from 0 to 10"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn status_says_no_wallet_then_lists_accounts() {
    let tmp = tempfile::tempdir().unwrap();
    let out = toss(tmp.path(), &["status"], &[]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("wallet: none yet"));
    assert!(text(&out.stdout).contains("keys kept in: the desktop keyring (Secret Service)"));
    // The kernel keyring is offered with what it costs.
    let out = toss(tmp.path(), &["status"], &[("TOSS_KEYSTORE", "keyutils")]);
    assert!(
        text(&out.stdout)
            .contains("warning: the kernel keyring forgets every key at logout and at reboot"),
        "{}",
        text(&out.stdout)
    );
    // An unknown storage is a settings error naming the variable and what it takes.
    let out = toss(tmp.path(), &["status"], &[("TOSS_KEYSTORE", "floppy")]);
    assert_eq!(out.status.code(), Some(78));
    assert!(text(&out.stdout).contains("keys kept in: unknown until the settings are fixed"));
    let err = text(&out.stderr);
    assert!(
        err.contains("TOSS_KEYSTORE") && err.contains("file (an encrypted key file"),
        "{err}"
    );

    std::fs::write(
        tmp.path().join("accounts.json"),
        r#"{"version":1,"wallet_id":"00112233445566778899aabbccddeeff","accounts":[{"label":"Till","address":"11111111111111111111111111111111","source":"keypair-file"}]}"#,
    )
    .unwrap();
    let out = toss(tmp.path(), &["status", "--json"], &[]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["wallet"]["exists"], true);
    assert_eq!(v["wallet"]["accounts"][0]["label"], "Till");
}

#[test]
fn an_unknown_log_format_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = toss(tmp.path(), &["--log-format", "xml", "status"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("use human or json"));
}

const PROGRAM: &str = "GyGKxMyg1p9SsHfm15MkNUu1u9TN2JtTspcdmrtGUdse";
const PAYEE: &str = "9hSR6S7WPtxmTojgo6GG3k4yDPecgJY292j7xrsUGWBu";

/// A Solana CLI keypair file for the seed-1 key of docs/vectors.
fn keypair_file(dir: &std::path::Path) -> std::path::PathBuf {
    let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
    let path = dir.join("id.json");
    let bytes = key.to_keypair_bytes().to_vec();
    std::fs::write(&path, serde_json::to_string(&bytes).unwrap()).unwrap();
    path
}

/// `toss intent create` paying PAYEE with the test keypair, plus `args`.
fn create_intent(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let key = keypair_file(dir);
    let mut all = vec![
        "intent",
        "create",
        "--keypair",
        key.to_str().unwrap(),
        "--to",
        PAYEE,
    ];
    all.extend_from_slice(args);
    toss(dir, &all, env)
}

#[test]
fn an_intent_is_created_inspected_and_verified_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("pay.toss");
    let env = [("TOSS_PROGRAM_ID", PROGRAM)];
    let out = create_intent(
        tmp.path(),
        &[
            "--amount",
            "1.25",
            "--nonce",
            "7",
            "--memo",
            "table 4",
            "--out",
            file.to_str().unwrap(),
        ],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(bytes.len(), 199 + 1 + 7, "SOL intent with a 7-byte memo");

    let out = toss(
        tmp.path(),
        &["intent", "inspect", "--json", file.to_str().unwrap()],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["signature_valid"], true);
    assert_eq!(v["amount"], 1_250_000_000u64);
    assert_eq!(v["amount_sol"], "1.25");
    assert_eq!(v["nonce"], 7);
    assert_eq!(v["memo"], "table 4");
    assert_eq!(v["payee"], PAYEE);
    assert_eq!(v["cluster"], "ce59db5080fc2c6d", "devnet by default");

    let f = file.to_str().unwrap();
    let ok = toss(
        tmp.path(),
        &["intent", "verify", f, "--payee", PAYEE, "--amount", "1.25"],
        &env,
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).starts_with("verified offline: intent "));

    let wrong = toss(
        tmp.path(),
        &["intent", "verify", f, "--payee", PROGRAM],
        &env,
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong.stderr).contains("not this wallet"),
        "{}",
        text(&wrong.stderr)
    );

    let short = toss(
        tmp.path(),
        &["intent", "verify", f, "--payee", PAYEE, "--amount", "1.2"],
        &env,
    );
    assert!(
        text(&short.stderr).contains("were requested"),
        "{}",
        text(&short.stderr)
    );

    let mainnet = toss(
        tmp.path(),
        &["intent", "verify", f, "--payee", PAYEE],
        &[env[0], ("SOLANA_CLUSTER", "mainnet-beta")],
    );
    assert!(
        text(&mainnet.stderr).contains("another cluster"),
        "{}",
        text(&mainnet.stderr)
    );
}

#[test]
fn verify_applies_the_wallets_usdc_limits_like_the_till() {
    // The same limits as the app's till: USDC on devnet up to 200 a payment.
    let tmp = tempfile::tempdir().unwrap();
    let env = [("TOSS_PROGRAM_ID", PROGRAM)];
    let usdc = toss_core::currency::USDC_DEVNET.to_string();
    let pay = |amount: &str, name: &str| {
        let file = tmp.path().join(name);
        let out = create_intent(
            tmp.path(),
            &[
                "--amount",
                amount,
                "--mint",
                &usdc,
                "--decimals",
                "6",
                "--out",
                file.to_str().unwrap(),
            ],
            &env,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        file
    };
    let verify = |file: &std::path::Path| {
        toss(
            tmp.path(),
            &[
                "intent",
                "verify",
                file.to_str().unwrap(),
                "--payee",
                PAYEE,
                "--mint",
                &usdc,
                "--decimals",
                "6",
            ],
            &env,
        )
    };
    let within = verify(&pay("150", "within.toss"));
    assert!(within.status.success(), "{}", text(&within.stderr));
    let over = verify(&pay("500", "over.toss"));
    assert_eq!(over.status.code(), Some(1));
    assert!(
        text(&over.stderr).contains("over the offline limit of 200000000"),
        "{}",
        text(&over.stderr)
    );
}

#[test]
fn hex_on_stdout_round_trips_and_tampering_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let env = [("TOSS_PROGRAM_ID", PROGRAM)];
    let out = create_intent(tmp.path(), &["--amount", "0.5"], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let hex_text = text(&out.stdout);
    let mut bytes = hex::decode(hex_text.trim()).unwrap();
    assert_eq!(bytes.len(), 199);

    let hex_file = tmp.path().join("pay.hex");
    std::fs::write(&hex_file, &hex_text).unwrap();
    let ok = toss(
        tmp.path(),
        &["intent", "inspect", hex_file.to_str().unwrap()],
        &env,
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));

    bytes[120] ^= 1; // inside the nonce
    let bad = tmp.path().join("bad.toss");
    std::fs::write(&bad, &bytes).unwrap();
    let out = toss(
        tmp.path(),
        &["intent", "inspect", bad.to_str().unwrap()],
        &env,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("signature_valid  false"));

    std::fs::write(&bad, b"not an intent at all").unwrap();
    let out = toss(
        tmp.path(),
        &["intent", "inspect", bad.to_str().unwrap()],
        &env,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not a TOSS intent"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn intent_errors_have_script_friendly_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let create = |args: &[&str], env: &[(&str, &str)]| create_intent(tmp.path(), args, env);
    let no_program = create(&["--amount", "1"], &[]);
    assert_eq!(no_program.status.code(), Some(78));
    assert!(text(&no_program.stderr).contains("TOSS_PROGRAM_ID is not set"));

    let env = [("TOSS_PROGRAM_ID", PROGRAM)];
    let bad_amount = create(&["--amount", "1e9"], &env);
    assert_eq!(bad_amount.status.code(), Some(2));
    assert!(text(&bad_amount.stderr).contains("is not an amount"));

    // Shorter than a payee accepts: refused with the payee's rule.
    let short = create(&["--amount", "1", "--expires-in", "60"], &env);
    assert_eq!(short.status.code(), Some(1), "{}", text(&short.stderr));
    assert!(
        text(&short.stderr).contains("needs at least 3600 s (an hour) left"),
        "{}",
        text(&short.stderr)
    );
    assert!(
        create(&["--amount", "1", "--expires-in", "3600"], &env)
            .status
            .success()
    );

    let mint_alone = create(&["--amount", "1", "--mint", PROGRAM], &env);
    assert_eq!(mint_alone.status.code(), Some(2));
    assert!(text(&mint_alone.stderr).contains("--mint needs --decimals"));

    let localnet = create(
        &["--amount", "1"],
        &[env[0], ("SOLANA_CLUSTER", "localnet")],
    );
    assert_eq!(localnet.status.code(), Some(2));
    assert!(text(&localnet.stderr).contains("--genesis-hash"));

    let key = keypair_file(tmp.path());
    let k = key.to_str().unwrap();
    let to_self = toss(
        tmp.path(),
        &[
            "intent",
            "create",
            "--keypair",
            k,
            "--to",
            "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9",
            "--amount",
            "1",
        ],
        &env,
    );
    assert_eq!(to_self.status.code(), Some(1));
    assert!(text(&to_self.stderr).contains("payer and payee are the same"));

    let missing_key = toss(
        tmp.path(),
        &[
            "intent",
            "create",
            "--keypair",
            "/nonexistent/id.json",
            "--to",
            PAYEE,
            "--amount",
            "1",
        ],
        &env,
    );
    assert_eq!(missing_key.status.code(), Some(1));
    assert!(text(&missing_key.stderr).contains("cannot read keypair file"));
}

#[test]
fn a_payment_request_is_made_as_a_qr_image_and_scanned_back() {
    let tmp = tempfile::tempdir().unwrap();
    let png = tmp.path().join("request.png");
    let payee = "mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN";
    let out = toss(
        tmp.path(),
        &[
            "--json",
            "request",
            "--to",
            payee,
            "--amount",
            "1.5",
            "--label",
            "Till 1",
            "--png",
            png.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let url = made["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("solana:{payee}?amount=1.5&reference=")),
        "{url}"
    );
    assert!(url.contains("label=Till%201"), "{url}");

    let out = toss(tmp.path(), &["--json", "scan", png.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["kind"], "payment-request");
    assert_eq!(seen["request"], made["request"]);

    // Printed, the URL is the last line on its own.
    let out = toss(
        tmp.path(),
        &["request", "--to", payee, "--amount", "1.5"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    let last = printed.lines().last().unwrap();
    assert!(
        last.starts_with(&format!("solana:{payee}?amount=1.5&reference=")),
        "{last:?}"
    );

    // A token account (off the curve) is not a wallet: no request is made
    // that a scanner, this one included, would refuse.
    let ata = toss_core::address::associated_token_account(
        &payee.parse().unwrap(),
        &toss_core::currency::USDC_MAINNET,
    );
    let out = toss(
        tmp.path(),
        &["request", "--to", &ata.to_string(), "--amount", "1"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("is not a wallet address"),
        "{}",
        text(&out.stderr)
    );

    // Bad input: an amount with too many decimals, an image with no code.
    let out = toss(
        tmp.path(),
        &["request", "--to", payee, "--amount", "0.0000000001"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let blank = tmp.path().join("blank.png");
    std::fs::write(&blank, b"not an image").unwrap();
    let out = toss(tmp.path(), &["scan", blank.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot read the image"),
        "{}",
        text(&out.stderr)
    );
    // Neither a file nor --clipboard; both; a clipboard with no display.
    let out = toss(tmp.path(), &["scan"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = toss(tmp.path(), &["scan", "x.png", "--clipboard"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = toss(
        tmp.path(),
        &["scan", "--clipboard"],
        &[("DISPLAY", ":4097"), ("WAYLAND_DISPLAY", "")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the clipboard cannot be read"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_payment_shown_for_a_tills_request_is_sealed_to_that_till() {
    use toss_core::noise::StaticKey;
    use toss_core::transport::camera;
    let tmp = tempfile::tempdir().unwrap();
    let env = [("TOSS_PROGRAM_ID", PROGRAM)];
    let till = StaticKey::from_secret(zeroize::Zeroizing::new([1; 32]));
    let reference = "82ZJ7nbGpixjeDCmEhUcmwXYfvurzAgGdtSMuHnUgyny";
    let key = bs58::encode(till.public()).into_string();
    let request =
        format!("solana:{PAYEE}?amount=0.5&reference={reference}&toss-key={key}&toss-offline=1");
    let file = tmp.path().join("pay.toss");
    let args = [
        "--amount",
        "0.5",
        "--reference",
        reference,
        "--out",
        file.to_str().unwrap(),
    ];
    assert!(create_intent(tmp.path(), &args, &env).status.success());
    let wire = std::fs::read(&file).unwrap();
    let png = tmp.path().join("pay.png");
    let export = |request: &str| {
        let args = [
            "intent",
            "export-qr",
            file.to_str().unwrap(),
            "--png",
            png.to_str().unwrap(),
            "--request",
            request,
        ];
        toss(tmp.path(), &args, &env)
    };
    let out = export(&request);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("sealed to the till's key"),
        "{}",
        text(&out.stderr)
    );
    // The code holds the payment sealed: only the till opens it, for this sale.
    let code = camera::scan_file(&png).unwrap();
    assert!(toss_core::sealed::is_sealed(&code));
    let r: [u8; 32] = bs58::decode(reference)
        .into_vec()
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(toss_core::sealed::open(&code, &till, &r).unwrap(), wire);
    assert!(toss_core::sealed::open(&code, &till, &[0; 32]).is_err());
    // A request without the till's key: shown as it is, and said so.
    let out = export(&format!("solana:{PAYEE}?amount=0.5&reference={reference}"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("not encrypted"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(camera::scan_file(&png).unwrap(), wire);
    // An intent for another sale is not sealed to this one.
    let other = format!("solana:{PAYEE}?amount=0.5&reference={PROGRAM}&toss-key={key}");
    let out = export(&other);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("does not carry this request's reference"));
}

#[test]
fn scan_reads_an_animated_code_from_its_frames_as_images() {
    use toss_core::transport::{animated::Sender, qr};
    let tmp = tempfile::tempdir().unwrap();
    let url = format!(
        "solana:{PAYEE}?amount=0.25&label={}",
        "Long+label".repeat(40)
    );
    let mut sender = Sender::new(url.as_bytes(), 120).unwrap();
    let parts = sender.parts();
    let frames = tmp.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    let mut files = Vec::new();
    for n in 0..parts {
        let frame = sender.next_frame().unwrap();
        let png = frames.join(format!("frame-{n:02}.png"));
        std::fs::write(
            &png,
            qr::bitmap(frame.as_bytes(), 3).unwrap().to_png().unwrap(),
        )
        .unwrap();
        files.push(png.to_str().unwrap().to_owned());
    }
    let scan = |args: &[&str]| {
        let mut all = vec!["--json", "scan"];
        all.extend_from_slice(args);
        toss(tmp.path(), &all, &[])
    };
    // Every frame, as files in any order, or as the folder.
    let mut reversed: Vec<&str> = files.iter().map(String::as_str).collect();
    reversed.reverse();
    for args in [reversed.clone(), vec![frames.to_str().unwrap()]] {
        let out = scan(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(seen["kind"], "payment-request", "{seen}");
        assert_eq!(seen["request"]["amount"], "0.25");
    }
    // One frame of several: what is missing is said.
    let out = scan(&[files[0].as_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!("1 of its {parts} parts recovered")),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn with_no_keychain_the_encrypted_key_file_holds_the_wallet() {
    // No Secret Service, no kernel keyring: the key file, unlocked with the
    // app passphrase given first on stdin.
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let env = [
        ("TOSS_KEYSTORE", "file"),
        ("TOSS_PROGRAM_ID", PROGRAM),
        ("REQUIRE_BIOMETRIC_FOR_INTENT", "true"),
    ];
    let run = |args: &[&str], stdin: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_toss"));
        for var in toss_core::config::setting::ALL {
            cmd.env_remove(var.env);
        }
        cmd.args(args)
            .env("TOSS_HOME", home)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .envs(env)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    const PHRASE: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    let out = run(
        &["wallet", "import", "--label", "Till", "--phrase"],
        &format!("till passphrase\n{PHRASE}\n\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk"));
    assert!(tmp.path().join("keys.sealed").is_file());

    // A payment signed from the file's key, kept in the store it unlocks.
    let out = run(
        &[
            "intent", "create", "--from", "Till", "--to", PAYEE, "--amount", "0.1",
        ],
        "till passphrase\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The gate asks the same passphrase: given once, it serves both.
    let out = run(
        &[
            "intent", "create", "--from", "Till", "--to", PAYEE, "--amount", "0.2",
        ],
        "till passphrase\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["history", "--json"], "till passphrase\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let h: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(h.as_array().unwrap().len(), 2, "{h}");

    // A wrong passphrase opens nothing, and says so.
    let out = run(&["history"], "till passphrasf\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("wrong passphrase"),
        "{}",
        text(&out.stderr)
    );
    // Reading an intent needs no key at all.
    let out = run(&["status"], "");
    assert!(
        text(&out.stdout).contains("keys kept in: a key file in the data directory"),
        "{}",
        text(&out.stdout)
    );
}
