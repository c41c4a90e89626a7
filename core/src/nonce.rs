//! The nonce pool: durable nonce accounts this wallet creates while online
//! so that, offline, each durable-nonce intent gets a nonce value of its own.
//!
//! Accounts are derived from the wallet key with a seed (`toss-nonce-N`),
//! so no extra secret exists and a pool can be found again from the key
//! alone. Every account cycles `available -> assigned -> used ->
//! available`: handing one out and binding it to an intent is atomic in the
//! store; settling the intent advances it on chain; refreshing reads the
//! new value. An assigned nonce whose intent expired unsettled is advanced
//! by the wallet before reuse, because its old value could still be burnt
//! by anyone submitting the payer's stale transaction.

use std::future::Future;

use solana_keypair::Keypair;
use solana_program::pubkey::Pubkey;
use solana_signer::Signer;
use solana_system_interface::instruction as system;
use toss_program::intent::DurableNonce;

use crate::chain::{
    Backoff, Chain, ChainError, SendError, Unreachable, next_blockhash, read, send,
};
use crate::store::{NonceRecord, NonceState, Store, StoreError};

/// Size of a nonce account's data.
pub const ACCOUNT_LEN: usize = 80;
const SEED_PREFIX: &str = "toss-nonce-";
/// Accounts created per transaction (two instructions each).
const PER_TRANSACTION: usize = 4;
/// A nonce handed out but never bound to an intent (the signing failed or
/// crashed) is reclaimed after this long.
const UNBOUND_GRACE_SECONDS: i64 = 600;
/// Occupied addresses skipped before `create` gives up.
const MAX_SKIPPED: usize = 16;

/// Why a nonce pool operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NonceError {
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A pool transaction (create, advance, withdraw) did not go through.
    #[error(transparent)]
    Send(#[from] SendError),
    /// A read could not reach the cluster through every retry.
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
    /// The seeded address could not be derived; carries why.
    #[error("cannot derive a nonce account address: {0}")]
    Seed(String),
    /// The cluster refused a read; carries its words.
    #[error("the cluster refused a read: {0}")]
    Read(String),
    /// No account with a known value is available to hand out.
    #[error(
        "no nonce account is available: create some with `toss nonce create` or refresh the pool when online"
    )]
    PoolEmpty,
    /// The address is not one of this wallet's pool accounts.
    #[error("{0} is not in this wallet's nonce pool")]
    NotInPool(Pubkey),
    /// The account is bound to an intent that can still settle.
    #[error("{0} is bound to an intent that can still settle; close it after that intent ends")]
    InUse(Pubkey),
    /// An account at a pool address is not a nonce account this wallet controls.
    #[error("{address} is not a nonce account of this wallet: {reason}")]
    Foreign {
        /// The account in question.
        address: Pubkey,
        /// What is wrong with it (not a nonce account, another authority).
        reason: String,
    },
    /// A number of accounts to create outside 1..=[`MAX_CREATE`]; carries it.
    #[error("create between 1 and {MAX_CREATE} nonce accounts at a time, not {0}")]
    Count(usize),
}

impl NonceError {
    /// The cluster being out of reach, when that is what this is.
    pub fn unreachable(&self) -> Option<&Unreachable> {
        match self {
            NonceError::Unreachable(u) => Some(u),
            NonceError::Send(s) => s.unreachable(),
            _ => None,
        }
    }
}

/// Accounts one `create` makes at most: a bound on the rent locked by one
/// confirmation.
pub const MAX_CREATE: usize = 100;

/// Refuses a number of accounts to create outside 1..=[`MAX_CREATE`].
pub fn check_count(accounts: usize) -> Result<(), NonceError> {
    match accounts {
        1..=MAX_CREATE => Ok(()),
        n => Err(NonceError::Count(n)),
    }
}

/// What creating accounts will cost, shown before the user confirms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CreationCost {
    /// Accounts to be created.
    pub accounts: usize,
    /// Rent-exempt deposit per account, returned when it is closed.
    pub rent_each: u64,
    /// Lamports locked in all: `rent_each` times `accounts`.
    pub total: u64,
}

/// The pool of one wallet key on one cluster.
#[derive(Debug)]
pub struct Pool<'a, C> {
    /// The cluster the pool accounts live on.
    pub chain: &'a C,
    /// Retry policy for network failures.
    pub backoff: Backoff,
}

