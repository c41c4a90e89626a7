//! Property tests of the wire format: round trips, and no panic on any input.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use proptest::prelude::*;
use solana_program::pubkey::Pubkey;
use toss_program::intent::{
    DurableNonce, Intent, MAGIC, MAX_MEMO_LEN, MAX_VALIDITY_SECONDS, SignedIntent, VERSION,
};

fn key() -> impl Strategy<Value = Pubkey> {
    any::<[u8; 32]>().prop_map(Pubkey::new_from_array)
}

prop_compose! {
    fn valid_intent()(
        cluster in any::<[u8; 8]>(),
        program_id in key(),
        payer in key(),
        payee in key(),
        mint in proptest::option::of(key()),
        amount in 1u64..,
        reference in proptest::option::of(key()),
        memo in proptest::option::of(proptest::string::string_regex(".{1,16}").unwrap()),
        nonce in any::<u64>(),
        created_at in 0u32..u32::MAX - MAX_VALIDITY_SECONDS,
        validity in 1u32..=MAX_VALIDITY_SECONDS,
        durable in proptest::option::of((key(), any::<[u8; 32]>())),
    ) -> Intent {
        Intent {
            cluster, program_id, payer, payee, mint, amount, reference,
            memo: memo.filter(|m| m.len() <= MAX_MEMO_LEN),
            nonce, created_at, expires_at: created_at + validity,
            durable_nonce: durable.map(|(account, value)| DurableNonce { account, value }),
        }
    }
}

proptest! {
    #[test]
    fn encode_then_decode_is_identity(intent in valid_intent(), sig in any::<[u8; 32]>()) {
        prop_assume!(intent.payer != intent.payee);
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(&sig);
        let signed = SignedIntent { intent, signature };
        let bytes = signed.to_bytes().unwrap();
        prop_assert_eq!(SignedIntent::from_bytes(&bytes).unwrap(), signed);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = SignedIntent::from_bytes(&bytes);
        let _ = Intent::decode(&bytes);
    }

    #[test]
    fn random_tails_after_a_valid_header_never_panic(
        flags in any::<u8>(),
        tail in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[VERSION, flags]);
        bytes.extend_from_slice(&tail);
        let _ = SignedIntent::from_bytes(&bytes);
        let _ = Intent::decode(&bytes);
    }

    #[test]
    fn mutated_intents_never_panic_and_never_decode_to_the_original(
        intent in valid_intent(),
        at in any::<prop::sample::Index>(),
        xor in 1u8..,
    ) {
        prop_assume!(intent.payer != intent.payee);
        let signed = SignedIntent { intent, signature: [7; 64] };
        let mut bytes = signed.to_bytes().unwrap();
        let i = at.index(bytes.len());
        bytes[i] ^= xor;
        if let Ok(other) = SignedIntent::from_bytes(&bytes) {
            prop_assert_ne!(other, signed);
        }
    }
}
