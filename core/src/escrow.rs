//! The payer's on-chain escrow (the program's `Escrow` account): opening it,
//! moving funds in and out under the withdrawal time lock, and what can
//! still be promised offline.
//!
//! Named `escrow` to keep it apart from `escrow`, the keychain that holds
//! the keys. The amount a payer may still sign for offline is the escrow's
//! balance as last read, less a pending withdrawal, less every intent this
//! wallet signed that has not ended; the snapshot lives in the store, so
//! the figure is there with no network.

use solana_keypair::Keypair;
use solana_program::pubkey::Pubkey;
use solana_signer::Signer;
use toss_program::instruction::{self as ix, Funds};
use toss_program::intent::cluster;
use toss_program::state::{
    EscrowState, MAX_WITHDRAW_DELAY, MIN_WITHDRAW_DELAY, escrow_address, escrow_tokens_address,
};

use crate::address::associated_token_account;
use crate::chain::{Backoff, Chain, SendError, Unreachable, read, send};
use crate::store::{EscrowSnapshot, Store, StoreError};

/// The time locks, in seconds, the program accepts for withdrawals.
pub const WITHDRAW_DELAY: std::ops::RangeInclusive<u32> = MIN_WITHDRAW_DELAY..=MAX_WITHDRAW_DELAY;

/// Why an escrow operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EscrowError {
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The escrow transaction did not go through.
    #[error(transparent)]
    Send(#[from] SendError),
    /// A read could not reach the cluster through every retry.
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
    /// The cluster refused a read; carries its words.
    #[error("the cluster refused a read: {0}")]
    Read(String),
    /// No account exists at the escrow address.
    #[error("no escrow is open for {owner} in {currency}: open one with `toss escrow open`")]
    NotOpen {
        /// The wallet whose escrow was looked for.
        owner: Pubkey,
        /// `SOL`, or the token's mint address.
        currency: String,
    },
    /// The account at the escrow address is not owned by the program or not an escrow.
    #[error("the escrow account {0} is not a TOSS escrow (wrong program id?)")]
    NotAnEscrow(Pubkey),
}

impl EscrowError {
    /// The cluster being out of reach, when that is what this is.
    pub fn unreachable(&self) -> Option<&Unreachable> {
        match self {
            EscrowError::Unreachable(u) => Some(u),
            EscrowError::Send(s) => s.unreachable(),
            _ => None,
        }
    }
}

/// One wallet's escrow for one currency on one deployment.
#[derive(Debug)]
pub struct Escrow<'a, C> {
    /// The cluster the escrow lives on.
    pub chain: &'a C,
    /// Retry policy for network failures.
    pub backoff: Backoff,
    /// The TOSS program deployment that owns the escrow.
    pub program_id: Pubkey,
    /// `None` for SOL.
    pub mint: Option<Pubkey>,
}

/// An escrow's state, as shown to its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// The escrow account's address.
    #[serde(serialize_with = "crate::address::serialize_pubkey")]
    pub address: Pubkey,
    /// What was last read from chain (flattened when serialized).
    #[serde(flatten)]
    pub snapshot: EscrowSnapshot,
    /// When the pending withdrawal may be paid out.
    pub unlocks_at: Option<i64>,
    /// Signed offline and not yet ended.
    pub promised: u64,
    /// What may still be signed for offline.
    pub spendable_offline: u64,
}

