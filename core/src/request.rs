//! Payment requests (merchant -> payer): Solana Pay transfer-request URLs,
//! so any online Solana wallet can pay a TOSS till's QR code, with TOSS's
//! own parameters that those wallets ignore.
//!
//! ```text
//! solana:<recipient>?amount=1.5&spl-token=<mint>&reference=<key>&label=Cafe
//!        &message=Order%2042&memo=42&toss-key=<merchant Noise key>&toss-offline=1
//! ```
//!
//! Rules (Solana Pay's, checked one by one, each with its own message): the
//! recipient is a base58 wallet address, on the Ed25519 curve (a token
//! account or other program address is off the curve and refused, since
//! wallets derive the token account themselves); `amount` is a decimal in
//! the currency's units, no sign or exponent, a digit before any point;
//! `spl-token` a mint address; `reference` any number of addresses;
//! `label`, `message`, `memo` percent-encoded UTF-8; no field but
//! `reference` repeats. TOSS adds `toss-key` (the merchant's Noise static
//! key, base58) and `toss-offline` (1 when the till accepts offline
//! intents). Transaction requests (`solana:https://...`) are not transfer
//! requests and are refused as such.

use solana_program::pubkey::Pubkey;

use crate::amount::{self, AmountError};

const SCHEME: &str = "solana:";
/// The longest link @solana/pay reads.
pub(crate) const MAX_URL: usize = 2048;

/// A transfer request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PaymentRequest {
    /// The wallet to pay: a point on the Ed25519 curve, never a token account.
    #[serde(serialize_with = "crate::address::serialize_pubkey")]
    pub recipient: Pubkey,
    /// As written, in the currency's units ("1.5"); checked to be a
    /// well-formed decimal.
    pub amount: Option<String>,
    /// The token mint to pay in (`spl-token`); `None`: SOL.
    #[serde(serialize_with = "crate::address::serialize_opt_pubkey")]
    pub spl_token: Option<Pubkey>,
    /// Keys the payment transaction carries so the till can find it on chain.
    #[serde(serialize_with = "serialize_pubkeys")]
    pub references: Vec<Pubkey>,
    /// Who asks to be paid (a store name), shown to the payer; decoded.
    pub label: Option<String>,
    /// What the payment is for, shown to the payer; decoded.
    pub message: Option<String>,
    /// Text the payment should carry as its memo; decoded.
    pub memo: Option<String>,
    /// The merchant's Noise static key: the payer can open an IK session.
    #[serde(serialize_with = "serialize_opt_key")]
    pub noise_key: Option<[u8; 32]>,
    /// The till accepts offline intents for this request.
    pub offline: bool,
}

fn serialize_pubkeys<S: serde::Serializer>(v: &[Pubkey], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(Pubkey::to_string))
}

fn serialize_opt_key<S: serde::Serializer>(v: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(k) => s.serialize_some(&bs58::encode(k).into_string()),
        None => s.serialize_none(),
    }
}

/// A fresh random reference: the key a till watches for on-chain, and
/// what a Noise session with the payer is bound to.
pub fn new_reference() -> Result<Pubkey, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(Pubkey::new_from_array(bytes))
}

