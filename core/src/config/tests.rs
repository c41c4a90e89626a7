use std::collections::HashMap;

use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

const PROGRAM: &str = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";

#[test]
fn defaults_are_devnet_and_the_sdk_values() {
    let c = Config::resolve(env(&[]), None).unwrap();
    assert_eq!(c.cluster, Cluster::Devnet);
    assert_eq!(c.rpc_url.as_str(), "https://api.devnet.solana.com/");
    assert_eq!(c.program_id, None);
    assert_eq!(c.arcium_mxe_program_id, None);
    assert_eq!(c.fee_payer, None);
    assert_eq!(c.max_settlement_retries, 3);
    assert_eq!(c.default_intent_expiry_seconds, 86_400);
    assert_eq!((c.qr_fragment_bytes, c.qr_frames_per_second), (300, 5));
    assert!(c.sound, "the till chimes unless told not to");
    assert_eq!(
        c.fiat_currency, None,
        "prices are typed in SOL or USDC until a currency is chosen"
    );
    assert_eq!(c.max_rate_age_seconds, 3_600);
    assert!(c.tips && c.notifications);
    assert_eq!(c.tip_percents, vec![10, 15, 20]);
    assert!(c.require_biometric_for_nonce);
    assert!(!c.require_biometric_for_intent);
}

#[test]
fn every_cluster_has_its_own_default_rpc() {
    for (name, url) in [
        ("devnet", "https://api.devnet.solana.com/"),
        ("testnet", "https://api.testnet.solana.com/"),
        ("mainnet-beta", "https://api.mainnet-beta.solana.com/"),
        ("MAINNET", "https://api.mainnet-beta.solana.com/"),
        ("localnet", "http://127.0.0.1:8899/"),
    ] {
        let c = Config::resolve(env(&[("SOLANA_CLUSTER", name)]), None).unwrap();
        assert_eq!(c.rpc_url.as_str(), url, "{name}");
    }
}

#[test]
fn environment_overrides_file_overrides_defaults() {
    let (_dir, path) = file(
        "cluster = \"testnet\"\nmax_settlement_retries = 5\nrequire_biometric_for_intent = true\n",
    );
    let c = Config::resolve(env(&[("MAX_SETTLEMENT_RETRIES", "7")]), Some(&path)).unwrap();
    assert_eq!(c.cluster, Cluster::Testnet, "file beats default");
    assert_eq!(c.max_settlement_retries, 7, "environment beats file");
    assert!(c.require_biometric_for_intent);
    assert_eq!(c.default_intent_expiry_seconds, 86_400, "default stays");
}

#[test]
fn an_empty_variable_counts_as_unset() {
    let (_dir, path) = file("cluster = \"testnet\"\n");
    let c = Config::resolve(env(&[("SOLANA_CLUSTER", "")]), Some(&path)).unwrap();
    assert_eq!(c.cluster, Cluster::Testnet);
}

#[test]
fn all_variables_are_read() {
    let c = Config::resolve(
        env(&[
            ("SOLANA_CLUSTER", "localnet"),
            ("SOLANA_RPC_URL", "http://127.0.0.1:9000"),
            ("TOSS_PROGRAM_ID", PROGRAM),
            ("ARCIUM_MXE_PROGRAM_ID", "11111111111111111111111111111111"),
            ("TOSS_FEE_PAYER", "~/.config/solana/id.json"),
            ("HOME", "/home/till"),
            ("MAX_SETTLEMENT_RETRIES", "0"),
            ("DEFAULT_INTENT_EXPIRY_SECONDS", "3600"),
            ("REQUIRE_BIOMETRIC_FOR_NONCE", "off"),
            ("REQUIRE_BIOMETRIC_FOR_INTENT", "YES"),
        ]),
        None,
    )
    .unwrap();
    assert_eq!(c.rpc_url.as_str(), "http://127.0.0.1:9000/");
    assert_eq!(c.program_id.unwrap().to_string(), PROGRAM);
    assert_eq!(c.arcium_mxe_program_id.unwrap().to_bytes(), [0; 32]);
    assert_eq!(
        c.fee_payer.as_deref(),
        Some(Path::new("/home/till/.config/solana/id.json"))
    );
    assert_eq!(c.max_settlement_retries, 0);
    assert_eq!(c.default_intent_expiry_seconds, 3600);
    assert!(!c.require_biometric_for_nonce);
    assert!(c.require_biometric_for_intent);
}

