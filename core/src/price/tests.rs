use super::*;

/// A `PriceUpdateV2` account's bytes, laid out as Pyth's receiver writes
/// them (the validator tier reads ones made by Pyth's own library).
fn account(
    level: &[u8],
    feed_id: [u8; 32],
    price: i64,
    conf: u64,
    exponent: i32,
    at: i64,
) -> Vec<u8> {
    use sha2::Digest;
    let mut data = sha2::Sha256::digest(b"account:PriceUpdateV2")[..8].to_vec();
    data.extend_from_slice(&[7u8; 32]);
    data.extend_from_slice(level);
    data.extend_from_slice(&feed_id);
    data.extend_from_slice(&price.to_le_bytes());
    data.extend_from_slice(&conf.to_le_bytes());
    data.extend_from_slice(&exponent.to_le_bytes());
    data.extend_from_slice(&at.to_le_bytes());
    data.extend_from_slice(&(at - 1).to_le_bytes());
    data.extend_from_slice(&price.to_le_bytes());
    data.extend_from_slice(&conf.to_le_bytes());
    data.extend_from_slice(&42u64.to_le_bytes());
    data
}

fn price(feed_id: [u8; 32], price: i64, exponent: i32, at: i64) -> PythPrice {
    PythPrice {
        feed_id,
        price,
        conf: 0,
        exponent,
        publish_time: at,
    }
}

fn fiat(code: &str) -> Fiat {
    Fiat::named(code).expect("a known currency")
}

fn fx(code: &str) -> [u8; 32] {
    match fiat(code).usd {
        Usd::PerUnit(id) | Usd::UnitsPer(id) => id,
        Usd::Is => panic!("{code} has no feed"),
    }
}

#[test]
fn feed_accounts_are_the_addresses_pyth_publishes() {
    // Pyth's sponsored feeds on mainnet and devnet.
    assert_eq!(
        feed_account(&SOL_USD).to_string(),
        "7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE"
    );
    assert_eq!(
        feed_account(&fx("EUR")).to_string(),
        "Fu76ChamBDjE8UuGLV6GP2AcPPSU6gjhkNhAyuoPm7ny"
    );
}

#[test]
fn a_verified_price_update_is_read() {
    let key = feed_account(&SOL_USD);
    let data = account(&[1], SOL_USD, 14_237_000_000, 5_000_000, -8, 1_700_000_000);
    let p = decode(&key, &RECEIVER, &data).expect("a price");
    assert_eq!(
        p,
        PythPrice {
            conf: 5_000_000,
            ..price(SOL_USD, 14_237_000_000, -8, 1_700_000_000)
        }
    );
}

#[test]
fn what_is_not_a_verified_confident_price_is_refused() {
    let key = feed_account(&SOL_USD);
    let good = account(&[1], SOL_USD, 14_237_000_000, 0, -8, 1);
    assert!(matches!(
        decode(&key, &Pubkey::new_unique(), &good),
        Err(PriceError::NotAPrice { why, .. }) if why.contains("owner")
    ));
    let mut other = good.clone();
    other[0] ^= 1;
    assert!(
        matches!(decode(&key, &RECEIVER, &other), Err(PriceError::NotAPrice { why, .. }) if why.contains("discriminator"))
    );
    let partial = account(&[0, 5], SOL_USD, 14_237_000_000, 0, -8, 1);
    assert_eq!(
        decode(&key, &RECEIVER, &partial),
        Err(PriceError::PartlyVerified(key))
    );
    assert!(
        matches!(decode(&key, &RECEIVER, &good[..60]), Err(PriceError::NotAPrice { why, .. }) if why.contains("short"))
    );
    let negative = account(&[1], SOL_USD, -1, 0, -8, 1);
    assert!(matches!(
        decode(&key, &RECEIVER, &negative),
        Err(PriceError::NotAPrice { .. })
    ));
    // ±3 %: too unsure to charge by.
    let unsure = account(&[1], SOL_USD, 10_000, 300, -2, 1);
    assert_eq!(
        decode(&key, &RECEIVER, &unsure),
        Err(PriceError::Uncertain {
            account: key,
            bps: 300
        })
    );
}

