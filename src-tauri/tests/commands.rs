//! The commands the screens call, through Tauri's IPC on its mock runtime.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;
use toss_core::home::Home;
use toss_core::transport::qr;
use toss_desktop::state::AppState;

const REQUEST: &str = "solana:mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN?amount=1.5&label=Till";

fn invoke(
    webview: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    tauri::test::get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

fn app(state: AppState) -> tauri::WebviewWindow<tauri::test::MockRuntime> {
    let app = toss_desktop::setup(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .unwrap();
    tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap()
}

#[test]
fn the_screens_commands_answer_through_ipc_and_say_what_went_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let home = Home::at(tmp.path());
    home.ensure().unwrap();
    let webview = app(AppState::open(Ok(home)));

    // Scanning a picture: what it holds, or why not.
    let png = tmp.path().join("request.png");
    std::fs::write(
        &png,
        qr::bitmap(REQUEST.as_bytes(), 4).unwrap().to_png().unwrap(),
    )
    .unwrap();
    let seen = invoke(&webview, "scan_image", json!({ "path": png })).unwrap();
    assert_eq!(seen["kind"], "payment-request");
    let missing = invoke(
        &webview,
        "scan_image",
        json!({ "path": tmp.path().join("none.png") }),
    );
    assert!(
        refusal(missing.clone()).contains("cannot read the image"),
        "{missing:?}"
    );
    assert_eq!(invoke(&webview, "scan_stop", json!({})), Ok(Value::Null));

    // Paying with something that is not an intent: refused before any radio.
    for cmd in ["ble_pay", "nfc_pay"] {
        let bad = invoke(
            &webview,
            cmd,
            json!({ "device": "x", "reader": "x", "intents": ["zz"] }),
        );
        assert!(bad.is_err(), "{cmd}: {bad:?}");
    }

    // Without a data directory, every wallet command says so.
    let webview = app(AppState::open(Err(
        "no data directory: HOME is not set".into()
    )));
    for (cmd, args) in [
        ("ble_pay", json!({ "device": "x", "intents": [] })),
        (
            "ble_receive",
            json!({ "payee": "mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN" }),
        ),
        ("nfc_pay", json!({ "reader": "x", "intents": [] })),
        (
            "nfc_receive",
            json!({ "reader": "x", "payee": "mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN" }),
        ),
    ] {
        assert_eq!(
            invoke(&webview, cmd, args),
            Err(json!({ "kind": "failed", "message": "no data directory: HOME is not set" })),
            "{cmd}"
        );
    }
}

/// A data directory with settings and one account (no key: refusals come
/// before any key is needed).
fn wallet_home(settings: &str) -> (tempfile::TempDir, AppState) {
    let tmp = tempfile::tempdir().unwrap();
    let home = Home::at(tmp.path());
    home.ensure().unwrap();
    std::fs::write(home.settings_file(), settings).unwrap();
    std::fs::write(
        tmp.path().join("accounts.json"),
        r#"{"version":1,"wallet_id":"00112233445566778899aabbccddeeff","accounts":[{"label":"Main","address":"mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN","source":"phrase"}]}"#,
    )
    .unwrap();
    (tmp, AppState::open(Ok(home)))
}

/// The message of a command's error (`{kind, message}`).
fn refusal(result: Result<Value, Value>) -> String {
    let e = result.unwrap_err();
    assert!(e["kind"].is_string(), "{e}");
    e["message"].as_str().unwrap().to_owned()
}

#[test]
fn escrow_and_nonce_commands_refuse_bad_input_before_asking_for_a_key() {
    let (_tmp, state) = wallet_home(
        "program_id = \"TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA\"\n\
         rpc_url = \"http://127.0.0.1:9\"\ndecimal_separator = \"comma\"\n",
    );
    let webview = app(state);
    let escrow = |action: Value| invoke(&webview, "escrow_act", json!({ "action": action }));
    assert!(
        refusal(escrow(json!({ "kind": "deposit", "amount": "1.5" }))).contains("decimal comma"),
        "a point where the settings say comma"
    );
    assert_eq!(
        refusal(escrow(json!({ "kind": "request", "amount": "0" }))),
        "enter an amount above zero"
    );
    assert_eq!(
        refusal(escrow(json!({ "kind": "open", "hours": 0 }))),
        "the time lock is from 1 to 720 hours"
    );
    assert_eq!(
        refusal(escrow(json!({ "kind": "open", "hours": 721 }))),
        "the time lock is from 1 to 720 hours"
    );
    assert!(escrow(json!({ "kind": "sideways" })).is_err());

    let pool = |action: Value| invoke(&webview, "nonce_act", json!({ "action": action }));
    assert_eq!(
        refusal(pool(json!({ "kind": "close", "address": "nope" }))),
        "nope is not a Solana address"
    );
    for count in [0, 101] {
        assert_eq!(
            refusal(pool(json!({ "kind": "create", "count": count }))),
            format!("create between 1 and 100 nonce accounts at a time, not {count}")
        );
        assert!(
            refusal(invoke(&webview, "nonce_cost", json!({ "count": count })))
                .starts_with("create between 1 and 100")
        );
    }

    // No program named: the escrow screen says what to set.
    let (_tmp, state) = wallet_home("");
    let webview = app(state);
    for args in [
        json!({ "refresh": true }),
        json!({ "action": { "kind": "withdraw" } }),
    ] {
        let cmd = match args.get("refresh") {
            Some(_) => "escrow_view",
            None => "escrow_act",
        };
        let e = invoke(&webview, cmd, args).unwrap_err();
        assert_eq!(e["kind"], "settings", "{e}");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("set the TOSS program in Settings"),
            "{e}"
        );
    }
}

