//! Amounts as people type them ("1.5") and as the chain counts them (base units).
//!
//! The rules are Solana Pay's, so a till and an online wallet agree on what
//! an amount means: decimal digits with at most one point, no sign, no
//! exponent, a leading digit before the point, and no more fraction digits
//! than the currency has decimals.

/// Decimals of SOL (lamports per SOL = 10^9).
pub const SOL_DECIMALS: u8 = 9;

/// Why a typed amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not digits with at most one point (a sign, exponent, letter, bare point); carries the input.
    #[error("{0:?} is not an amount: use digits with an optional decimal point, like 1.5")]
    NotDecimal(String),
    /// More fraction digits than the currency has decimals.
    #[error("{value:?} has more than {decimals} decimal places")]
    TooPrecise {
        /// The amount as typed.
        value: String,
        /// The currency's decimal places, the most allowed.
        decimals: u8,
    },
    /// The amount in base units does not fit in a u64; carries the input.
    #[error("{0:?} is too large")]
    TooLarge(String),
    /// A currency with more than 19 decimals was asked for.
    #[error("a currency cannot have {0} decimals (at most 19)")]
    Decimals(u8),
    /// With a comma separator: not digits with at most one comma, or a point; carries the input.
    #[error("{0:?} is not an amount: use digits with an optional decimal comma, like 1,5")]
    NotDecimalComma(String),
}

/// The decimal separator people type and read amounts with (the settings'
/// "language of amounts"). Wire formats and Solana Pay URLs always use a
/// point; only what the user types and sees changes (the window formats
/// what it shows with the same setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Separator {
    /// A decimal point: 1.5.
    #[default]
    Point,
    /// A decimal comma: 1,5.
    Comma,
}

impl Separator {
    /// The accepted setting values, for messages that list them.
    pub const ALLOWED: &'static str = "point (1.5) or comma (1,5)";

    /// The setting's value as written in the settings file.
    pub fn from_setting(v: &str) -> Option<Self> {
        match v.trim().to_ascii_lowercase().as_str() {
            "point" | "." => Some(Separator::Point),
            "comma" | "," => Some(Separator::Comma),
            _ => None,
        }
    }

    /// `units` with `decimals` places as people here read and type them
    /// (no trailing zeros; the separator the settings choose).
    pub fn format(self, units: u64, decimals: u8) -> String {
        self.localize(&format(units, decimals))
    }

    /// A decimal written with a point (as Solana Pay writes it) in this
    /// separator.
    pub fn localize(self, decimal: &str) -> String {
        match self {
            Separator::Point => decimal.to_owned(),
            Separator::Comma => decimal.replace('.', ","),
        }
    }

    /// Parses an amount the user typed. With a comma, a point is refused
    /// rather than guessed at: "1.500" means 1500 to some and 1.5 to others.
    pub fn parse(self, value: &str, decimals: u8) -> Result<u64, AmountError> {
        match self {
            Separator::Point => parse(value, decimals),
            Separator::Comma if value.contains('.') => {
                Err(AmountError::NotDecimalComma(value.to_owned()))
            }
            Separator::Comma => {
                parse(&value.replacen(',', ".", 1), decimals).map_err(|e| match e {
                    AmountError::NotDecimal(_) => AmountError::NotDecimalComma(value.to_owned()),
                    AmountError::TooPrecise { decimals, .. } => AmountError::TooPrecise {
                        value: value.to_owned(),
                        decimals,
                    },
                    AmountError::TooLarge(_) => AmountError::TooLarge(value.to_owned()),
                    other => other,
                })
            }
        }
    }
}

