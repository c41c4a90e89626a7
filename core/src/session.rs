//! The wallet, opened: the one place every front end (the desktop app, the
//! `toss` CLI) gets what it works with.
//!
//! A [`WalletSession`] is opened from the data directory and the settings
//! in force, and hands out the store (with the expiry and retention
//! cleanup run when it opens), keys through the user-presence gate (every
//! refusal counted for the metrics, whoever asked), the Noise key, the
//! chain client with its retry policy, where intents settle and who pays
//! for it, the payee's verifier with limits per currency on this cluster,
//! the till's payment request, and the clock. Front ends decide nothing of
//! this themselves, so they cannot drift apart.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use solana_program::pubkey::Pubkey;

use crate::address::Address;
use crate::chain::{Backoff, RpcChain};
use crate::config::Config;
use crate::currency::Currency;
use crate::escrow::Escrow;
use crate::handover::{Accept, Acknowledgement};
use crate::home::Home;
use crate::intent::{Limit, RiskLimits, Verifier};
use crate::keyfile::KeyFileError;
use crate::noise::StaticKey;
use crate::nonce::Pool;
use crate::payment::{SettingsError, Settlement};
use crate::request::PaymentRequest;
use crate::sale::{OpenSale, SaleError, Till};
use crate::settle::Engine;
use crate::store::{Counter, Store, StoreError};
use crate::vault::{Gate, Unlock, Vault, VaultError};
use crate::wallet::Account;