#[test]
fn currencies_follow_the_cluster_and_unknown_tokens_are_refused_before_signing() {
    let (_tmp, state) = wallet_home("cluster = \"testnet\"\n");
    let webview = app(state);
    assert_eq!(
        invoke(&webview, "currencies", json!({})).unwrap(),
        json!([{ "symbol": "SOL", "mint": null, "decimals": 9 }])
    );
    assert_eq!(
        refusal(invoke(
            &webview,
            "request_create",
            json!({ "to": "mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN", "amount": "1", "currency": "USDC" }),
        )),
        "USDC is not issued on testnet: take SOL there"
    );

    let (_tmp, state) = wallet_home("");
    let webview = app(state);
    let listed = invoke(&webview, "currencies", json!({})).unwrap();
    assert_eq!(listed[1]["symbol"], "USDC");
    assert_eq!(listed[1]["decimals"], 6);
    let usdc = listed[1]["mint"].as_str().unwrap().to_owned();
    let pay = |mint: &str, amount: &str| {
        invoke(
            &webview,
            "intent_create",
            json!({ "to": "mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN", "amount": amount, "mint": mint }),
        )
    };
    assert!(
        refusal(pay("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", "1"))
            .contains("is not one TOSS can pay offline")
    );
    // USDC has six decimals: a seventh is refused.
    assert!(refusal(pay(&usdc, "0.0000001")).contains("more than 6 decimal places"));
}

#[test]
fn a_till_with_no_sale_shown_takes_no_payment_by_any_path() {
    let (_tmp, state) = wallet_home("");
    let webview = app(state);
    let no_sale =
        "no sale is open: type the sale's amount and show its code before taking a payment";
    // Whatever the code holds, nothing is checked or kept without a sale.
    let read = invoke(&webview, "receive_intent", json!({ "hex": "00" }));
    assert_eq!(refusal(read), no_sale);
    // The radios refuse before waiting for anyone.
    let nfc = invoke(&webview, "nfc_receive", json!({}));
    assert_eq!(refusal(nfc), no_sale);
}

#[test]
fn a_transaction_request_is_refused_before_any_server_is_asked_when_it_cannot_be_trusted() {
    let (_tmp, state) = wallet_home("rpc_url = \"http://127.0.0.1:9\"\n");
    let webview = app(state);
    // Plain HTTP: anyone on the way could change the transaction.
    let http = invoke(
        &webview,
        "transaction_request_open",
        json!({ "url": "solana:http://127.0.0.1:9/pay" }),
    );
    assert!(refusal(http).contains("is not HTTPS"));
    // Paying what was never shown: nothing to approve.
    let unseen = invoke(
        &webview,
        "transaction_request_pay",
        json!({ "url": "solana:https://127.0.0.1:9/pay" }),
    );
    assert_eq!(
        refusal(unseen),
        "open the merchant's request first: nothing was shown to approve"
    );
}

