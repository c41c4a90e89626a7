//! The air-gapped laptop as a signer other Solana tools speak to, in
//! Keystone's UR types (docs/airgap.md): a `sol-sign-request` (CBOR map:
//! 1 request id, tag 37; 2 sign data; 3 derivation path, tag 304; 4
//! address; 5 origin; 6 sign type, 1 transaction or 2 message) is read,
//! what it asks is described in words (each instruction of the message,
//! what the wallet cannot explain said as such), then signed by the
//! account the path names and answered as a `sol-signature` (1 request
//! id, 2 signature). The wallet's accounts go out watch-only as
//! `crypto-multi-accounts`.

pub mod cbor;

use cbor::Cbor;
use solana_message::VersionedMessage;
use solana_program::pubkey::Pubkey;

use crate::config::Cluster;
use crate::currency::money;
use crate::transaction_request::{COMPUTE_BUDGET, SIGNATURE_FEE, SYSTEM_PROGRAM, TOKEN_2022};

/// The UR type of a request to sign.
pub const SIGN_REQUEST: &str = "sol-sign-request";
/// The UR type of the answer.
pub const SIGNATURE: &str = "sol-signature";
/// The UR type of the accounts handed out watch-only.
pub const MULTI_ACCOUNTS: &str = "crypto-multi-accounts";
const UUID_TAG: u64 = 37;
const HDKEY_TAG: u64 = 303;
const KEYPATH_TAG: u64 = 304;
const HARDENED: u32 = 0x8000_0000;

/// Why a request cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AirgapError {
    /// Not CBOR this reads.
    #[error("the request cannot be read: {0}")]
    Cbor(#[from] cbor::CborError),
    /// A field is missing or of the wrong kind.
    #[error("the request is not a sol-sign-request: {0}")]
    Malformed(&'static str),
    /// A UR of another type.
    #[error("this code is a {0}, not a sol-sign-request")]
    WrongType(String),
    /// The path names no account of this wallet.
    #[error("this wallet holds no key at {0}: the request was made for another account")]
    NoSuchAccount(String),
    /// The request names another wallet.
    #[error("this request was made for another wallet (fingerprint {0:08x})")]
    OtherWallet(u32),
    /// The sign data is not a Solana message.
    #[error("the data to sign is not a Solana transaction message: {0}")]
    NotAMessage(String),
    /// The message is not to be signed by the account.
    #[error("the transaction does not ask {0} to sign it")]
    NotASigner(Pubkey),
    /// The answer's signature is not the account's over the request.
    #[error(
        "the signature does not verify for {0}: it was not made by that account over this request"
    )]
    BadSignature(Pubkey),
    /// Something unexplained was not confirmed a second time.
    #[error(
        "this transaction does something this wallet cannot explain: confirm that too before it is signed"
    )]
    Unconfirmed,
    /// Something the wallet cannot explain, and the settings refuse those.
    #[error(
        "the transaction does something this wallet cannot explain ({0}); the settings refuse such requests (unexplained_instructions)"
    )]
    Unexplained(String),
}

/// A derivation path: (index, hardened) per level.
pub type Path = Vec<(u32, bool)>;

/// An account of this wallet as the UR types see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// Its public key.
    pub key: Pubkey,
    /// Its derivation path, when it was derived from the phrase.
    pub path: Option<Path>,
    /// Its name.
    pub name: String,
}

/// What the wallet does with a request it cannot fully explain (setting
/// `unexplained_instructions`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unexplained {
    /// Shown as such; signed only after a second confirmation.
    #[default]
    Confirm,
    /// Refused.
    Refuse,
}

impl Unexplained {
    /// The setting's values, in words.
    pub const ALLOWED: &'static str = "confirm (signed after a second confirmation) or refuse";

    /// Reads the setting.
    pub fn parse(v: &str) -> Option<Self> {
        match v.trim().to_ascii_lowercase().as_str() {
            "confirm" => Some(Self::Confirm),
            "refuse" => Some(Self::Refuse),
            _ => None,
        }
    }
}

