//! The currencies the app takes and pays: SOL, and USDC on the clusters
//! Circle issues it on. An intent carries a mint and an amount in base
//! units; people type and read amounts in whole units, which needs the
//! mint's decimals. Those cannot be looked up offline, so the app names the
//! currencies whose decimals it knows instead of taking any token.

use solana_program::pubkey::Pubkey;

use crate::amount::Separator;
use crate::config::Cluster;

/// USDC's mint on mainnet-beta (Circle).
pub const USDC_MAINNET: Pubkey =
    solana_program::pubkey!("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v");
/// USDC's mint on devnet (Circle's test USDC).
pub const USDC_DEVNET: Pubkey =
    solana_program::pubkey!("4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU");

/// The decimals of a mint TOSS knows without a network (USDC on the
/// clusters Circle issues it on); `None` for any other mint.
pub fn known_decimals(mint: &Pubkey) -> Option<u8> {
    [USDC_MAINNET, USDC_DEVNET].contains(mint).then_some(6)
}

/// A currency as the screens show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Currency {
    /// Ticker shown next to amounts ("SOL", "USDC").
    pub symbol: &'static str,
    /// `None` for SOL.
    #[serde(serialize_with = "crate::address::serialize_opt_pubkey")]
    pub mint: Option<Pubkey>,
    /// Decimal places between base units and whole units (9 for SOL, 6 for USDC).
    pub decimals: u8,
}

/// Why a currency cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    /// USDC was asked for on a cluster where Circle does not issue it.
    #[error("USDC is not issued on {0}: take SOL there")]
    NoUsdc(Cluster),
    /// A currency name other than SOL or USDC.
    #[error("{0:?} is not a currency TOSS takes: SOL or USDC")]
    Name(String),
    /// A mint whose decimals TOSS does not know on this cluster.
    #[error(
        "the token {0} is not one TOSS can pay offline (its decimals cannot be checked without a network): SOL or USDC"
    )]
    Unknown(Pubkey),
}

/// Native SOL: no mint, 9 decimals (lamports).
pub const SOL: Currency = Currency {
    symbol: "SOL",
    mint: None,
    decimals: crate::amount::SOL_DECIMALS,
};

impl Currency {
    /// USDC on `cluster`, where Circle issues it.
    pub fn usdc(cluster: Cluster) -> Result<Self, CurrencyError> {
        let mint = match cluster {
            Cluster::MainnetBeta => USDC_MAINNET,
            Cluster::Devnet => USDC_DEVNET,
            other => return Err(CurrencyError::NoUsdc(other)),
        };
        Ok(Currency {
            symbol: "USDC",
            mint: Some(mint),
            decimals: 6,
        })
    }

    /// Every currency `cluster` offers, SOL first.
    pub fn all(cluster: Cluster) -> Vec<Self> {
        std::iter::once(SOL)
            .chain(Self::usdc(cluster).ok())
            .collect()
    }

    /// The currency a person chose by its symbol.
    pub fn named(symbol: &str, cluster: Cluster) -> Result<Self, CurrencyError> {
        match symbol.trim().to_ascii_uppercase().as_str() {
            "SOL" => Ok(SOL),
            "USDC" => Self::usdc(cluster),
            _ => Err(CurrencyError::Name(symbol.to_owned())),
        }
    }

    /// The currency of a request's or intent's mint (`None`: SOL).
    pub fn of_mint(mint: Option<&Pubkey>, cluster: Cluster) -> Result<Self, CurrencyError> {
        match mint {
            None => Ok(SOL),
            Some(m) => Self::usdc(cluster)
                .ok()
                .filter(|c| c.mint.as_ref() == Some(m))
                .ok_or(CurrencyError::Unknown(*m)),
        }
    }
}