/// Runs the ignored test `child` in a child process with keys in a fresh
/// kernel keyring of its own (the store's key is kept there).
fn in_own_keyring(child: &str) {
    let out = std::process::Command::new("keyctl")
        .args(["session", "-"])
        .arg(std::env::current_exe().unwrap())
        .args([
            child,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("TOSS_KEYSTORE", "keyutils")
        .output()
        .expect("keyctl (apt: keyutils) must be installed");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{text}");
}

#[test]
fn the_app_runs_the_stores_cleanup_as_the_cli_does() {
    in_own_keyring("child_cleanup");
}

#[test]
fn the_till_prices_in_the_merchants_currency_takes_tips_and_shows_the_customer() {
    in_own_keyring("child_till");
}

#[test]
#[ignore = "run by the_till_prices_in_the_merchants_currency_takes_tips_and_shows_the_customer"]
fn child_till() {
    // No cluster to read a rate from: the till prices by the last rate it
    // kept while it is fresh enough.
    let (_tmp, state) = wallet_home(
        "rpc_url = \"http://127.0.0.1:9\"\nmax_rate_age_seconds = 600\nprogram_id = \"TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA\"\n",
    );
    let now = i64::from(toss_core::session::unix_now());
    let session = state.session().unwrap();
    let rate = |published_at| toss_core::price::Rate {
        currency: "SOL".into(),
        fiat: "USD".into(),
        scaled: 150 * 1_000_000_000_000,
        published_at,
    };
    session
        .store()
        .unwrap()
        .keep_rate(&rate(now - 120))
        .unwrap();
    drop(session);
    let webview = app(state);
    let sale = |args: Value| {
        let mut all =
            json!({ "to": "mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN", "amount": "12.50" });
        all.as_object_mut()
            .unwrap()
            .extend(args.as_object().unwrap().clone());
        invoke(&webview, "request_create", all)
    };
    assert_eq!(
        invoke(&webview, "customer_now", json!({})).unwrap()["state"],
        "",
        "idle before a sale"
    );

    // 12.50 USD and a 15 % tip (1.88 USD) at 150 USD per SOL.
    let r = sale(json!({ "fiat": "USD", "tipPercent": 15 })).unwrap();
    let terms = &r["terms"];
    assert_eq!(terms["total_text"], "0.095866667 SOL", "{terms}");
    assert_eq!(terms["price_text"], "12.50 USD");
    assert_eq!(terms["tip_text"], "1.88 USD");
    assert_eq!(terms["fiat_text"], "14.38 USD");
    assert_eq!(terms["rate_text"], "1 SOL = 150.00 USD");
    assert_eq!(terms["rate_age_text"], "2 minutes old");
    assert_eq!(
        r["request"]["amount"], "0.095866667",
        "what the payer is asked"
    );
    let shown = invoke(&webview, "customer_now", json!({})).unwrap();
    assert_eq!(shown["state"], "waiting");
    assert_eq!(shown["total_text"], "0.095866667 SOL");
    assert_eq!(shown["fiat_text"], "14.38 USD");
    assert_eq!(shown["qr_svg"], r["qr_svg"]);
    // A payment that does not pay it: the customer sees why.
    assert!(invoke(&webview, "receive_intent", json!({ "hex": "00" })).is_err());
    let refused = invoke(&webview, "customer_now", json!({})).unwrap();
    assert_eq!(refused["state"], "refused");
    let why = refused["message"].as_str().unwrap();
    assert!(why.starts_with("refused: "), "{why}");

    // In SOL with a custom tip; both kinds of tip at once are refused.
    let r = sale(json!({ "amount": "1", "tip": "0.25" })).unwrap();
    assert_eq!(r["terms"]["total_text"], "1.25 SOL");
    assert_eq!(r["terms"]["tip_text"], "0.25 SOL");
    assert_eq!(r["terms"]["fiat_text"], Value::Null);
    assert!(refusal(sale(json!({ "tip": "1", "tipPercent": 10 }))).contains("not both"));
    assert!(
        refusal(sale(json!({ "fiat": "XYZ" }))).contains("is not a currency this till prices in")
    );
    // No EUR rate was ever read, and the cluster cannot be reached.
    assert!(refusal(sale(json!({ "fiat": "EUR" }))).contains("no SOL/EUR rate has been read yet"));
    // The rate view says where the rate came from and how old it is.
    let view = invoke(
        &webview,
        "price_rate",
        json!({ "currency": "SOL", "fiat": "USD" }),
    )
    .unwrap();
    assert_eq!(view["usable"], true);
    assert!(
        view["source"]
            .as_str()
            .unwrap()
            .starts_with("the last rate read"),
        "{view}"
    );

    // The close of today lists the sales opened but nothing paid: nothing
    // to count, nothing owed.
    let day = invoke(
        &webview,
        "close_report",
        json!({ "from": now - 60, "to": now + 60 }),
    )
    .unwrap();
    assert_eq!(day["rows"], json!([]));
    assert_eq!(day["exposure_text"], "none");
    let csv = _tmp.path().join("close.csv");
    let n = invoke(
        &webview,
        "close_export",
        json!({ "from": now - 60, "to": now + 60, "format": "csv", "path": csv }),
    )
    .unwrap();
    assert_eq!(n, 0);
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .starts_with("time,way,payment,")
    );
    assert!(
        refusal(invoke(
            &webview,
            "close_export",
            json!({ "from": 0, "to": 1, "format": "xls", "path": csv })
        ))
        .contains("not an export format")
    );
    assert!(
        refusal(invoke(
            &webview,
            "close_report",
            json!({ "from": 5, "to": 5 })
        ))
        .contains("ends before it starts")
    );
    // A payment this wallet never received cannot be refunded.
    assert!(
        refusal(invoke(
            &webview,
            "refund_quote",
            json!({ "payment": "ONLINE" })
        ))
        .contains("no payment received by this wallet")
    );
}

#[test]
fn a_stale_rate_and_tips_turned_off_are_refused_before_any_sale_is_shown() {
    in_own_keyring("child_stale_rate");
}

#[test]
#[ignore = "run by a_stale_rate_and_tips_turned_off_are_refused_before_any_sale_is_shown"]
fn child_stale_rate() {
    let (_tmp, state) = wallet_home("rpc_url = \"http://127.0.0.1:9\"\ntips = false\n");
    let now = i64::from(toss_core::session::unix_now());
    let session = state.session().unwrap();
    session
        .store()
        .unwrap()
        .keep_rate(&toss_core::price::Rate {
            currency: "SOL".into(),
            fiat: "EUR".into(),
            scaled: 120 * 1_000_000_000_000,
            published_at: now - 7_300,
        })
        .unwrap();
    drop(session);
    let webview = app(state);
    let stale = refusal(invoke(
        &webview,
        "request_create",
        json!({ "to": "mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN", "amount": "10", "fiat": "EUR" }),
    ));
    assert_eq!(
        stale,
        "the last rate is 2 hours old, over the 1 hour the settings allow (max_rate_age_seconds): type the amount in SOL, or go online for a new rate"
    );
    let view = invoke(
        &webview,
        "price_rate",
        json!({ "currency": "SOL", "fiat": "EUR" }),
    )
    .unwrap();
    assert_eq!(
        (view["usable"].as_bool(), view["why"].as_str()),
        (Some(false), Some(stale.as_str()))
    );
    let tipped = refusal(invoke(
        &webview,
        "request_create",
        json!({ "to": "mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN", "amount": "1", "tipPercent": 10 }),
    ));
    assert_eq!(tipped, "tips are turned off in the settings (tips)");
    assert_eq!(
        invoke(&webview, "customer_now", json!({})).unwrap()["state"],
        "",
        "no sale was shown"
    );
}

/// Keeps a payment to the wallet_home account as received (and verified)
/// at `at`; it expires a little over an hour later.
fn received(session: &toss_core::session::WalletSession, nonce: u64, at: u32) -> [u8; 32] {
    use toss_core::intent::{Intent, sign};
    let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
    let payee: toss_core::address::Address = "mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN"
        .parse()
        .unwrap();
    let settlement = session.settlement().unwrap();
    let signed = sign(
        Intent {
            cluster: settlement.cluster,
            program_id: settlement.program_id,
            payer: toss_core::address::Address::new(key.verifying_key().to_bytes()).into(),
            payee: payee.into(),
            mint: None,
            amount: 1_000_000,
            reference: None,
            memo: None,
            nonce,
            created_at: at - 10,
            expires_at: at + 3_700,
            durable_nonce: None,
        },
        &key,
    )
    .unwrap();
    let mut store = session.store().unwrap();
    let accepted = session
        .verifier(payee.into())
        .unwrap()
        .verify(&signed.to_bytes().unwrap(), None, at, &store)
        .unwrap();
    store.record_received(&accepted, i64::from(at)).unwrap();
    accepted.id
}

#[test]
#[ignore = "run by the_app_runs_the_stores_cleanup_as_the_cli_does"]
fn child_cleanup() {
    // A payment received ten days ago (expired, and past one day of
    // retention) and one received two hours ago (expired an hour ago, kept):
    // the app's first look at its store expires both and deletes the old.
    let (_tmp, state) = wallet_home(
        "retention_days = 1\nprogram_id = \"TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA\"\n",
    );
    let session = state.session().unwrap();
    let now = toss_core::session::unix_now();
    received(&session, 1, now - 10 * 86_400);
    let recent = received(&session, 2, now - 7_200);
    drop(session);
    let webview = app(state);
    let activity = invoke(&webview, "activity", json!({})).unwrap();
    let rows = activity.as_array().unwrap();
    assert_eq!(rows.len(), 1, "the old one is deleted: {activity}");
    assert_eq!(rows[0]["id"], hex::encode(recent), "{activity}");
    assert_eq!(rows[0]["state"], "expired", "{activity}");
}

#[test]
fn a_till_without_a_keychain_keeps_its_keys_in_the_file_it_unlocks() {
    // Keys in the encrypted key file: set-up creates it with the passphrase,
    // a restart finds it locked, a wrong passphrase opens nothing.
    let tmp = tempfile::tempdir().unwrap();
    let home = Home::at(tmp.path());
    home.ensure().unwrap();
    let webview = app(AppState::open(Ok(home.clone())));
    // Chosen at set-up: saved in the settings, the file created.
    assert!(
        refusal(invoke(
            &webview,
            "keys_use_file",
            json!({ "passphrase": "short" })
        ))
        .contains("at least 8 characters")
    );
    let config = invoke(
        &webview,
        "keys_use_file",
        json!({ "passphrase": "till passphrase" }),
    )
    .unwrap();
    assert_eq!(config["keystore"], "file");
    let info = invoke(&webview, "app_info", json!({})).unwrap();
    assert_eq!(info["key_storage"]["kind"], "file");
    assert_eq!(info["key_storage"]["locked"], false);
    assert!(
        info["key_storage"]["warning"]
            .as_str()
            .unwrap()
            .contains("only as safe as the app passphrase")
    );
    let created = invoke(
        &webview,
        "wallet_create",
        json!({ "label": "Till", "words": 12 }),
    )
    .unwrap();
    let address = created["account"]["address"].as_str().unwrap().to_owned();
    // Once there is an account, the storage is not switched under it.
    let refused = invoke(
        &webview,
        "settings_save",
        json!({ "changes": [["keystore", "secret-service"]] }),
    )
    .unwrap_err();
    assert_eq!(refused["kind"], "settings", "{refused}");
    assert!(
        refusal(invoke(
            &webview,
            "keys_use_file",
            json!({ "passphrase": "till passphrase" })
        ))
        .contains("already kept")
    );

    // A restart: locked until the passphrase is given.
    let webview = app(AppState::open(Ok(home)));
    let info = invoke(&webview, "app_info", json!({})).unwrap();
    assert_eq!(info["key_storage"]["locked"], true);
    assert_eq!(info["key_storage"]["new_file"], false);
    let locked = invoke(&webview, "home_view", json!({})).unwrap_err();
    assert_eq!(locked["kind"], "locked", "{locked}");
    let wrong = invoke(
        &webview,
        "keys_unlock",
        json!({ "passphrase": "till passphrasf" }),
    )
    .unwrap_err();
    assert_eq!(wrong["kind"], "gate", "{wrong}");
    assert_eq!(wrong["message"], "wrong passphrase");
    invoke(
        &webview,
        "keys_unlock",
        json!({ "passphrase": "till passphrase" }),
    )
    .unwrap();
    let view = invoke(&webview, "home_view", json!({})).unwrap();
    assert_eq!(view["accounts"][0]["account"]["address"], address.as_str());

    // The key file follows the app passphrase when it changes.
    invoke(
        &webview,
        "gate_set_passphrase",
        json!({ "current": "till passphrase", "passphrase": "a longer till passphrase" }),
    )
    .unwrap();
    assert!(toss_core::vault::SealedKeys::unlock(tmp.path(), "till passphrase").is_err());
    assert!(toss_core::vault::SealedKeys::unlock(tmp.path(), "a longer till passphrase").is_ok());
}

#[test]
fn the_sign_screen_shows_a_keystone_request_then_signs_only_what_it_showed() {
    in_own_keyring("child_sign");
}

#[test]
#[ignore = "run by the_sign_screen_shows_a_keystone_request_then_signs_only_what_it_showed"]
fn child_sign() {
    use toss_core::airgap::{SignRequest, SolSignature};
    let tmp = tempfile::tempdir().unwrap();
    let home = Home::at(tmp.path());
    home.ensure().unwrap();
    let webview = app(AppState::open(Ok(home)));
    let phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    invoke(
        &webview,
        "wallet_import_phrase",
        json!({ "label": "Laptop", "phrase": phrase }),
    )
    .unwrap();
    // Nothing shown yet: nothing to sign.
    assert!(
        refusal(invoke(
            &webview,
            "sign_request_sign",
            json!({ "confirmedUnexplained": false })
        ))
        .contains("open a request first")
    );

    // Keystone's request for a transfer from this account (its vector),
    // made for this wallet.
    let vectors: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/vectors/keystone-v1.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut request =
        SignRequest::decode(&hex::decode(vectors["sign_request_cbor"].as_str().unwrap()).unwrap())
            .unwrap();
    // Made for another wallet: refused in plain words.
    let other = invoke(
        &webview,
        "sign_request_open",
        json!({ "text": request.to_ur() }),
    );
    assert_eq!(
        refusal(other),
        "this request was made for another wallet (fingerprint 12345678)"
    );
    let accounts = invoke(&webview, "accounts_ur", json!({})).unwrap();
    assert_eq!(accounts["accounts"][0]["path"], "m/44'/501'/0'/0'");
    assert!(
        accounts["ur"]
            .as_str()
            .unwrap()
            .starts_with("UR:CRYPTO-MULTI-ACCOUNTS/")
    );
    request.fingerprint =
        Some(u32::from_str_radix(accounts["fingerprint"].as_str().unwrap(), 16).unwrap());
    let shown = invoke(
        &webview,
        "sign_request_open",
        json!({ "text": request.to_ur() }),
    )
    .unwrap();
    assert_eq!(
        shown["signer"],
        "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk"
    );
    assert_eq!(
        shown["steps"][0]["text"],
        "sends 0.0015 SOL from HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk to mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN"
    );
    assert_eq!(shown["unexplained"], false);
    let answer = invoke(
        &webview,
        "sign_request_sign",
        json!({ "confirmedUnexplained": false }),
    )
    .unwrap();
    let ur = answer["ur"].as_str().unwrap();
    assert!(answer["qr_svg"].as_str().unwrap().contains("<svg"));
    let signed = SolSignature::read(ur).unwrap();
    assert_eq!(signed.request_id, request.request_id);
    let laptop: toss_core::address::Pubkey = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk"
        .parse()
        .unwrap();
    let laptop = ed25519_dalek::VerifyingKey::from_bytes(&laptop.to_bytes()).unwrap();
    laptop
        .verify_strict(
            &request.sign_data,
            &ed25519_dalek::Signature::from_bytes(&signed.signature),
        )
        .unwrap();
    // A code that is not a request to sign is refused, and what was shown
    // before it can no longer be signed.
    assert!(
        refusal(invoke(&webview, "sign_request_open", json!({ "text": ur })))
            .contains("not a sol-sign-request")
    );
    assert!(
        refusal(invoke(
            &webview,
            "sign_request_sign",
            json!({ "confirmedUnexplained": false })
        ))
        .contains("open a request first")
    );
}