/// Reads a `ur:sol-sign-request/…` (one part; an animated code is
/// assembled into one first, `transport::animated`).
pub fn read(text: &str) -> Result<SignRequest, AirgapError> {
    let text = text.trim().to_ascii_lowercase();
    let kind = text
        .strip_prefix("ur:")
        .and_then(|t| t.split('/').next())
        .ok_or_else(|| AirgapError::WrongType("code that is not a UR".into()))?;
    if kind != SIGN_REQUEST {
        return Err(AirgapError::WrongType(format!("ur:{kind}")));
    }
    // "ur:type/seq-count/body": one frame of an animated code.
    if text.splitn(3, '/').nth(2).is_some() {
        return Err(AirgapError::Malformed(
            "it is one part of an animated code: read all its frames",
        ));
    }
    match ur::decode(&text) {
        Ok((ur::ur::Kind::SinglePart, message)) => SignRequest::decode(&message),
        _ => Err(AirgapError::Malformed("its UR text is damaged")),
    }
}

/// What a request asks to be signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignType {
    /// A transaction's message.
    Transaction,
    /// An off-chain message.
    Message,
}

/// A `sol-sign-request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignRequest {
    /// The requester's id for it (16 bytes, a UUID), echoed in the answer.
    pub request_id: Option<Vec<u8>>,
    /// The bytes to sign.
    pub sign_data: Vec<u8>,
    /// The derivation path.
    pub path: Path,
    /// The wallet the request was made for (its master fingerprint).
    pub fingerprint: Option<u32>,
    /// The account's address bytes, when given.
    pub address: Option<Vec<u8>>,
    /// Who asks (an app's name).
    pub origin: Option<String>,
    /// Transaction or message.
    pub sign_type: SignType,
}

/// A derivation path as people write it ("m/44'/501'/0'/0'").
pub fn path_text(path: &[(u32, bool)]) -> String {
    let mut out = String::from("m");
    for (i, hardened) in path {
        out.push_str(&format!("/{i}{}", if *hardened { "'" } else { "" }));
    }
    out
}

/// Key 1 of a request and of its answer: the request id as a UUID (tag 37).
fn request_id(id: &Option<Vec<u8>>) -> Option<(Cbor, Cbor)> {
    id.as_ref().map(|id| {
        (
            Cbor::Uint(1),
            Cbor::Tag(UUID_TAG, Box::new(Cbor::Bytes(id.clone()))),
        )
    })
}

fn keypath(path: &[(u32, bool)], fingerprint: Option<u32>) -> Cbor {
    let mut components = Vec::new();
    for (i, h) in path {
        components.push(Cbor::Uint(u64::from(*i)));
        components.push(Cbor::Bool(*h));
    }
    let mut map = vec![(Cbor::Uint(1), Cbor::Array(components))];
    if let Some(f) = fingerprint {
        map.push((Cbor::Uint(2), Cbor::Uint(u64::from(f))));
    }
    Cbor::Tag(KEYPATH_TAG, Box::new(Cbor::Map(map)))
}

