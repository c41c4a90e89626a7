//! Prices in the merchant's own currency: what a fiat amount is in SOL or
//! USDC, at a rate read from Pyth's price accounts over the RPC the wallet
//! already uses (no other service, no API key).
//!
//! Pyth's push oracle keeps one `PriceUpdateV2` account per feed at a
//! fixed address on mainnet and devnet (shard 0 of the feed). A rate is
//! only taken from an account the Pyth receiver program owns, fully
//! verified by Wormhole's guardians, whose price is positive and whose
//! confidence interval is narrow; its publish time is its age. USDC is
//! priced 1:1 to the US dollar, as the issue asks; every other currency
//! goes through the US dollar (SOL/USD, then EUR/USD or USD/JPY).
//!
//! Amounts are exact integers throughout: a rate is kept as fiat per whole
//! unit scaled by 10^12, and a fiat price becomes base units rounded up,
//! so a merchant is never asked for less than the price.

use solana_program::pubkey::Pubkey;

use crate::amount::Separator;

/// Pyth's push oracle program: the owner of the feed addresses' seeds.
pub const PUSH_ORACLE: Pubkey =
    solana_program::pubkey!("pythWSnswVUd12oZpeFP8e9CVaEqJg25g1Vtc2biRsT");
/// Pyth's receiver program: the owner of every price update account.
pub const RECEIVER: Pubkey = solana_program::pubkey!("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ");
/// Pyth's SOL/USD feed.
pub const SOL_USD: [u8; 32] =
    hex32("ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d");

/// A rate's fixed point: fiat per whole unit of the currency, times 10^12.
const SCALE: u128 = 1_000_000_000_000;
/// The widest confidence interval taken, in parts per 10,000 of the price.
const MAX_CONFIDENCE_BPS: u128 = 200;

/// How a currency's Pyth feed quotes the US dollar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Usd {
    /// It is the US dollar.
    Is,
    /// A `XXX/USD` feed: US dollars per unit.
    PerUnit([u8; 32]),
    /// A `USD/XXX` feed: units per US dollar.
    UnitsPer([u8; 32]),
}

/// A currency a merchant can price in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fiat {
    /// ISO 4217 code.
    pub code: &'static str,
    /// Its minor units (cents: 2; yen: 0).
    pub decimals: u8,
    usd: Usd,
}

/// The currencies a merchant can price in: every one with a Pyth FX feed
/// against the US dollar (feed ids from Pyth's published list).
pub const FIATS: &[Fiat] = &[
    Fiat {
        code: "USD",
        decimals: 2,
        usd: Usd::Is,
    },
    Fiat {
        code: "EUR",
        decimals: 2,
        usd: Usd::PerUnit(hex32(
            "a995d00bb36a63cef7fd2c287dc105fc8f3d93779f062f09551b0af3e81ec30b",
        )),
    },
    Fiat {
        code: "GBP",
        decimals: 2,
        usd: Usd::PerUnit(hex32(
            "84c2dde9633d93d1bcad84e7dc41c9d56578b7ec52fabedc1f335d673df0a7c1",
        )),
    },
    Fiat {
        code: "AUD",
        decimals: 2,
        usd: Usd::PerUnit(hex32(
            "67a6f93030420c1c9e3fe37c1ab6b77966af82f995944a9fefce357a22854a80",
        )),
    },
    Fiat {
        code: "CHF",
        decimals: 2,
        usd: Usd::UnitsPer(hex32(
            "0b1e3297e69f162877b577b0d6a47a0d63b2392bc8499e6540da4187a63e28f8",
        )),
    },
    Fiat {
        code: "CAD",
        decimals: 2,
        usd: Usd::UnitsPer(hex32(
            "3112b03a41c910ed446852aacf67118cb1bec67b2cd0b9a214c58cc0eaa2ecca",
        )),
    },
    Fiat {
        code: "JPY",
        decimals: 0,
        usd: Usd::UnitsPer(hex32(
            "ef2c98c804ba503c6a707e38be4dfbb16683775f195b091252bf24693042fd52",
        )),
    },
];

