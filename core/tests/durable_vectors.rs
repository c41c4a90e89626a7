//! Known-answer tests for durable payments: docs/vectors/durable-v1.json is
//! written by `docs/vectors/gen_intent_vectors.py`, an independent Python
//! implementation of docs/intent.md ("Durable payment": the settlement message
//! byte for byte, compiled without Solana's SDK). The wallet must rebuild the
//! same message, sign it to the same transaction signature, read the same wire
//! form, and refuse the invalid vectors with the errors they name.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::str::FromStr;

use ed25519_dalek::SigningKey;
use serde_json::Value;
use solana_program::pubkey::Pubkey;
use toss_core::intent::durable::{self, DurableError};
use toss_core::intent::{
    IntentError, Limit, MemoryLedger, Request, RiskLimits, SignedIntent, Verifier, VerifyError,
    verify_signature,
};

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/vectors/durable-v1.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} missing in {}", v["name"]))
}

fn unhex(v: &Value, k: &str) -> Vec<u8> {
    hex::decode(text(v, k)).unwrap()
}

fn key(v: &Value, k: &str) -> Pubkey {
    Pubkey::from_str(text(v, k)).unwrap()
}

fn seed(v: &Value) -> SigningKey {
    SigningKey::from_bytes(&unhex(v, "signer_seed").try_into().unwrap())
}

/// The payee's view for a vector: its cluster, program and payee, the
/// default limits plus USDC's for the vectors' USDC mint.
fn verifier(signed: &SignedIntent) -> Verifier {
    let i = &signed.intent;
    let mut limits = RiskLimits::default();
    if let Some(mint) = i.mint {
        limits.per_mint.insert(
            Some(mint),
            Limit {
                min_single: 10_000,
                max_single: 200_000_000,
                max_unsettled_per_payer: 1_000_000_000,
                max_unsettled_total: 5_000_000_000,
            },
        );
    }
    Verifier {
        cluster: i.cluster,
        program_id: i.program_id,
        payee: i.payee,
        limits,
    }
}

#[test]
fn the_vectors_decode_to_their_fields() {
    for v in vectors()["valid"].as_array().unwrap() {
        let name = &v["name"];
        let f = &v["fields"];
        let signed = SignedIntent::from_bytes(&unhex(v, "signed_intent")).unwrap();
        let i = &signed.intent;
        assert_eq!(hex::encode(i.cluster), text(f, "cluster"), "{name}");
        assert_eq!(i.program_id, key(f, "program_id"), "{name}");
        assert_eq!(i.payer, key(f, "payer"), "{name}");
        assert_eq!(i.payee, key(f, "payee"), "{name}");
        assert_eq!(i.mint, f["mint"].as_str().map(|_| key(f, "mint")), "{name}");
        assert_eq!(
            i.reference,
            f["reference"].as_str().map(|_| key(f, "reference")),
            "{name}"
        );
        assert_eq!(i.memo.as_deref(), f["memo"].as_str(), "{name}");
        assert_eq!(Some(i.amount), f["amount"].as_u64(), "{name}");
        assert_eq!(Some(i.nonce), f["nonce"].as_u64(), "{name}");
        assert_eq!(Some(u64::from(i.created_at)), f["created_at"].as_u64());
        assert_eq!(Some(u64::from(i.expires_at)), f["expires_at"].as_u64());
        let nonce = i.durable_nonce.expect("every vector is durable");
        assert_eq!(nonce.account, key(&f["durable_nonce"], "account"), "{name}");
        assert_eq!(
            hex::encode(nonce.value),
            text(&f["durable_nonce"], "value"),
            "{name}"
        );
        assert_eq!(hex::encode(signed.id().unwrap()), text(v, "id"), "{name}");
        verify_signature(&signed).unwrap();
    }
}