impl SignRequest {
    /// Reads a request from its CBOR (the UR's message).
    pub fn decode(bytes: &[u8]) -> Result<Self, AirgapError> {
        let map = cbor::decode(bytes)?;
        let map = map.untag(1101);
        if !matches!(map, Cbor::Map(_)) {
            return Err(AirgapError::Malformed("it is not a map"));
        }
        let bad = AirgapError::Malformed;
        let request_id = match map.get(1).map(|v| v.untag(UUID_TAG)) {
            None => None,
            Some(Cbor::Bytes(b)) if b.len() == 16 => Some(b.clone()),
            Some(_) => return Err(bad("its request id is not a UUID")),
        };
        let sign_data = match map.get(2) {
            Some(Cbor::Bytes(b)) if !b.is_empty() => b.clone(),
            _ => return Err(bad("it has no data to sign")),
        };
        let path_map = map
            .get(3)
            .map(|v| v.untag(KEYPATH_TAG))
            .ok_or(bad("it names no derivation path"))?;
        let Some(Cbor::Array(components)) = path_map.get(1) else {
            return Err(bad("its derivation path has no components"));
        };
        if components.len() % 2 != 0 || components.len() > 20 {
            return Err(bad("its derivation path is malformed"));
        }
        let path = components
            .chunks(2)
            .map(|c| match (&c[0], &c[1]) {
                (Cbor::Uint(i), Cbor::Bool(h)) if *i < u64::from(HARDENED) => Ok((*i as u32, *h)),
                _ => Err(bad("its derivation path is malformed")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let fingerprint = match path_map.get(2) {
            None => None,
            Some(Cbor::Uint(f)) => {
                Some(u32::try_from(*f).map_err(|_| bad("its fingerprint is not 32 bits"))?)
            }
            Some(_) => return Err(bad("its fingerprint is not a number")),
        };
        let address = match map.get(4) {
            None => None,
            Some(Cbor::Bytes(b)) => Some(b.clone()),
            Some(_) => return Err(bad("its address is not bytes")),
        };
        let origin = match map.get(5) {
            None => None,
            Some(Cbor::Text(t)) => Some(t.chars().filter(|c| !c.is_control()).take(64).collect()),
            Some(_) => return Err(bad("its origin is not text")),
        };
        let sign_type = match map.get(6) {
            Some(Cbor::Uint(1)) | None => SignType::Transaction,
            Some(Cbor::Uint(2)) => SignType::Message,
            Some(_) => {
                return Err(bad(
                    "it asks to sign something other than a transaction or a message",
                ));
            }
        };
        Ok(Self {
            request_id,
            sign_data,
            path,
            fingerprint,
            address,
            origin,
            sign_type,
        })
    }

    /// The request's CBOR, as an online TOSS makes it for the laptop.
    pub fn encode(&self) -> Vec<u8> {
        let mut map: Vec<(Cbor, Cbor)> = request_id(&self.request_id).into_iter().collect();
        map.push((Cbor::Uint(2), Cbor::Bytes(self.sign_data.clone())));
        map.push((Cbor::Uint(3), keypath(&self.path, self.fingerprint)));
        if let Some(a) = &self.address {
            map.push((Cbor::Uint(4), Cbor::Bytes(a.clone())));
        }
        if let Some(o) = &self.origin {
            map.push((Cbor::Uint(5), Cbor::Text(o.clone())));
        }
        let kind = match self.sign_type {
            SignType::Transaction => 1,
            SignType::Message => 2,
        };
        map.push((Cbor::Uint(6), Cbor::Uint(kind)));
        cbor::encode(&Cbor::Map(map))
    }

    /// The request as a single-part UR, upper-case for a denser code.
    pub fn to_ur(&self) -> String {
        ur::ur::encode(&self.encode(), &ur::Type::Custom(SIGN_REQUEST)).to_ascii_uppercase()
    }

    /// Which of `accounts` the request names: by its address when it gives
    /// one, else by its path; refused when it was made for another wallet
    /// than `fingerprint`.
    pub fn account(&self, accounts: &[Held], fingerprint: u32) -> Result<Pubkey, AirgapError> {
        if let Some(f) = self.fingerprint.filter(|f| *f != fingerprint && *f != 0) {
            return Err(AirgapError::OtherWallet(f));
        }
        let by_address = self
            .address
            .as_deref()
            .and_then(|a| <[u8; 32]>::try_from(a).ok())
            .map(Pubkey::new_from_array);
        accounts
            .iter()
            .find(|held| match by_address {
                Some(a) => a == held.key,
                None => held.path.as_deref() == Some(&self.path[..]),
            })
            .map(|held| held.key)
            .ok_or_else(|| AirgapError::NoSuchAccount(path_text(&self.path)))
    }
}

/// A `sol-signature`: the answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolSignature {
    /// The request's id, echoed.
    pub request_id: Option<Vec<u8>>,
    /// The Ed25519 signature.
    pub signature: [u8; 64],
}

impl SolSignature {
    /// Its CBOR (the UR's message).
    pub fn encode(&self) -> Vec<u8> {
        let mut map: Vec<(Cbor, Cbor)> = request_id(&self.request_id).into_iter().collect();
        map.push((Cbor::Uint(2), Cbor::Bytes(self.signature.to_vec())));
        cbor::encode(&Cbor::Map(map))
    }

    /// Reads a `ur:sol-signature/…` (the online side).
    pub fn read(text: &str) -> Result<Self, AirgapError> {
        let text = text.trim().to_ascii_lowercase();
        if !text.starts_with(&format!("ur:{SIGNATURE}/")) {
            return Err(AirgapError::WrongType(
                text.split('/').next().unwrap_or_default().to_owned(),
            ));
        }
        let (_, cbor) =
            ur::decode(&text).map_err(|_| AirgapError::Malformed("its UR text is damaged"))?;
        Self::decode(&cbor)
    }

    /// Reads an answer's CBOR.
    pub fn decode(bytes: &[u8]) -> Result<Self, AirgapError> {
        let map = cbor::decode(bytes)?;
        let request_id = match map.get(1).map(|v| v.untag(UUID_TAG)) {
            None => None,
            Some(Cbor::Bytes(b)) => Some(b.clone()),
            Some(_) => return Err(AirgapError::Malformed("its request id is not bytes")),
        };
        let signature = match map.get(2) {
            Some(Cbor::Bytes(b)) => <[u8; 64]>::try_from(b.as_slice())
                .map_err(|_| AirgapError::Malformed("its signature is not 64 bytes"))?,
            _ => return Err(AirgapError::Malformed("it holds no signature")),
        };
        Ok(Self {
            request_id,
            signature,
        })
    }
}

/// The wallet's accounts watch-only, as `crypto-multi-accounts`: each an
/// `crypto-hdkey` (tag 303) with its Ed25519 public key and, when derived,
/// its origin path; `fingerprint` names the wallet.
pub fn multi_accounts(fingerprint: u32, accounts: &[Held], device: &str) -> Vec<u8> {
    let keys = accounts
        .iter()
        .map(|held| {
            let mut map = vec![(Cbor::Uint(3), Cbor::Bytes(held.key.to_bytes().to_vec()))];
            if let Some(path) = &held.path {
                map.push((Cbor::Uint(6), keypath(path, Some(fingerprint))));
            }
            map.push((Cbor::Uint(9), Cbor::Text(held.name.clone())));
            Cbor::Tag(HDKEY_TAG, Box::new(Cbor::Map(map)))
        })
        .collect();
    cbor::encode(&Cbor::Map(vec![
        (Cbor::Uint(1), Cbor::Uint(u64::from(fingerprint))),
        (Cbor::Uint(2), Cbor::Array(keys)),
        (Cbor::Uint(3), Cbor::Text(device.to_owned())),
    ]))
}

/// This wallet's fingerprint in the UR types: the first four bytes of
/// SHA-256 of its wallet id (its keys are Ed25519, so BIP32's
/// secp256k1 fingerprint does not apply; requesters echo it back).
pub fn fingerprint(wallet_id: &str) -> u32 {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(format!("TOSS wallet {wallet_id}").as_bytes());
    u32::from_be_bytes([hash[0], hash[1], hash[2], hash[3]])
}

/// One thing a transaction does, in words.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    /// What it does.
    pub text: String,
    /// Whether the wallet understood it (false: shown as such, and only
    /// signed after a second confirmation, or refused by the settings).
    pub explained: bool,
}

/// What a request asks, in words.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Described {
    /// Transaction or message.
    pub sign_type: SignType,
    /// The account that signs.
    #[serde(serialize_with = "crate::address::serialize_pubkey")]
    pub signer: Pubkey,
    /// Who asks, as the request says (not checked).
    pub origin: Option<String>,
    /// The transaction's steps, in order (empty for a message).
    pub steps: Vec<Step>,
    /// The fee, in words, and who pays it.
    pub fee_text: Option<String>,
    /// An off-chain message as text (or hex when not UTF-8).
    pub message_text: Option<String>,
    /// Whether anything is not explained.
    pub unexplained: bool,
}