impl Fiat {
    /// The currency with ISO code `code` (any case).
    pub fn named(code: &str) -> Result<Fiat, PriceError> {
        FIATS
            .iter()
            .find(|f| f.code.eq_ignore_ascii_case(code.trim()))
            .copied()
            .ok_or_else(|| PriceError::UnknownFiat(code.trim().to_owned()))
    }

    /// `minor` units of this currency as people read them, every minor
    /// digit shown ("12.50 USD").
    pub fn words(&self, minor: u64, separator: Separator) -> String {
        format!(
            "{} {}",
            crate::currency::grouped(&separator.localize(&self.decimal(minor))),
            self.code
        )
    }

    /// `minor` units as decimal text with a point and every minor digit,
    /// as files and exports keep it ("12.50").
    pub fn decimal(&self, minor: u64) -> String {
        fixed(minor, self.decimals)
    }
}

/// Why no usable rate can be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    /// Not a currency the wallet prices in.
    #[error("{0:?} is not a currency this till prices in (USD, EUR, GBP, AUD, CHF, CAD, JPY)")]
    UnknownFiat(String),
    /// Prices are in SOL and USDC only.
    #[error("{0} cannot be priced in a fiat currency: only SOL and USDC can")]
    NotPriced(String),
    /// The account is not a Pyth price update.
    #[error("the price account {account} is not a Pyth price update ({why})")]
    NotAPrice {
        /// The account read.
        account: Pubkey,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The update was not checked against every guardian.
    #[error("the price in {0} was only partly verified by Pyth's guardians: it is not used")]
    PartlyVerified(Pubkey),
    /// The oracle is unsure of the price.
    #[error("the price in {account} is too uncertain to charge by (±{bps} in 10,000)")]
    Uncertain {
        /// The account read.
        account: Pubkey,
        /// The confidence interval, in parts per 10,000 of the price.
        bps: u128,
    },
    /// The cluster has no such account.
    #[error("this cluster has no price account at {0}: type the amount in SOL or USDC")]
    Missing(Pubkey),
    /// The rate is older than the merchant allows.
    #[error(
        "the last rate is {age} old, over the {limit} the settings allow (max_rate_age_seconds): type the amount in {currency}, or go online for a new rate"
    )]
    TooOld {
        /// Its age, in words.
        age: String,
        /// The limit, in words.
        limit: String,
        /// The currency to type the amount in instead.
        currency: String,
    },
    /// No rate was ever read here.
    #[error(
        "no {pair} rate has been read yet and the cluster cannot be reached: type the amount in {currency}"
    )]
    NeverRead {
        /// The pair ("SOL/EUR").
        pair: String,
        /// The currency to type the amount in instead.
        currency: String,
    },
    /// The store could not keep or give the rate; carries why.
    #[error("the rate could not be kept: {0}")]
    Store(String),
    /// The amount cannot be priced (overflow, zero rate).
    #[error("{0} cannot be priced at this rate")]
    OutOfRange(String),
}

/// One Pyth price, as its account holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PythPrice {
    /// The feed it prices.
    pub feed_id: [u8; 32],
    /// The price, times 10^`exponent`.
    pub price: i64,
    /// The confidence interval, in the same units.
    pub conf: u64,
    /// The power of ten of `price` and `conf`.
    pub exponent: i32,
    /// When Pyth published it (Unix seconds).
    pub publish_time: i64,
}

/// The address of a feed's price account on Pyth's push oracle (shard 0).
pub fn feed_account(feed_id: &[u8; 32]) -> Pubkey {
    Pubkey::find_program_address(&[&0u16.to_le_bytes(), feed_id], &PUSH_ORACLE).0
}

