//! Settings: environment variables over a TOML settings file over defaults.
//!
//! The variable names are the ones the TOSS SDK documents (`SOLANA_CLUSTER`,
//! `TOSS_PROGRAM_ID`, ...) so a deployment's environment carries over. Every
//! value is validated once, here, and a bad one is reported with the place it
//! came from (the variable, or the key and file) and what is allowed, so a
//! user can fix it without reading code. An empty environment variable counts
//! as unset, as shells commonly export empty values.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use url::Url;

use crate::address::Address;
use crate::amount::Separator;

/// A Solana cluster. Devnet is the default: real money moves only when the
/// user names mainnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cluster {
    /// The public test cluster (the default); its SOL has no value.
    Devnet,
    /// Solana's validator test cluster.
    Testnet,
    /// The production cluster: real money.
    MainnetBeta,
    /// A local validator, named by its own genesis hash (`TOSS_GENESIS_HASH`).
    Localnet,
}

impl Cluster {
    /// The accepted values, for messages that list them.
    pub const ALLOWED: &'static str = "devnet, testnet, mainnet-beta (or mainnet), localnet";

    /// The name as settings write it (`mainnet-beta`, not `mainnet`).
    pub fn as_str(self) -> &'static str {
        match self {
            Cluster::Devnet => "devnet",
            Cluster::Testnet => "testnet",
            Cluster::MainnetBeta => "mainnet-beta",
            Cluster::Localnet => "localnet",
        }
    }

    /// The public RPC endpoint, used when `SOLANA_RPC_URL` is not set.
    pub fn default_rpc_url(self) -> &'static str {
        match self {
            Cluster::Devnet => "https://api.devnet.solana.com",
            Cluster::Testnet => "https://api.testnet.solana.com",
            Cluster::MainnetBeta => "https://api.mainnet-beta.solana.com",
            Cluster::Localnet => "http://127.0.0.1:8899",
        }
    }

    /// The genesis-hash prefix intents carry (docs/intent.md); `None` for a
    /// local validator, whose genesis hash is its own.
    pub fn genesis_prefix(self) -> Option<[u8; 8]> {
        use toss_program::intent::cluster;
        match self {
            Cluster::Devnet => Some(cluster::DEVNET),
            Cluster::Testnet => Some(cluster::TESTNET),
            Cluster::MainnetBeta => Some(cluster::MAINNET_BETA),
            Cluster::Localnet => None,
        }
    }

    /// Where a person can look at transaction `signature` on this cluster
    /// (Solana Explorer; a local validator through its custom-URL mode).
    pub fn explorer_tx(self, signature: &str, rpc_url: &Url) -> String {
        let cluster = match self {
            Cluster::MainnetBeta => String::new(),
            Cluster::Devnet => "?cluster=devnet".into(),
            Cluster::Testnet => "?cluster=testnet".into(),
            Cluster::Localnet => {
                format!("?cluster=custom&customUrl={}", url_encode(rpc_url.as_str()))
            }
        };
        format!("https://explorer.solana.com/tx/{signature}{cluster}")
    }

    #[allow(clippy::expect_used)] // constant URLs; the tests parse every one
    fn default_rpc(self) -> Url {
        Url::parse(self.default_rpc_url()).expect("built-in RPC URL parses")
    }

    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "devnet" => Some(Cluster::Devnet),
            "testnet" => Some(Cluster::Testnet),
            "mainnet-beta" | "mainnet" => Some(Cluster::MainnetBeta),
            "localnet" | "localhost" => Some(Cluster::Localnet),
            _ => None,
        }
    }
}

