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

    std::fs::write(
        tmp.path().join("accounts.json"),
        r#"{"version":1,"accounts":[{"label":"Till","address":"11111111111111111111111111111111"}]}"#,
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