/// Which rule a URL broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Longer than Solana Pay allows.
    #[error("the link is {0} characters long; Solana Pay links are at most 2048")]
    TooLong(usize),
    /// The URL does not start with `solana:`.
    #[error("not a Solana Pay URL: it must start with \"solana:\"")]
    NotSolanaPay,
    /// An `http(s):` link: a transaction request, which TOSS does not pay.
    #[error("this is a Solana Pay transaction request (an https link), not a transfer request")]
    TransactionRequest,
    /// The recipient is not a base58 32-byte address; carries it.
    #[error("the recipient {0:?} is not a Solana address (base58, 32 bytes)")]
    BadRecipient(String),
    /// The recipient is off the Ed25519 curve (a token account or PDA).
    #[error(
        "the recipient {0} is not a wallet address (it is off the Ed25519 curve: a token account or program address); ask for the wallet's own address"
    )]
    RecipientNotWallet(Pubkey),
    /// `amount` breaks Solana Pay's decimal rules or the currency's decimals.
    #[error("the amount is invalid: {0}")]
    BadAmount(AmountError),
    /// A field that must be an address is not a base58 32-byte key.
    #[error("{field} {value:?} is not a Solana address (base58, 32 bytes)")]
    BadAddress {
        /// The query field (`spl-token`, `reference`).
        field: &'static str,
        /// Its value as written.
        value: String,
    },
    /// A field other than `reference` appears twice; carries its name.
    #[error("the field {0} appears more than once")]
    Repeated(String),
    /// A field is not valid percent-encoded UTF-8; carries its name.
    #[error("the field {0} is not valid percent-encoded UTF-8")]
    BadEncoding(String),
    /// `toss-key` is not a base58 32-byte key; carries it.
    #[error("toss-key {0:?} is not a 32-byte key in base58")]
    BadNoiseKey(String),
    /// `toss-offline` is neither 0 nor 1; carries it.
    #[error("toss-offline must be 0 or 1, not {0:?}")]
    BadOffline(String),
    /// `toss-key` is given without a `reference` to bind the session to.
    #[error("toss-key needs a reference: the secure session is bound to it")]
    NoReference,
    /// `amount` is zero: there is nothing to pay.
    #[error("the amount is 0: there is nothing to pay")]
    ZeroAmount,
}

fn address(field: &'static str, value: &str) -> Result<Pubkey, RequestError> {
    let bad = || RequestError::BadAddress {
        field,
        value: value.to_owned(),
    };
    let bytes: [u8; 32] = bs58::decode(value)
        .into_vec()
        .map_err(|_| bad())?
        .try_into()
        .map_err(|_| bad())?;
    Ok(Pubkey::new_from_array(bytes))
}

