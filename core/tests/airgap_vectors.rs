//! The wallet's Keystone UR types against the bytes Keystone's own registry
//! writes (docs/vectors/keystone-v1.json, made by
//! docs/vectors/gen_keystone_vectors.cjs with @keystonehq/bc-ur-registry-sol).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use solana_program::pubkey::Pubkey;
use toss_core::airgap::{self, Held, SignRequest, SignType, SolSignature};

fn vectors() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/vectors/keystone-v1.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn bytes(v: &serde_json::Value, key: &str) -> Vec<u8> {
    hex::decode(v[key].as_str().unwrap()).unwrap()
}

const ID: &str = "9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d";
const FROM: &str = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk";
const PHRASE_PATH: [(u32, bool); 4] = [(44, true), (501, true), (0, true), (0, true)];

#[test]
fn a_keystone_sign_request_is_read_and_written_byte_for_byte() {
    let v = vectors();
    let cbor = bytes(&v, "sign_request_cbor");
    let r = SignRequest::decode(&cbor).unwrap();
    assert_eq!(r.request_id, Some(hex::decode(ID).unwrap()));
    assert_eq!(r.sign_data, bytes(&v, "message_hex"));
    assert_eq!(r.path, PHRASE_PATH.to_vec());
    assert_eq!(airgap::path_text(&r.path), "m/44'/501'/0'/0'");
    assert_eq!(r.fingerprint, Some(0x1234_5678));
    assert_eq!(r.origin.as_deref(), Some("TOSS test"));
    assert_eq!(r.sign_type, SignType::Transaction);
    assert_eq!(
        r.encode(),
        cbor,
        "the online side writes what Keystone writes"
    );
    // The single-part UR Keystone shows decodes to the same request.
    let (kind, message) = ur::decode(v["sign_request_ur"].as_str().unwrap()).unwrap();
    assert!(matches!(kind, ur::ur::Kind::SinglePart));
    assert_eq!(message, cbor);

    let m = SignRequest::decode(&bytes(&v, "message_request_cbor")).unwrap();
    assert_eq!(
        (m.sign_type, m.sign_data.as_slice()),
        (SignType::Message, &b"Sign in to TOSS"[..])
    );
}

#[test]
fn the_answer_is_keystones_sol_signature_and_accounts_its_multi_accounts() {
    let v = vectors();
    let answer = SolSignature {
        request_id: Some(hex::decode(ID).unwrap()),
        signature: [7; 64],
    };
    assert_eq!(answer.encode(), bytes(&v, "signature_cbor"));
    assert_eq!(
        SolSignature::decode(&bytes(&v, "signature_cbor")).unwrap(),
        answer
    );
    let from: Pubkey = FROM.parse().unwrap();
    assert_eq!(
        airgap::multi_accounts(
            0x1234_5678,
            &[Held {
                key: from,
                path: Some(PHRASE_PATH.to_vec()),
                name: "Main".into()
            }],
            "TOSS"
        ),
        bytes(&v, "multi_accounts_cbor")
    );
}

#[test]
fn the_request_is_described_and_signed_by_the_account_its_path_names() {
    let v = vectors();
    let r = SignRequest::decode(&bytes(&v, "sign_request_cbor")).unwrap();
    let from: Pubkey = FROM.parse().unwrap();
    let other = Pubkey::new_unique();
    let held = |key, path: Option<&[(u32, bool)]>| Held {
        key,
        path: path.map(<[_]>::to_vec),
        name: String::new(),
    };
    let accounts = [held(other, None), held(from, Some(&PHRASE_PATH))];
    assert_eq!(r.account(&accounts, 0x1234_5678), Ok(from));
    assert_eq!(
        r.account(&accounts, 7),
        Err(airgap::AirgapError::OtherWallet(0x1234_5678))
    );
    assert!(
        matches!(r.account(&accounts[..1], 0x1234_5678), Err(airgap::AirgapError::NoSuchAccount(p)) if p == "m/44'/501'/0'/0'")
    );
    let d = airgap::describe(&r, &from, toss_core::config::Cluster::Devnet, None).unwrap();
    assert_eq!(d.steps.len(), 1);
    assert_eq!(
        d.steps[0].text,
        format!("sends 0.0015 SOL from {FROM} to mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN")
    );
    assert!(!d.unexplained);
    assert_eq!(
        d.fee_text.as_deref(),
        Some(format!("0.000005 SOL paid by {FROM}").as_str())
    );
    assert!(matches!(
        airgap::describe(&r, &other, toss_core::config::Cluster::Devnet, None),
        Err(airgap::AirgapError::NotASigner(_))
    ));
    // The signature is the key's over the message bytes, and the answer
    // echoes the request's id.
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let answer = airgap::sign(&r, &key);
    assert_eq!(answer.request_id, r.request_id);
    key.verifying_key()
        .verify_strict(
            &r.sign_data,
            &ed25519_dalek::Signature::from_bytes(&answer.signature),
        )
        .unwrap();
}
