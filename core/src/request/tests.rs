use proptest::prelude::*;

use super::*;

const WALLET: &str = "mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN";
const USDC: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";

fn key(s: &str) -> Pubkey {
    s.parse().unwrap()
}

#[test]
fn the_spec_examples_parse() {
    let r = PaymentRequest::parse(&format!("solana:{WALLET}")).unwrap();
    assert_eq!(r, PaymentRequest::new(key(WALLET)));

    let r = PaymentRequest::parse(&format!(
        "solana:{WALLET}?amount=1&label=Michael&message=Thanks%20for%20all%20the%20fish&memo=OrderId12345"
    ))
    .unwrap();
    assert_eq!(r.amount_units(9).unwrap(), Some(1_000_000_000));
    assert_eq!(r.label.as_deref(), Some("Michael"));
    assert_eq!(r.message.as_deref(), Some("Thanks for all the fish"));
    assert_eq!(r.memo.as_deref(), Some("OrderId12345"));

    let r = PaymentRequest::parse(&format!(
        "solana:{WALLET}?amount=0.01&spl-token={USDC}&reference=82ZJ7nbGpixjeDCmEhUcmwXYfvurzAgGdtSMuHnUgyny&reference={WALLET}"
    ))
    .unwrap();
    assert_eq!(r.spl_token, Some(key(USDC)));
    assert_eq!(r.amount_units(6).unwrap(), Some(10_000));
    assert_eq!(r.references.len(), 2);
    assert!(!r.offline && r.noise_key.is_none());
}

#[test]
fn toss_fields_round_trip_and_other_wallets_keep_working() {
    let mut r = PaymentRequest::new(key(WALLET));
    r.amount = Some("2.5".into());
    r.spl_token = Some(key(USDC));
    r.references = vec![key(WALLET)];
    r.label = Some("Café & Co".into());
    r.message = Some("Order #42 / table 7".into());
    r.memo = Some("42".into());
    r.noise_key = Some([7; 32]);
    r.offline = true;
    let url = r.to_url();
    assert!(
        url.starts_with(&format!("solana:{WALLET}?amount=2.5&spl-token={USDC}")),
        "{url}"
    );
    assert!(url.contains("label=Caf%C3%A9%20%26%20Co"), "{url}");
    assert_eq!(PaymentRequest::parse(&url).unwrap(), r);
    // Unknown fields are someone else's: ignored.
    let extra = format!("{url}&x-other=1");
    assert_eq!(PaymentRequest::parse(&extra).unwrap(), r);
}

#[test]
fn each_broken_rule_says_which() {
    use RequestError as E;
    let p = PaymentRequest::parse;
    assert_eq!(p("bitcoin:abc"), Err(E::NotSolanaPay));
    assert_eq!(
        p("solana:https%3A%2F%2Fexample.com%2Fpay"),
        Err(E::TransactionRequest)
    );
    assert!(matches!(p("solana:notbase58!"), Err(E::BadRecipient(_))));
    let ata = crate::address::associated_token_account(&key(WALLET), &key(USDC));
    assert_eq!(p(&format!("solana:{ata}")), Err(E::RecipientNotWallet(ata)));
    for bad in ["-1", "1e3", ".5", "1.", "1,5", "0x10", ""] {
        assert!(
            matches!(
                p(&format!("solana:{WALLET}?amount={bad}")),
                Err(E::BadAmount(_))
            ),
            "{bad:?}"
        );
    }
    // More places than the currency has, where its decimals are known:
    // SOL's 9, USDC's 6 (on either cluster's mint).
    for url in [
        format!("solana:{WALLET}?amount=1.0000000001"),
        format!("solana:{WALLET}?amount=0.0000001&spl-token={USDC}"),
        format!(
            "solana:{WALLET}?amount=0.0000001&spl-token={}",
            crate::currency::USDC_DEVNET
        ),
    ] {
        assert!(
            matches!(p(&url), Err(E::BadAmount(AmountError::TooPrecise { .. }))),
            "{url}"
        );
    }
    for zero in ["0", "0.0", "000.000000"] {
        assert_eq!(
            p(&format!("solana:{WALLET}?amount={zero}")),
            Err(E::ZeroAmount),
            "{zero}"
        );
    }
    assert!(matches!(
        p(&format!("solana:{WALLET}?spl-token=xyz")),
        Err(E::BadAddress {
            field: "spl-token",
            ..
        })
    ));
    assert!(matches!(
        p(&format!("solana:{WALLET}?reference=1")),
        Err(E::BadAddress {
            field: "reference",
            ..
        })
    ));
    assert_eq!(
        p(&format!("solana:{WALLET}?amount=1&amount=2")),
        Err(E::Repeated("amount".into()))
    );
    assert_eq!(
        p(&format!("solana:{WALLET}?label=%FF")),
        Err(E::BadEncoding("label".into()))
    );
    assert_eq!(
        p(&format!("solana:{WALLET}?label=%4")),
        Err(E::BadEncoding("label".into()))
    );
    assert!(matches!(
        p(&format!("solana:{WALLET}?toss-key=abc")),
        Err(E::BadNoiseKey(_))
    ));
    assert_eq!(
        p(&format!("solana:{WALLET}?toss-offline=yes")),
        Err(E::BadOffline("yes".into()))
    );
    assert_eq!(
        p(&format!("solana:{WALLET}?label=%+A")),
        Err(E::BadEncoding("label".into()))
    );
    let key = bs58::encode([7u8; 32]).into_string();
    assert_eq!(
        p(&format!("solana:{WALLET}?toss-key={key}")),
        Err(E::NoReference)
    );
}

