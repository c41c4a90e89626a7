//! The sealed payment (docs/noise.md, "Sealed payments") against
//! docs/vectors/sealed-v1.json, written by an independent Python
//! implementation of Noise N (docs/vectors/gen_sealed_vectors.py, itself
//! checked against the cacophony vectors): the till opens every valid
//! vector to its payment and refuses every invalid one with the named
//! error.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use serde_json::Value;
use toss_core::noise::StaticKey;
use toss_core::sealed::{self, SealedError};
use zeroize::Zeroizing;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/vectors/sealed-v1.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn bytes(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(v[field].as_str().unwrap()).unwrap()
}

fn key32(v: &Value, field: &str) -> [u8; 32] {
    bytes(v, field).try_into().unwrap()
}

fn till(v: &Value) -> StaticKey {
    StaticKey::from_secret(Zeroizing::new(key32(v, "till_secret")))
}

#[test]
fn the_till_opens_every_valid_vector() {
    let all = vectors();
    let valid = all["valid"].as_array().unwrap();
    assert!(valid.len() >= 3);
    for v in valid {
        let till = till(v);
        assert_eq!(till.public(), key32(v, "till_public"), "{}", v["name"]);
        let code = bytes(v, "sealed");
        assert!(sealed::is_sealed(&code));
        assert_eq!(code.len(), bytes(v, "payload").len() + sealed::OVERHEAD);
        assert_eq!(
            sealed::open(&code, &till, &key32(v, "reference")).unwrap(),
            bytes(v, "payload"),
            "{}",
            v["name"]
        );
    }
}

#[test]
fn every_invalid_vector_is_refused_with_its_error() {
    let all = vectors();
    let invalid = all["invalid"].as_array().unwrap();
    assert!(invalid.len() >= 6);
    for v in invalid {
        let got = sealed::open(&bytes(v, "sealed"), &till(v), &key32(v, "reference")).unwrap_err();
        let name = match got {
            SealedError::NotSealed => "NotSealed",
            SealedError::Version(_) => "Version",
            SealedError::Length(_) => "Length",
            SealedError::NotForThisSale => "NotForThisSale",
            other => panic!("{}: {other}", v["name"]),
        };
        assert_eq!(name, v["error"].as_str().unwrap(), "{}", v["name"]);
    }
}
