//! The air-gapped laptop as a signer other Solana tools speak to, against
//! Keystone's own UR registry and @solana/web3.js (`wallet/keystone.mjs`)
//! and a real local validator: requests made by Keystone's code cross to
//! the `toss` CLI as UR text, are described and signed, and what comes back
//! is read by Keystone's code, verified by web3.js, and lands; the online
//! side of TOSS prepares an escrow deposit the laptop signs, and sends it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use solana_transaction::Transaction;
use toss_validator_tests::{LocalValidator, Pubkey, node, run_toss, toss_bin};

/// BIP39's test phrase; its account m/44'/501'/0'/0'.
const PHRASE: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const LAPTOP: &str = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk";
const SOL: u64 = 1_000_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_made_by_keystones_code_is_described_signed_by_qr_text_and_lands() {
    let v = LocalValidator::start().await;
    let rpc = v.rpc_url();
    let client = RpcClient::new_with_commitment(
        rpc.clone(),
        solana_commitment_config::CommitmentConfig::confirmed(),
    );
    let laptop: Pubkey = LAPTOP.parse().unwrap();
    let fund = solana_system_interface::instruction::transfer(&v.mint.pubkey(), &laptop, 3 * SOL);
    let blockhash = client.get_latest_blockhash().await.unwrap();
    let tx =
        Transaction::new_signed_with_payer(&[fund], Some(&v.mint.pubkey()), &[&v.mint], blockhash);
    client.send_and_confirm_transaction(&tx).await.unwrap();

    let bin = toss_bin();
    let env = |extra: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("TOSS_KEYSTORE", "keyutils".to_owned()),
            ("SOLANA_CLUSTER", "localnet".to_owned()),
            ("SOLANA_RPC_URL", rpc.clone()),
            ("TOSS_PROGRAM_ID", v.program_id.to_string()),
        ];
        env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        env
    };
    let home = tempfile::tempdir().unwrap();
    let toss = |args: &[&str], extra: &[(&'static str, &str)]| {
        run_toss(&bin, home.path(), &env(extra), args, "\n")
    };
    let (ok, _, stderr) = run_toss(
        &bin,
        home.path(),
        &env(&[]),
        &["wallet", "import", "--label", "laptop", "--phrase"],
        &format!("{PHRASE}\n\n"),
    );
    assert!(ok, "{stderr}");

    // The accounts, watch-only, as Keystone's registry reads them.
    let (ok, accounts, stderr) = toss(&["airgap", "accounts"], &[]);
    assert!(ok, "{stderr}");
    let fingerprint = accounts["fingerprint"].as_str().unwrap().to_owned();
    let read: serde_json::Value = serde_json::from_str(
        &node(
            "keystone.mjs",
            &rpc,
            &["accounts".into(), accounts["ur"].as_str().unwrap().into()],
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(read["fingerprint"], fingerprint.as_str());
    assert_eq!(read["keys"], serde_json::json!([LAPTOP]));
    assert_eq!(read["paths"], serde_json::json!(["44'/501'/0'/0'"]));

    // Keystone's code asks for a transfer of 0.25 SOL.
    let to = Pubkey::new_unique();
    let request = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "request".to_owned(),
            LAPTOP.into(),
            to.to_string(),
            (SOL / 4).to_string(),
            fingerprint.clone(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        serde_json::from_str(&node("keystone.mjs", &rpc, &args).unwrap()).unwrap()
    };
    let made = request(&[]);
    let ur = made["ur"].as_str().unwrap();
    // Shown in words first (`toss sign` is `toss airgap sign`); nothing
    // signed without the word.
    let (ok, shown, stderr) = toss(&["sign", "--ur", ur], &[]);
    assert!(ok, "{stderr}");
    assert_eq!(shown["signed"], false);
    assert_eq!(
        shown["described"]["steps"][0]["text"],
        format!("sends 0.25 SOL from {LAPTOP} to {to}")
    );
    assert_eq!(shown["described"]["origin"], "Keystone test");
    assert_eq!(
        shown["described"]["fee_text"],
        format!("0.000005 SOL paid by {LAPTOP}")
    );
    let (ok, signed, stderr) = toss(&["airgap", "sign", "--ur", ur, "--yes"], &[]);
    assert!(ok, "{stderr}");
    let answer = signed["signature_ur"].as_str().unwrap();
    assert!(answer.starts_with("UR:SOL-SIGNATURE/"), "{answer}");
    // Keystone's registry reads the answer, web3.js verifies it, and it lands.
    let landed = node(
        "keystone.mjs",
        &rpc,
        &[
            "send".into(),
            made["message"].as_str().unwrap().into(),
            answer.into(),
            LAPTOP.into(),
        ],
    )
    .unwrap();
    assert!(!landed.is_empty());
    assert_eq!(client.get_balance(&to).await.unwrap(), SOL / 4);

    // What the wallet cannot explain is said so, and signed only after a
    // second confirmation, or never when the settings refuse it.
    let odd = request(&["unknown"]);
    let odd_ur = odd["ur"].as_str().unwrap();
    let (ok, shown, _) = toss(&["airgap", "sign", "--ur", odd_ur], &[]);
    assert!(ok);
    assert_eq!(shown["described"]["unexplained"], true);
    assert_eq!(shown["described"]["steps"][1]["explained"], false);
    let (ok, _, stderr) = toss(&["airgap", "sign", "--ur", odd_ur, "--yes"], &[]);
    assert!(!ok && stderr.contains("confirm that too"), "{stderr}");
    let twice = [
        "airgap",
        "sign",
        "--ur",
        odd_ur,
        "--yes",
        "--sign-unexplained",
    ];
    let (ok, _, stderr) = toss(&twice, &[]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = toss(&twice, &[("TOSS_UNEXPLAINED_INSTRUCTIONS", "refuse")]);
    assert!(
        !ok && stderr.contains("settings refuse such requests"),
        "{stderr}"
    );

    // Bad input: a plain refusal each.
    let refused = |ur: &str| {
        let (ok, _, stderr) = toss(&["airgap", "sign", "--ur", ur, "--yes"], &[]);
        assert!(!ok, "{ur} was signed");
        stderr
    };
    assert!(refused(answer).contains("this code is a ur:sol-signature, not a sol-sign-request"));
    assert!(refused(&ur[..ur.len() - 8]).contains("damaged"));
    assert!(
        refused("ur:sol-sign-request/1-3/lpadaxcfaxcywenbpljkhdcahkadaemej")
            .contains("animated code")
    );
    let other_wallet = serde_json::from_str::<serde_json::Value>(
        &node(
            "keystone.mjs",
            &rpc,
            &[
                "request".into(),
                LAPTOP.into(),
                to.to_string(),
                "1".into(),
                "00c0ffee".into(),
            ],
        )
        .unwrap(),
    )
    .unwrap();
    assert!(refused(other_wallet["ur"].as_str().unwrap()).contains("made for another wallet"));
    let stranger = Pubkey::new_unique();
    let not_ours: serde_json::Value = serde_json::from_str(
        &node(
            "keystone.mjs",
            &rpc,
            &[
                "request".into(),
                stranger.to_string(),
                to.to_string(),
                "1".into(),
                fingerprint.clone(),
            ],
        )
        .unwrap(),
    )
    .unwrap();
    assert!(refused(not_ours["ur"].as_str().unwrap()).contains("holds no key"));

    // The online side: TOSS prepares a deposit into the laptop's escrow,
    // the laptop signs it, TOSS sends it.
    let (ok, _, stderr) = toss(
        &["escrow", "open", "--withdraw-delay", "3600"],
        &[("REQUIRE_BIOMETRIC_FOR_NONCE", "false")],
    );
    assert!(ok, "{stderr}");
    let online = tempfile::tempdir().unwrap();
    let (ok, prepared, stderr) = run_toss(
        &bin,
        online.path(),
        &env(&[]),
        &["airgap", "deposit", "--from", LAPTOP, "--amount", "0.5"],
        "",
    );
    assert!(ok, "{stderr}");
    let deposit = prepared["ur"].as_str().unwrap();
    let (ok, shown, stderr) = toss(&["airgap", "sign", "--ur", deposit, "--yes"], &[]);
    assert!(ok, "{stderr}");
    let step = shown["described"]["steps"][0]["text"].as_str().unwrap();
    assert!(
        step.starts_with("deposits 500000000 base units into the TOSS escrow"),
        "{step}"
    );
    let escrow = toss_program::state::escrow_address(&v.program_id, &laptop, None).0;
    let before = client.get_balance(&escrow).await.unwrap();
    let sig = shown["signature_ur"].as_str().unwrap();
    // An answer to another request is refused before anything is sent.
    let (ok, _, stderr) = run_toss(
        &bin,
        online.path(),
        &env(&[]),
        &[
            "airgap",
            "send",
            "--request",
            deposit,
            "--signature",
            answer,
        ],
        "",
    );
    assert!(
        !ok && stderr.contains("answers another request"),
        "{stderr}"
    );
    let (ok, sent, stderr) = run_toss(
        &bin,
        online.path(),
        &env(&[]),
        &["airgap", "send", "--request", deposit, "--signature", sig],
        "",
    );
    assert!(ok, "{stderr}");
    assert!(sent["signature"].is_string());
    assert_eq!(client.get_balance(&escrow).await.unwrap(), before + SOL / 2);
}
