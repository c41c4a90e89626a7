//! The till's prices against a real local validator: the price update
//! accounts are written by Pyth's own SDK (its receiver program's IDL and
//! Anchor, `wallet/pyth.mjs`), loaded where Pyth's push oracle keeps them,
//! and read by the wallet over JSON-RPC as a till reads devnet's or
//! mainnet's.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use toss_core::chain::RpcChain;
use toss_core::price::{self, Fiat, PriceError, Source};
use toss_validator_tests::{LocalValidator, Pubkey, node};

const SOL_USD: &str = "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d";
const EUR_USD: &str = "a995d00bb36a63cef7fd2c287dc105fc8f3d93779f062f09551b0af3e81ec30b";
const USD_JPY: &str = "ef2c98c804ba503c6a707e38be4dfbb16683775f195b091252bf24693042fd52";

/// A price update account for `feed`, as Pyth's SDK encodes it.
fn pyth(
    feed: &str,
    price: i64,
    exponent: i32,
    published: i64,
    level: &str,
) -> (Pubkey, solana_account::AccountSharedData) {
    let args = [
        "encode".to_owned(),
        feed.to_owned(),
        price.to_string(),
        (price / 1_000).to_string(),
        exponent.to_string(),
        published.to_string(),
        level.to_owned(),
    ];
    let out = node("pyth.mjs", "http://127.0.0.1:1", &args).unwrap();
    let made: serde_json::Value = serde_json::from_str(&out).unwrap();
    let data = base64_decode(made["data"].as_str().unwrap());
    let owner: Pubkey = made["owner"].as_str().unwrap().parse().unwrap();
    assert_eq!(owner, price::RECEIVER);
    let mut account = solana_account::AccountSharedData::new(1_000_000_000, data.len(), &owner);
    account.set_data_from_slice(&data);
    (made["address"].as_str().unwrap().parse().unwrap(), account)
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_till_prices_by_pyths_accounts_read_over_rpc_and_keeps_the_last_rate() {
    let now = i64::from(toss_core::session::unix_now());
    // SOL at 150 USD, a minute old; EUR/USD at 1.25, two minutes old; the
    // yen's update only partly verified by the guardians.
    let sol = pyth(SOL_USD, 15_000_000_000, -8, now - 60, "full");
    let eur = pyth(EUR_USD, 125_000, -5, now - 120, "full");
    let jpy = pyth(USD_JPY, 150_000, -3, now - 60, "partial");
    // Pyth's SDK puts them where the wallet looks for them.
    assert_eq!(sol.0, price::feed_account(&price::SOL_USD));
    let v = LocalValidator::start_with(vec![sol, eur, jpy.clone()]).await;
    let chain = RpcChain::new(&v.rpc_url());
    let fiat = |code| Fiat::named(code).unwrap();

    let usd = price::read(&chain, "SOL", &fiat("USD")).await.unwrap();
    assert_eq!(
        (usd.decimal().as_str(), usd.published_at),
        ("150.000000", now - 60)
    );
    let eur = price::read(&chain, "SOL", &fiat("EUR")).await.unwrap();
    assert_eq!(
        (eur.decimal().as_str(), eur.published_at),
        ("120.000000", now - 120)
    );
    let usdc = price::read(&chain, "USDC", &fiat("EUR")).await.unwrap();
    assert_eq!(usdc.decimal(), "0.800000");
    // 12.50 EUR at 120 EUR/SOL, rounded up to the lamport.
    assert_eq!(eur.units_for(1_250, &fiat("EUR"), 9), Ok(104_166_667));
    // A partly verified price is not charged by; a feed the cluster does
    // not have is said so.
    assert_eq!(
        price::read(&chain, "SOL", &fiat("JPY")).await,
        Err(Err(PriceError::PartlyVerified(jpy.0)))
    );
    let gbp = price::read(&chain, "SOL", &fiat("GBP")).await;
    assert!(matches!(gbp, Err(Err(PriceError::Missing(_)))), "{gbp:?}");

    // Pyth's SDK reads the same account back over RPC.
    let back = node("pyth.mjs", &v.rpc_url(), &["read".into(), SOL_USD.into()]).unwrap();
    let back: serde_json::Value = serde_json::from_str(&back).unwrap();
    assert_eq!(back["price"], "15000000000");
    assert_eq!(back["publishTime"], (now - 60).to_string());

    // Read once, the rate is kept; with the cluster out of reach, the kept
    // one prices the sale (while fresh enough), said as such.
    let dir = tempfile::tempdir().unwrap();
    let mut store = toss_core::store::Store::open(
        &dir.path().join("toss.db"),
        &zeroize::Zeroizing::new([5; 32]),
    )
    .unwrap();
    let (read, source) = price::current(&chain, &mut store, "SOL", &fiat("EUR"))
        .await
        .unwrap();
    assert_eq!((read.scaled, source), (eur.scaled, Source::Read));
    let gone = RpcChain::new("http://127.0.0.1:9");
    let (kept, source) = price::current(&gone, &mut store, "SOL", &fiat("EUR"))
        .await
        .unwrap();
    assert_eq!(kept, eur);
    assert!(matches!(source, Source::Kept(_)));
    assert!(kept.usable(now, 3_600).is_ok());
    assert!(matches!(
        kept.usable(now + 7_200, 3_600),
        Err(PriceError::TooOld { .. })
    ));
    let never = price::current(&gone, &mut store, "SOL", &fiat("USD")).await;
    assert!(
        matches!(never, Err(PriceError::NeverRead { .. })),
        "{never:?}"
    );
}
