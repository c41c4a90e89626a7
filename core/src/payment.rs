//! The payer's first step, offline: an order (who, how much) becomes a
//! signed intent, kept in the wallet's store, ready to hand over. Shared by
//! `toss intent create` and the app's pay screen.

use ed25519_dalek::SigningKey;
use solana_program::pubkey::Pubkey;

use crate::config::Config;
use crate::intent::{self, Intent, IntentError, SignError, SignedIntent, durable};
use crate::store::{Store, StoreError};

/// What the payer asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The wallet to be paid.
    pub payee: Pubkey,
    /// SPL token mint; SOL when `None`.
    pub mint: Option<Pubkey>,
    /// In the currency's smallest unit.
    pub amount: u64,
    /// Solana Pay reference from the payee's request, if any.
    pub reference: Option<Pubkey>,
    /// Text for the payee, at most 64 bytes of UTF-8.
    pub memo: Option<String>,
    /// Seconds the intent stays valid.
    pub expires_in: u32,
    /// A random nonce when `None`.
    pub nonce: Option<u64>,
    /// Settle through a durable nonce from the wallet's pool (needs a store).
    pub durable: bool,
}

/// Where intents settle: the cluster (genesis prefix) and the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    /// First 8 bytes of the cluster's genesis hash.
    pub cluster: [u8; 8],
    /// The TOSS program deployment intents name.
    pub program_id: Pubkey,
}

/// What the settings lack for intents to name where they settle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// No `program_id` (`TOSS_PROGRAM_ID`) is configured.
    #[error(
        "TOSS_PROGRAM_ID is not set: set the TOSS program in Settings (program_id), the deployment intents settle through"
    )]
    NoProgram,
    /// The cluster has no well-known genesis hash (localnet) and none is configured.
    #[error(
        "on localnet, intents name the cluster by its genesis hash: set TOSS_GENESIS_HASH (solana genesis-hash)"
    )]
    NoCluster,
}

/// The genesis prefix intents on the configured cluster carry: from
/// TOSS_GENESIS_HASH when set, else the cluster's well-known one.
pub fn cluster_prefix(config: &Config) -> Result<[u8; 8], SettingsError> {
    match (config.genesis_hash, config.cluster.genesis_prefix()) {
        (Some(hash), _) => Ok(crate::intent::cluster::from_genesis_hash(&hash.to_bytes())),
        (None, Some(prefix)) => Ok(prefix),
        (None, None) => Err(SettingsError::NoCluster),
    }
}

impl Settlement {
    /// Where this wallet's settings say intents settle.
    pub fn from_config(config: &Config) -> Result<Self, SettingsError> {
        Ok(Settlement {
            cluster: cluster_prefix(config)?,
            program_id: config
                .program_id
                .map(Into::into)
                .ok_or(SettingsError::NoProgram)?,
        })
    }
}

/// Why an order could not be signed and kept.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// Now plus `expires_in` overflows the u32 seconds intents count in.
    #[error("the expiry is too far in the future")]
    Expiry,
    /// The intent would expire sooner than any TOSS payee accepts.
    #[error(
        "an intent valid for {0} s would be refused: a TOSS payee needs at least {min} s (an hour) left to settle it",
        min = intent::MIN_REMAINING_SECONDS
    )]
    TooShort(u32),
    /// The payee is off the Ed25519 curve: a token account or program
    /// address, which no wallet owns, so the payment could never be spent.
    #[error(
        "{0} is not a wallet address (a token account or program address): pay the wallet that owns it"
    )]
    PayeeNotWallet(Pubkey),
    /// A durable order came without a store to take a pool nonce from.
    #[error("a durable intent takes a nonce from the wallet's pool: pay from a wallet account")]
    DurableNeedsStore,
    /// The OS random source failed while drawing a nonce.
    #[error("no randomness for a nonce: {0}")]
    Random(String),
    /// Signing the intent failed.
    #[error("{0}")]
    Sign(#[from] SignError),
    /// The order makes an invalid intent (zero amount, self-payment, validity...).
    #[error("{0}")]
    Intent(#[from] IntentError),
    /// Signing the durable settlement transaction failed.
    #[error("{0}")]
    Durable(#[from] durable::DurableError),
    /// No nonce could be taken from the pool.
    #[error("{0}")]
    Nonce(#[from] crate::nonce::NonceError),
    /// Keeping the intent in the store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The escrow, as last read, cannot pay this after what the wallet has
    /// already promised: a payee would hold an intent that bounces.
    #[error(
        "this payment ({amount} base units) is more than the escrow can still pay offline ({spendable} base units as last read, after the payments already signed); deposit more, or read the escrow online again"
    )]
    BeyondSpendable {
        /// The order's amount, base units.
        amount: u64,
        /// What the escrow can still pay offline, base units.
        spendable: u64,
    },
}

/// A signed intent, as kept and as it travels.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The intent with the payer's signature.
    pub signed: SignedIntent,
    /// Its intent id (SHA-256 of body and signature).
    pub id: [u8; 32],
    /// What the payee receives: the intent, and for a durable one the
    /// payer's transaction signature after it.
    pub wire: Vec<u8>,
}