impl fmt::Display for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The resolved, validated settings the rest of the core runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Config {
    /// The cluster intents settle on (`SOLANA_CLUSTER`); devnet by default.
    pub cluster: Cluster,
    /// The JSON-RPC endpoint (`SOLANA_RPC_URL`); the cluster's public one by default.
    pub rpc_url: Url,
    /// The TOSS settlement program; `None` until one is deployed and named.
    pub program_id: Option<Address>,
    /// Arcium MXE for confidential submission; `None` turns the feature off.
    pub arcium_mxe_program_id: Option<Address>,
    /// Keypair file of the account that pays settlement fees, if not the wallet.
    pub fee_payer: Option<PathBuf>,
    /// Retries after a network failure, 0 to 10, with doubling waits.
    pub max_settlement_retries: u32,
    /// How long a new intent stays valid, in seconds (60 to 30 days).
    pub default_intent_expiry_seconds: u32,
    /// Whether changing the escrow or the nonce pool needs the user-presence gate.
    pub require_biometric_for_nonce: bool,
    /// Whether signing a payment or paying fees with a wallet key needs the gate.
    pub require_biometric_for_intent: bool,
    /// Days a finished intent is kept after it expires; unsettled ones are
    /// never deleted.
    pub retention_days: u32,
    /// The cluster's genesis hash, which intents name it by; needed where
    /// the cluster has no well-known one (localnet).
    pub genesis_hash: Option<Address>,
    /// The camera the Pay screen starts with, by name; the first when unset.
    pub camera: Option<String>,
    /// Whether the camera preview starts mirrored (a selfie camera).
    pub camera_mirror: bool,
    /// The Bluetooth adapter (BlueZ's name, like hci0); the first when unset.
    pub ble_adapter: Option<String>,
    /// The PC/SC reader taps are waited for on; the first connected when unset.
    pub nfc_reader: Option<String>,
    /// How amounts are typed and shown: with a point or a comma.
    pub decimal_separator: Separator,
    /// The window's colour scheme.
    pub theme: Theme,
    /// Where the wallet's secrets are kept.
    pub keystore: KeyStorage,
    /// Most payments a till takes in one handover: each is one settlement
    /// the merchant pays the fee for.
    pub max_intents_per_handover: u32,
    /// Smallest SOL payment a till takes offline, in lamports (written in
    /// SOL): a smaller one costs the merchant more in fees than it brings.
    #[serde(serialize_with = "sol_text")]
    pub min_payment_sol: u64,
    /// Smallest USDC payment a till takes offline, in its base units
    /// (written in USDC).
    #[serde(serialize_with = "usdc_text")]
    pub min_payment_usdc: u64,
    /// How sure the till must be of an online payment before it shows it paid.
    pub commitment: crate::solana_pay::Commitment,
    /// Who checks payers' signatures when intents settle.
    pub signature_check: crate::settle::SignatureCheck,
    /// Bytes of payment per frame of an animated code: smaller makes
    /// sparser codes a cheap webcam reads from further away, larger makes
    /// fewer frames.
    pub qr_fragment_bytes: u32,
    /// Frames an animated code shows per second: fewer suit slow cameras.
    pub qr_frames_per_second: u32,
    /// A short sound when the till takes a payment (verified offline, or
    /// seen paid online).
    pub sound: bool,
    /// The merchant's currency the till prices in (an ISO code of
    /// `price::FIATS`); `None` ("none"): prices are typed in SOL or USDC.
    #[serde(serialize_with = "fiat_text")]
    pub fiat_currency: Option<&'static str>,
    /// The oldest rate a till prices by, in seconds: past it, the merchant
    /// types the amount in SOL or USDC.
    pub max_rate_age_seconds: u32,
    /// Whether the till offers tips.
    pub tips: bool,
    /// The tip presets, whole percents of the price.
    #[serde(serialize_with = "percents_text")]
    pub tip_percents: Vec<u32>,
    /// A desktop notification when the till takes a payment.
    pub notifications: bool,
    /// What the air-gapped signer does with a transaction it cannot fully
    /// explain (`crate::airgap`).
    pub unexplained_instructions: crate::airgap::Unexplained,
}

fn fiat_text<S: serde::Serializer>(v: &Option<&'static str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.unwrap_or("none"))
}

fn percents_text<S: serde::Serializer>(v: &[u32], s: S) -> Result<S::Ok, S::Error> {
    let text: Vec<String> = v.iter().map(u32::to_string).collect();
    s.serialize_str(&text.join(","))
}

