//! What a till gives the customer once a payment is verified offline: the
//! payment's id and terms as a `toss-receipt:` URI, shown as a QR code and
//! printed. The id is what the customer's wallet (or anyone) follows the
//! payment's settlement by; the terms let a person check the slip against
//! what they agreed to. Specified in docs/qr.md ("Receipts").

use solana_program::pubkey::Pubkey;

use crate::intent::Intent;

/// The receipt URI's scheme and version.
pub const SCHEME: &str = "toss-receipt";
/// The `v=` parameter this build writes.
pub const VERSION: u8 = 1;

/// A verified payment as a receipt.
#[derive(Debug, Clone, Copy)]
pub struct Receipt<'a> {
    /// The intent's id (SHA-256 of its body and signature).
    pub id: [u8; 32],
    /// The verified intent, whose payer, payee, amount and mint the URI carries.
    pub intent: &'a Intent,
    /// Unix seconds when the till verified it.
    pub verified_at: i64,
}

impl Receipt<'_> {
    /// `toss-receipt:<id hex>?v=1&payer=..&payee=..&units=..[&spl-token=..]&at=..`:
    /// the amount in base units (no decimals to know), the mint when not SOL.
    pub fn uri(&self) -> String {
        let i = self.intent;
        let token = |m: &Pubkey| format!("&spl-token={m}");
        format!(
            "{SCHEME}:{}?v={VERSION}&payer={}&payee={}&units={}{}&at={}",
            hex::encode(self.id),
            i.payer,
            i.payee,
            i.amount,
            i.mint.as_ref().map(token).unwrap_or_default(),
            self.verified_at
        )
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    /// The vector in docs/qr.md.
    #[test]
    fn the_receipt_uri_matches_the_documented_vector() {
        let key = |s| Pubkey::from_str(s).unwrap();
        let intent = Intent {
            cluster: [0; 8],
            program_id: key("GyGKxMyg1p9SsHfm15MkNUu1u9TN2JtTspcdmrtGUdse"),
            payer: key("HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk"),
            payee: key("mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN"),
            mint: None,
            amount: 1_500_000_000,
            reference: None,
            memo: None,
            nonce: 7,
            created_at: 1_790_000_000,
            expires_at: 1_790_086_400,
            durable_nonce: None,
        };
        let receipt = Receipt {
            id: [0xab; 32],
            intent: &intent,
            verified_at: 1_790_000_042,
        };
        assert_eq!(
            receipt.uri(),
            "toss-receipt:abababababababababababababababababababababababababababababababab?v=1\
             &payer=HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk\
             &payee=mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN&units=1500000000&at=1790000042"
        );
        let usdc_intent = Intent {
            mint: Some(crate::currency::USDC_DEVNET),
            amount: 3_000_000,
            ..intent.clone()
        };
        let usdc = Receipt {
            intent: &usdc_intent,
            ..receipt
        };
        assert!(usdc.uri().ends_with(
            "&units=3000000&spl-token=4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU&at=1790000042"
        ));
    }
}
