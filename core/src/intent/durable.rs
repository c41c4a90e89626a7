//! Durable-nonce intents (the TOSS SDK's settlement path).
//!
//! On this path the payer pays from their own account, not an escrow, so the
//! payer must sign, offline, the whole settlement transaction: the three
//! instructions of `toss_program::instruction::settle_durable`, the payer as
//! fee payer, and the intent's nonce value as blockhash. That message is a
//! pure function of the intent, so the payee rebuilds it and only the
//! payer's 64-byte transaction signature travels with the intent:
//!
//! ```text
//! durable payment = signed intent || transaction signature (64 bytes)
//! ```
//!
//! (docs/intent.md). The flag bit in the intent says which form to expect,
//! so the two forms cannot be confused.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use solana_program::hash::Hash;
use solana_program::pubkey::Pubkey;
use solana_transaction::Transaction;
use toss_program::instruction::settle_durable;
use toss_program::intent::{IntentError, SignedIntent};

use crate::address::associated_token_account;

/// Length of the payer's transaction signature appended to a durable intent.
pub const TX_SIGNATURE_LEN: usize = 64;

/// Why a durable payment cannot be split, signed or turned into its transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurableError {
    /// The intent bytes themselves are invalid.
    #[error("not a valid intent: {0}")]
    Intent(#[from] IntentError),
    /// A durable-path operation was given an intent without a durable nonce.
    #[error("the intent names no durable nonce")]
    NotDurable,
    /// A durable intent arrived without the 64-byte transaction signature after it.
    #[error(
        "the durable-nonce intent came without the payer's transaction signature (64 bytes after the intent)"
    )]
    MissingTransactionSignature,
    /// The transaction signature is not the payer's over the rebuilt settlement transaction.
    #[error(
        "the payer's transaction signature does not verify: the durable settlement would be refused"
    )]
    BadTransactionSignature,
    /// Signing was asked of a key that is not the intent's payer.
    #[error("this key ({key}) is not the intent's payer ({payer})")]
    NotThePayer {
        /// The public key of the signing key that was offered.
        key: Pubkey,
        /// The intent's payer, who alone may sign its settlement.
        payer: Pubkey,
    },
}