/// An escrow payment the escrow, as last read, can no longer cover is not
/// signed. With no reading yet nothing is known, and the payee's own checks
/// and the settlement decide.
fn refuse_beyond_spendable(
    store: &Store,
    payer: &Pubkey,
    order: &Order,
    settlement: &Settlement,
) -> Result<(), PaymentError> {
    let mint = order.mint.as_ref();
    if let Some(snapshot) = store.escrow_snapshot(payer, mint, &settlement.program_id)? {
        let spendable = crate::escrow::spendable(&snapshot, store.promised(payer, mint)?);
        if order.amount > spendable {
            return Err(PaymentError::BeyondSpendable {
                amount: order.amount,
                spendable,
            });
        }
    }
    Ok(())
}

/// Signs `order` with `key` (the gate already passed) at `now`, and keeps
/// it in `store` when there is one (a wallet account; a bare keypair file
/// has no wallet to keep it in). An escrow payment beyond what the escrow
/// can still pay offline, as last read, is refused before it is signed.
pub fn sign(
    order: &Order,
    key: &SigningKey,
    settlement: Settlement,
    store: Option<&mut Store>,
    now: u32,
) -> Result<Signed, PaymentError> {
    let payer = Pubkey::new_from_array(key.verifying_key().to_bytes());
    let nonce = match order.nonce {
        Some(n) => n,
        None => {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).map_err(|e| PaymentError::Random(e.to_string()))?;
            u64::from_le_bytes(bytes)
        }
    };
    if order.expires_in < intent::MIN_REMAINING_SECONDS {
        return Err(PaymentError::TooShort(order.expires_in));
    }
    if !crate::request::on_curve(&order.payee) {
        return Err(PaymentError::PayeeNotWallet(order.payee));
    }
    let mut intent = Intent {
        cluster: settlement.cluster,
        program_id: settlement.program_id,
        payer,
        payee: order.payee,
        mint: order.mint,
        amount: order.amount,
        reference: order.reference,
        memo: order.memo.clone(),
        nonce,
        created_at: now,
        expires_at: now
            .checked_add(order.expires_in)
            .ok_or(PaymentError::Expiry)?,
        durable_nonce: None,
    };
    let (signed, tx_signature) = match (order.durable, store) {
        (true, None) => return Err(PaymentError::DurableNeedsStore),
        (true, Some(store)) => {
            intent.durable_nonce = Some(crate::nonce::take(
                store,
                &payer,
                &intent.cluster,
                i64::from(now),
            )?);
            let signed = intent::sign(intent, key)?;
            let tx_signature = durable::sign(&signed, key)?;
            keep(store, &signed, Some(&tx_signature), now)?;
            (signed, Some(tx_signature))
        }
        (false, store) => {
            if let Some(store) = &store {
                refuse_beyond_spendable(store, &payer, order, &settlement)?;
            }
            let signed = intent::sign(intent, key)?;
            if let Some(store) = store {
                keep(store, &signed, None, now)?;
            }
            (signed, None)
        }
    };
    let wire = match &tx_signature {
        Some(sig) => durable::to_bytes(&signed, sig)?,
        None => signed.to_bytes()?,
    };
    Ok(Signed {
        id: signed.id()?,
        signed,
        wire,
    })
}

fn keep(
    store: &mut Store,
    signed: &SignedIntent,
    tx_signature: Option<&[u8; 64]>,
    now: u32,
) -> Result<(), StoreError> {
    store.record_sent(signed, tx_signature, i64::from(now))?;
    store.bump(crate::store::Counter::IntentsCreated, 1)
}
