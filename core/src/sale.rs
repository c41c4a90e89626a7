//! The till's open sale: the contract a customer's payment is held to.
//!
//! A till shows one sale at a time (its Solana Pay request). Whatever
//! crosses to it (a code read from the webcam, an image or the clipboard,
//! a Bluetooth or NFC handover) is checked against that sale before
//! anything is kept: the payee, the currency, the reference and memo when
//! the intent carries them, and the amount, where the intents of one
//! handover count together and must come to exactly the sale's amount. A
//! handover that does not pay the sale keeps nothing, so a merchant is
//! never shown "paid" for less than the sale, and a payer never has part
//! of a payment held while being told it was refused. Once paid, the sale
//! is closed: a second customer cannot pay it again.

use std::sync::{Mutex, MutexGuard};

use solana_program::pubkey::Pubkey;

use crate::amount::{self, Separator};
use crate::config::Cluster;
use crate::currency::{Currency, money};
use crate::handover::Verdict;
use crate::intent::{Accepted, Intent, Ledger, MemoryLedger, Verifier};
use crate::request::PaymentRequest;
use crate::solana_pay::Paid;
use crate::store::Store;

/// Why a payment does not pay the sale (or there is no sale to pay).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaleError {
    /// The till shows no sale.
    #[error("no sale is open: type the sale's amount and show its code before taking a payment")]
    NoSale,
    /// The request names no amount, so nothing can be checked against it.
    #[error("the sale has no amount: type the amount before taking a payment")]
    NoAmount,
    /// The request's amount or currency cannot be read; carries why.
    #[error("the sale cannot be checked: {0}")]
    Unreadable(String),
    /// The sale was paid already; carries the amount in words.
    #[error("this sale ({0}) is already paid: start a new sale to take another payment")]
    AlreadyPaid(String),
    /// The payment is in another currency.
    #[error("this payment is in {got}; the sale is in {sale}")]
    WrongCurrency {
        /// The payment's currency.
        got: String,
        /// The sale's currency.
        sale: String,
    },
    /// The intents of the handover do not come to the sale's amount.
    #[error("{got}; the sale is {sale}")]
    WrongAmount {
        /// What the payment comes to, in words ("this payment is 0.002 SOL").
        got: String,
        /// The sale's amount, in words.
        sale: String,
    },
    /// An intent carries another sale's reference.
    #[error(
        "this payment was made for another sale (reference {got}); this sale's reference is {sale}"
    )]
    WrongReference {
        /// The intent's reference.
        got: Pubkey,
        /// This sale's reference.
        sale: Pubkey,
    },
    /// An intent carries another memo than the sale asked for.
    #[error("this payment's memo is {got:?}; the sale asks for {sale:?}")]
    WrongMemo {
        /// The intent's memo.
        got: String,
        /// The sale's memo.
        sale: String,
    },
    /// More intents than the till takes in one handover.
    #[error(
        "this handover brings {count} payments; this till takes at most {cap} at once (setting max_intents_per_handover)"
    )]
    TooManyIntents {
        /// Intents brought.
        count: usize,
        /// The setting's cap.
        cap: u32,
    },
}

/// What a sale asks for, read from the till's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSale {
    /// The wallet to be paid.
    pub payee: Pubkey,
    /// The currency asked for.
    pub currency: Currency,
    /// The amount asked for, in base units.
    pub amount: u64,
    /// The request's first reference key.
    pub reference: Option<Pubkey>,
    /// The memo the request asks the payment to carry.
    pub memo: Option<String>,
    /// The request as shown: what an online payment is held to.
    pub request: PaymentRequest,
    cluster: Cluster,
    separator: Separator,
}

impl OpenSale {
    /// The sale a till's `request` asks for on `cluster`; amounts are
    /// worded with `separator`.
    pub fn new(
        request: &PaymentRequest,
        cluster: Cluster,
        separator: Separator,
    ) -> Result<Self, SaleError> {
        let unreadable = |e: &dyn std::fmt::Display| SaleError::Unreadable(e.to_string());
        let currency =
            Currency::of_mint(request.spl_token.as_ref(), cluster).map_err(|e| unreadable(&e))?;
        let text = request.amount.as_deref().ok_or(SaleError::NoAmount)?;
        let amount = amount::parse(text, currency.decimals).map_err(|e| unreadable(&e))?;
        if amount == 0 {
            return Err(SaleError::NoAmount);
        }
        Ok(OpenSale {
            payee: request.recipient,
            currency,
            amount,
            reference: request.references.first().copied(),
            memo: request.memo.clone(),
            request: request.clone(),
            cluster,
            separator,
        })
    }