/// Why the wallet, or a part of it, could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The keychain or the account index could not be used.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The local store could not be opened or cleaned up.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The settings do not say where or how to settle.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The `TOSS_FEE_PAYER` keypair file could not be read.
    #[error("the fee payer TOSS_FEE_PAYER names cannot be used: {0}")]
    FeePayer(#[from] KeyFileError),
    /// The wallet has no account to sign or be paid with.
    #[error("this wallet has no account yet: create or import one first")]
    NoAccount,
    /// No sale waits to be paid, or the sale cannot be read.
    #[error(transparent)]
    Sale(#[from] SaleError),
    /// The OS random source failed while making a payment reference.
    #[error("no randomness for a payment reference: {0}")]
    Random(String),
    /// A sealed payment could not be opened.
    #[error(transparent)]
    Sealed(#[from] crate::sealed::SealedError),
    /// The request asked for breaks a Solana Pay rule: no wallet, this one
    /// included, would take the code.
    #[error("this request cannot be made: {0}")]
    Request(#[from] crate::request::RequestError),
    /// A request to sign from another tool cannot be signed; carries why.
    #[error(transparent)]
    Airgap(#[from] crate::airgap::AirgapError),
}

/// What a key is asked for, which decides the gate the settings put on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// Signing a payment, or paying settlement fees
    /// (REQUIRE_BIOMETRIC_FOR_INTENT).
    Payment,
    /// Changing the on-chain account offline payments draw on, or the
    /// nonce pool (REQUIRE_BIOMETRIC_FOR_NONCE).
    Funds,
}

/// Which actions ask for the app passphrase under the settings in force,
/// so a screen shows the field when, and only when, it will be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PassphraseAsked {
    /// Signing a payment.
    pub payment: bool,
    /// Settling: the fee payer's key is the wallet's own (no
    /// TOSS_FEE_PAYER file) and payments are gated.
    pub settlement: bool,
    /// Changing the escrow or the nonce pool.
    pub funds: bool,
}

impl KeyUse {
    /// Whether the settings put the gate on this use.
    pub fn gated(self, config: &Config) -> bool {
        match self {
            KeyUse::Payment => config.require_biometric_for_intent,
            KeyUse::Funds => config.require_biometric_for_nonce,
        }
    }
}

impl PassphraseAsked {
    /// What asks for the passphrase under `config`.
    pub fn under(config: &Config) -> Self {
        let payment = KeyUse::Payment.gated(config);
        PassphraseAsked {
            payment,
            // The fee payer's key is the wallet's own unless TOSS_FEE_PAYER names a file.
            settlement: payment && config.fee_payer.is_none(),
            funds: KeyUse::Funds.gated(config),
        }
    }
}

/// Per payment and unsettled per payer, for USDC where the cluster has it:
/// about what the SOL limits are worth.
const USDC_LIMIT: Limit = Limit {
    min_single: 10_000,
    max_single: 200_000_000,
    max_unsettled_per_payer: 1_000_000_000,
    max_unsettled_total: 5_000_000_000,
};

/// Seconds in a day, for `retention_days`.
const DAY: i64 = 86_400;

/// The wallet in one data directory, under one set of settings.
#[derive(Debug)]
pub struct WalletSession {
    home: Home,
    config: Config,
    /// Opened with the session; kept as the reason when it could not be,
    /// so what needs no key (reading an intent file, the settings) works
    /// on a machine whose keychain is missing or locked.
    vault: Result<Vault, VaultError>,
}

impl WalletSession {
    /// Opens the wallet in `home` (its account index and the keychain that
    /// holds its secrets) under `config`; an encrypted key file stays locked.
    pub fn open(home: Home, config: Config) -> Self {
        Self::open_with(home, config, Unlock::default())
    }

    /// [`open`](Self::open), the encrypted key file (when it is the storage)
    /// unlocked as `unlock` says.
    pub fn open_with(home: Home, config: Config, unlock: Unlock) -> Self {
        let vault = Vault::open_with(&home, config.keystore, unlock);
        Self {
            home,
            config,
            vault,
        }
    }

    /// The data directory the wallet was opened in.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// The settings the session was opened under.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn vault(&self) -> Result<&Vault, SessionError> {
        self.vault.as_ref().map_err(|e| e.clone().into())
    }

    /// The keychain vault, to add or remove accounts.
    pub fn vault_mut(&mut self) -> Result<&mut Vault, SessionError> {
        self.vault.as_mut().map_err(|e| e.clone().into())
    }

    /// The wallet's accounts, in the order they were added.
    pub fn accounts(&self) -> Result<&[Account], SessionError> {
        Ok(self.vault()?.accounts())
    }

    /// The account the app pays and signs with: the wallet's first.
    pub fn first_account(&self) -> Result<Address, SessionError> {
        self.accounts()?
            .first()
            .map(|a| a.address)
            .ok_or(SessionError::NoAccount)
    }

    /// The wallet's store, unsealed with its key from the keychain, after
    /// the cleanup: intents past their expiry are marked expired and those
    /// ended longer ago than `retention_days` are deleted.
    pub fn store(&self) -> Result<Store, SessionError> {
        let mut store = self.open_store()?;
        self.cleanup(&mut store)?;
        Ok(store)
    }

    /// The store's cleanup at this moment: how many intents expired and
    /// how many old ones were deleted.
    pub fn cleanup(&self, store: &mut Store) -> Result<(usize, usize), SessionError> {
        let (expired, deleted) = store.cleanup(i64::from(unix_now()), self.retention_seconds())?;
        if expired + deleted > 0 {
            tracing::info!(expired, deleted, "store cleanup");
        }
        Ok((expired, deleted))
    }

    /// How long ended intents are kept, in seconds.
    pub fn retention_seconds(&self) -> i64 {
        i64::from(self.config.retention_days) * DAY
    }

    fn open_store(&self) -> Result<Store, SessionError> {
        Ok(Store::open(
            &self.home.store_file(),
            &self.vault()?.service_secret("store")?,
        )?)
    }

    /// This wallet's Noise static key (for handovers and payment requests).
    pub fn noise_key(&self) -> Result<StaticKey, SessionError> {
        Ok(StaticKey::from_secret(
            self.vault()?.service_secret("noise")?,
        ))
    }

    /// The user-presence gate for `what`, as the settings ask.
    pub fn gate(&self, what: KeyUse) -> Result<Gate, SessionError> {
        Ok(Gate::load(self.home.root(), what.gated(&self.config)).map_err(VaultError::Gate)?)
    }

    /// The signing key of `account`, once the gate for `what` lets the
    /// user through (`passphrase`: what they typed, if asked). A refusal by
    /// the gate is counted for the metrics panel.
    pub fn signing_key(
        &self,
        account: &Pubkey,
        what: KeyUse,
        passphrase: Option<&str>,
    ) -> Result<SigningKey, SessionError> {
        let gate = self.gate(what)?;
        self.vault()?
            .signing_key(account, &gate, passphrase)
            .inspect_err(|e| {
                if matches!(e, VaultError::Gate(_)) {
                    self.count(Counter::GateFailures, 1);
                }
            })
            .map_err(Into::into)
    }

    /// The first account's key, through the gate for `what`.
    pub fn first_key(
        &self,
        what: KeyUse,
        passphrase: Option<&str>,
    ) -> Result<SigningKey, SessionError> {
        self.signing_key(&self.first_account()?.into(), what, passphrase)
    }

    /// Adds to a metrics counter; a counter that cannot be written is
    /// logged, never a reason to fail what it counts.
    fn count(&self, counter: Counter, by: i64) {
        let counted = self.open_store().and_then(|mut s| Ok(s.bump(counter, by)?));
        if let Err(e) = counted {
            tracing::warn!(error = %e, counter = counter.as_str(), "a metric could not be counted");
        }
    }

    /// Who pays settlement fees and settlement record rent: the keypair file
    /// TOSS_FEE_PAYER names when set, else the first account, through the
    /// payment gate.
    pub fn fee_payer(&self, passphrase: Option<&str>) -> Result<SigningKey, SessionError> {
        match &self.config.fee_payer {
            Some(path) => Ok(crate::keyfile::read(path)?),
            None => self.first_key(KeyUse::Payment, passphrase),
        }
    }

    /// The cluster the settings name, over JSON-RPC.
    pub fn chain(&self) -> RpcChain {
        RpcChain::new(self.config.rpc_url.as_str())
    }

    /// How network failures are retried (MAX_SETTLEMENT_RETRIES).
    pub fn backoff(&self) -> Backoff {
        Backoff::seconds(self.config.max_settlement_retries)
    }

    /// The on-chain account in `mint` (`None`: SOL) that this wallet's
    /// offline payments draw on, reached through `chain`.
    pub fn escrow<'a>(
        &self,
        chain: &'a RpcChain,
        mint: Option<Pubkey>,
    ) -> Result<Escrow<'a, RpcChain>, SettingsError> {
        Ok(Escrow {
            chain,
            backoff: self.backoff(),
            program_id: self.program_id()?,
            mint,
        })
    }

    /// The durable nonce pool, reached through `chain`.
    pub fn nonce_pool<'a>(&self, chain: &'a RpcChain) -> Pool<'a, RpcChain> {
        Pool {
            chain,
            backoff: self.backoff(),
        }
    }

    /// The TOSS program the settings name (TOSS_PROGRAM_ID).
    pub fn program_id(&self) -> Result<Pubkey, SettingsError> {
        self.config
            .program_id
            .map(Into::into)
            .ok_or(SettingsError::NoProgram)
    }

    /// Where intents settle, by the settings.
    pub fn settlement(&self) -> Result<Settlement, SettingsError> {
        Settlement::from_config(&self.config)
    }

    /// The settlement engine on this cluster, `fee_payer` paying.
    pub fn engine(&self, fee_payer: &SigningKey) -> Result<Engine<RpcChain>, SettingsError> {
        Ok(
            Engine::new(self.chain(), self.program_id()?, fee_payer, self.backoff())
                .with_mxe(self.config.arcium_mxe_program_id.map(Into::into))
                .with_signature_check(self.config.signature_check),
        )
    }

    /// The offline risk limits a payee applies on this cluster: the
    /// defaults for SOL, and USDC's where the cluster has it, each with
    /// the smallest payment the settings take.
    pub fn limits(&self) -> RiskLimits {
        let mut limits = RiskLimits::default();
        if let Some(sol) = limits.per_mint.get_mut(&None) {
            sol.min_single = self.config.min_payment_sol;
        }
        if let Ok(usdc) = Currency::usdc(self.config.cluster) {
            let min_single = self.config.min_payment_usdc;
            limits.per_mint.insert(
                usdc.mint,
                Limit {
                    min_single,
                    ..USDC_LIMIT
                },
            );
        }
        limits
    }

    /// What a payee named `payee` checks intents against.
    pub fn verifier(&self, payee: Pubkey) -> Result<Verifier, SettingsError> {
        let Settlement {
            cluster,
            program_id,
        } = self.settlement()?;
        Ok(Verifier {
            cluster,
            program_id,
            payee,
            limits: self.limits(),
        })
    }

    /// The till's request for a sale: a Solana Pay transfer request any
    /// wallet can pay, with a fresh reference key (unless `sale` brings
    /// one) and, when `sale.offline`, this wallet's Noise key so a payer
    /// without a network can pay it with a TOSS intent.
    pub fn till_request(&self, sale: Sale) -> Result<PaymentRequest, SessionError> {
        let mut r = PaymentRequest::new(sale.recipient);
        r.amount = sale.amount;
        r.spl_token = sale.mint;
        r.label = sale.label.filter(|l| !l.is_empty());
        r.message = sale.message.filter(|m| !m.is_empty());
        r.memo = sale.memo.filter(|m| !m.is_empty());
        r.references = vec![match sale.reference {
            Some(k) => k,
            None => {
                crate::request::new_reference().map_err(|e| SessionError::Random(e.to_string()))?
            }
        }];
        if sale.offline {
            r.noise_key = Some(self.noise_key()?.public());
            r.offline = true;
        }
        // What the till shows is what a scanner reads: the same rules.
        PaymentRequest::parse(&r.to_url())?;
        Ok(r)
    }

    /// The payment a code read at a till carries, and whether it came
    /// sealed (`crate::sealed`): a sealed code is opened with this wallet's
    /// Noise key for the sale whose reference is `reference`; any other
    /// code is the payment as it is.
    pub fn unseal(
        &self,
        code: &[u8],
        reference: Option<&Pubkey>,
    ) -> Result<(Vec<u8>, bool), SessionError> {
        if !crate::sealed::is_sealed(code) {
            return Ok((code.to_vec(), false));
        }
        let reference = reference.ok_or(crate::sealed::SealedError::NoSale)?;
        let payment = crate::sealed::open(code, &self.noise_key()?, &reference.to_bytes())?;
        Ok((payment, true))
    }

    /// The till's check of what arrives for the sale `till` shows: its
    /// payee's verifier, this wallet's store, the cap the settings put on
    /// one handover (see [`take_for_sale`]). Refused at once when the till
    /// shows no sale.
    pub fn till_check(&self, till: Arc<Till>) -> Result<Accept, SessionError> {
        let payee = till.payee()?;
        Ok(take_for_sale(
            till,
            self.verifier(payee)?,
            self.store()?,
            self.config.max_intents_per_handover,
            unix_now,
        ))
    }

    /// The sale a till's `request` asks for, worded as the settings say.
    pub fn open_sale(&self, request: &PaymentRequest) -> Result<OpenSale, SaleError> {
        OpenSale::new(request, self.config.cluster, self.config.decimal_separator)
    }

    /// This wallet's accounts as the Keystone UR types name them (the
    /// phrase's account at `m/44'/501'/0'/0'`), and its fingerprint there.
    pub fn airgap_accounts(&self) -> Result<(Vec<crate::airgap::Held>, u32), SessionError> {
        let vault = self.vault()?;
        let held = vault
            .accounts()
            .iter()
            .map(|a| crate::airgap::Held {
                key: a.pubkey(),
                path: (a.source == crate::wallet::KeySource::Phrase)
                    .then(|| vec![(44, true), (501, true), (0, true), (0, true)]),
                name: a.label.clone(),
            })
            .collect();
        Ok((held, crate::airgap::fingerprint(vault.wallet_id())))
    }

    /// Reads a `ur:sol-sign-request` for this wallet and describes it, as
    /// the settings say (`unexplained_instructions`).
    pub fn sign_request(&self, text: &str) -> Result<crate::airgap::Prepared, SessionError> {
        let (held, fingerprint) = self.airgap_accounts()?;
        let program = self.config.program_id.map(Pubkey::from);
        Ok(crate::airgap::Prepared::read(
            text,
            &held,
            fingerprint,
            self.config.cluster,
            program.as_ref(),
            self.config.unexplained_instructions,
        )?)
    }

    /// Signs `prepared` with the account it names, through the gate (a
    /// signature for another tool is a payment's worth of trust); the
    /// `ur:sol-signature` to show.
    pub fn sign_answer(
        &self,
        prepared: &crate::airgap::Prepared,
        confirmed_unexplained: bool,
        passphrase: Option<&str>,
    ) -> Result<String, SessionError> {
        let key = self.signing_key(&prepared.described.signer, KeyUse::Payment, passphrase)?;
        Ok(prepared.answer(&key, confirmed_unexplained)?)
    }

    /// This wallet's accounts watch-only, as `ur:crypto-multi-accounts`.
    pub fn accounts_ur(&self) -> Result<String, SessionError> {
        let (held, fingerprint) = self.airgap_accounts()?;
        let cbor = crate::airgap::multi_accounts(fingerprint, &held, "TOSS Desktop");
        Ok(
            ur::ur::encode(&cbor, &ur::Type::Custom(crate::airgap::MULTI_ACCOUNTS))
                .to_ascii_uppercase(),
        )
    }

    /// Seconds since 1970 by this computer's clock.
    pub fn now(&self) -> u32 {
        unix_now()
    }
}