impl<C: Chain> Pool<'_, C> {
    async fn read<T, F, Fut>(&self, call: F) -> Result<T, NonceError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ChainError>>,
    {
        read(self.backoff, call).await?.map_err(NonceError::Read)
    }

    /// What creating `accounts` new accounts will lock in rent, read from the cluster.
    pub async fn creation_cost(&self, accounts: usize) -> Result<CreationCost, NonceError> {
        check_count(accounts)?;
        let rent_each = self.read(|| self.chain.rent_exemption(ACCOUNT_LEN)).await?;
        Ok(CreationCost {
            accounts,
            rent_each,
            total: rent_each.saturating_mul(accounts as u64),
        })
    }

    /// The genesis prefix of the cluster the chain answers for: pool
    /// records are kept per cluster.
    async fn cluster(&self) -> Result<[u8; 8], NonceError> {
        let genesis = self.read(|| self.chain.genesis_hash()).await?;
        Ok(toss_program::intent::cluster::from_genesis_hash(
            &genesis.to_bytes(),
        ))
    }

    /// Creates `count` new accounts with `authority` as payer and authority,
    /// then reads their values. An account a crashed earlier run created is
    /// adopted, not paid for twice; an address someone else occupied (by
    /// sending lamports to it) is skipped.
    pub async fn create(
        &self,
        store: &mut Store,
        authority: &Keypair,
        count: usize,
        now: i64,
    ) -> Result<Vec<NonceRecord>, NonceError> {
        let owner = authority.pubkey();
        let cluster = self.cluster().await?;
        let mut next = store
            .nonces(&owner, Some(&cluster))?
            .iter()
            .filter_map(|r| r.seed.strip_prefix(SEED_PREFIX)?.parse::<u64>().ok())
            .max()
            .map_or(0, |n| n + 1);
        let rent = self.creation_cost(1).await?.rent_each;
        let mut chosen = Vec::new();
        let mut ixs = Vec::new();
        let mut skipped = 0;
        while chosen.len() < count {
            let seed = format!("{SEED_PREFIX}{next}");
            next += 1;
            let address = derive(&owner, &seed)?;
            match self.read(|| self.chain.account(address)).await? {
                None => ixs.extend(system::create_nonce_account_with_seed(
                    &owner, &address, &owner, &seed, &owner, rent,
                )),
                Some(a) if parse(&a.data).is_ok_and(|(auth, _)| auth == owner) => {}
                Some(_) => {
                    skipped += 1;
                    tracing::warn!(%address, "nonce address occupied by someone else; skipped");
                    if skipped > MAX_SKIPPED {
                        return Err(NonceError::Foreign {
                            address,
                            reason: "too many pool addresses are occupied".into(),
                        });
                    }
                    continue;
                }
            }
            chosen.push((address, seed));
        }
        for chunk in ixs.chunks(2 * PER_TRANSACTION) {
            send(self.chain, self.backoff, chunk, &[authority], None).await?;
        }
        let mut out = Vec::new();
        for (address, seed) in chosen {
            let mut record = NonceRecord {
                address,
                authority: owner,
                cluster,
                seed,
                lamports: 0,
                value: None,
                state: NonceState::Available,
                intent_id: None,
                updated_at: now,
            };
            self.read_into(&mut record).await?;
            store.put_nonce(&record)?;
            out.push(record);
        }
        tracing::info!(accounts = out.len(), "nonce accounts created");
        Ok(out)
    }

    /// Reads one account's value and balance into `record`; a vanished
    /// account is closed.
    async fn read_into(&self, record: &mut NonceRecord) -> Result<(), NonceError> {
        match self.read(|| self.chain.account(record.address)).await? {
            None => record.state = NonceState::Closed,
            Some(account) => {
                let (authority, value) =
                    parse(&account.data).map_err(|reason| NonceError::Foreign {
                        address: record.address,
                        reason,
                    })?;
                if authority != record.authority {
                    return Err(NonceError::Foreign {
                        address: record.address,
                        reason: format!("its authority is {authority}"),
                    });
                }
                record.lamports = account.lamports;
                record.value = Some(value);
            }
        }
        Ok(())
    }

    /// Brings the pool in step with the chain: new values for advanced
    /// accounts (which become available again), closed accounts dropped, and
    /// nonces held by intents that expired unsettled advanced and freed.
    pub async fn refresh(
        &self,
        store: &mut Store,
        authority: &Keypair,
        now: i64,
    ) -> Result<Vec<NonceRecord>, NonceError> {
        let cluster = self.cluster().await?;
        let mut stale = Vec::new();
        for mut record in store.nonces(&authority.pubkey(), Some(&cluster))? {
            if record.state == NonceState::Closed {
                continue;
            }
            let before = (record.value, record.state, record.lamports);
            self.read_into(&mut record).await?;
            let advanced = record.value != before.0;
            record.state = match record.state {
                NonceState::Closed => NonceState::Closed,
                _ if record.value.is_none() => NonceState::Closed,
                NonceState::Assigned | NonceState::Used if advanced => {
                    record.intent_id = None;
                    NonceState::Available
                }
                NonceState::Assigned | NonceState::Used if abandoned(store, &record, now)? => {
                    stale.push(system::advance_nonce_account(
                        &record.address,
                        &authority.pubkey(),
                    ));
                    NonceState::Used
                }
                other => other,
            };
            // The time of the last change: a nonce handed out and never
            // bound is reclaimed a grace period after it was handed out.
            if (record.value, record.state, record.lamports) != before {
                record.updated_at = now;
                store.put_nonce(&record)?;
            }
        }
        if !stale.is_empty() {
            let mut advanced = false;
            for chunk in stale.chunks(PER_TRANSACTION * 2) {
                match send(self.chain, self.backoff, chunk, &[authority], None).await {
                    Ok(_) => advanced = true,
                    // A nonce cannot advance twice within one blockhash:
                    // these stay `used` until a later refresh advances them.
                    Err(SendError::Refused(e)) => {
                        tracing::warn!(error = %e, "nonce accounts not advanced yet")
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if advanced {
                // Read the advanced values.
                return Box::pin(self.refresh(store, authority, now)).await;
            }
        }
        Ok(store.nonces(&authority.pubkey(), Some(&cluster))?)
    }

    /// Withdraws everything from `address` to `to`, which closes it.
    /// Returns the lamports withdrawn.
    pub async fn close(
        &self,
        store: &mut Store,
        authority: &Keypair,
        address: &Pubkey,
        to: &Pubkey,
        now: i64,
    ) -> Result<u64, NonceError> {
        let cluster = self.cluster().await?;
        let mut record = store
            .nonces(&authority.pubkey(), Some(&cluster))?
            .into_iter()
            .find(|r| r.address == *address && r.state != NonceState::Closed)
            .ok_or(NonceError::NotInPool(*address))?;
        if record.state == NonceState::Assigned && !abandoned(store, &record, now)? {
            return Err(NonceError::InUse(*address));
        }
        self.read_into(&mut record).await?;
        let lamports = record.lamports;
        if record.state != NonceState::Closed {
            let ix = system::withdraw_nonce_account(address, &authority.pubkey(), to, lamports);
            let ixs = [ix];
            match send(self.chain, self.backoff, &ixs, &[authority], None).await {
                Ok(_) => {}
                // A nonce used in the current blockhash cannot be emptied
                // until the next one: wait for it, once.
                Err(SendError::Refused(e)) => {
                    tracing::info!(error = %e, "nonce in use this slot; closing at the next blockhash");
                    let current = self.read(|| self.chain.latest_blockhash()).await?;
                    next_blockhash(self.chain, Some(current))
                        .await
                        .map_err(|e| NonceError::Read(e.to_string()))?;
                    send(self.chain, self.backoff, &ixs, &[authority], None).await?;
                }
                // Not closed: the record stays, to close once the cluster answers.
                Err(e) => return Err(e.into()),
            }
        }
        record.state = NonceState::Closed;
        record.updated_at = now;
        store.put_nonce(&record)?;
        Ok(lamports)
    }
}

/// Hands out a nonce on `cluster` (the intent's) for a new durable intent,
/// offline; recording the signed intent (`Store::record_sent`) binds it.
pub fn take(
    store: &mut Store,
    authority: &Pubkey,
    cluster: &[u8; 8],
    now: i64,
) -> Result<DurableNonce, NonceError> {
    let record = store
        .take_nonce(authority, cluster, now)?
        .ok_or(NonceError::PoolEmpty)?;
    match record.value {
        Some(value) => Ok(DurableNonce {
            account: record.address,
            value,
        }),
        None => Err(NonceError::PoolEmpty),
    }
}

/// An assigned nonce whose intent can no longer settle (expired), or which
/// was handed out and never bound.
fn abandoned(store: &Store, record: &NonceRecord, now: i64) -> Result<bool, StoreError> {
    match record.intent_id {
        Some(id) => match store.get(&id) {
            Ok(s) => Ok(i64::from(s.signed.intent.expires_at) <= now),
            Err(StoreError::NotFound) => Ok(true),
            Err(e) => Err(e),
        },
        // Marked used by an advance that the cluster refused (the nonce
        // had not aged a blockhash yet): nothing holds it, advance it now.
        None if record.state == NonceState::Used => Ok(true),
        None => Ok(now - record.updated_at > UNBOUND_GRACE_SECONDS),
    }
}

/// The pool account for `seed`.
fn derive(authority: &Pubkey, seed: &str) -> Result<Pubkey, NonceError> {
    Pubkey::create_with_seed(authority, seed, &solana_system_interface::program::ID)
        .map_err(|e| NonceError::Seed(e.to_string()))
}

/// (authority, value) of an initialized nonce account.
fn parse(data: &[u8]) -> Result<(Pubkey, [u8; 32]), String> {
    use solana_nonce::state::State;
    let versions: solana_nonce::versions::Versions =
        bincode::deserialize(data).map_err(|_| "not a nonce account".to_owned())?;
    match versions.state() {
        State::Initialized(d) => Ok((d.authority, d.blockhash().to_bytes())),
        State::Uninitialized => Err("not initialized".to_owned()),
    }
}