/// Describes what `request` asks `signer` to sign, worded for `cluster`
/// (whose TOSS program is `toss_program`, when set).
pub fn describe(
    request: &SignRequest,
    signer: &Pubkey,
    cluster: Cluster,
    toss_program: Option<&Pubkey>,
) -> Result<Described, AirgapError> {
    let origin = request.origin.clone();
    if request.sign_type == SignType::Message {
        let text = match std::str::from_utf8(&request.sign_data) {
            Ok(t) if !t.chars().any(|c| c.is_control() && c != '\n') => t.to_owned(),
            _ => format!("(not text) {}", hex::encode(&request.sign_data)),
        };
        return Ok(Described {
            sign_type: SignType::Message,
            signer: *signer,
            origin,
            steps: Vec::new(),
            fee_text: None,
            message_text: Some(text),
            unexplained: false,
        });
    }
    let message: VersionedMessage = {
        use bincode::Options;
        bincode::DefaultOptions::new()
            .with_limit(1_232)
            .with_fixint_encoding()
            .reject_trailing_bytes()
            .deserialize(&request.sign_data)
            .map_err(|e| AirgapError::NotAMessage(e.to_string()))?
    };
    message
        .sanitize()
        .map_err(|e| AirgapError::NotAMessage(e.to_string()))?;
    let keys = message.static_account_keys();
    let signers = usize::from(message.header().num_required_signatures);
    if !keys.iter().take(signers).any(|k| k == signer) {
        return Err(AirgapError::NotASigner(*signer));
    }
    let sol = |lamports: u64| money(lamports, None, cluster, crate::amount::Separator::Point);
    let mut steps = Vec::new();
    let (mut cu_limit, mut cu_price, mut counted) = (None, 0u64, 0u64);
    let lookups = message.address_table_lookups().map_or(0, <[_]>::len);
    if lookups > 0 {
        steps.push(Step {
            text: format!(
                "uses {lookups} address lookup table(s): accounts from them cannot be named offline"
            ),
            explained: false,
        });
    }
    for ix in message.instructions() {
        let key = |i: u8| keys.get(usize::from(i)).copied();
        let name = |i: u8| {
            key(i).map_or_else(
                || "an account from a lookup table".to_owned(),
                |k| k.to_string(),
            )
        };
        let program = key(ix.program_id_index).unwrap_or_default();
        let account = |n: usize| {
            ix.accounts
                .get(n)
                .map_or_else(|| "(missing)".to_owned(), |i| name(*i))
        };
        let u64_at = |at: usize| {
            ix.data
                .get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes)
        };
        let (text, explained) = if program == COMPUTE_BUDGET {
            match (ix.data.first(), ix.data.get(1..)) {
                (Some(2), Some(v)) if v.len() == 4 => {
                    let limit = u32::from_le_bytes([v[0], v[1], v[2], v[3]]);
                    cu_limit = Some(u64::from(limit));
                    (format!("sets its compute limit to {limit} units"), true)
                }
                (Some(3), _) if u64_at(1).is_some() => {
                    cu_price = u64_at(1).unwrap_or(0);
                    (
                        format!(
                            "pays a priority fee of {cu_price} micro-lamports per compute unit"
                        ),
                        true,
                    )
                }
                _ => (
                    "a compute budget setting this wallet cannot read".into(),
                    false,
                ),
            }
        } else if crate::solana_pay::MEMO_PROGRAMS.contains(&program) {
            counted += 1;
            match std::str::from_utf8(&ix.data) {
                Ok(t) => (format!("memo: {t:?}"), true),
                Err(_) => ("a memo that is not text".into(), false),
            }
        } else if program == SYSTEM_PROGRAM {
            counted += 1;
            let tag = ix
                .data
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes);
            match (tag, u64_at(4)) {
                (Some(2), Some(l)) if ix.data.len() == 12 => (
                    format!("sends {} from {} to {}", sol(l), account(0), account(1)),
                    true,
                ),
                (Some(0), Some(l)) if ix.data.len() == 52 => (
                    format!(
                        "creates account {} with {} from {} ({} bytes, owned by {})",
                        account(1),
                        sol(l),
                        account(0),
                        u64_at(12).unwrap_or(0),
                        ix.data
                            .get(20..52)
                            .and_then(|b| <[u8; 32]>::try_from(b).ok())
                            .map(Pubkey::new_from_array)
                            .unwrap_or_default()
                    ),
                    true,
                ),
                (Some(4), _) if ix.data.len() == 4 => (
                    format!(
                        "advances durable nonce {} (authority {})",
                        account(0),
                        account(2)
                    ),
                    true,
                ),
                _ => (
                    "a System program instruction this wallet does not explain".into(),
                    false,
                ),
            }
        } else if program == spl_token_interface::ID || program == TOKEN_2022 {
            counted += 1;
            let which = if program == TOKEN_2022 {
                "Token-2022"
            } else {
                "SPL Token"
            };
            match (ix.data.first(), u64_at(1)) {
                (Some(12), Some(amount)) if ix.data.len() == 10 => (
                    format!(
                        "sends {} of token {} ({} decimals) from token account {} to token account {}, authorised by {} ({which})",
                        amount,
                        account(1),
                        ix.data[9],
                        account(0),
                        account(2),
                        account(3)
                    ),
                    true,
                ),
                (Some(3), Some(amount)) if ix.data.len() == 9 => (
                    format!(
                        "sends {amount} base units from token account {} to token account {}, authorised by {} ({which}; the token is not named)",
                        account(0),
                        account(1),
                        account(2)
                    ),
                    true,
                ),
                _ => (
                    format!("a {which} instruction this wallet does not explain"),
                    false,
                ),
            }
        } else if program == crate::address::ATA_PROGRAM {
            counted += 1;
            match ix.data.as_slice() {
                [] | [0] | [1] => (
                    format!(
                        "opens the associated token account {} of {} for token {} (rent paid by {})",
                        account(1),
                        account(2),
                        account(3),
                        account(0)
                    ),
                    true,
                ),
                _ => (
                    "an associated token account instruction this wallet does not explain".into(),
                    false,
                ),
            }
        } else if Some(&program) == toss_program {
            counted += 1;
            use toss_program::instruction::TossInstruction as T;
            match T::unpack(&ix.data) {
                Ok(T::OpenEscrow { withdraw_delay, .. }) => (
                    format!(
                        "opens a TOSS escrow for {} (withdrawals wait {withdraw_delay} s)",
                        account(0)
                    ),
                    true,
                ),
                Ok(T::Deposit { amount }) => (
                    format!(
                        "deposits {amount} base units into the TOSS escrow {} from {}",
                        account(1),
                        account(0)
                    ),
                    true,
                ),
                Ok(T::RequestWithdrawal { amount }) => (
                    format!(
                        "asks to take {amount} base units back from the TOSS escrow {} (after its time lock)",
                        account(1)
                    ),
                    true,
                ),
                Ok(T::Withdraw) => (
                    format!(
                        "withdraws what the TOSS escrow {}'s time lock released",
                        account(1)
                    ),
                    true,
                ),
                Ok(T::Settle { items }) => {
                    (format!("settles {} TOSS payment(s)", items.len()), true)
                }
                Ok(T::SettleSigned { intents }) => {
                    (format!("settles {} TOSS payment(s)", intents.len()), true)
                }
                Ok(T::SettleDurable { .. }) => ("settles a durable TOSS payment".into(), true),
                Ok(T::CloseRecord) => (
                    "closes a TOSS settlement record (its rent comes back)".into(),
                    true,
                ),
                Err(_) => (
                    "a TOSS program instruction this wallet cannot read".into(),
                    false,
                ),
            }
        } else {
            counted += 1;
            (
                format!(
                    "calls program {program}, which this wallet does not know ({} bytes of data)",
                    ix.data.len()
                ),
                false,
            )
        };
        steps.push(Step { text, explained });
    }
    let fee_payer = keys.first().copied().unwrap_or_default();
    let limit = cu_limit.unwrap_or((counted * 200_000).min(1_400_000));
    let fee = SIGNATURE_FEE * signers as u64 + (cu_price * limit).div_ceil(1_000_000);
    let unexplained = steps.iter().any(|s| !s.explained);
    Ok(Described {
        sign_type: SignType::Transaction,
        signer: *signer,
        origin,
        steps,
        fee_text: Some(format!("{} paid by {fee_payer}", sol(fee))),
        message_text: None,
        unexplained,
    })
}

