use std::str::FromStr;

use super::*;

fn vectors() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/vectors/intent-v1.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn payer_key() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn pubkey(k: &SigningKey) -> Pubkey {
    Pubkey::new_from_array(k.verifying_key().to_bytes())
}

const NOW: u32 = 1_790_000_100;

/// A SOL intent of 1 SOL from the vectors' payer to a fresh payee.
fn fixture() -> (Verifier, SignedIntent) {
    let payee = pubkey(&SigningKey::from_bytes(&[2; 32]));
    let program_id = pubkey(&SigningKey::from_bytes(&[3; 32]));
    let intent = Intent {
        cluster: cluster::DEVNET,
        program_id,
        payer: pubkey(&payer_key()),
        payee,
        mint: None,
        amount: 1_000_000_000,
        reference: None,
        memo: None,
        nonce: 1,
        created_at: 1_790_000_000,
        expires_at: 1_790_086_400,
        durable_nonce: None,
    };
    let verifier = Verifier {
        cluster: cluster::DEVNET,
        program_id,
        payee,
        limits: RiskLimits::default(),
    };
    (verifier, sign(intent, &payer_key()).unwrap())
}

fn wire(s: &SignedIntent) -> Vec<u8> {
    s.to_bytes().unwrap()
}

#[test]
fn signing_reproduces_the_vectors_and_they_verify() {
    let all = vectors();
    for v in all["valid"].as_array().unwrap() {
        let key = SigningKey::from_bytes(
            &unhex(v["signer_seed"].as_str().unwrap())
                .try_into()
                .unwrap(),
        );
        let body = unhex(v["body"].as_str().unwrap());
        let intent = Intent::decode(&body).unwrap();
        let signed = sign(intent, &key).unwrap();
        assert_eq!(
            signed.signature.to_vec(),
            unhex(v["signature"].as_str().unwrap()),
            "{}",
            v["name"]
        );
        verify_signature(&signed).unwrap();
    }
}

#[test]
fn only_the_payer_can_sign() {
    let (_, signed) = fixture();
    let other = SigningKey::from_bytes(&[9; 32]);
    let err = sign(signed.intent, &other).unwrap_err();
    assert!(matches!(err, SignError::NotThePayer { .. }), "{err}");
}

#[test]
fn a_good_intent_is_accepted_once() {
    let (v, signed) = fixture();
    let mut ledger = MemoryLedger::default();
    let accepted = v.verify(&wire(&signed), None, NOW, &ledger).unwrap();
    assert_eq!(accepted.id, signed.id().unwrap());
    ledger.record(&accepted);
    assert_eq!(
        v.verify(&wire(&signed), None, NOW, &ledger),
        Err(VerifyError::AlreadySeen)
    );
    // Another intent with the same nonce (another amount, so another id):
    // only one of the two could ever settle.
    let mut again = signed.intent.clone();
    again.amount += 1;
    let again = sign(again, &payer_key()).unwrap();
    assert_ne!(again.id().unwrap(), accepted.id);
    assert_eq!(
        v.verify(&wire(&again), None, NOW, &ledger),
        Err(VerifyError::NonceReused(signed.intent.nonce))
    );
}

#[test]
fn any_tampered_byte_is_refused() {
    let (v, signed) = fixture();
    let good = wire(&signed);
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        let err = v
            .verify(&bad, None, NOW, &MemoryLedger::default())
            .unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::BadSignature(_) | VerifyError::Malformed(_)
            ),
            "byte {i}: {err:?}"
        );
    }
}

#[test]
fn a_signature_by_someone_else_is_refused() {
    let (v, signed) = fixture();
    let forged = SigningKey::from_bytes(&[7; 32]).sign(&signed.intent.encode().unwrap());
    let forged = SignedIntent {
        signature: forged.to_bytes(),
        ..signed
    };
    assert!(matches!(
        v.verify(&wire(&forged), None, NOW, &MemoryLedger::default()),
        Err(VerifyError::BadSignature(_))
    ));
}

#[test]
fn each_rule_has_its_own_error() {
    let (v, signed) = fixture();
    let ledger = MemoryLedger::default();
    let resign = |f: &dyn Fn(&mut Intent)| {
        let mut i = signed.intent.clone();
        f(&mut i);
        wire(&sign(i, &payer_key()).unwrap())
    };
    let check = |bytes: &[u8], request, now| v.verify(bytes, request, now, &ledger).unwrap_err();

    let e = check(&resign(&|i| i.cluster = cluster::MAINNET_BETA), None, NOW);
    assert!(matches!(e, VerifyError::WrongCluster { .. }), "{e}");
    let e = check(&resign(&|i| i.program_id = Pubkey::new_unique()), None, NOW);
    assert!(matches!(e, VerifyError::WrongProgram { .. }), "{e}");
    let e = check(
        &resign(&|i| i.payee = pubkey(&SigningKey::from_bytes(&[9; 32]))),
        None,
        NOW,
    );
    assert!(matches!(e, VerifyError::WrongPayee { .. }), "{e}");
    // A token account is never a payee: no wallet could spend what it got.
    let ata = crate::address::associated_token_account(&v.payee, &Pubkey::new_unique());
    let e = check(&resign(&|i| i.payee = ata), None, NOW);
    assert_eq!(e, VerifyError::PayeeNotWallet(ata));

    let good = wire(&signed);
    let usdc = Pubkey::from_str("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v").unwrap();
    let e = check(
        &good,
        Some(Request {
            amount: 1_000_000_000,
            mint: Some(usdc),
        }),
        NOW,
    );
    assert!(matches!(e, VerifyError::WrongMint { .. }), "{e}");
    let e = check(
        &good,
        Some(Request {
            amount: 999,
            mint: None,
        }),
        NOW,
    );
    assert_eq!(
        e,
        VerifyError::WrongAmount {
            expected: 999,
            got: 1_000_000_000
        }
    );

    let e = check(&good, None, 1_790_086_400);
    assert_eq!(
        e,
        VerifyError::Expired {
            expires_at: 1_790_086_400,
            now: 1_790_086_400
        }
    );
    let e = check(&good, None, 1_790_000_000 - CLOCK_SKEW_SECONDS - 1);
    assert!(matches!(e, VerifyError::FromTheFuture { .. }), "{e}");
    let e = check(&good, None, 1_790_086_400 - 3599);
    assert_eq!(
        e,
        VerifyError::ExpiresTooSoon {
            remaining: 3599,
            minimum: 3600
        }
    );

    let e = check(&resign(&|i| i.mint = Some(usdc)), None, NOW);
    assert!(
        matches!(e, VerifyError::NoLimitForMint(ref m) if m == &usdc.to_string()),
        "{e}"
    );
    let e = check(&resign(&|i| i.amount = 2_000_000_001), None, NOW);
    assert!(matches!(e, VerifyError::OverSingleLimit { .. }), "{e}");

    let e = check(&good[..10], None, NOW);
    assert!(
        matches!(e, VerifyError::Malformed(IntentError::TooShort(10))),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "not a valid intent: too short to be an intent: 10 bytes"
    );
}