#[test]
fn the_settlement_message_is_the_independent_implementations_byte_for_byte() {
    for v in vectors()["valid"].as_array().unwrap() {
        let name = &v["name"];
        let signed = SignedIntent::from_bytes(&unhex(v, "signed_intent")).unwrap();
        let sig = durable::sign(&signed, &seed(v)).unwrap();
        assert_eq!(hex::encode(sig), text(v, "transaction_signature"), "{name}");
        let tx = durable::transaction(&signed, &sig).unwrap();
        let m = &tx.message;
        // Where the two differ, the parts say where to look first.
        let header = [
            m.header.num_required_signatures,
            m.header.num_readonly_signed_accounts,
            m.header.num_readonly_unsigned_accounts,
        ];
        assert_eq!(hex::encode(header), text(v, "header"), "{name}");
        let keys: Vec<String> = m.account_keys.iter().map(ToString::to_string).collect();
        let expected: Vec<&str> = v["account_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert_eq!(keys, expected, "{name}");
        assert_eq!(hex::encode(m.serialize()), text(v, "message"), "{name}");
        assert_eq!(tx.message_data(), m.serialize(), "{name}");
        assert_eq!(
            hex::encode(bincode::serialize(&tx).unwrap()),
            text(v, "transaction"),
            "{name}"
        );
        tx.verify().unwrap();

        let i = &signed.intent;
        let record = toss_program::state::record_address(&i.program_id, &i.payer, i.nonce).0;
        assert_eq!(record, key(v, "settlement_record"), "{name}");
        let atas = i.mint.map(|mint| {
            (
                toss_core::address::associated_token_account(&i.payer, &mint).to_string(),
                toss_core::address::associated_token_account(&i.payee, &mint).to_string(),
            )
        });
        let named = v["payer_token_account"]
            .as_str()
            .map(|payer| (payer.to_owned(), text(v, "payee_token_account").to_owned()));
        assert_eq!(atas, named, "{name}");
    }
}

#[test]
fn the_wire_form_is_signed_intent_then_transaction_signature() {
    for v in vectors()["valid"].as_array().unwrap() {
        let name = &v["name"];
        let wire = unhex(v, "durable_payment");
        assert_eq!(Some(wire.len() as u64), v["durable_payment_len"].as_u64());
        let (signed, sig) = durable::split(&wire).unwrap();
        assert_eq!(
            signed.to_bytes().unwrap(),
            unhex(v, "signed_intent"),
            "{name}"
        );
        let sig = sig.expect("a durable intent carries its transaction signature");
        assert_eq!(sig.to_vec(), unhex(v, "transaction_signature"), "{name}");
        assert_eq!(durable::to_bytes(&signed, &sig).unwrap(), wire, "{name}");

        // And the payee takes it.
        let i = &signed.intent;
        let request = Request {
            amount: i.amount,
            mint: i.mint,
        };
        let accepted = verifier(&signed)
            .verify(
                &wire,
                Some(request),
                i.created_at + 60,
                &MemoryLedger::default(),
            )
            .unwrap();
        assert_eq!(accepted.tx_signature, Some(sig), "{name}");
    }
}

#[test]
fn the_invalid_vectors_are_refused_with_the_errors_they_name() {
    let all = vectors();
    let first = &all["valid"][0];
    let signed = SignedIntent::from_bytes(&unhex(first, "signed_intent")).unwrap();
    let payee = verifier(&signed);
    let now = signed.intent.created_at + 60;
    for v in all["invalid"].as_array().unwrap() {
        let name = &v["name"];
        let bytes = unhex(v, "bytes");
        let err = match durable::split(&bytes) {
            Err(e) => e,
            Ok((signed, Some(sig))) => durable::transaction(&signed, &sig).unwrap_err(),
            Ok((_, None)) => panic!("{name}: taken as an escrow intent"),
        };
        let expected = text(v, "error");
        let named = match &err {
            DurableError::BadTransactionSignature => "BadTransactionSignature",
            DurableError::MissingTransactionSignature => "MissingTransactionSignature",
            DurableError::Intent(IntentError::TrailingBytes(_)) => "TrailingBytes",
            other => panic!("{name}: unexpected {other:?}"),
        };
        assert_eq!(named, expected, "{name}");

        // The payee's verifier reports the same refusal.
        let refused = payee
            .verify(&bytes, None, now, &MemoryLedger::default())
            .unwrap_err();
        let through_verifier = match err {
            DurableError::Intent(e) => VerifyError::Malformed(e),
            other => VerifyError::Durable(other),
        };
        assert_eq!(refused, through_verifier, "{name}");
    }
}