    /// The sale's amount in words ("2 SOL").
    pub fn amount_text(&self) -> String {
        self.words(self.amount)
    }

    fn words(&self, units: u64) -> String {
        money(
            units,
            self.currency.mint.as_ref(),
            self.cluster,
            self.separator,
        )
    }

    /// Whether `intents`, handed over together, pay this sale exactly.
    pub fn check<'a>(
        &self,
        intents: impl IntoIterator<Item = &'a Intent>,
    ) -> Result<(), SaleError> {
        let mut total: u128 = 0;
        let mut count = 0usize;
        for i in intents {
            if i.mint != self.currency.mint {
                let name = |m: Option<&Pubkey>| match Currency::of_mint(m, self.cluster) {
                    Ok(c) => c.symbol.to_owned(),
                    Err(_) => m.map_or_else(|| "SOL".into(), |m| format!("the token {m}")),
                };
                return Err(SaleError::WrongCurrency {
                    got: name(i.mint.as_ref()),
                    sale: name(self.currency.mint.as_ref()),
                });
            }
            if let (Some(got), Some(sale)) = (i.reference, self.reference)
                && got != sale
            {
                return Err(SaleError::WrongReference { got, sale });
            }
            if let (Some(got), Some(sale)) = (&i.memo, &self.memo)
                && got != sale
            {
                return Err(SaleError::WrongMemo {
                    got: got.clone(),
                    sale: sale.clone(),
                });
            }
            total += u128::from(i.amount);
            count += 1;
        }
        if total != u128::from(self.amount) {
            let words = u64::try_from(total).map_or_else(
                |_| format!("more than {}", self.words(u64::MAX)),
                |t| self.words(t),
            );
            let got = match count {
                1 => format!("this payment is {words}"),
                n => format!("these {n} payments come to {words}"),
            };
            return Err(SaleError::WrongAmount {
                got,
                sale: self.amount_text(),
            });
        }
        Ok(())
    }
}

/// Where a till's sale stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Stage {
    /// No sale is shown.
    #[default]
    Closed,
    /// Waiting to be paid.
    Open(OpenSale),
    /// Paid, by the intents with these ids.
    Paid(OpenSale, Vec<[u8; 32]>),
    /// Paid online, by the transaction with this signature.
    PaidOnline(OpenSale, String),
}

impl Stage {
    /// Where the sale stands, in words.
    pub fn describe(&self) -> String {
        match self {
            Stage::Closed => "no sale is open".into(),
            Stage::Open(sale) => format!("waiting for {}", sale.amount_text()),
            Stage::Paid(sale, ids) => match ids.len() {
                1 => format!("paid: {} in 1 payment", sale.amount_text()),
                n => format!("paid: {} in {n} payments", sale.amount_text()),
            },
            Stage::PaidOnline(sale, signature) => {
                format!(
                    "paid online: {} in transaction {signature}",
                    sale.amount_text()
                )
            }
        }
    }
}

/// The till's one sale at a time, shared by every way a payment arrives;
/// its lock makes two payments for one sale impossible.
#[derive(Debug, Default)]
pub struct Till(Mutex<Stage>);

impl Till {
    fn stage(&self) -> MutexGuard<'_, Stage> {
        // A panic while holding the lock leaves a consistent `Stage` (each
        // change is one assignment), so the poison is cleared.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Shows `sale`: the last one (paid or not) is put away.
    pub fn open(&self, sale: OpenSale) {
        *self.stage() = Stage::Open(sale);
    }

    /// Where the sale stands now.
    pub fn now(&self) -> Stage {
        self.stage().clone()
    }

    /// Who the sale shown pays (waiting or paid): what arrives is checked
    /// as theirs.
    pub fn payee(&self) -> Result<Pubkey, SaleError> {
        match &*self.stage() {
            Stage::Open(sale) | Stage::Paid(sale, _) | Stage::PaidOnline(sale, _) => Ok(sale.payee),
            Stage::Closed => Err(SaleError::NoSale),
        }
    }