/// Reads `account` (owned by `owner`, holding `data`) as a Pyth
/// `PriceUpdateV2`: Anchor's 8-byte discriminator, the write authority,
/// the verification level (Borsh enum: 0 partial + signature count, 1
/// full), then the price message. Only fully verified, positive,
/// confident prices are returned.
pub fn decode(account: &Pubkey, owner: &Pubkey, data: &[u8]) -> Result<PythPrice, PriceError> {
    let not = |why| PriceError::NotAPrice {
        account: *account,
        why,
    };
    if *owner != RECEIVER {
        return Err(not("its owner is not Pyth's receiver program"));
    }
    let discriminator: [u8; 8] = {
        use sha2::Digest;
        let hash = sha2::Sha256::digest(b"account:PriceUpdateV2");
        let mut d = [0u8; 8];
        d.copy_from_slice(&hash[..8]);
        d
    };
    if data.get(..8) != Some(&discriminator[..]) {
        return Err(not("its discriminator is another account type's"));
    }
    let message = match data.get(40) {
        Some(1) => 41,
        Some(0) => return Err(PriceError::PartlyVerified(*account)),
        _ => return Err(not("its verification level is unknown")),
    };
    let field = |at: usize, len: usize| -> Result<&[u8], PriceError> {
        data.get(message + at..message + at + len)
            .ok_or(not("it is too short"))
    };
    let int = |at: usize| -> Result<[u8; 8], PriceError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(field(at, 8)?);
        Ok(b)
    };
    let mut feed_id = [0u8; 32];
    feed_id.copy_from_slice(field(0, 32)?);
    let mut exponent = [0u8; 4];
    exponent.copy_from_slice(field(48, 4)?);
    let price = PythPrice {
        feed_id,
        price: i64::from_le_bytes(int(32)?),
        conf: u64::from_le_bytes(int(40)?),
        exponent: i32::from_le_bytes(exponent),
        publish_time: i64::from_le_bytes(int(52)?),
    };
    if price.price <= 0 {
        return Err(not("its price is not a positive amount"));
    }
    if !(-18..=18).contains(&price.exponent) {
        return Err(not("its exponent is out of range"));
    }
    let bps = u128::from(price.conf) * 10_000 / price.price as u128;
    if bps > MAX_CONFIDENCE_BPS {
        return Err(PriceError::Uncertain {
            account: *account,
            bps,
        });
    }
    Ok(price)
}

impl PythPrice {
    /// The price as a rate: units of the quote per unit, times 10^12.
    fn scaled(&self) -> Option<u128> {
        let p = self.price as u128;
        let shift = 12 + self.exponent;
        if shift >= 0 {
            p.checked_mul(10u128.checked_pow(shift as u32)?)
        } else {
            Some(p / 10u128.checked_pow((-shift) as u32)?)
        }
    }
}

/// The feeds (and their accounts) a rate of `currency` (`"SOL"` or
/// `"USDC"`) in `fiat` needs, in the order [`rate`] takes their prices.
pub fn feeds(currency: &str, fiat: &Fiat) -> Result<Vec<[u8; 32]>, PriceError> {
    let mut feeds = match currency {
        "SOL" => vec![SOL_USD],
        "USDC" => Vec::new(),
        other => return Err(PriceError::NotPriced(other.to_owned())),
    };
    match fiat.usd {
        Usd::Is => {}
        Usd::PerUnit(id) | Usd::UnitsPer(id) => feeds.push(id),
    }
    Ok(feeds)
}

/// A rate: how much of a fiat currency one whole SOL or USDC is worth, and
/// when the oldest price it was made of was published.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rate {
    /// "SOL" or "USDC".
    pub currency: String,
    /// The fiat currency's code.
    pub fiat: String,
    /// Fiat per whole unit, times 10^12.
    pub scaled: u128,
    /// When its oldest price was published (Unix seconds); `i64::MAX` when
    /// no price is read (USDC in US dollars, priced 1:1).
    pub published_at: i64,
}

/// The rate of `currency` in `fiat` from `prices`, the feeds [`feeds`]
/// names, in its order; each price must be the feed asked for.
pub fn rate(currency: &str, fiat: &Fiat, prices: &[PythPrice]) -> Result<Rate, PriceError> {
    let wanted = feeds(currency, fiat)?;
    let range = || PriceError::OutOfRange(format!("{currency} in {}", fiat.code));
    if prices.len() != wanted.len() || prices.iter().zip(&wanted).any(|(p, w)| p.feed_id != *w) {
        return Err(range());
    }
    let mut usd = match currency {
        "SOL" => prices[0].scaled().ok_or_else(range)?,
        _ => SCALE,
    };
    let fx = prices
        .get(wanted.len().wrapping_sub(1))
        .filter(|_| fiat.usd != Usd::Is);
    if let Some(fx) = fx {
        let fx_scaled = fx.scaled().filter(|s| *s > 0).ok_or_else(range)?;
        usd = match fiat.usd {
            // EUR per unit = USD per unit / USD per EUR.
            Usd::PerUnit(_) => usd.checked_mul(SCALE).ok_or_else(range)? / fx_scaled,
            // JPY per unit = USD per unit * JPY per USD.
            Usd::UnitsPer(_) => usd.checked_mul(fx_scaled).ok_or_else(range)? / SCALE,
            Usd::Is => usd,
        };
    }
    if usd == 0 {
        return Err(range());
    }
    Ok(Rate {
        currency: currency.to_owned(),
        fiat: fiat.code.to_owned(),
        scaled: usd,
        published_at: prices
            .iter()
            .map(|p| p.publish_time)
            .min()
            .unwrap_or(i64::MAX),
    })
}