fn sol_text<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::amount::format(*v, crate::amount::SOL_DECIMALS))
}

fn usdc_text<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::amount::format(*v, USDC_DECIMALS))
}

/// USDC's decimals on every cluster that issues it.
const USDC_DECIMALS: u8 = 6;

/// Where the wallet's secrets are kept (TOSS_KEYSTORE / `keystore`).
/// Shown by the names the setting takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyStorage {
    /// The desktop's Secret Service (gnome-keyring, KWallet, KeePassXC).
    SecretService,
    /// The kernel's session keyring: gone at logout and at reboot.
    #[serde(rename = "keyutils")]
    KernelKeyring,
    /// The macOS login Keychain.
    Keychain,
    /// Windows Credential Manager.
    CredentialManager,
    /// A file in the data directory, encrypted with a key derived from the
    /// app passphrase: for machines with no keychain (a kiosk till).
    #[serde(rename = "file")]
    EncryptedFile,
}

impl Default for KeyStorage {
    /// The system's own keychain.
    fn default() -> Self {
        match std::env::consts::OS {
            "macos" => KeyStorage::Keychain,
            "windows" => KeyStorage::CredentialManager,
            _ => KeyStorage::SecretService,
        }
    }
}

impl KeyStorage {
    /// The accepted values, for messages that list them.
    pub const ALLOWED: &'static str = "file (an encrypted key file in the data directory), or on Linux secret-service or keyutils; unset: the system's keychain";

    fn parse(v: &str) -> Option<Self> {
        match (v.trim().to_ascii_lowercase().as_str(), std::env::consts::OS) {
            ("file", _) => Some(KeyStorage::EncryptedFile),
            ("secret-service", "linux") => Some(KeyStorage::SecretService),
            ("keyutils", "linux") => Some(KeyStorage::KernelKeyring),
            _ => None,
        }
    }

    /// What it is, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            KeyStorage::SecretService => "the desktop keyring (Secret Service)",
            KeyStorage::KernelKeyring => "the kernel keyring (keyutils)",
            KeyStorage::Keychain => "the macOS Keychain",
            KeyStorage::CredentialManager => "Windows Credential Manager",
            KeyStorage::EncryptedFile => {
                "a key file in the data directory, encrypted with the app passphrase"
            }
        }
    }

    /// What a user must know before trusting it with keys, if anything.
    pub fn warning(self) -> Option<&'static str> {
        match self {
            KeyStorage::KernelKeyring => Some(
                "the kernel keyring forgets every key at logout and at reboot: keep the recovery phrase, or the wallet is lost with them",
            ),
            KeyStorage::EncryptedFile => Some(
                "the keys are only as safe as the app passphrase: anyone who copies the data directory can try passphrases offline, so choose a long one",
            ),
            _ => None,
        }
    }
}