/// Splits a payment's wire bytes into the signed intent and, for a durable
/// intent, the payer's transaction signature.
pub fn split(wire: &[u8]) -> Result<(SignedIntent, Option<[u8; 64]>), DurableError> {
    match SignedIntent::from_bytes(wire) {
        Ok(s) if s.intent.durable_nonce.is_some() => Err(DurableError::MissingTransactionSignature),
        Ok(s) => Ok((s, None)),
        Err(IntentError::TrailingBytes(n)) if n >= TX_SIGNATURE_LEN => {
            let (intent, tail) = wire.split_at(wire.len() - TX_SIGNATURE_LEN);
            let signed = SignedIntent::from_bytes(intent)?;
            if signed.intent.durable_nonce.is_none() {
                return Err(IntentError::TrailingBytes(n).into());
            }
            let mut sig = [0u8; 64];
            sig.copy_from_slice(tail);
            Ok((signed, Some(sig)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The unsigned settlement transaction for a durable intent.
fn unsigned(signed: &SignedIntent) -> Result<Transaction, DurableError> {
    let i = &signed.intent;
    let nonce = i.durable_nonce.ok_or(DurableError::NotDurable)?;
    let tokens = i.mint.map(|mint| {
        (
            associated_token_account(&i.payer, &mint),
            associated_token_account(&i.payee, &mint),
        )
    });
    let ixs =
        settle_durable(&i.program_id, signed, tokens).map_err(|_| DurableError::NotDurable)?;
    let mut tx = Transaction::new_with_payer(&ixs, Some(&i.payer));
    tx.message.recent_blockhash = Hash::new_from_array(nonce.value);
    Ok(tx)
}

/// The payer's signature over the settlement transaction.
pub fn sign(signed: &SignedIntent, key: &SigningKey) -> Result<[u8; 64], DurableError> {
    let signer = Pubkey::new_from_array(key.verifying_key().to_bytes());
    if signer != signed.intent.payer {
        return Err(DurableError::NotThePayer {
            key: signer,
            payer: signed.intent.payer,
        });
    }
    Ok(key.sign(&unsigned(signed)?.message_data()).to_bytes())
}

/// The settlement transaction, ready to submit, once the payer's signature
/// over it has been checked.
pub fn transaction(
    signed: &SignedIntent,
    tx_signature: &[u8; 64],
) -> Result<Transaction, DurableError> {
    let mut tx = unsigned(signed)?;
    let key = VerifyingKey::from_bytes(&signed.intent.payer.to_bytes())
        .map_err(|_| DurableError::BadTransactionSignature)?;
    key.verify_strict(&tx.message_data(), &Signature::from_bytes(tx_signature))
        .map_err(|_| DurableError::BadTransactionSignature)?;
    tx.signatures = vec![solana_signature::Signature::from(*tx_signature)];
    Ok(tx)
}

/// The wire bytes of a durable payment.
pub fn to_bytes(signed: &SignedIntent, tx_signature: &[u8; 64]) -> Result<Vec<u8>, DurableError> {
    let mut wire = signed.to_bytes()?;
    wire.extend_from_slice(tx_signature);
    Ok(wire)
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use toss_program::intent::{DurableNonce, Intent, cluster};

    use super::*;

    fn payer() -> SigningKey {
        SigningKey::from_bytes(&[1; 32])
    }

    fn intent(durable: bool) -> SignedIntent {
        let key = payer();
        let intent = Intent {
            cluster: cluster::DEVNET,
            program_id: Pubkey::new_from_array([3; 32]),
            payer: Pubkey::new_from_array(key.verifying_key().to_bytes()),
            payee: Pubkey::new_from_array([2; 32]),
            mint: None,
            amount: 5,
            reference: None,
            memo: None,
            nonce: 1,
            created_at: 1_790_000_000,
            expires_at: 1_790_086_400,
            durable_nonce: durable.then_some(DurableNonce {
                account: Pubkey::new_from_array([4; 32]),
                value: [9; 32],
            }),
        };
        crate::intent::sign(intent, &key).unwrap()
    }

    #[test]
    fn the_two_wire_forms_cannot_be_confused() {
        let plain = intent(false);
        let durable = intent(true);
        let sig = sign(&durable, &payer()).unwrap();
        let wire = to_bytes(&durable, &sig).unwrap();
        assert_eq!(wire.len(), 199 + 64 + 64, "body + both signatures");
        assert_eq!(split(&wire).unwrap(), (durable.clone(), Some(sig)));
        assert_eq!(
            split(&plain.to_bytes().unwrap()).unwrap(),
            (plain.clone(), None)
        );
        // A durable intent without its transaction signature.
        assert_eq!(
            split(&durable.to_bytes().unwrap()),
            Err(DurableError::MissingTransactionSignature)
        );
        // 64 bytes after an intent that names no durable nonce.
        let mut padded = plain.to_bytes().unwrap();
        padded.extend_from_slice(&[0; 64]);
        assert_eq!(split(&padded), Err(IntentError::TrailingBytes(64).into()));
        // Neither form: a few stray bytes.
        let mut odd = wire.clone();
        odd.push(0);
        assert!(split(&odd).is_err());
    }

    #[test]
    fn only_the_payer_signs_and_only_its_signature_builds_a_transaction() {
        let durable = intent(true);
        let sig = sign(&durable, &payer()).unwrap();
        let tx = transaction(&durable, &sig).unwrap();
        assert_eq!(tx.message.recent_blockhash.to_bytes(), [9; 32]);
        assert_eq!(tx.message.account_keys[0], durable.intent.payer);
        assert_eq!(tx.message.instructions.len(), 3);
        assert!(tx.verify().is_ok());

        let mut forged = sig;
        forged[0] ^= 1;
        assert_eq!(
            transaction(&durable, &forged).unwrap_err(),
            DurableError::BadTransactionSignature
        );
        let other = SigningKey::from_bytes(&[8; 32]);
        assert!(matches!(
            sign(&durable, &other),
            Err(DurableError::NotThePayer { .. })
        ));
        assert_eq!(
            sign(&intent(false), &payer()),
            Err(DurableError::NotDurable)
        );
    }
}
