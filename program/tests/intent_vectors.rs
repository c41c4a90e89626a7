//! The Rust encoder and decoder against docs/vectors/intent-v1.json, written
#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! by an independent implementation of docs/intent.md.

use std::str::FromStr;

use serde_json::Value;
use solana_program::pubkey::Pubkey;
use toss_program::intent::{
    DurableNonce, Intent, IntentError, SignedIntent, cluster, conflict_order,
};

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/vectors/intent-v1.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    ::hex::decode(s).unwrap()
}

fn key(v: &Value) -> Pubkey {
    Pubkey::from_str(v.as_str().unwrap()).unwrap()
}

fn opt_key(v: &Value) -> Option<Pubkey> {
    (!v.is_null()).then(|| key(v))
}

fn intent_from(f: &Value) -> Intent {
    Intent {
        cluster: hex(f["cluster"].as_str().unwrap()).try_into().unwrap(),
        program_id: key(&f["program_id"]),
        payer: key(&f["payer"]),
        payee: key(&f["payee"]),
        mint: opt_key(&f["mint"]),
        amount: f["amount"].as_u64().unwrap(),
        reference: opt_key(&f["reference"]),
        memo: f["memo"].as_str().map(str::to_owned),
        nonce: f["nonce"].as_u64().unwrap(),
        created_at: f["created_at"].as_u64().unwrap().try_into().unwrap(),
        expires_at: f["expires_at"].as_u64().unwrap().try_into().unwrap(),
        durable_nonce: (!f["durable_nonce"].is_null()).then(|| DurableNonce {
            account: key(&f["durable_nonce"]["account"]),
            value: hex(f["durable_nonce"]["value"].as_str().unwrap())
                .try_into()
                .unwrap(),
        }),
    }
}

#[test]
fn valid_vectors_encode_and_decode_both_ways() {
    let all = vectors();
    let valid = all["valid"].as_array().unwrap();
    assert!(valid.len() >= 3);
    for v in valid {
        let name = v["name"].as_str().unwrap();
        let intent = intent_from(&v["fields"]);
        let body = hex(v["body"].as_str().unwrap());
        let signature: [u8; 64] = hex(v["signature"].as_str().unwrap()).try_into().unwrap();

        assert_eq!(intent.encode().unwrap(), body, "{name}: encode");
        assert_eq!(Intent::decode(&body).unwrap(), intent, "{name}: decode");

        let signed = SignedIntent {
            intent: intent.clone(),
            signature,
        };
        let wire = signed.to_bytes().unwrap();
        assert_eq!(wire.len() as u64, v["signed_len"].as_u64().unwrap());
        assert_eq!(SignedIntent::from_bytes(&wire).unwrap(), signed, "{name}");
        assert_eq!(
            signed.id().unwrap().to_vec(),
            hex(v["id"].as_str().unwrap()),
            "{name}: id"
        );
    }
}

#[test]
fn the_longest_body_is_328_bytes_as_documented() {
    assert_eq!(toss_program::intent::MAX_BODY_LEN, 328);
}

#[test]
fn a_sol_payment_is_at_most_200_bytes_signed() {
    let all = vectors();
    let minimal = &all["valid"][0];
    assert_eq!(minimal["name"], "sol-minimal");
    assert!(minimal["signed_len"].as_u64().unwrap() <= 200);
}

#[test]
fn invalid_vectors_are_refused_with_the_named_error() {
    let all = vectors();
    for v in all["invalid"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let bytes = hex(v["bytes"].as_str().unwrap());
        let err = SignedIntent::from_bytes(&bytes).unwrap_err();
        let variant = format!("{err:?}");
        let expected = v["error"].as_str().unwrap();
        assert!(
            variant.starts_with(expected),
            "{name}: expected {expected}, got {variant}"
        );
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn the_cluster_constants_are_the_public_genesis_hashes() {
    let devnet = Pubkey::from_str("EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG").unwrap();
    assert_eq!(
        cluster::from_genesis_hash(&devnet.to_bytes()),
        cluster::DEVNET
    );
    let mainnet = Pubkey::from_str("5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d").unwrap();
    assert_eq!(
        cluster::from_genesis_hash(&mainnet.to_bytes()),
        cluster::MAINNET_BETA
    );
    let testnet = Pubkey::from_str("4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY").unwrap();
    assert_eq!(
        cluster::from_genesis_hash(&testnet.to_bytes()),
        cluster::TESTNET
    );
}

#[test]
fn encoding_refuses_what_decoding_would_refuse() {
    let base = intent_from(&vectors()["valid"][0]["fields"]);
    let cases: Vec<(Intent, IntentError)> = vec![
        (
            Intent {
                amount: 0,
                ..base.clone()
            },
            IntentError::ZeroAmount,
        ),
        (
            Intent {
                payee: base.payer,
                ..base.clone()
            },
            IntentError::SelfPayment,
        ),
        (
            Intent {
                memo: Some("x".repeat(65)),
                ..base.clone()
            },
            IntentError::MemoLength(65),
        ),
        (
            Intent {
                memo: Some(String::new()),
                ..base.clone()
            },
            IntentError::MemoLength(0),
        ),
        (
            Intent {
                expires_at: base.created_at,
                ..base.clone()
            },
            IntentError::ExpiresBeforeCreated {
                created_at: base.created_at,
                expires_at: base.created_at,
            },
        ),
    ];
    for (intent, err) in cases {
        assert_eq!(intent.encode().unwrap_err(), err);
    }
}

#[test]
fn conflicts_are_decided_by_nonce_then_creation_then_signature_bytes() {
    let base = intent_from(&vectors()["valid"][0]["fields"]);
    let signed = |nonce, created_at, first_sig_byte| SignedIntent {
        intent: Intent {
            nonce,
            created_at,
            ..base.clone()
        },
        signature: {
            let mut s = [0x80; 64];
            s[0] = first_sig_byte;
            s
        },
    };
    use std::cmp::Ordering::*;
    // Lower nonce wins even when created later.
    assert_eq!(
        conflict_order(&signed(1, 1_790_000_100, 9), &signed(2, 1_790_000_000, 0)),
        Less
    );
    // Same nonce: earlier creation wins.
    assert_eq!(
        conflict_order(&signed(5, 1_790_000_100, 0), &signed(5, 1_790_000_000, 9)),
        Greater
    );
    // Same nonce and time: signature bytes as unsigned bytes (0x7f < 0x80 < 0xff),
    // never as text or signed numbers.
    assert_eq!(
        conflict_order(
            &signed(5, 1_790_000_000, 0x7f),
            &signed(5, 1_790_000_000, 0xff)
        ),
        Less
    );
    assert_eq!(
        conflict_order(
            &signed(5, 1_790_000_000, 0xff),
            &signed(5, 1_790_000_000, 0x7f)
        ),
        Greater
    );
    let a = signed(5, 1_790_000_000, 1);
    assert_eq!(conflict_order(&a, &a.clone()), Equal);
}