/// The window's colours: the desktop's choice, or one forced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Follow the desktop's light or dark preference (the default).
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl Theme {
    /// The accepted values, for messages that list them.
    pub const ALLOWED: &'static str = "system, light or dark";

    fn parse(v: &str) -> Option<Self> {
        match v.trim().to_ascii_lowercase().as_str() {
            "system" => Some(Theme::System),
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }
}

/// One setting: its environment variable, its key in the settings file, and
/// the sentence shown when a value is refused.
#[derive(Debug)]
pub struct Setting {
    /// The environment variable (`SOLANA_CLUSTER`).
    pub env: &'static str,
    /// The key in the settings file (`cluster`).
    pub key: &'static str,
    /// What values are accepted, in words.
    pub allowed: &'static str,
}

macro_rules! settings {
    ($($name:ident = ($env:literal, $key:literal, $allowed:expr);)*) => {
        $(
            #[doc = concat!("The `", $env, "` setting (`", $key, "` in the settings file).")]
            pub const $name: Setting = Setting { env: $env, key: $key, allowed: $allowed };
        )*
        /// Every setting, in the order the README documents them.
        pub const ALL: &[&Setting] = &[$(&$name),*];
    };
}

/// The settings TOSS understands.
pub mod setting {
    use super::{Cluster, KeyStorage, Separator, Setting, Theme};
    use super::{
        EXPIRY_RANGE, FPS_RANGE, FRAGMENT_RANGE, HANDOVER_RANGE, RATE_AGE_RANGE, RETENTION_RANGE,
        RETRIES_RANGE,
    };

    settings! {
        CLUSTER = ("SOLANA_CLUSTER", "cluster", Cluster::ALLOWED);
        RPC_URL = ("SOLANA_RPC_URL", "rpc_url", "an http:// or https:// URL with a host");
        PROGRAM_ID = ("TOSS_PROGRAM_ID", "program_id", "a base58 Solana address (32 bytes)");
        ARCIUM_MXE_PROGRAM_ID = ("ARCIUM_MXE_PROGRAM_ID", "arcium_mxe_program_id", "a base58 Solana address (32 bytes)");
        FEE_PAYER = ("TOSS_FEE_PAYER", "fee_payer", "the path of a Solana keypair file (~/ is expanded)");
        MAX_SETTLEMENT_RETRIES = ("MAX_SETTLEMENT_RETRIES", "max_settlement_retries", RETRIES_RANGE.2);
        DEFAULT_INTENT_EXPIRY_SECONDS = ("DEFAULT_INTENT_EXPIRY_SECONDS", "default_intent_expiry_seconds", EXPIRY_RANGE.2);
        REQUIRE_BIOMETRIC_FOR_NONCE = ("REQUIRE_BIOMETRIC_FOR_NONCE", "require_biometric_for_nonce", BOOL_ALLOWED);
        REQUIRE_BIOMETRIC_FOR_INTENT = ("REQUIRE_BIOMETRIC_FOR_INTENT", "require_biometric_for_intent", BOOL_ALLOWED);
        RETENTION_DAYS = ("TOSS_RETENTION_DAYS", "retention_days", RETENTION_RANGE.2);
        GENESIS_HASH = ("TOSS_GENESIS_HASH", "genesis_hash", "the cluster's genesis hash, base58 (solana genesis-hash)");
        CAMERA = ("TOSS_CAMERA", "camera", NAME_ALLOWED);
        CAMERA_MIRROR = ("TOSS_CAMERA_MIRROR", "camera_mirror", BOOL_ALLOWED);
        BLE_ADAPTER = ("TOSS_BLE_ADAPTER", "ble_adapter", NAME_ALLOWED);
        NFC_READER = ("TOSS_NFC_READER", "nfc_reader", NAME_ALLOWED);
        DECIMAL_SEPARATOR = ("TOSS_DECIMAL_SEPARATOR", "decimal_separator", Separator::ALLOWED);
        THEME = ("TOSS_THEME", "theme", Theme::ALLOWED);
        KEYSTORE = ("TOSS_KEYSTORE", "keystore", KeyStorage::ALLOWED);
        MAX_INTENTS_PER_HANDOVER = ("TOSS_MAX_INTENTS_PER_HANDOVER", "max_intents_per_handover", HANDOVER_RANGE.2);
        MIN_PAYMENT_SOL = ("TOSS_MIN_PAYMENT_SOL", "min_payment_sol", "an amount of SOL written with a point, from 0 to 1 (0.0001)");
        MIN_PAYMENT_USDC = ("TOSS_MIN_PAYMENT_USDC", "min_payment_usdc", "an amount of USDC written with a point, from 0 to 100 (0.01)");
        COMMITMENT = ("TOSS_COMMITMENT", "commitment", crate::solana_pay::Commitment::ALLOWED);
        SIGNATURE_CHECK = ("TOSS_SIGNATURE_CHECK", "signature_check", crate::settle::SignatureCheck::ALLOWED);
        QR_FRAGMENT_BYTES = ("TOSS_QR_FRAGMENT_BYTES", "qr_fragment_bytes", FRAGMENT_RANGE.2);
        QR_FRAMES_PER_SECOND = ("TOSS_QR_FRAMES_PER_SECOND", "qr_frames_per_second", FPS_RANGE.2);
        SOUND = ("TOSS_SOUND", "sound", BOOL_ALLOWED);
        FIAT_CURRENCY = ("TOSS_FIAT_CURRENCY", "fiat_currency", "none, or USD, EUR, GBP, AUD, CHF, CAD or JPY");
        MAX_RATE_AGE_SECONDS = ("TOSS_MAX_RATE_AGE_SECONDS", "max_rate_age_seconds", RATE_AGE_RANGE.2);
        TIPS = ("TOSS_TIPS", "tips", BOOL_ALLOWED);
        TIP_PERCENTS = ("TOSS_TIP_PERCENTS", "tip_percents", "up to 5 whole percents from 1 to 100, separated by commas (10,15,20), or none");
        NOTIFICATIONS = ("TOSS_NOTIFICATIONS", "notifications", BOOL_ALLOWED);
        UNEXPLAINED_INSTRUCTIONS = ("TOSS_UNEXPLAINED_INSTRUCTIONS", "unexplained_instructions", crate::airgap::Unexplained::ALLOWED);
    }

    const BOOL_ALLOWED: &str = "true or false (also 1/0, yes/no, on/off)";
    pub(super) const NAME_ALLOWED: &str =
        "a device name as the app lists it (at most 128 characters, no control characters)";
}

/// Inclusive bounds and the sentence that states them.
type Range = (u32, u32, &'static str);
const RETRIES_RANGE: Range = (0, 10, "a whole number from 0 to 10");
/// One to the most the handover protocol carries.
const HANDOVER_RANGE: Range = (1, 64, "a whole number from 1 to 64");
/// Bytes per animated frame: what the UR encoder takes, up to what keeps
/// every part one code (docs/qr.md).
const FRAGMENT_RANGE: Range = (50, 1_500, "a whole number of bytes from 50 to 1500");
/// Frames per second of an animated code.
const FPS_RANGE: Range = (1, 15, "a whole number from 1 to 15");
/// A minute to a week: how old a rate a till may price by.
const RATE_AGE_RANGE: Range = (60, 604_800, "a whole number of seconds from 60 to 604800");
/// A day to ten years of finished intents kept for the activity view.
const RETENTION_RANGE: Range = (1, 3650, "a whole number of days from 1 to 3650");
/// One hour to thirty days: shorter is refused by every TOSS payee (it needs
/// `intent::MIN_REMAINING_SECONDS` left to settle), longer leaves a merchant
/// exposed to a payer's other spending for too long.
const EXPIRY_RANGE: Range = (
    crate::intent::MIN_REMAINING_SECONDS,
    2_592_000,
    "a whole number of seconds from 3600 (an hour: a TOSS payee refuses intents with less left) to 2592000 (30 days)",
);

/// Where a value came from, named the way the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An environment variable; carries its name.
    Env(&'static str),
    /// A key in the settings file.
    File {
        /// The key as written in the file.
        key: &'static str,
        /// The settings file.
        path: PathBuf,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Env(var) => write!(f, "environment variable {var}"),
            Origin::File { key, path } => write!(f, "`{key}` in {}", path.display()),
        }
    }
}

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value that does not parse or is out of range.
    #[error("{origin}: {value:?} is not allowed; expected {allowed}")]
    Invalid {
        /// Where the value came from.
        origin: Origin,
        /// The value as given.
        value: String,
        /// What is accepted instead, in words.
        allowed: &'static str,
    },
    /// The settings file exists but could not be read (or, when saving, written).
    #[error("cannot read settings file {}: {source}", path.display())]
    Read {
        /// The settings file.
        path: PathBuf,
        /// Why the file operation failed.
        source: std::io::Error,
    },
    /// The settings file is not valid TOML.
    #[error("settings file {} is not valid TOML: {message}", path.display())]
    Syntax {
        /// The settings file.
        path: PathBuf,
        /// The TOML parser's message.
        message: String,
    },
    /// A key that is no setting (a typo, or one from another version).
    #[error("settings file {}: unknown key `{key}`; known keys: {known}", path.display())]
    UnknownKey {
        /// The settings file.
        path: PathBuf,
        /// The unknown key.
        key: String,
        /// Every known key, comma-separated.
        known: String,
    },
    /// A value that is not a string, whole number or boolean (an array, a table...).
    #[error("settings file {}: `{key}` must be a string, a whole number or true/false, not {found}", path.display())]
    WrongType {
        /// The settings file.
        path: PathBuf,
        /// The key whose value has the wrong type.
        key: String,
        /// The TOML type found.
        found: &'static str,
    },
}

