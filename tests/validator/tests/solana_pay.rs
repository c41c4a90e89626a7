//! The till's look-up of online Solana Pay payments, against a real local
//! validator, paid by the ecosystem's own wallet code (`@solana/pay` and
//! `@solana/web3.js` from node, `wallet/pay.mjs`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::process::Command;

use solana_signer::Signer;
use solana_transaction::Transaction;
use toss_core::chain::RpcChain;
use toss_core::request::PaymentRequest;
use toss_core::solana_pay::{Commitment, Found, Refusal, find};
use toss_validator_tests::{Keypair, LocalValidator, Pubkey};

/// Pays `url` from `payer` with @solana/pay, optionally another amount;
/// the transaction signature.
fn wallet_pays(rpc: &str, url: &str, payer: &Keypair, amount: Option<&str>) -> String {
    let npm = std::env::var("TOSS_NPM_DIR")
        .expect("TOSS_NPM_DIR names the npm directory holding @solana/pay (scripts/test sets it)");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/wallet/pay.mjs");
    let secret = format!("{:?}", payer.to_bytes().to_vec());
    let out = Command::new("node")
        .arg(script)
        .arg(url)
        .arg(secret)
        .args(amount)
        .env("RPC_URL", rpc)
        .env("TOSS_NPM_DIR", npm)
        .output()
        .expect("node must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_till_finds_a_payment_made_by_any_wallet_and_refuses_an_underpayment() {
    let v = LocalValidator::start().await;
    let rpc = v.rpc_url();
    let client = solana_rpc_client::nonblocking::rpc_client::RpcClient::new_with_commitment(
        rpc.clone(),
        solana_commitment_config::CommitmentConfig::confirmed(),
    );
    // A customer with SOL, and a merchant's wallet (Solana Pay wallets
    // check the recipient exists).
    let customer = Keypair::new();
    let merchant = Keypair::new().pubkey();
    let fund = |to: &Pubkey, lamports| {
        solana_system_interface::instruction::transfer(&v.mint.pubkey(), to, lamports)
    };
    let blockhash = client.get_latest_blockhash().await.unwrap();
    let tx = Transaction::new_signed_with_payer(
        &[
            fund(&customer.pubkey(), 2_000_000_000),
            fund(&merchant, 1_000_000_000),
        ],
        Some(&v.mint.pubkey()),
        &[&v.mint],
        blockhash,
    );
    client.send_and_confirm_transaction(&tx).await.unwrap();

    // The till's request: 0.25 SOL to the merchant, with a fresh reference.
    let mut request = PaymentRequest::new(merchant);
    request.amount = Some("0.25".into());
    request.references = vec![Pubkey::new_unique()];
    request.memo = Some("order 7".into());
    let url = request.to_url();
    let chain = RpcChain::new(&rpc);
    let nothing = find(&chain, &request, Commitment::Confirmed, &[])
        .await
        .unwrap();
    assert_eq!(nothing, Found::Refused(Vec::new()), "nothing paid yet");

    // Too little: seen, refused with the reason, never paid.
    let short = wallet_pays(&rpc, &url, &customer, Some("0.2"));
    let Found::Refused(refused) = poll(&chain, &request, Commitment::Confirmed, &[]).await else {
        panic!("an underpayment is not paid")
    };
    assert_eq!(
        refused,
        vec![(
            short.clone(),
            Refusal::WrongAmount {
                got: 200_000_000,
                expected: 250_000_000
            }
        )]
    );

    // The right amount, with the memo: paid, by the customer.
    let good = wallet_pays(&rpc, &url, &customer, None);
    let short = vec![short];
    let Found::Paid(paid) = poll(&chain, &request, Commitment::Confirmed, &short).await else {
        panic!("the payment is found")
    };
    assert_eq!(paid.signature, good);
    assert_eq!(
        (paid.payer, paid.amount, paid.mint),
        (customer.pubkey(), 250_000_000, None)
    );
    // Finalized, when the merchant asks for it, follows a little later.
    let finalized = poll(&chain, &request, Commitment::Finalized, &short).await;
    assert!(matches!(finalized, Found::Paid(p) if p.signature == good));
}

/// Looks the request up every half second, as the till does while it
/// waits, until something carrying the reference is found (30 s at most).
async fn poll(
    chain: &RpcChain,
    request: &PaymentRequest,
    at: Commitment,
    skip: &[String],
) -> Found {
    for _ in 0..60 {
        match find(chain, request, at, skip).await.unwrap() {
            Found::Refused(r) if r.is_empty() => {}
            found => return found,
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("nothing carrying the reference was found in 30 s")
}