/// Parses a user amount into base units.
pub fn parse(value: &str, decimals: u8) -> Result<u64, AmountError> {
    if decimals > 19 {
        return Err(AmountError::Decimals(decimals));
    }
    let not_decimal = || AmountError::NotDecimal(value.to_owned());
    let (whole, fraction) = match value.split_once('.') {
        Some((w, f)) => (w, f),
        None => (value, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || value.ends_with('.') {
        return Err(not_decimal());
    }
    if fraction.len() > usize::from(decimals) {
        return Err(AmountError::TooPrecise {
            value: value.to_owned(),
            decimals,
        });
    }
    let too_large = || AmountError::TooLarge(value.to_owned());
    let scale = 10u64
        .checked_pow(u32::from(decimals))
        .ok_or_else(too_large)?;
    let whole: u64 = whole.parse().map_err(|_| too_large())?;
    let mut frac: u64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().map_err(|_| too_large())?
    };
    for _ in fraction.len()..usize::from(decimals) {
        frac *= 10;
    }
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(too_large)
}

/// Formats base units for people: no trailing zeros, no exponent.
pub fn format(units: u64, decimals: u8) -> String {
    let scale = 10u128.pow(u32::from(decimals.min(19)));
    let (whole, frac) = (u128::from(units) / scale, u128::from(units) % scale);
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:0width$}", width = usize::from(decimals));
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_solana_pay_amounts() {
        assert_eq!(parse("1", 9), Ok(1_000_000_000));
        assert_eq!(parse("1.5", 9), Ok(1_500_000_000));
        assert_eq!(parse("0.000000001", 9), Ok(1));
        assert_eq!(parse("12.34", 6), Ok(12_340_000));
        assert_eq!(parse("0", 6), Ok(0));
        assert_eq!(parse("18446744073.709551615", 9), Ok(u64::MAX));
    }

    #[test]
    fn refuses_what_solana_pay_refuses() {
        for bad in [
            "", ".5", "1.", "-1", "+1", "1e9", "1,5", " 1", "1.2.3", "0x10",
        ] {
            assert_eq!(
                parse(bad, 9),
                Err(AmountError::NotDecimal(bad.into())),
                "{bad:?}"
            );
        }
        assert!(matches!(
            parse("1.0000001", 6),
            Err(AmountError::TooPrecise { decimals: 6, .. })
        ));
        assert!(matches!(
            parse("18446744073.709551616", 9),
            Err(AmountError::TooLarge(_))
        ));
        assert!(matches!(
            parse("99999999999999999999", 0),
            Err(AmountError::TooLarge(_))
        ));
        assert_eq!(parse("1", 20), Err(AmountError::Decimals(20)));
    }

    #[test]
    fn a_comma_separator_reads_and_writes_commas_and_refuses_points() {
        let c = Separator::Comma;
        assert_eq!(c.parse("1,5", 9), Ok(1_500_000_000));
        assert_eq!(c.parse("2", 9), Ok(2_000_000_000));
        for bad in ["1.5", "1,5,0", ",5", "1,", "1.500,25"] {
            assert_eq!(
                c.parse(bad, 9),
                Err(AmountError::NotDecimalComma(bad.into())),
                "{bad:?}"
            );
        }
        assert_eq!(
            c.parse("0,0000001", 6),
            Err(AmountError::TooPrecise {
                value: "0,0000001".into(),
                decimals: 6
            })
        );
        assert_eq!(c.parse("0,25", 9), Separator::Point.parse("0.25", 9));
        assert_eq!(Separator::Point.parse("1,5", 9), parse("1,5", 9));
        assert_eq!(Separator::from_setting(" Comma "), Some(c));
        assert_eq!(Separator::from_setting("."), Some(Separator::Point));
        assert_eq!(Separator::from_setting("semicolon"), None);
    }

    #[test]
    fn formats_without_trailing_zeros() {
        assert_eq!(format(1_500_000_000, 9), "1.5");
        assert_eq!(format(1, 9), "0.000000001");
        assert_eq!(format(12_340_000, 6), "12.34");
        assert_eq!(format(0, 6), "0");
        assert_eq!(format(u64::MAX, 9), "18446744073.709551615");
        for (u, d) in [(1u64, 9u8), (123_456_789, 3), (10, 1), (u64::MAX, 19)] {
            assert_eq!(parse(&format(u, d), d), Ok(u));
        }
    }
}