impl Rate {
    /// Base units of the currency (with `decimals`) that `minor` units of
    /// the fiat currency buy, rounded up: never less than the price.
    pub fn units_for(&self, minor: u64, fiat: &Fiat, decimals: u8) -> Result<u64, PriceError> {
        let range = || PriceError::OutOfRange(fiat.words(minor, Separator::Point));
        let numerator = u128::from(minor)
            .checked_mul(10u128.pow(u32::from(decimals)))
            .and_then(|n| n.checked_mul(SCALE))
            .ok_or_else(range)?;
        let denominator = 10u128
            .pow(u32::from(fiat.decimals))
            .checked_mul(self.scaled)
            .ok_or_else(range)?;
        u64::try_from(numerator.div_ceil(denominator)).map_err(|_| range())
    }

    /// The rate as decimal text with six places, as exports keep it
    /// ("142.370000": fiat per whole unit).
    pub fn decimal(&self) -> String {
        let millionths = self.scaled / 1_000_000;
        format!("{}.{:06}", millionths / 1_000_000, millionths % 1_000_000)
    }

    /// The rate in words ("1 SOL = 142.37 EUR"), rounded to the fiat's
    /// minor units.
    pub fn words(&self, fiat: &Fiat, separator: Separator) -> String {
        let unit = 10u128.pow(u32::from(fiat.decimals));
        let minor = (self.scaled * unit + SCALE / 2) / SCALE;
        let minor = u64::try_from(minor).unwrap_or(u64::MAX);
        format!("1 {} = {}", self.currency, fiat.words(minor, separator))
    }

    /// Whether it may still price a sale at `now`, no older than `limit`
    /// seconds: the refusal says its age and what to do instead.
    pub fn usable(&self, now: i64, limit: u64) -> Result<(), PriceError> {
        let age = now.saturating_sub(self.published_at).max(0) as u64;
        if age <= limit {
            return Ok(());
        }
        Err(PriceError::TooOld {
            age: age_words(age),
            limit: age_words(limit),
            currency: self.currency.clone(),
        })
    }
}

/// Reads the rate of `currency` in `fiat` from the cluster `chain`: each
/// feed's price account (one call each, no retries: a till waiting for a
/// rate is better told at once that it has none). A network failure is
/// `Err(Ok(message))`; an account that is missing or not a good price is
/// `Err(Err(why))`.
pub async fn read<C: crate::chain::Chain>(
    chain: &C,
    currency: &str,
    fiat: &Fiat,
) -> Result<Rate, Result<String, PriceError>> {
    let mut prices = Vec::new();
    for feed in feeds(currency, fiat).map_err(Err)? {
        let key = feed_account(&feed);
        let account = chain
            .account(key)
            .await
            .map_err(|e| Ok(e.to_string()))?
            .ok_or(Err(PriceError::Missing(key)))?;
        let price = decode(&key, &account.owner, &account.data).map_err(Err)?;
        if price.feed_id != feed {
            return Err(Err(PriceError::NotAPrice {
                account: key,
                why: "it prices another feed",
            }));
        }
        prices.push(price);
    }
    rate(currency, fiat, &prices).map_err(Err)
}

/// Where a rate came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Read from the cluster just now.
    Read,
    /// The last one read, kept: the cluster could not be reached (why).
    Kept(String),
}