    /// Takes one handover's intents (wire bytes) for the open sale: each is
    /// verified offline by `verifier` at `now` (with `store` as the ledger,
    /// the others in the handover counted too), then together they must
    /// pay the sale exactly; only then are all kept, in one write, and the
    /// sale is paid. Otherwise nothing is kept and every intent carries the
    /// reason. At most `cap` intents are taken at once.
    pub fn take(
        &self,
        wires: &[Vec<u8>],
        verifier: &Verifier,
        store: &mut Store,
        now: u32,
        cap: u32,
    ) -> Vec<Verdict> {
        let all = |reason: String| wires.iter().map(|_| Err(reason.clone())).collect();
        let mut stage = self.stage();
        let sale = match &*stage {
            Stage::Open(sale) => sale.clone(),
            Stage::Paid(sale, _) | Stage::PaidOnline(sale, _) => {
                return all(SaleError::AlreadyPaid(sale.amount_text()).to_string());
            }
            Stage::Closed => return all(SaleError::NoSale.to_string()),
        };
        if wires.len() > cap as usize {
            return all(SaleError::TooManyIntents {
                count: wires.len(),
                cap,
            }
            .to_string());
        }
        let mut batch = Batch {
            store,
            more: MemoryLedger::default(),
        };
        let checked: Vec<Result<Accepted, crate::intent::VerifyError>> = wires
            .iter()
            .map(|w| {
                let accepted = verifier.verify(w, None, now, &batch)?;
                batch.more.record(&accepted);
                Ok(accepted)
            })
            .collect();
        let checked: Vec<Result<Accepted, String>> = checked
            .into_iter()
            .map(|c| {
                let a = c.map_err(|e| e.to_string())?;
                let i = &a.signed.intent;
                // Held already: the store's, and the handover's others.
                let owed = batch
                    .unsettled(&i.payer, i.mint.as_ref())
                    .saturating_sub(i.amount);
                match payer_risk(batch.store, &verifier.program_id, owed, &a, now) {
                    Some(reason) => Err(reason),
                    None => Ok(a),
                }
            })
            .collect();
        let accepted: Vec<&Accepted> = checked.iter().filter_map(|c| c.as_ref().ok()).collect();
        if accepted.len() < wires.len() {
            // One refused: the rest cannot pay the sale without it.
            let others = "not kept: another payment in this handover was refused, and together they must pay the sale";
            return checked
                .iter()
                .map(|c| match c {
                    Ok(_) => Err(others.to_owned()),
                    Err(e) => Err(e.clone()),
                })
                .collect();
        }
        if let Err(e) = sale.check(accepted.iter().map(|a| &a.signed.intent)) {
            return all(e.to_string());
        }
        let owned: Vec<Accepted> = accepted.into_iter().cloned().collect();
        if let Err(e) =
            batch
                .store
                .record_received_all(&owned, sale.reference.as_ref(), i64::from(now))
        {
            return all(format!("not kept: {e}"));
        }
        let ids: Vec<[u8; 32]> = owned.iter().map(|a| a.id).collect();
        *stage = Stage::Paid(sale, ids.clone());
        ids.into_iter().map(Ok).collect()
    }
}

impl Till {
    /// The sale shown, waiting or paid: a code sealed for it opens, and is
    /// then judged (a payment shown again after the sale was paid is
    /// refused as already taken).
    pub fn shown(&self) -> Option<OpenSale> {
        match &*self.stage() {
            Stage::Open(sale) | Stage::Paid(sale, _) | Stage::PaidOnline(sale, _) => {
                Some(sale.clone())
            }
            Stage::Closed => None,
        }
    }

    /// The sale waiting to be paid, if one is.
    pub fn waiting(&self) -> Option<OpenSale> {
        match &*self.stage() {
            Stage::Open(sale) => Some(sale.clone()),
            _ => None,
        }
    }