impl Config {
    /// The settings a settings file holding `text` gives, with no
    /// environment: what a hand-edited or hostile file is read as.
    pub(crate) fn from_file_text(path: &Path, text: &str) -> Result<Self, ConfigError> {
        Self::from_values(|_| None, &FileValues::parse(path, text)?)
    }

    /// Loads settings from the process environment and `settings_file`
    /// (which may be absent).
    pub fn load(settings_file: &Path) -> Result<Self, ConfigError> {
        Self::resolve(|var| std::env::var(var).ok(), Some(settings_file))
    }

    /// Resolves settings from an environment lookup and an optional settings
    /// file. Taking the lookup as a function keeps tests off the process
    /// environment, which is shared between test threads.
    pub fn resolve(
        env: impl Fn(&str) -> Option<String>,
        settings_file: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let file = match settings_file {
            Some(path) => FileValues::read(path)?,
            None => FileValues::default(),
        };
        Self::from_values(env, &file)
    }

    /// Changes settings in the settings file: each `(key, value)` sets a
    /// key, `(key, None)` (or an empty value) removes it, back to its
    /// default. The file is written only if, with the changes, it still
    /// gives valid settings (checked without the environment, whose
    /// variables win over the file and are not the file's to fix).
    /// Returns the settings now in force, environment included.
    pub fn save(
        settings_file: &Path,
        changes: &[(String, Option<String>)],
    ) -> Result<Self, ConfigError> {
        let mut file = FileValues::read(settings_file)?;
        file.path = settings_file.into();
        for (key, value) in changes {
            let setting = setting::ALL
                .iter()
                .find(|s| s.key == key)
                .ok_or_else(|| unknown_key(settings_file, key.clone()))?;
            match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                Some(v) => file.values.insert(setting.key, v.to_owned()),
                None => file.values.remove(setting.key),
            };
        }
        Self::from_values(|_| None, &file)?;
        let table: toml::Table = file
            .values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), toml::Value::String(v.clone())))
            .collect();
        crate::fsutil::write_atomic(settings_file, table.to_string().as_bytes()).map_err(
            |source| ConfigError::Read {
                path: settings_file.into(),
                source,
            },
        )?;
        Self::load(settings_file)
    }

    fn from_values(
        env: impl Fn(&str) -> Option<String>,
        file: &FileValues,
    ) -> Result<Self, ConfigError> {
        let pick = |s: &'static Setting| -> Option<(String, Origin)> {
            match env(s.env) {
                Some(v) if !v.is_empty() => Some((v, Origin::Env(s.env))),
                _ => file.get(s),
            }
        };

        use setting::*;
        let cluster = match pick(&CLUSTER) {
            Some((v, origin)) => Cluster::parse(&v).ok_or_else(|| invalid(&CLUSTER, origin, v))?,
            None => Cluster::Devnet,
        };
        let rpc_url = match pick(&RPC_URL) {
            Some((v, origin)) => parse_rpc_url(&v).ok_or_else(|| invalid(&RPC_URL, origin, v))?,
            None => cluster.default_rpc(),
        };
        let address = |s: &'static Setting| -> Result<Option<Address>, ConfigError> {
            pick(s)
                .map(|(v, origin)| v.trim().parse().map_err(|_| invalid(s, origin, v)))
                .transpose()
        };
        let number = |s: &'static Setting, (lo, hi, _): Range, default: u32| match pick(s) {
            Some((v, origin)) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(|| invalid(s, origin, v)),
            None => Ok(default),
        };
        // An amount written with a point, at most `max` base units.
        let decimal = |s: &'static Setting, decimals: u8, max: u64, default: u64| match pick(s) {
            Some((v, origin)) => crate::amount::parse(v.trim(), decimals)
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| invalid(s, origin, v)),
            None => Ok(default),
        };
        let boolean = |s: &'static Setting, default: bool| match pick(s) {
            Some((v, origin)) => parse_bool(&v).ok_or_else(|| invalid(s, origin, v)),
            None => Ok(default),
        };
        let name = |s: &'static Setting| {
            pick(s)
                .map(|(v, origin)| {
                    let trimmed = v.trim();
                    let fine = !trimmed.is_empty()
                        && trimmed.chars().count() <= 128
                        && !trimmed.chars().any(char::is_control);
                    if fine {
                        Ok(trimmed.to_owned())
                    } else {
                        Err(invalid(s, origin, v))
                    }
                })
                .transpose()
        };

        Ok(Config {
            cluster,
            rpc_url,
            program_id: address(&PROGRAM_ID)?,
            arcium_mxe_program_id: address(&ARCIUM_MXE_PROGRAM_ID)?,
            fee_payer: pick(&FEE_PAYER)
                .map(|(v, origin)| {
                    expand_home(&v, &env).ok_or_else(|| invalid(&FEE_PAYER, origin, v))
                })
                .transpose()?,
            max_settlement_retries: number(&MAX_SETTLEMENT_RETRIES, RETRIES_RANGE, 3)?,
            default_intent_expiry_seconds: number(
                &DEFAULT_INTENT_EXPIRY_SECONDS,
                EXPIRY_RANGE,
                86_400,
            )?,
            require_biometric_for_nonce: boolean(&REQUIRE_BIOMETRIC_FOR_NONCE, true)?,
            require_biometric_for_intent: boolean(&REQUIRE_BIOMETRIC_FOR_INTENT, false)?,
            retention_days: number(&RETENTION_DAYS, RETENTION_RANGE, 30)?,
            genesis_hash: address(&GENESIS_HASH)?,
            camera: name(&CAMERA)?,
            camera_mirror: boolean(&CAMERA_MIRROR, false)?,
            ble_adapter: name(&BLE_ADAPTER)?,
            nfc_reader: name(&NFC_READER)?,
            decimal_separator: choose(&pick, &DECIMAL_SEPARATOR, Separator::from_setting)?,
            theme: choose(&pick, &THEME, Theme::parse)?,
            keystore: choose(&pick, &KEYSTORE, KeyStorage::parse)?,
            max_intents_per_handover: number(&MAX_INTENTS_PER_HANDOVER, HANDOVER_RANGE, 8)?,
            min_payment_sol: decimal(
                &MIN_PAYMENT_SOL,
                crate::amount::SOL_DECIMALS,
                1_000_000_000,
                100_000,
            )?,
            min_payment_usdc: decimal(&MIN_PAYMENT_USDC, USDC_DECIMALS, 100_000_000, 10_000)?,
            commitment: choose(&pick, &COMMITMENT, crate::solana_pay::Commitment::parse)?,
            signature_check: choose(
                &pick,
                &SIGNATURE_CHECK,
                crate::settle::SignatureCheck::parse,
            )?,
            qr_fragment_bytes: number(&QR_FRAGMENT_BYTES, FRAGMENT_RANGE, 300)?,
            qr_frames_per_second: number(&QR_FRAMES_PER_SECOND, FPS_RANGE, 5)?,
            sound: boolean(&SOUND, true)?,
            fiat_currency: match pick(&FIAT_CURRENCY) {
                Some((v, _)) if v.trim().eq_ignore_ascii_case("none") => None,
                Some((v, origin)) => Some(
                    crate::price::Fiat::named(&v)
                        .map_err(|_| invalid(&FIAT_CURRENCY, origin, v))?
                        .code,
                ),
                None => None,
            },
            max_rate_age_seconds: number(&MAX_RATE_AGE_SECONDS, RATE_AGE_RANGE, 3_600)?,
            tips: boolean(&TIPS, true)?,
            tip_percents: match pick(&TIP_PERCENTS) {
                Some((v, origin)) => {
                    parse_percents(&v).ok_or_else(|| invalid(&TIP_PERCENTS, origin, v))?
                }
                None => vec![10, 15, 20],
            },
            notifications: boolean(&NOTIFICATIONS, true)?,
            unexplained_instructions: choose(
                &pick,
                &UNEXPLAINED_INSTRUCTIONS,
                crate::airgap::Unexplained::parse,
            )?,
        })
    }
}