/// A request read and described, waiting for the user's word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The request.
    pub request: SignRequest,
    /// What it asks, in words (its signer among them).
    pub described: Described,
}

impl Prepared {
    /// Reads `text` for this wallet's `accounts` (whose fingerprint is
    /// `fingerprint`), describes it, and refuses it at once when it holds
    /// something unexplained and `policy` refuses those.
    pub fn read(
        text: &str,
        accounts: &[Held],
        fingerprint: u32,
        cluster: Cluster,
        toss_program: Option<&Pubkey>,
        policy: Unexplained,
    ) -> Result<Self, AirgapError> {
        let request = read(text)?;
        let signer = request.account(accounts, fingerprint)?;
        let described = describe(&request, &signer, cluster, toss_program)?;
        if described.unexplained && policy == Unexplained::Refuse {
            let what = described
                .steps
                .iter()
                .find(|s| !s.explained)
                .map_or_else(String::new, |s| s.text.clone());
            return Err(AirgapError::Unexplained(what));
        }
        Ok(Self { request, described })
    }

    /// The answer to show, signed by `key` once the user confirmed (and,
    /// when something is unexplained, confirmed that too): the single-part
    /// `ur:sol-signature/…` text, upper-case for a denser code.
    pub fn answer(
        &self,
        key: &ed25519_dalek::SigningKey,
        confirmed_unexplained: bool,
    ) -> Result<String, AirgapError> {
        if self.described.unexplained && !confirmed_unexplained {
            return Err(AirgapError::Unconfirmed);
        }
        if key.verifying_key().to_bytes() != self.described.signer.to_bytes() {
            return Err(AirgapError::NotASigner(self.described.signer));
        }
        let answer = sign(&self.request, key);
        Ok(ur::ur::encode(&answer.encode(), &ur::Type::Custom(SIGNATURE)).to_ascii_uppercase())
    }
}