/// Percent-decodes one query component ('+' is a space, as browsers and
/// Solana Pay's reference parser read it).
pub(crate) fn decode(field: &str, raw: &str) -> Result<String, RequestError> {
    let bad = || RequestError::BadEncoding(field.to_owned());
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return Err(bad());
                }
                let text = std::str::from_utf8(hex).map_err(|_| bad())?;
                out.push(u8::from_str_radix(text, 16).map_err(|_| bad())?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// Percent-encodes everything but the unreserved characters.
pub(crate) fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What follows the `solana:` scheme of `text`, as @solana/pay reads a
/// link: surrounding whitespace trimmed, the scheme in any case. `None`
/// when `text` is not a Solana Pay link at all.
pub(crate) fn after_scheme(text: &str) -> Option<&str> {
    let text = text.trim();
    text.get(..SCHEME.len())
        .filter(|s| s.eq_ignore_ascii_case(SCHEME))
        .map(|_| &text[SCHEME.len()..])
}

/// Whether `key` is a point on the Ed25519 curve (a wallet can own it).
pub(crate) fn on_curve(key: &Pubkey) -> bool {
    ed25519_dalek::VerifyingKey::from_bytes(&key.to_bytes()).is_ok()
}

impl PaymentRequest {
    /// A request for `amount` (or any amount) paid to `recipient`.
    pub fn new(recipient: Pubkey) -> Self {
        Self {
            recipient,
            amount: None,
            spl_token: None,
            references: Vec::new(),
            label: None,
            message: None,
            memo: None,
            noise_key: None,
            offline: false,
        }
    }

    /// The amount in base units, given the currency's decimals (9 for SOL).
    pub fn amount_units(&self, decimals: u8) -> Result<Option<u64>, RequestError> {
        self.amount
            .as_deref()
            .map(|a| amount::parse(a, decimals).map_err(RequestError::BadAmount))
            .transpose()
    }

    /// Parses a `solana:` transfer-request URL, checking every rule above.
    /// As @solana/pay reads one: the scheme in any case, a `#fragment`
    /// dropped, at most 2,048 characters; an empty label, message or memo
    /// is no label, message or memo.
    pub fn parse(url: &str) -> Result<Self, RequestError> {
        let url = url.trim();
        if url.len() > MAX_URL {
            return Err(RequestError::TooLong(url.len()));
        }
        let rest = after_scheme(url).ok_or(RequestError::NotSolanaPay)?;
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let path = decode("recipient", path)?;
        if path.starts_with("https:") || path.starts_with("http:") {
            return Err(RequestError::TransactionRequest);
        }
        let recipient =
            address("recipient", &path).map_err(|_| RequestError::BadRecipient(path.clone()))?;
        if !on_curve(&recipient) {
            return Err(RequestError::RecipientNotWallet(recipient));
        }
        let mut r = Self::new(recipient);
        let mut seen: Vec<String> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode("a field name", k)?;
            let value = decode(&key, v)?;
            // Solana Pay's single-valued fields and TOSS's; other
            // wallets' parameters are none of ours, repeated or not.
            const SINGLE: [&str; 7] = [
                "amount",
                "spl-token",
                "label",
                "message",
                "memo",
                "toss-key",
                "toss-offline",
            ];
            if SINGLE.contains(&key.as_str()) {
                if seen.contains(&key) {
                    return Err(RequestError::Repeated(key));
                }
                seen.push(key.clone());
            }
            match key.as_str() {
                "amount" => {
                    // The syntax is checked now; the decimals once the
                    // currency is known (`amount_units`).
                    let places = value.split_once('.').map_or(0, |(_, f)| f.len());
                    let units = amount::parse(&value, places.min(19) as u8)
                        .map_err(RequestError::BadAmount)?;
                    if units == 0 {
                        return Err(RequestError::ZeroAmount);
                    }
                    r.amount = Some(value);
                }
                "spl-token" => r.spl_token = Some(address("spl-token", &value)?),
                "reference" => r.references.push(address("reference", &value)?),
                "label" => r.label = Some(value).filter(|v| !v.is_empty()),
                "message" => r.message = Some(value).filter(|v| !v.is_empty()),
                "memo" => r.memo = Some(value).filter(|v| !v.is_empty()),
                "toss-key" => {
                    let bad = || RequestError::BadNoiseKey(value.clone());
                    let key: [u8; 32] = bs58::decode(&value)
                        .into_vec()
                        .map_err(|_| bad())?
                        .try_into()
                        .map_err(|_| bad())?;
                    r.noise_key = Some(key);
                }
                "toss-offline" => {
                    r.offline = match value.as_str() {
                        "1" => true,
                        "0" => false,
                        _ => return Err(RequestError::BadOffline(value)),
                    }
                }
                _ => {} // other parameters are for other wallets
            }
        }
        if r.noise_key.is_some() && r.references.is_empty() {
            return Err(RequestError::NoReference);
        }
        // Where the currency's decimals are known (SOL, USDC), more places
        // is malformed, as the spec says a wallet must refuse.
        let decimals = match &r.spl_token {
            None => Some(amount::SOL_DECIMALS),
            Some(mint) => crate::currency::known_decimals(mint),
        };
        if let Some(decimals) = decimals {
            r.amount_units(decimals)?;
        }
        Ok(r)
    }

    /// The URL, fields in Solana Pay's order, TOSS's last.
    pub fn to_url(&self) -> String {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(a) = &self.amount {
            q.push(("amount", a.clone()));
        }
        if let Some(m) = &self.spl_token {
            q.push(("spl-token", m.to_string()));
        }
        q.extend(self.references.iter().map(|r| ("reference", r.to_string())));
        for (k, v) in [
            ("label", &self.label),
            ("message", &self.message),
            ("memo", &self.memo),
        ] {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                q.push((k, v.clone()));
            }
        }
        if let Some(k) = &self.noise_key {
            q.push(("toss-key", bs58::encode(k).into_string()));
        }
        if self.offline {
            q.push(("toss-offline", "1".into()));
        }
        let query: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        match query.is_empty() {
            true => format!("{SCHEME}{}", self.recipient),
            false => format!("{SCHEME}{}?{}", self.recipient, query.join("&")),
        }
    }
}

#[cfg(test)]
mod tests;