/// The rate of `currency` in `fiat` now: read from the cluster `chain`
/// (within 10 seconds) and kept in `store`, or, when the cluster cannot be
/// reached, the last one kept. Its age is for the caller to judge
/// ([`Rate::usable`]).
pub async fn current<C: crate::chain::Chain>(
    chain: &C,
    store: &mut crate::store::Store,
    currency: &str,
    fiat: &Fiat,
) -> Result<(Rate, Source), PriceError> {
    let kept = |e: crate::store::StoreError| PriceError::Store(e.to_string());
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        read(chain, currency, fiat),
    )
    .await
    .unwrap_or_else(|_| Err(Ok("no answer within 10 seconds".into())));
    match read {
        Ok(rate) => {
            store.keep_rate(&rate).map_err(kept)?;
            Ok((rate, Source::Read))
        }
        Err(Err(e)) => Err(e),
        Err(Ok(network)) => match store.kept_rate(currency, fiat.code).map_err(kept)? {
            Some(rate) => Ok((rate, Source::Kept(network))),
            None => Err(PriceError::NeverRead {
                pair: format!("{currency}/{}", fiat.code),
                currency: currency.to_owned(),
            }),
        },
    }
}

/// A tip on a sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tip {
    /// None.
    None,
    /// A whole percentage of the price.
    Percent(u32),
    /// An amount, in the units the price was typed in.
    Amount(u64),
}

/// What a sale asks, once priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    /// Everything asked, tip included, in the currency's base units.
    pub total: u64,
    /// The tip within `total`, in base units.
    pub tip: u64,
    /// The fiat side, when it was priced in the merchant's currency.
    pub fiat: Option<crate::store::FiatPrice>,
}

/// Prices a sale: `price` (and a `tip`) in the fiat currency's minor units
/// converted at `rate` when `fiat` is given, else in the currency's base
/// units as they are. A fiat total is converted whole and the tip is the
/// difference, so the parts add up to exactly what is asked.
pub fn price_sale(
    price: u64,
    tip: Tip,
    fiat: Option<(&Fiat, &Rate)>,
    decimals: u8,
) -> Result<Priced, PriceError> {
    let tip_part = match tip {
        Tip::None => 0,
        Tip::Percent(p) => percent_of(price, p),
        Tip::Amount(a) => a,
    };
    let whole = price
        .checked_add(tip_part)
        .ok_or_else(|| PriceError::OutOfRange("the price with its tip".into()))?;
    let Some((fiat, rate)) = fiat else {
        return Ok(Priced {
            total: whole,
            tip: tip_part,
            fiat: None,
        });
    };
    let total = rate.units_for(whole, fiat, decimals)?;
    let without_tip = rate.units_for(price, fiat, decimals)?;
    Ok(Priced {
        total,
        tip: total - without_tip,
        fiat: Some(crate::store::FiatPrice {
            code: fiat.code.to_owned(),
            amount: whole,
            tip: tip_part,
            rate: rate.decimal(),
            rate_at: rate.published_at,
        }),
    })
}

/// `minor` units of a currency with `decimals` as decimal text with a
/// point and every minor digit ("12.50").
pub fn fixed(minor: u64, decimals: u8) -> String {
    let digits = usize::from(decimals);
    match 10u64.checked_pow(u32::from(decimals)) {
        Some(unit) if digits > 0 => format!("{}.{:0digits$}", minor / unit, minor % unit),
        _ => minor.to_string(),
    }
}

/// A span of seconds as people say it ("4 minutes", "2 hours").
pub fn age_words(seconds: u64) -> String {
    let (n, unit) = match seconds {
        0..60 => (seconds, "second"),
        60..3_600 => (seconds / 60, "minute"),
        3_600..86_400 => (seconds / 3_600, "hour"),
        _ => (seconds / 86_400, "day"),
    };
    crate::words::counted(n, unit)
}

/// The whole percentage `percent` of `minor`, rounded half up.
pub fn percent_of(minor: u64, percent: u32) -> u64 {
    let p = u128::from(minor) * u128::from(percent);
    u64::try_from((p + 50) / 100).unwrap_or(u64::MAX)
}

/// A 32-byte feed id from its 64 hex digits (at compile time).
const fn hex32(text: &str) -> [u8; 32] {
    let b = text.as_bytes();
    assert!(b.len() == 64, "a feed id is 64 hex digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("a feed id is lower-case hex"),
    }
}

#[cfg(test)]
mod tests;