    /// Records that `paid` paid the sale with `reference` online: kept in
    /// `store`, and the sale closed if it is still the one waiting (if
    /// another sale is shown now, or this one was paid meanwhile, it is
    /// only kept: the money arrived whatever the screen shows). Whether it
    /// closed the sale.
    pub fn paid_online(
        &self,
        reference: &Pubkey,
        paid: &Paid,
        store: &mut Store,
        now: i64,
    ) -> Result<bool, crate::store::StoreError> {
        let mut stage = self.stage();
        let waiting = match &*stage {
            Stage::Open(sale) if sale.reference.as_ref() == Some(reference) => Some(sale.clone()),
            _ => None,
        };
        let recipient = match &*stage {
            Stage::Open(s) | Stage::Paid(s, _) | Stage::PaidOnline(s, _) => s.payee,
            Stage::Closed => Pubkey::default(),
        };
        store.record_online(paid, &recipient, reference, now)?;
        let Some(sale) = waiting else {
            return Ok(false);
        };
        *stage = Stage::PaidOnline(sale, paid.signature.clone());
        Ok(true)
    }
}

/// What watching a sale for an online payment reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watched {
    /// A transaction paid the sale.
    Paid(Paid),
    /// A transaction carrying the sale's reference does not pay it; carries
    /// its signature and why. The wait goes on.
    Refused(String, crate::solana_pay::Refusal),
    /// The cluster pushes news of the reference (`true`, its websocket),
    /// or the till only asks it every so often (`false`: no socket, or it
    /// closed).
    Live(bool),
}

/// After a notification, how long the till keeps asking, and how often:
/// the cluster may tell of a transaction a moment before its history lists it.
const AFTER_NEWS: std::time::Duration = std::time::Duration::from_secs(10);
const NEWS_PACE: std::time::Duration = std::time::Duration::from_millis(500);
/// How long opening the websocket may take before the till polls instead.
const SOCKET_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// The longest the watch sleeps before checking it should go on.
const WAKE: std::time::Duration = std::time::Duration::from_secs(1);

