//! What a scanned code (or pasted text) holds, for the person looking at
//! it: a payment request, a signed intent, or something TOSS does not use.

use serde::Serialize;

use crate::intent::durable;
use crate::request::{PaymentRequest, RequestError};

/// What a scanned code holds, described for the UI.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Scanned {
    /// A `solana:` link that is a valid Solana Pay request.
    PaymentRequest {
        /// The parsed request.
        request: PaymentRequest,
    },
    /// A `solana:https://…` link: a merchant's server builds the
    /// transaction (`transaction_request`).
    TransactionRequest {
        /// The checked link.
        link: crate::transaction_request::Link,
    },
    /// A signed TOSS intent, with the transaction signature when durable.
    Intent {
        /// The intent id, hex.
        id: String,
        /// The payer's address, base58.
        payer: String,
        /// The payee's address, base58.
        payee: String,
        /// Lamports, or the mint's base units.
        amount: u64,
        /// The token mint, base58; `None` for SOL.
        mint: Option<String>,
        /// Whether the payer's durable-nonce transaction signature came with it.
        durable: bool,
        /// The scanned bytes, hex.
        hex: String,
    },
    /// A payment sealed to a till (`crate::sealed`): only that till, for
    /// the sale it pays, can read it.
    Sealed {
        /// The scanned bytes, hex.
        hex: String,
    },
    /// A request from another Solana tool to sign a transaction or a
    /// message (Keystone's `ur:sol-sign-request`, `crate::airgap`).
    SignRequest {
        /// The request as one single-part UR text.
        ur: String,
    },
    /// Anything else, shown as it is.
    Unknown {
        /// The bytes as text, when they are UTF-8.
        text: Option<String>,
        /// The scanned bytes, hex.
        hex: String,
    },
}

/// Why a scanned code cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScannedError {
    /// A `solana:` link that breaks a rule: which one.
    #[error("{url}: {reason}")]
    BadRequest {
        /// The link as scanned.
        url: String,
        /// The rule it breaks.
        reason: RequestError,
    },
    /// A transaction request this wallet will not follow, and why.
    #[error("{url}: {reason}")]
    BadLink {
        /// The link as scanned.
        url: String,
        /// Why.
        reason: crate::transaction_request::LinkError,
    },
}

/// Describes `bytes` as read from a code.
pub fn describe(bytes: &[u8]) -> Result<Scanned, ScannedError> {
    let text = std::str::from_utf8(bytes).ok();
    if let Some(t) = text.filter(|t| crate::transaction_request::Link::is_one(t)) {
        return crate::transaction_request::Link::parse(t)
            .map(|link| Scanned::TransactionRequest { link })
            .map_err(|reason| ScannedError::BadLink {
                url: t.to_owned(),
                reason,
            });
    }
    if let Some(t) = text.filter(|t| crate::request::after_scheme(t).is_some()) {
        return match PaymentRequest::parse(t) {
            Ok(request) => Ok(Scanned::PaymentRequest { request }),
            Err(reason) => Err(ScannedError::BadRequest {
                url: t.to_owned(),
                reason,
            }),
        };
    }
    if let Some(t) = text.filter(|t| {
        t.get(..crate::airgap::SIGN_REQUEST.len() + 4)
            .is_some_and(|p| {
                p.eq_ignore_ascii_case(&format!("ur:{}/", crate::airgap::SIGN_REQUEST))
            })
    }) {
        return Ok(Scanned::SignRequest { ur: t.to_owned() });
    }
    if crate::sealed::is_sealed(bytes) {
        return Ok(Scanned::Sealed {
            hex: hex::encode(bytes),
        });
    }
    if let Ok((signed, tx)) = durable::split(bytes)
        && let Ok(id) = signed.id()
    {
        let i = &signed.intent;
        return Ok(Scanned::Intent {
            id: hex::encode(id),
            payer: i.payer.to_string(),
            payee: i.payee.to_string(),
            amount: i.amount,
            mint: i.mint.map(|m| m.to_string()),
            durable: tx.is_some(),
            hex: hex::encode(bytes),
        });
    }
    Ok(Scanned::Unknown {
        text: text.map(str::to_owned),
        hex: hex::encode(bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_intents_and_other_codes_are_told_apart() {
        let url = "solana:mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN?amount=1.5";
        assert!(matches!(
            describe(url.as_bytes()),
            Ok(Scanned::PaymentRequest { .. })
        ));
        // As @solana/pay reads links: the scheme in any case, whitespace
        // around the link trimmed.
        for url in [
            "SOLANA:mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN?amount=1.5",
            "  solana:mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN?amount=1.5\n",
        ] {
            assert!(
                matches!(describe(url.as_bytes()), Ok(Scanned::PaymentRequest { .. })),
                "{url:?}"
            );
        }
        assert!(matches!(
            describe(b" Solana:https://shop.example/pay"),
            Ok(Scanned::TransactionRequest { .. })
        ));
        let bad = "solana:mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN?amount=1.5.0";
        assert!(matches!(
            describe(bad.as_bytes()),
            Err(ScannedError::BadRequest { .. })
        ));
        assert!(matches!(
            describe(b"solana:https%3A%2F%2Fshop.example%2Fpay"),
            Ok(Scanned::TransactionRequest { .. })
        ));
        assert!(matches!(
            describe(b"solana:http://shop.example/pay"),
            Err(ScannedError::BadLink { .. })
        ));
        assert_eq!(
            describe(b"hello"),
            Ok(Scanned::Unknown {
                text: Some("hello".into()),
                hex: "68656c6c6f".into()
            })
        );
        assert!(matches!(
            describe(&[0xFF, 0x00]),
            Ok(Scanned::Unknown { text: None, .. })
        ));
        // A Keystone request to sign, in either case.
        assert_eq!(
            describe(b"UR:SOL-SIGN-REQUEST/ONAD"),
            Ok(Scanned::SignRequest {
                ur: "UR:SOL-SIGN-REQUEST/ONAD".into()
            })
        );
        assert!(matches!(
            describe(b"ur:sol-signature/onad"),
            Ok(Scanned::Unknown { .. })
        ));
    }
}