#[test]
fn device_and_display_preferences_are_read_and_default_to_the_first_device() {
    let c = Config::resolve(env(&[]), None).unwrap();
    assert_eq!((c.camera, c.ble_adapter, c.nfc_reader), (None, None, None));
    assert!(!c.camera_mirror);
    assert_eq!(c.decimal_separator, Separator::Point);
    assert_eq!(c.theme, Theme::System);

    let (_dir, path) = file(
        "camera = \" Integrated Camera \"\nnfc_reader = \"ACS ACR122U 00 00\"\ntheme = \"dark\"\n",
    );
    let c = Config::resolve(
        env(&[
            ("TOSS_BLE_ADAPTER", "hci1"),
            ("TOSS_CAMERA_MIRROR", "yes"),
            ("TOSS_DECIMAL_SEPARATOR", "comma"),
        ]),
        Some(&path),
    )
    .unwrap();
    assert_eq!(c.camera.as_deref(), Some("Integrated Camera"));
    assert_eq!(c.ble_adapter.as_deref(), Some("hci1"));
    assert_eq!(c.nfc_reader.as_deref(), Some("ACS ACR122U 00 00"));
    assert!(c.camera_mirror);
    assert_eq!(c.decimal_separator, Separator::Comma);
    assert_eq!(c.theme, Theme::Dark);
}

#[test]
fn every_bad_environment_value_names_the_variable_and_what_is_allowed() {
    let cases: &[(&Setting, &str)] = &[
        (&setting::CLUSTER, "mainnnet"),
        (&setting::RPC_URL, "api.devnet.solana.com"),
        (&setting::RPC_URL, "ftp://example.org"),
        (&setting::RPC_URL, "http://"),
        (&setting::PROGRAM_ID, "not-a-key"),
        (&setting::PROGRAM_ID, "1111"),
        (&setting::ARCIUM_MXE_PROGRAM_ID, "0x1234"),
        (&setting::FEE_PAYER, "   "),
        (&setting::MAX_SETTLEMENT_RETRIES, "-1"),
        (&setting::MAX_SETTLEMENT_RETRIES, "11"),
        (&setting::MAX_SETTLEMENT_RETRIES, "three"),
        (&setting::DEFAULT_INTENT_EXPIRY_SECONDS, "3599"),
        (&setting::QR_FRAGMENT_BYTES, "49"),
        (&setting::QR_FRAGMENT_BYTES, "1501"),
        (&setting::QR_FRAMES_PER_SECOND, "0"),
        (&setting::QR_FRAMES_PER_SECOND, "16"),
        (&setting::DEFAULT_INTENT_EXPIRY_SECONDS, "2592001"),
        (&setting::DEFAULT_INTENT_EXPIRY_SECONDS, "1.5"),
        (&setting::REQUIRE_BIOMETRIC_FOR_NONCE, "maybe"),
        (&setting::REQUIRE_BIOMETRIC_FOR_INTENT, "2"),
        (&setting::CAMERA, "  "),
        (&setting::CAMERA, "cam\u{7}"),
        (&setting::BLE_ADAPTER, &"x".repeat(129)),
        (&setting::NFC_READER, "line\nbreak"),
        (&setting::CAMERA_MIRROR, "sometimes"),
        (&setting::DECIMAL_SEPARATOR, "semicolon"),
        (&setting::THEME, "blue"),
        (&setting::MAX_INTENTS_PER_HANDOVER, "0"),
        (&setting::MAX_INTENTS_PER_HANDOVER, "65"),
        (&setting::MIN_PAYMENT_SOL, "1.5"),
        (&setting::MIN_PAYMENT_SOL, "0,001"),
        (&setting::MIN_PAYMENT_USDC, "0.0000001"),
        (&setting::COMMITMENT, "processed"),
    ];
    for (s, bad) in cases {
        let err = Config::resolve(env(&[(s.env, bad)]), None).unwrap_err();
        match &err {
            ConfigError::Invalid {
                origin,
                value,
                allowed,
            } => {
                assert_eq!(*origin, Origin::Env(s.env));
                assert_eq!(value, bad);
                assert_eq!(*allowed, s.allowed);
            }
            other => panic!("{}={bad}: unexpected {other:?}", s.env),
        }
        let msg = err.to_string();
        assert!(msg.contains(s.env), "{msg}");
        assert!(msg.contains(s.allowed), "{msg}");
    }
}