impl<C: Chain> Escrow<'_, C> {
    fn funds(&self, owner: &Pubkey) -> Funds {
        match self.mint {
            None => Funds::Sol,
            Some(mint) => Funds::Spl {
                mint,
                owner_tokens: associated_token_account(owner, &mint),
            },
        }
    }

    fn address(&self, owner: &Pubkey) -> Pubkey {
        escrow_address(&self.program_id, owner, self.mint.as_ref()).0
    }

    /// Opens the escrow on the cluster the chain answers for, bound to it
    /// by its genesis hash. `withdraw_delay` is the time lock in seconds.
    pub async fn open(&self, owner: &Keypair, withdraw_delay: u32) -> Result<String, EscrowError> {
        let genesis = read(self.backoff, || self.chain.genesis_hash())
            .await?
            .map_err(EscrowError::Read)?;
        let open = ix::open_escrow(
            &self.program_id,
            &owner.pubkey(),
            self.mint.as_ref(),
            cluster::from_genesis_hash(&genesis.to_bytes()),
            withdraw_delay,
        );
        self.send(owner, open).await
    }

    /// Moves `amount` (lamports or base units) into the escrow; returns the transaction signature.
    pub async fn deposit(&self, owner: &Keypair, amount: u64) -> Result<String, EscrowError> {
        let ix = ix::deposit(
            &self.program_id,
            &owner.pubkey(),
            self.funds(&owner.pubkey()),
            amount,
        );
        self.send(owner, ix).await
    }

    /// Starts the time lock for `amount`; 0 cancels a pending request.
    pub async fn request_withdrawal(
        &self,
        owner: &Keypair,
        amount: u64,
    ) -> Result<String, EscrowError> {
        let ix = ix::request_withdrawal(
            &self.program_id,
            &owner.pubkey(),
            self.mint.as_ref(),
            amount,
        );
        self.send(owner, ix).await
    }

    /// Pays out the pending withdrawal once its time lock has passed.
    pub async fn withdraw(&self, owner: &Keypair) -> Result<String, EscrowError> {
        let ix = ix::withdraw(
            &self.program_id,
            &owner.pubkey(),
            self.funds(&owner.pubkey()),
        );
        self.send(owner, ix).await
    }

    async fn send(
        &self,
        owner: &Keypair,
        ix: solana_program::instruction::Instruction,
    ) -> Result<String, EscrowError> {
        Ok(send(
            self.chain,
            self.backoff,
            &[ix],
            &[owner],
            Some(&self.program_id),
        )
        .await?)
    }

    /// Reads the escrow from chain and keeps the snapshot for offline use.
    pub async fn refresh(
        &self,
        store: &mut Store,
        owner: &Pubkey,
        now: i64,
    ) -> Result<Status, EscrowError> {
        let address = self.address(owner);
        let account_at = |key| async move {
            read(self.backoff, || self.chain.account(key))
                .await?
                .map_err(EscrowError::Read)
        };
        let account = account_at(address)
            .await?
            .ok_or_else(|| EscrowError::NotOpen {
                owner: *owner,
                currency: self.currency(),
            })?;
        if account.owner != self.program_id {
            return Err(EscrowError::NotAnEscrow(address));
        }
        let escrow =
            EscrowState::unpack(&account.data).map_err(|_| EscrowError::NotAnEscrow(address))?;
        let balance = match self.mint {
            None => {
                let floor = read(self.backoff, || self.chain.rent_exemption(EscrowState::LEN))
                    .await?
                    .map_err(EscrowError::Read)?;
                account.lamports.saturating_sub(floor)
            }
            Some(_) => {
                let tokens = escrow_tokens_address(&self.program_id, &address).0;
                account_at(tokens)
                    .await?
                    .map_or(0, |a| token_amount(&a.data))
            }
        };
        let snapshot = EscrowSnapshot {
            balance,
            pending_withdrawal: escrow.pending_withdrawal,
            requested_at: escrow.requested_at,
            withdraw_delay: escrow.withdraw_delay,
            at: now,
        };
        store.put_escrow_snapshot(owner, self.mint.as_ref(), &self.program_id, &snapshot)?;
        self.status(store, owner)?
            .ok_or(EscrowError::NotAnEscrow(address))
    }

    /// The escrow as last read, with what may still be signed for offline;
    /// `None` if it was never read.
    pub fn status(&self, store: &Store, owner: &Pubkey) -> Result<Option<Status>, StoreError> {
        let Some(snapshot) = store.escrow_snapshot(owner, self.mint.as_ref(), &self.program_id)?
        else {
            return Ok(None);
        };
        let promised = store.promised(owner, self.mint.as_ref())?;
        Ok(Some(Status {
            address: self.address(owner),
            snapshot,
            unlocks_at: (snapshot.pending_withdrawal > 0)
                .then(|| snapshot.requested_at + i64::from(snapshot.withdraw_delay)),
            promised,
            spendable_offline: spendable(&snapshot, promised),
        }))
    }

    fn currency(&self) -> String {
        self.mint
            .map_or_else(|| "SOL".to_owned(), |m| m.to_string())
    }
}

/// What may still be signed for offline from an escrow as `snapshot` last
/// read it, with `promised` already signed and not yet ended: its balance
/// less a pending withdrawal and the promises.
pub fn spendable(snapshot: &EscrowSnapshot, promised: u64) -> u64 {
    snapshot
        .balance
        .saturating_sub(snapshot.pending_withdrawal)
        .saturating_sub(promised)
}

/// Why a payee should not take `amount` more offline from the payer whose
/// escrow `snapshot` last read (with `owed` already held from them,
/// unsettled), at `now`; `None` when nothing read says so. A withdrawal
/// request counts from the moment it is made until it lapses
/// (`WITHDRAW_WINDOW` after it unlocks): it can empty the escrow before
/// the payment settles.
pub fn payer_risk(snapshot: &EscrowSnapshot, owed: u64, amount: u64, now: i64) -> Option<String> {
    use toss_program::state::WITHDRAW_WINDOW;
    let lapses = snapshot
        .requested_at
        .saturating_add(i64::from(snapshot.withdraw_delay))
        .saturating_add(i64::from(WITHDRAW_WINDOW));
    if snapshot.pending_withdrawal > 0 && now < lapses {
        return Some(format!(
            "this payer's escrow has a withdrawal of {} base units armed (requested at {}, usable until {lapses}): it could be emptied before this payment settles",
            snapshot.pending_withdrawal, snapshot.requested_at
        ));
    }
    let needed = owed.saturating_add(amount);
    (snapshot.balance < needed).then(|| {
        format!(
            "this payer's escrow held {} base units when last read (at {}); with the {owed} already owed here it cannot cover {amount} more",
            snapshot.balance, snapshot.at
        )
    })
}

/// The amount field of an SPL token account (bytes 64..72: after the mint
/// and the owner).
fn token_amount(data: &[u8]) -> u64 {
    data.get(64..72)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}