/// The online side: a request for `signer` (named by its address, and by
/// `path` when it has one) to sign `ixs` in a transaction it pays for, on
/// `blockhash`; a fresh request id.
pub fn prepare(
    ixs: &[solana_program::instruction::Instruction],
    signer: &Pubkey,
    path: Path,
    blockhash: solana_program::hash::Hash,
    origin: &str,
) -> Result<SignRequest, AirgapError> {
    let message = solana_message::Message::new_with_blockhash(ixs, Some(signer), &blockhash);
    if usize::from(message.header.num_required_signatures) != 1 {
        return Err(AirgapError::Malformed(
            "the transaction needs another signer than the laptop's account",
        ));
    }
    let mut id = [0u8; 16];
    getrandom::fill(&mut id)
        .map_err(|_| AirgapError::Malformed("no randomness for a request id"))?;
    Ok(SignRequest {
        request_id: Some(id.to_vec()),
        sign_data: message.serialize(),
        path,
        fingerprint: None,
        address: Some(signer.to_bytes().to_vec()),
        origin: Some(origin.to_owned()),
        sign_type: SignType::Transaction,
    })
}

/// The online side: a request for the laptop's account `owner` to deposit
/// `lamports` into its TOSS escrow (program `program_id`) on `blockhash`.
pub fn deposit(
    program_id: &Pubkey,
    owner: &Pubkey,
    lamports: u64,
    blockhash: solana_program::hash::Hash,
) -> Result<SignRequest, AirgapError> {
    use toss_program::instruction as ix;
    let deposit = ix::deposit(program_id, owner, ix::Funds::Sol, lamports);
    prepare(&[deposit], owner, Vec::new(), blockhash, "TOSS")
}