#[test]
fn fee_payer_with_tilde_needs_a_home() {
    let err = Config::resolve(env(&[("TOSS_FEE_PAYER", "~/id.json")]), None).unwrap_err();
    assert!(err.to_string().contains("TOSS_FEE_PAYER"), "{err}");
}

#[test]
fn a_bad_file_value_names_the_key_and_the_file() {
    let (_dir, path) = file("default_intent_expiry_seconds = 5\n");
    let err = Config::resolve(env(&[]), Some(&path)).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`default_intent_expiry_seconds`"), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("from 3600 (an hour"), "{msg}");
}

#[test]
fn an_empty_file_value_is_an_error_not_a_default() {
    let (_dir, path) = file("cluster = \"\"\n");
    let err = Config::resolve(env(&[]), Some(&path)).unwrap_err();
    assert!(matches!(err, ConfigError::Invalid { .. }), "{err:?}");
}

#[test]
fn unknown_keys_are_refused_with_the_known_ones_listed() {
    let (_dir, path) = file("clutser = \"devnet\"\n");
    let err = Config::resolve(env(&[]), Some(&path)).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("unknown key `clutser`"), "{msg}");
    assert!(msg.contains("cluster, rpc_url, program_id"), "{msg}");
}

#[test]
fn wrong_toml_types_are_refused() {
    for (text, found) in [
        ("max_settlement_retries = 1.5\n", "float"),
        ("cluster = [\"devnet\"]\n", "array"),
        ("[cluster]\nname = \"devnet\"\n", "table"),
    ] {
        let (_dir, path) = file(text);
        let err = Config::resolve(env(&[]), Some(&path)).unwrap_err();
        match err {
            ConfigError::WrongType { found: f, .. } => assert_eq!(f, found, "{text}"),
            other => panic!("{text}: unexpected {other:?}"),
        }
    }
}

#[test]
fn broken_toml_is_a_syntax_error_naming_the_file() {
    let (_dir, path) = file("cluster = \"devnet\n");
    let err = Config::resolve(env(&[]), Some(&path)).unwrap_err();
    assert!(matches!(err, ConfigError::Syntax { .. }), "{err:?}");
    assert!(err.to_string().contains("settings.toml"), "{err}");
}

#[test]
fn a_missing_file_is_an_empty_one_but_an_unreadable_one_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.toml");
    assert_eq!(
        Config::resolve(env(&[]), Some(&missing)).unwrap(),
        Config::resolve(env(&[]), None).unwrap()
    );
    // A directory where the file should be cannot be read as text.
    let err = Config::resolve(env(&[]), Some(dir.path())).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
}

#[test]
fn integers_and_booleans_in_the_file_are_accepted_as_strings_too() {
    let (_dir, path) =
        file("max_settlement_retries = \"4\"\nrequire_biometric_for_nonce = false\n");
    let c = Config::resolve(env(&[]), Some(&path)).unwrap();
    assert_eq!(c.max_settlement_retries, 4);
    assert!(!c.require_biometric_for_nonce);
}