#[test]
fn sol_is_priced_in_dollars_and_through_the_dollar_in_other_currencies() {
    let sol = price(SOL_USD, 15_000_000_000, -8, 100); // 150 USD
    let usd = rate("SOL", &fiat("USD"), &[sol]).expect("a rate");
    assert_eq!(usd.decimal(), "150.000000");
    assert_eq!(
        usd.words(&fiat("USD"), Separator::Point),
        "1 SOL = 150.00 USD"
    );
    // EUR/USD 1.25: 150 USD is 120 EUR.
    let eur = rate(
        "SOL",
        &fiat("EUR"),
        &[sol, price(fx("EUR"), 125_000, -5, 90)],
    )
    .expect("a rate");
    assert_eq!(eur.decimal(), "120.000000");
    assert_eq!(eur.published_at, 90, "the older price dates the rate");
    // USD/JPY 150: 150 USD is 22,500 JPY.
    let jpy = rate(
        "SOL",
        &fiat("JPY"),
        &[sol, price(fx("JPY"), 150_000, -3, 100)],
    )
    .expect("a rate");
    assert_eq!(
        jpy.words(&fiat("JPY"), Separator::Comma),
        "1 SOL = 22\u{202F}500 JPY"
    );
    // USDC is a dollar.
    let usdc = rate("USDC", &fiat("EUR"), &[price(fx("EUR"), 125_000, -5, 90)]).expect("a rate");
    assert_eq!(usdc.decimal(), "0.800000");
    // A price for the wrong feed, or too few, is not a rate.
    assert!(rate("SOL", &fiat("EUR"), &[sol]).is_err());
    assert!(
        rate(
            "SOL",
            &fiat("EUR"),
            &[sol, price(fx("GBP"), 125_000, -5, 90)]
        )
        .is_err()
    );
    assert_eq!(
        rate("BONK", &fiat("USD"), &[sol]),
        Err(PriceError::NotPriced("BONK".into()))
    );
}

#[test]
fn a_fiat_price_becomes_base_units_rounded_up() {
    let sol = rate(
        "SOL",
        &fiat("USD"),
        &[price(SOL_USD, 15_000_000_000, -8, 0)],
    )
    .expect("a rate");
    // 12.50 USD at 150 USD/SOL = 0.083333333… SOL: rounded up.
    assert_eq!(sol.units_for(1_250, &fiat("USD"), 9), Ok(83_333_334));
    assert_eq!(sol.units_for(15_000, &fiat("USD"), 9), Ok(1_000_000_000));
    let usdc = rate("USDC", &fiat("USD"), &[]).expect("a rate");
    assert_eq!(usdc.units_for(1_250, &fiat("USD"), 6), Ok(12_500_000));
    // Far past what a u64 holds: refused, not wrapped.
    let tiny = Rate {
        scaled: 1,
        ..sol.clone()
    };
    assert!(matches!(
        tiny.units_for(u64::MAX, &fiat("USD"), 9),
        Err(PriceError::OutOfRange(_))
    ));
}

#[test]
fn a_rate_older_than_the_limit_is_refused_with_its_age() {
    let sol = rate(
        "SOL",
        &fiat("USD"),
        &[price(SOL_USD, 15_000_000_000, -8, 1_000)],
    )
    .expect("a rate");
    assert_eq!(sol.usable(1_000 + 3_600, 3_600), Ok(()));
    assert_eq!(
        sol.usable(1_000 + 7_300, 3_600).map_err(|e| e.to_string()),
        Err("the last rate is 2 hours old, over the 1 hour the settings allow (max_rate_age_seconds): type the amount in SOL, or go online for a new rate".into())
    );
}

#[test]
fn tips_are_whole_percents_rounded_half_up() {
    assert_eq!(percent_of(1_250, 15), 188); // 187.5
    assert_eq!(percent_of(1_000, 10), 100);
    assert_eq!(percent_of(0, 20), 0);
    assert_eq!(age_words(59), "59 seconds");
    assert_eq!(age_words(60), "1 minute");
}

#[test]
fn currencies_are_named_in_any_case_and_others_refused() {
    assert_eq!(fiat("eur").code, "EUR");
    assert_eq!(
        fiat("JPY").words(1_234, Separator::Point),
        "1\u{202F}234 JPY"
    );
    assert_eq!(
        Fiat::named("XYZ"),
        Err(PriceError::UnknownFiat("XYZ".into()))
    );
}

#[test]
fn a_sale_priced_in_fiat_asks_the_converted_total_and_keeps_the_tip_apart() {
    let usd = fiat("USD");
    let sol = rate("SOL", &usd, &[price(SOL_USD, 15_000_000_000, -8, 77)]).expect("a rate");
    // 12.50 USD + 15 % (1.88 USD) = 14.38 USD at 150 USD/SOL.
    let p = price_sale(1_250, Tip::Percent(15), Some((&usd, &sol)), 9).expect("priced");
    assert_eq!(p.total, 95_866_667);
    assert_eq!(
        p.total - p.tip,
        83_333_334,
        "the tip is what the price alone does not ask"
    );
    let f = p.fiat.expect("a fiat side");
    assert_eq!(
        (f.code.as_str(), f.amount, f.tip, f.rate.as_str(), f.rate_at),
        ("USD", 1_438, 188, "150.000000", 77)
    );
    // In SOL: the tip is an amount in lamports, added.
    let p = price_sale(1_000, Tip::Amount(50), None, 9).expect("priced");
    assert_eq!((p.total, p.tip, p.fiat), (1_050, 50, None));
    assert!(price_sale(u64::MAX, Tip::Amount(1), None, 9).is_err());
}