#[test]
fn within_the_skew_allowance_is_accepted() {
    let (v, signed) = fixture();
    let now = 1_790_000_000 - CLOCK_SKEW_SECONDS;
    assert!(
        v.verify(&wire(&signed), None, now, &MemoryLedger::default())
            .is_ok()
    );
}

#[test]
fn the_per_payer_limit_counts_what_is_unsettled() {
    let (v, signed) = fixture();
    let mut ledger = MemoryLedger::default();
    // Ten 1-SOL intents fill the 10-SOL allowance; the eleventh is refused.
    for nonce in 1..=10 {
        let i = Intent {
            nonce,
            ..signed.intent.clone()
        };
        let a = v
            .verify(&wire(&sign(i, &payer_key()).unwrap()), None, NOW, &ledger)
            .unwrap();
        ledger.record(&a);
    }
    let i = Intent {
        nonce: 11,
        ..signed.intent.clone()
    };
    let e = v
        .verify(&wire(&sign(i, &payer_key()).unwrap()), None, NOW, &ledger)
        .unwrap_err();
    assert_eq!(
        e,
        VerifyError::OverPayerLimit {
            unsettled: 10_000_000_000,
            amount: 1_000_000_000,
            limit: 10_000_000_000
        }
    );
}

#[test]
fn the_tills_limit_counts_every_payer_together() {
    let (v, signed) = fixture();
    let mut ledger = MemoryLedger::default();
    // Five payers each owe 10 SOL, within their own limits: 50 SOL in all,
    // the till's limit; a sixth payer's first SOL is refused.
    for who in 11..=15u8 {
        let key = SigningKey::from_bytes(&[who; 32]);
        for nonce in 1..=5 {
            let i = Intent {
                payer: pubkey(&key),
                nonce,
                amount: 2_000_000_000,
                ..signed.intent.clone()
            };
            let a = v
                .verify(&wire(&sign(i, &key).unwrap()), None, NOW, &ledger)
                .unwrap();
            ledger.record(&a);
        }
    }
    let sixth = SigningKey::from_bytes(&[16; 32]);
    let i = Intent {
        payer: pubkey(&sixth),
        ..signed.intent.clone()
    };
    let e = v
        .verify(&wire(&sign(i, &sixth).unwrap()), None, NOW, &ledger)
        .unwrap_err();
    assert_eq!(
        e,
        VerifyError::OverTillLimit {
            total: 50_000_000_000,
            amount: 1_000_000_000,
            limit: 50_000_000_000
        }
    );
    assert!(e.to_string().contains("settle what it holds first"), "{e}");
}

#[test]
fn a_payer_key_with_a_small_order_component_is_refused_though_verify_strict_takes_it() {
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
    use curve25519_dalek::scalar::Scalar;
    use sha2::Digest;
    let (_, signed) = fixture();
    let a = Scalar::from_bytes_mod_order([7; 32]);
    let key = (a * ED25519_BASEPOINT_POINT + EIGHT_TORSION[1]).compress();
    let mut intent = signed.intent;
    intent.payer = Pubkey::new_from_array(key.to_bytes());
    let body = intent.encode().unwrap();
    // A signature verify_strict accepts: its k kills the order-8 part.
    let signature = (0u64..)
        .find_map(|n| {
            let r =
                Scalar::from_bytes_mod_order_wide(&sha2::Sha512::digest(n.to_le_bytes()).into());
            let big_r = (r * ED25519_BASEPOINT_POINT).compress();
            let mut h = sha2::Sha512::new();
            h.update(big_r.as_bytes());
            h.update(key.as_bytes());
            h.update(&body);
            let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
            k.as_bytes()[0]
                .is_multiple_of(8)
                .then(|| [*big_r.as_bytes(), *(r + k * a).as_bytes()].concat())
        })
        .unwrap();
    let signature: [u8; 64] = signature.try_into().unwrap();
    let vk = VerifyingKey::from_bytes(&key.to_bytes()).unwrap();
    assert!(
        vk.verify_strict(&body, &Signature::from_bytes(&signature))
            .is_ok()
    );
    let torsion = SignedIntent { intent, signature };
    assert!(matches!(
        verify_signature(&torsion),
        Err(VerifyError::BadSignature(_))
    ));
}