/// `units` of the currency of `mint` (`None`: SOL) on `cluster` as people
/// read them, "1,5 SOL" with a comma `separator`; a token TOSS does not
/// know stays in base units, named, rather than guessed at.
pub fn money(units: u64, mint: Option<&Pubkey>, cluster: Cluster, separator: Separator) -> String {
    match (Currency::of_mint(mint, cluster), mint) {
        (Ok(c), _) => format!(
            "{} {}",
            grouped(&separator.format(units, c.decimals)),
            c.symbol
        ),
        (Err(_), Some(m)) => format!("{units} base units of {m}"),
        (Err(_), None) => format!("{units} lamports"),
    }
}

/// The whole part of a decimal grouped by thousands with a narrow
/// no-break space ("12 345,5"), which reads the same whichever the decimal
/// separator is and never breaks across lines. For reading only: amounts
/// a person types, or that go into a URL or a file, are never grouped.
pub(crate) fn grouped(decimal: &str) -> String {
    let split = decimal.find([',', '.']).unwrap_or(decimal.len());
    let (whole, rest) = decimal.split_at(split);
    let mut out = String::with_capacity(decimal.len() + whole.len() / 3 * 3);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push('\u{202F}');
        }
        out.push(digit);
    }
    out + rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_amounts_are_grouped_by_thousands_for_reading() {
        let devnet = Cluster::Devnet;
        assert_eq!(
            money(1_234_567_500_000_000, None, devnet, Separator::Comma),
            "1\u{202F}234\u{202F}567,5 SOL"
        );
        assert_eq!(
            money(12_345_000_000, Some(&USDC_DEVNET), devnet, Separator::Point),
            "12\u{202F}345 USDC"
        );
        assert_eq!(
            money(999_000_000_000, None, devnet, Separator::Point),
            "999 SOL"
        );
        assert_eq!(
            money(1_000_000_000_000, None, devnet, Separator::Point),
            "1\u{202F}000 SOL"
        );
    }

    #[test]
    fn amounts_read_in_their_currency_and_separator() {
        let devnet = Cluster::Devnet;
        assert_eq!(
            money(1_500_000_000, None, devnet, Separator::Comma),
            "1,5 SOL"
        );
        assert_eq!(
            money(3_000_000, Some(&USDC_DEVNET), devnet, Separator::Point),
            "3 USDC"
        );
        // Mainnet's USDC is not devnet's: its decimals are not assumed.
        assert_eq!(
            money(3_000_000, Some(&USDC_MAINNET), devnet, Separator::Point),
            format!("3000000 base units of {USDC_MAINNET}")
        );
    }

    #[test]
    fn usdc_is_offered_where_circle_issues_it() {
        assert_eq!(Currency::all(Cluster::Localnet), vec![SOL]);
        assert_eq!(Currency::all(Cluster::Testnet), vec![SOL]);
        let usdc = Currency::usdc(Cluster::MainnetBeta).unwrap();
        assert_eq!((usdc.mint, usdc.decimals), (Some(USDC_MAINNET), 6));
        assert_eq!(Currency::all(Cluster::Devnet)[1].mint, Some(USDC_DEVNET));
        assert_eq!(
            Currency::named("usdc", Cluster::Testnet),
            Err(CurrencyError::NoUsdc(Cluster::Testnet))
        );
        assert_eq!(
            Currency::named("BONK", Cluster::Devnet),
            Err(CurrencyError::Name("BONK".into()))
        );
    }

    #[test]
    fn a_mint_is_known_only_on_its_own_cluster() {
        assert_eq!(Currency::of_mint(None, Cluster::Localnet), Ok(SOL));
        assert_eq!(
            Currency::of_mint(Some(&USDC_DEVNET), Cluster::Devnet).map(|c| c.symbol),
            Ok("USDC")
        );
        // Mainnet's USDC named on devnet is some other token there.
        assert_eq!(
            Currency::of_mint(Some(&USDC_MAINNET), Cluster::Devnet),
            Err(CurrencyError::Unknown(USDC_MAINNET))
        );
        let json = serde_json::to_value(Currency::usdc(Cluster::Devnet).unwrap()).unwrap();
        assert_eq!(json["mint"], USDC_DEVNET.to_string());
        assert_eq!(
            serde_json::to_value(SOL).unwrap()["mint"],
            serde_json::Value::Null
        );
    }
}