/// What a till asks to be paid (see [`WalletSession::till_request`]).
#[derive(Debug, Clone, Default)]
pub struct Sale {
    /// The wallet to be paid.
    pub recipient: Pubkey,
    /// Decimal text in the currency's units, as Solana Pay writes it
    /// ("1.5"); any amount when `None`.
    pub amount: Option<String>,
    /// `None`: SOL.
    pub mint: Option<Pubkey>,
    /// Solana Pay `label`: who asks to be paid; empty is left out.
    pub label: Option<String>,
    /// Solana Pay `message`: what the payment is for; empty is left out.
    pub message: Option<String>,
    /// Solana Pay `memo` for the payment; empty is left out.
    pub memo: Option<String>,
    /// The reference key to use; `None`: a fresh random one.
    pub reference: Option<Pubkey>,
    /// Also take offline TOSS intents: the request carries this wallet's Noise key.
    pub offline: bool,
}

/// Seconds since 1970 by this computer's clock, as intents count time (a
/// clock before 1970 reads as 0, one past 2106 as the last second).
pub fn unix_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}

/// The till's check for a handover or a code read (see
/// [`Handover::payee`](crate::handover::Handover::payee)): the intents that
/// arrive together are taken for the sale `till` shows ([`Till::take`]),
/// verified by `verifier` at the time `now` gives and kept in `store`, at
/// most `cap` at once.
pub fn take_for_sale(
    till: Arc<Till>,
    verifier: Verifier,
    mut store: Store,
    cap: u32,
    now: impl Fn() -> u32 + Send + 'static,
) -> Accept {
    Box::new(move |wires: &[Vec<u8>]| till.take(wires, &verifier, &mut store, now(), cap))
}

/// The payer's side after an acknowledgement: the intents the payee accepted count
/// as handed over (`ids` in the order they were sent). How many changed.
pub fn record_acknowledgement(
    store: &mut Store,
    ids: &[[u8; 32]],
    acknowledgement: &Acknowledgement,
    how: &str,
    now: i64,
) -> Result<usize, StoreError> {
    let mut changed = 0;
    for (id, entry) in ids.iter().zip(&acknowledgement.entries) {
        if entry.refused.is_none() && store.mark_handed_over(id, how, now)? {
            changed += 1;
        }
    }
    Ok(changed)
}