#[test]
fn saving_writes_valid_changes_and_refuses_bad_ones_leaving_the_file_alone() {
    let (_dir, path) = file("max_settlement_retries = 4\n");
    let set = |k: &str, v: Option<&str>| (k.to_owned(), v.map(str::to_owned));
    Config::save(
        &path,
        &[
            set("default_intent_expiry_seconds", Some(" 3600 ")),
            set("cluster", Some("testnet")),
            set("max_settlement_retries", None),
        ],
    )
    .unwrap();
    let c = Config::resolve(env(&[]), Some(&path)).unwrap();
    assert_eq!(c.default_intent_expiry_seconds, 3600);
    assert_eq!(c.cluster, Cluster::Testnet);
    assert_eq!(c.max_settlement_retries, 3, "removed: back to the default");
    let before = std::fs::read_to_string(&path).unwrap();

    let err = Config::save(&path, &[set("rpc_url", Some("ftp://example.com"))]).unwrap_err();
    assert!(
        matches!(
            &err,
            ConfigError::Invalid {
                origin: Origin::File { key: "rpc_url", .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("an http:// or https:// URL"),
        "{err}"
    );
    let err = Config::save(&path, &[set("colour", Some("blue"))]).unwrap_err();
    assert!(matches!(err, ConfigError::UnknownKey { .. }), "{err:?}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        before,
        "nothing written"
    );
}

#[test]
fn explorer_links_name_the_cluster() {
    let url = Url::parse("http://127.0.0.1:8899").unwrap();
    assert_eq!(
        Cluster::Devnet.explorer_tx("5sig", &url),
        "https://explorer.solana.com/tx/5sig?cluster=devnet"
    );
    assert_eq!(
        Cluster::MainnetBeta.explorer_tx("5sig", &url),
        "https://explorer.solana.com/tx/5sig"
    );
    assert_eq!(
        Cluster::Localnet.explorer_tx("5sig", &url),
        "https://explorer.solana.com/tx/5sig?cluster=custom&customUrl=http%3A%2F%2F127.0.0.1%3A8899%2F"
    );
}

#[test]
fn the_tills_limits_and_commitment_are_read_in_the_currencys_units() {
    let c = Config::resolve(
        env(&[
            ("TOSS_MIN_PAYMENT_SOL", "0.5"),
            ("TOSS_MIN_PAYMENT_USDC", "2.25"),
            ("TOSS_MAX_INTENTS_PER_HANDOVER", "3"),
            ("TOSS_COMMITMENT", "Finalized"),
        ]),
        None,
    )
    .unwrap();
    assert_eq!(
        (c.min_payment_sol, c.min_payment_usdc),
        (500_000_000, 2_250_000)
    );
    assert_eq!(c.max_intents_per_handover, 3);
    assert_eq!(c.commitment, crate::solana_pay::Commitment::Finalized);
    // Shown in the currency's units, as typed.
    let shown = serde_json::to_value(&c).unwrap();
    assert_eq!(
        (
            shown["min_payment_sol"].as_str(),
            shown["commitment"].as_str()
        ),
        (Some("0.5"), Some("finalized"))
    );
    let d = Config::resolve(env(&[]), None).unwrap();
    assert_eq!(
        (
            d.min_payment_sol,
            d.min_payment_usdc,
            d.max_intents_per_handover
        ),
        (100_000, 10_000, 8)
    );
}

#[test]
fn the_merchants_currency_and_tips_are_read_and_nonsense_refused() {
    let c = Config::resolve(
        env(&[
            ("TOSS_FIAT_CURRENCY", "eur"),
            ("TOSS_TIP_PERCENTS", " 5, 12 "),
            ("TOSS_MAX_RATE_AGE_SECONDS", "600"),
        ]),
        None,
    )
    .unwrap();
    assert_eq!(c.fiat_currency, Some("EUR"));
    assert_eq!(c.tip_percents, vec![5, 12]);
    assert_eq!(c.max_rate_age_seconds, 600);
    let none = Config::resolve(
        env(&[
            ("TOSS_FIAT_CURRENCY", "None"),
            ("TOSS_TIP_PERCENTS", "none"),
        ]),
        None,
    )
    .unwrap();
    assert_eq!((none.fiat_currency, none.tip_percents), (None, vec![]));
    for (key, value) in [
        ("TOSS_FIAT_CURRENCY", "XYZ"),
        ("TOSS_TIP_PERCENTS", "10,0"),
        ("TOSS_TIP_PERCENTS", "1,2,3,4,5,6"),
        ("TOSS_TIP_PERCENTS", "ten"),
        ("TOSS_MAX_RATE_AGE_SECONDS", "10"),
    ] {
        let e = Config::resolve(env(&[(key, value)]), None).unwrap_err();
        assert!(e.to_string().contains(key), "{key}={value}: {e}");
    }
}