/// Up to five whole percents from 1 to 100, separated by commas; "none"
/// is no presets (a custom tip only).
fn parse_percents(v: &str) -> Option<Vec<u32>> {
    if v.trim().eq_ignore_ascii_case("none") {
        return Some(Vec::new());
    }
    let all: Option<Vec<u32>> = v
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=100).contains(n))
        })
        .collect();
    all.filter(|p| p.len() <= 5)
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn url_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn unknown_key(path: &Path, key: String) -> ConfigError {
    ConfigError::UnknownKey {
        path: path.into(),
        key,
        known: setting::ALL
            .iter()
            .map(|s| s.key)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// A setting with named values: the one `pick` finds, else the default.
fn choose<T: Default>(
    pick: &impl Fn(&'static Setting) -> Option<(String, Origin)>,
    s: &'static Setting,
    parse: fn(&str) -> Option<T>,
) -> Result<T, ConfigError> {
    match pick(s) {
        Some((v, origin)) => parse(&v).ok_or_else(|| invalid(s, origin, v)),
        None => Ok(T::default()),
    }
}

fn invalid(s: &Setting, origin: Origin, value: String) -> ConfigError {
    ConfigError::Invalid {
        origin,
        value,
        allowed: s.allowed,
    }
}

fn parse_rpc_url(v: &str) -> Option<Url> {
    let url = Url::parse(v.trim()).ok()?;
    let http = matches!(url.scheme(), "http" | "https");
    (http && url.host().is_some()).then_some(url)
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Expands a leading `~/` as the SDK's `TOSS_FEE_PAYER=~/.config/solana/id.json`
/// example expects; `None` for an empty path or `~` with no HOME to expand.
fn expand_home(v: &str, env: &impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    match v.strip_prefix("~/") {
        Some(rest) => env("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| Path::new(&h).join(rest)),
        None => Some(PathBuf::from(v)),
    }
}

/// The raw values of a settings file, keyed by setting.
#[derive(Debug, Default)]
struct FileValues {
    path: PathBuf,
    values: BTreeMap<&'static str, String>,
}

impl FileValues {
    /// Reads and checks the file's shape; a missing file is an empty one.
    fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.into(),
                    source,
                });
            }
        };
        Self::parse(path, &text)
    }

    /// Checks the shape of a settings file's `text` (`path` names it).
    fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Syntax {
                    path: path.into(),
                    message: e.message().to_owned(),
                })?;
        let mut values = BTreeMap::new();
        for (key, value) in table {
            let Some(setting) = setting::ALL.iter().find(|s| s.key == key) else {
                return Err(unknown_key(path, key));
            };
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(ConfigError::WrongType {
                        path: path.into(),
                        key,
                        found: other.type_str(),
                    });
                }
            };
            values.insert(setting.key, text);
        }
        Ok(Self {
            path: path.into(),
            values,
        })
    }

    fn get(&self, s: &'static Setting) -> Option<(String, Origin)> {
        self.values.get(s.key).map(|v| {
            (
                v.clone(),
                Origin::File {
                    key: s.key,
                    path: self.path.clone(),
                },
            )
        })
    }
}

#[cfg(test)]
mod tests;