/// The online side: the transaction `request` asked for with the laptop's
/// `answer` in it, once the answer is for this request and its signature
/// verifies.
pub fn assemble(
    request: &SignRequest,
    answer_text: &str,
) -> Result<solana_transaction::versioned::VersionedTransaction, AirgapError> {
    let answer = SolSignature::read(answer_text)?;
    if answer.request_id != request.request_id {
        return Err(AirgapError::Malformed(
            "the signature answers another request",
        ));
    }
    let message: VersionedMessage = bincode::deserialize(&request.sign_data)
        .map_err(|e| AirgapError::NotAMessage(e.to_string()))?;
    let signer = *message
        .static_account_keys()
        .first()
        .ok_or(AirgapError::Malformed("the transaction has no fee payer"))?;
    let signature = solana_signature::Signature::from(answer.signature);
    if !signature.verify(signer.as_ref(), &request.sign_data) {
        return Err(AirgapError::BadSignature(signer));
    }
    Ok(solana_transaction::versioned::VersionedTransaction {
        signatures: vec![signature],
        message,
    })
}

/// Signs `request`'s data with `key` (after [`describe`] was shown and
/// confirmed): the answer to show.
pub fn sign(request: &SignRequest, key: &ed25519_dalek::SigningKey) -> SolSignature {
    use ed25519_dalek::Signer;
    SolSignature {
        request_id: request.request_id.clone(),
        signature: key.sign(&request.sign_data).to_bytes(),
    }
}

#[cfg(test)]
mod tests;