/// Cases per property: 100,000 unless PROPTEST_CASES says otherwise.
fn cases() -> ProptestConfig {
    ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000),
    )
}

fn wallet() -> impl Strategy<Value = Pubkey> {
    any::<[u8; 32]>().prop_map(|seed| {
        let k = ed25519_dalek::SigningKey::from_bytes(&seed);
        Pubkey::new_from_array(k.verifying_key().to_bytes())
    })
}

#[test]
fn read_as_solana_pays_own_parser_reads_it() {
    let parse = |q: &str| PaymentRequest::parse(&format!("solana:{WALLET}?{q}"));
    // `+` is a space; a fragment is not part of a field; surrounding
    // whitespace is not part of the link.
    assert_eq!(parse("amount=1#frag").unwrap().amount.as_deref(), Some("1"));
    assert_eq!(
        PaymentRequest::parse(&format!(" \n solana:{WALLET}?amount=1 \r\n"))
            .unwrap()
            .amount
            .as_deref(),
        Some("1")
    );
    assert_eq!(
        parse("label=Cafe+Alpha").unwrap().label.as_deref(),
        Some("Cafe Alpha")
    );
    assert_eq!(parse("label=a#b").unwrap().label.as_deref(), Some("a"));
    // The scheme in any case.
    assert!(PaymentRequest::parse(&format!("SOLANA:{WALLET}?amount=1")).is_ok());
    // Empty fields are absent, and not written back.
    let empty = parse("memo=&label=&amount=1").unwrap();
    assert_eq!((empty.memo, empty.label), (None, None));
    assert!(!parse("memo=&amount=1").unwrap().to_url().contains("memo"));
    // Solana Pay's own fields once each; other wallets' parameters are theirs.
    assert!(matches!(
        parse("label=a&label=b"),
        Err(RequestError::Repeated(_))
    ));
    assert!(matches!(
        parse(&format!("spl-token={WALLET}&spl-token={WALLET}")),
        Err(RequestError::Repeated(_))
    ));
    assert!(parse("utm=a&utm=b&amount=1").is_ok());
    // A SOL amount with more places than SOL has is malformed at once.
    assert!(matches!(
        parse("amount=0.0000000001"),
        Err(RequestError::BadAmount(_))
    ));
    assert!(parse(&format!("amount=0.0000000001&spl-token={WALLET}")).is_ok());
    // Too long.
    assert!(matches!(
        parse(&format!("label={}", "a".repeat(2100))),
        Err(RequestError::TooLong(_))
    ));
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn the_parser_never_panics(s in "\\PC*", tail in "[a-z=&%+0-9A-F.-]{0,60}") {
        let _ = PaymentRequest::parse(&s);
        let _ = PaymentRequest::parse(&format!("solana:{WALLET}?{tail}"));
        let _ = PaymentRequest::parse(&format!("solana:{tail}"));
    }

    #[test]
    fn whatever_is_built_parses_back(
        recipient in wallet(),
        whole in 1u64..1_000_000, // zero is refused: nothing to pay
        fraction in proptest::option::of("[0-9]{1,9}"),
        label in proptest::option::of("\\PC{0,40}"),
        memo in proptest::option::of("\\PC{0,40}"),
        refs in proptest::collection::vec(any::<[u8; 32]>(), 0..3),
        noise in proptest::option::of(any::<[u8; 32]>()),
        offline in any::<bool>(),
    ) {
        let mut r = PaymentRequest::new(recipient);
        r.amount = Some(match fraction {
            Some(f) => format!("{whole}.{f}"),
            None => whole.to_string(),
        });
        r.references = refs.into_iter().map(Pubkey::new_from_array).collect();
        r.label = label.filter(|l| !l.is_empty());
        r.memo = memo.filter(|m| !m.is_empty());
        r.noise_key = noise;
        if noise.is_some() && r.references.is_empty() {
            r.references.push(recipient); // a Noise key needs a reference
        }
        r.offline = offline;
        prop_assert_eq!(PaymentRequest::parse(&r.to_url()).unwrap(), r);
    }
}
