//! The currencies the app takes and pays: SOL, and USDC on the clusters
//! Circle issues it on. An intent carries a mint and an amount in base
//! units; people type and read amounts in whole units, which needs the
//! mint's decimals. Those cannot be looked up offline, so the app names the
//! currencies whose decimals it knows instead of taking any token.

use solana_program::pubkey::Pubkey;

use crate::config::Cluster;

/// USDC's mint on mainnet-beta (Circle).
pub const USDC_MAINNET: Pubkey =
    solana_program::pubkey!("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v");
/// USDC's mint on devnet (Circle's test USDC).
pub const USDC_DEVNET: Pubkey =
    solana_program::pubkey!("4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU");

/// A currency as the screens show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Currency {
    pub symbol: &'static str,
    /// `None` for SOL.
    #[serde(serialize_with = "crate::address::serialize_opt_pubkey")]
    pub mint: Option<Pubkey>,
    pub decimals: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    #[error("USDC is not issued on {0}: take SOL there")]
    NoUsdc(Cluster),
    #[error("{0:?} is not a currency TOSS takes: SOL or USDC")]
    Name(String),
    #[error(
        "the token {0} is not one TOSS can pay offline (its decimals cannot be checked without a network): SOL or USDC"
    )]
    Unknown(Pubkey),
}

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

#[cfg(test)]
mod tests {
    use super::*;

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