/// Watches the sale `till` shows for a payment made online by any wallet.
/// When `push` (the RPC's websocket) answers, the cluster tells the till
/// the moment a transaction mentions the request's reference
/// (`logsSubscribe`): the till then asks twice a second for ten seconds
/// (the history may list it a moment later), and otherwise every ten
/// `every`s as a safety net; without the socket, or once it closes, the
/// till asks every `every`. Asking means looking the reference up and holding what carries
/// it to the request (`solana_pay::find`) at `commitment`. A refused
/// transaction is reported once; a paying one closes the sale and is kept
/// in `store`. Ends when the sale is paid (either way) or another is
/// shown, or when `go_on` says stop; a cluster out of reach is reported
/// and asked again.
#[allow(clippy::too_many_arguments)]
pub async fn watch(
    till: &Till,
    chain: &crate::chain::RpcChain,
    push: Option<&url::Url>,
    store: &mut Store,
    commitment: crate::solana_pay::Commitment,
    every: std::time::Duration,
    go_on: &dyn Fn() -> bool,
    report: &mut dyn FnMut(Result<Watched, crate::chain::ChainError>),
) -> Result<(), crate::store::StoreError> {
    use futures::StreamExt;
    use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
    use solana_rpc_client_api::config::{RpcTransactionLogsConfig, RpcTransactionLogsFilter};
    use std::time::Instant;

    let Some(sale) = till.waiting() else {
        return Ok(());
    };
    let Some(reference) = sale.reference else {
        return Ok(());
    };
    let in_time = |what: &str, e: Option<String>| {
        let why = e.unwrap_or_else(|| format!("{what} was not answered in time"));
        tracing::info!(error = %crate::chain::redact_urls(&why), "no websocket: the till polls");
    };
    let socket = match push {
        Some(url) => {
            match tokio::time::timeout(SOCKET_TIMEOUT, PubsubClient::new(url.as_str())).await {
                Ok(Ok(client)) => Some(client),
                Ok(Err(e)) => {
                    in_time("", Some(e.to_string()));
                    None
                }
                Err(_) => {
                    in_time("the websocket", None);
                    None
                }
            }
        }
        None => None,
    };
    let filter = RpcTransactionLogsFilter::Mentions(vec![reference.to_string()]);
    let config = RpcTransactionLogsConfig {
        commitment: Some(commitment.config()),
    };
    let subscription = match &socket {
        Some(client) => {
            match tokio::time::timeout(SOCKET_TIMEOUT, client.logs_subscribe(filter, config)).await
            {
                Ok(Ok(subscription)) => Some(subscription),
                Ok(Err(e)) => {
                    in_time("", Some(e.to_string()));
                    None
                }
                Err(_) => {
                    in_time("the subscription", None);
                    None
                }
            }
        }
        None => None,
    };
    let mut news = subscription.map(|(stream, _unsubscribe)| stream);
    report(Ok(Watched::Live(news.is_some())));
    let mut refused: Vec<String> = Vec::new();
    let mut fast_until = Instant::now();
    let same_sale = || {
        till.waiting()
            .is_some_and(|s| s.reference == Some(reference))
    };
    // Asked at `next_poll`; between asks the loop wakes at least every
    // second, so a sale paid another way or a wait ended stops it at once.
    let mut next_poll = Instant::now();
    while go_on() && same_sale() {
        if Instant::now() >= next_poll {
            match crate::solana_pay::find(chain, &sale.request, commitment, &refused).await {
                Ok(crate::solana_pay::Found::Paid(paid)) => {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs() as i64);
                    till.paid_online(&reference, &paid, store, now)?;
                    report(Ok(Watched::Paid(paid)));
                    return Ok(());
                }
                Ok(crate::solana_pay::Found::Refused(list)) => {
                    for (signature, why) in list {
                        refused.push(signature.clone());
                        report(Ok(Watched::Refused(signature, why)));
                    }
                }
                Err(e) => report(Err(e)),
            }
            let pace = match &news {
                Some(_) if Instant::now() < fast_until => NEWS_PACE,
                // Pushed news comes at once; asking is the safety net.
                Some(_) => every.saturating_mul(10),
                None => every,
            };
            next_poll = Instant::now() + pace;
        }
        let wait = next_poll
            .saturating_duration_since(Instant::now())
            .min(WAKE);
        match news.as_mut() {
            Some(stream) => {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    item = stream.next() => match item {
                        Some(_) => {
                            fast_until = Instant::now() + AFTER_NEWS;
                            next_poll = Instant::now();
                        }
                        None => {
                            news = None;
                            report(Ok(Watched::Live(false)));
                            next_poll = next_poll.min(Instant::now() + every);
                        }
                    },
                }
            }
            None => tokio::time::sleep(wait).await,
        }
    }
    Ok(())
}

/// Why the payer's escrow, as the engine last read it, cannot be trusted
/// with this payment (a withdrawal armed, too little left for what this
/// till already holds from them and this); `None` if never read or fine.
fn payer_risk(
    store: &Store,
    program_id: &Pubkey,
    owed: u64,
    a: &Accepted,
    now: u32,
) -> Option<String> {
    let i = &a.signed.intent;
    if i.durable_nonce.is_some() {
        // Paid from the payer's wallet, not an escrow.
        return None;
    }
    let snapshot = store
        .escrow_snapshot(&i.payer, i.mint.as_ref(), program_id)
        .ok()??;
    crate::escrow::payer_risk(&snapshot, owed, i.amount, i64::from(now))
}

/// The store's ledger with the intents earlier in the same handover: a
/// nonce used twice in one handover, or a payer's limit crossed by the
/// handover as a whole, is caught before anything is kept.
struct Batch<'a> {
    store: &'a mut Store,
    more: MemoryLedger,
}

impl Ledger for Batch<'_> {
    fn seen(&self, id: &[u8; 32]) -> bool {
        self.store.seen(id) || self.more.seen(id)
    }

    fn nonce_held(&self, payer: &Pubkey, nonce: u64) -> bool {
        self.store.nonce_held(payer, nonce) || self.more.nonce_held(payer, nonce)
    }

    fn unsettled(&self, payer: &Pubkey, mint: Option<&Pubkey>) -> u64 {
        self.store
            .unsettled(payer, mint)
            .saturating_add(self.more.unsettled(payer, mint))
    }

    fn unsettled_total(&self, mint: Option<&Pubkey>) -> u64 {
        self.store
            .unsettled_total(mint)
            .saturating_add(self.more.unsettled_total(mint))
    }
}

#[cfg(test)]
mod tests;
