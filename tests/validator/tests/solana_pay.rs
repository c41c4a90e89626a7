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
use toss_validator_tests::{Keypair, LocalValidator, Pubkey, node};

/// A local validator, a client of its RPC, a customer holding
/// `customer_lamports` and a merchant's wallet holding 1 SOL (Solana Pay
/// wallets check the recipient exists).
struct Shop {
    v: LocalValidator,
    rpc: String,
    client: solana_rpc_client::nonblocking::rpc_client::RpcClient,
    customer: Keypair,
    merchant: Pubkey,
    /// The merchant's key (refunds are paid from it).
    merchant_key: Keypair,
}

impl Shop {
    async fn open(customer_lamports: u64) -> Self {
        let v = LocalValidator::start().await;
        let rpc = v.rpc_url();
        let client = solana_rpc_client::nonblocking::rpc_client::RpcClient::new_with_commitment(
            rpc.clone(),
            solana_commitment_config::CommitmentConfig::confirmed(),
        );
        let customer = Keypair::new();
        let merchant_key = Keypair::new();
        let merchant = merchant_key.pubkey();
        let fund = |to: &Pubkey, lamports| {
            solana_system_interface::instruction::transfer(&v.mint.pubkey(), to, lamports)
        };
        let ixs = [
            fund(&customer.pubkey(), customer_lamports),
            fund(&merchant, 1_000_000_000),
        ];
        send(&client, &v.mint, &ixs, &[]).await;
        Shop {
            v,
            rpc,
            client,
            customer,
            merchant,
            merchant_key,
        }
    }
}

/// Sends `ixs`, fee paid by `fee_payer`, signed by it and `signers`.
async fn send(
    client: &solana_rpc_client::nonblocking::rpc_client::RpcClient,
    fee_payer: &Keypair,
    ixs: &[solana_program::instruction::Instruction],
    signers: &[&Keypair],
) {
    let blockhash = client.get_latest_blockhash().await.unwrap();
    let mut all = vec![fee_payer];
    all.extend_from_slice(signers);
    let tx = Transaction::new_signed_with_payer(ixs, Some(&fee_payer.pubkey()), &all, blockhash);
    client.send_and_confirm_transaction(&tx).await.unwrap();
}

/// What @solana/pay's own checks (`wallet/validate.mjs`: findReference,
/// then validateTransfer) say of `request`, asked every half second until
/// they pass (20 s at most: the reference's index follows the block).
async fn validated(rpc: &str, request: &PaymentRequest) -> Result<String, String> {
    let mut checked = Err(String::new());
    for _ in 0..40 {
        checked = node("validate.mjs", rpc, &[request.to_url()]);
        if checked.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    checked
}

/// Pays `url` from `payer` with @solana/pay, optionally another amount;
/// the transaction signature.
fn wallet_pays(rpc: &str, url: &str, payer: &Keypair, amount: Option<&str>) -> String {
    let secret = format!("{:?}", payer.to_bytes().to_vec());
    let mut args = vec![url.to_owned(), secret];
    args.extend(amount.map(str::to_owned));
    node("pay.mjs", rpc, &args).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_till_finds_a_payment_made_by_any_wallet_and_refuses_an_underpayment() {
    let Shop {
        v: _validator, // kept running until the test ends
        rpc,
        client: _,
        customer,
        merchant,
        ..
    } = Shop::open(2_000_000_000).await;

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
/// waits, until something carrying the reference is found (90 s at most:
/// finalized takes 32 slots, which a loaded machine makes slow).
async fn poll(
    chain: &RpcChain,
    request: &PaymentRequest,
    at: Commitment,
    skip: &[String],
) -> Found {
    for _ in 0..180 {
        match find(chain, request, at, skip).await.unwrap() {
            Found::Refused(r) if r.is_empty() => {}
            found => return found,
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("nothing carrying the reference was found in 90 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toss_payment_settled_later_is_found_by_the_requests_reference() {
    use ed25519_dalek::SigningKey;
    use toss_core::intent::{Intent, MemoryLedger, RiskLimits, Verifier, cluster, sign};
    use toss_program::instruction::{self as ix, Funds};

    let v = LocalValidator::start().await;
    let rpc = v.rpc_url();
    let client = solana_rpc_client::nonblocking::rpc_client::RpcClient::new_with_commitment(
        rpc.clone(),
        solana_commitment_config::CommitmentConfig::confirmed(),
    );
    // The payer's escrow, funded; the merchant's wallet.
    let payer_key = SigningKey::from_bytes(&[1; 32]);
    let payer = Keypair::new_from_array(payer_key.to_bytes());
    let merchant_key = SigningKey::from_bytes(&[50; 32]);
    let merchant = Pubkey::new_from_array(merchant_key.verifying_key().to_bytes());
    let fund = |to: &Pubkey| {
        solana_system_interface::instruction::transfer(&v.mint.pubkey(), to, 2_000_000_000)
    };
    send(
        &client,
        &v.mint,
        &[fund(&payer.pubkey()), fund(&merchant)],
        &[],
    )
    .await;
    let hash = client.get_genesis_hash().await.unwrap();
    let cluster = cluster::from_genesis_hash(&hash.to_bytes());
    let open = ix::open_escrow(&v.program_id, &payer.pubkey(), None, cluster, 3600);
    let deposit = ix::deposit(&v.program_id, &payer.pubkey(), Funds::Sol, 1_000_000_000);
    send(&client, &v.mint, &[open, deposit], &[&payer]).await;

    // The till's request, paid offline by an intent that carries its reference.
    let mut request = PaymentRequest::new(merchant);
    request.amount = Some("0.25".into());
    request.references = vec![Pubkey::new_unique()];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    let intent = Intent {
        cluster,
        program_id: v.program_id,
        payer: payer.pubkey(),
        payee: merchant,
        mint: None,
        amount: 250_000_000,
        reference: request.references.first().copied(),
        memo: None,
        nonce: 1,
        created_at: now - 60,
        expires_at: now + 86_400,
        durable_nonce: None,
    };
    let signed = sign(intent, &payer_key).unwrap();
    let verifier = Verifier {
        cluster,
        program_id: v.program_id,
        payee: merchant,
        limits: RiskLimits::default(),
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut store = toss_core::store::Store::open(
        &tmp.path().join("toss.db"),
        &zeroize::Zeroizing::new([9; 32]),
    )
    .unwrap();
    let accepted = verifier
        .verify(
            &signed.to_bytes().unwrap(),
            None,
            now,
            &MemoryLedger::default(),
        )
        .unwrap();
    store.record_received(&accepted, i64::from(now)).unwrap();
    let chain = RpcChain::new(&rpc);
    let backoff = toss_core::chain::Backoff {
        base: std::time::Duration::from_millis(200),
        retries: 3,
    };
    let engine =
        toss_core::settle::Engine::new(RpcChain::new(&rpc), v.program_id, &payer_key, backoff);
    let settled = engine
        .settle_all(&mut store, i64::from(now), &mut |_| {})
        .await
        .unwrap();
    let toss_core::settle::Outcome::Settled { signature } = &settled[0].1 else {
        panic!("{settled:?}")
    };
    // Settled by the payer's side (whoever is online first settles; here
    // the payer pays the fee): the look-up by reference a merchant's tools
    // use finds the settlement, and it pays the request exactly.
    let Found::Paid(paid) = poll(&chain, &request, Commitment::Confirmed, &[]).await else {
        panic!("the settlement pays the request")
    };
    assert_eq!(&paid.signature, signature);
    assert_eq!(paid.amount, 250_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_wallets_online_payment_passes_solana_pays_own_checks() {
    let Shop {
        v: _validator, // kept running until the test ends
        rpc,
        client,
        customer,
        merchant,
        ..
    } = Shop::open(1_000_000_000).await;

    let mut request = PaymentRequest::new(merchant);
    request.amount = Some("0.125".into());
    request.references = vec![Pubkey::new_unique(), Pubkey::new_unique()];
    request.memo = Some("table 4".into());
    // Nothing paid yet: the merchant's own tools find nothing.
    assert!(node("validate.mjs", &rpc, &[request.to_url()]).is_err());

    let ixs = toss_core::solana_pay::transfer(&request, &customer.pubkey(), 9).unwrap();
    let blockhash = client.get_latest_blockhash().await.unwrap();
    let tx =
        Transaction::new_signed_with_payer(&ixs, Some(&customer.pubkey()), &[&customer], blockhash);
    let ours = client
        .send_and_confirm_transaction(&tx)
        .await
        .unwrap()
        .to_string();
    assert_eq!(validated(&rpc, &request).await, Ok(ours));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_till_hears_of_a_payment_by_websocket_and_polls_once_the_socket_is_cut() {
    use toss_core::amount::Separator;
    use toss_core::config::Cluster;
    use toss_core::sale::{OpenSale, Stage, Till, Watched, watch};
    use toss_validator_tests::Relay;

    let Shop {
        v,
        rpc,
        client: _,
        customer,
        merchant,
        ..
    } = Shop::open(1_000_000_000).await;
    // The websocket goes through a relay the test can cut.
    let relay = Relay::start(&v.pubsub_url()).await;
    let ws: url::Url = relay.url().replace("http://", "ws://").parse().unwrap();
    let chain = RpcChain::new(&rpc);
    let tmp = tempfile::tempdir().unwrap();
    let mut store = toss_core::store::Store::open(
        &tmp.path().join("till.db"),
        &zeroize::Zeroizing::new([9; 32]),
    )
    .unwrap();
    let till = Till::default();
    let sale = |amount: &str| {
        let mut request = PaymentRequest::new(merchant);
        request.amount = Some(amount.into());
        request.references = vec![Pubkey::new_unique()];
        till.open(OpenSale::new(&request, Cluster::Localnet, Separator::Point).unwrap());
        request.to_url()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let go_on = || std::time::Instant::now() < deadline;

    // Live: the till asks only every 2 minutes, so only the push can tell
    // it in time.
    let url = sale("0.1");
    let mut heard = Vec::new();
    // The customer pays once the till listens: a payment made before the
    // subscription exists is found by asking, which this phase is not about.
    let listening = tokio::sync::Notify::new();
    let mut tell = |r: Result<Watched, toss_core::chain::ChainError>| {
        let w = r.unwrap();
        if w == Watched::Live(true) {
            listening.notify_one();
        }
        heard.push(w);
    };
    let started = std::time::Instant::now();
    let customer_bytes = customer.to_bytes();
    let pay = |url: String| {
        let rpc = rpc.clone();
        async move {
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            tokio::task::spawn_blocking(move || {
                wallet_pays(
                    &rpc,
                    &url,
                    &Keypair::new_from_array(customer_bytes[..32].try_into().unwrap()),
                    None,
                )
            })
            .await
            .unwrap()
        }
    };
    let (watched, paid_in) = tokio::join!(
        watch(
            &till,
            &chain,
            Some(&ws),
            &mut store,
            Commitment::Confirmed,
            std::time::Duration::from_secs(120),
            &go_on,
            &mut tell,
        ),
        async {
            listening.notified().await;
            pay(url).await
        },
    );
    watched.unwrap();
    assert_eq!(heard.first(), Some(&Watched::Live(true)), "{heard:?}");
    assert!(
        matches!(heard.last(), Some(Watched::Paid(p)) if p.signature == paid_in),
        "{heard:?}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "heard by push, not by the 2-minute poll"
    );
    assert!(matches!(till.now(), Stage::PaidOnline(..)));

    // The socket is cut mid-wait: the till says so and asks every second.
    let url = sale("0.2");
    let mut heard = Vec::new();
    let mut tell = |r: Result<Watched, toss_core::chain::ChainError>| heard.push(r.unwrap());
    let cut = async {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        relay.set_up(false);
        pay(url).await
    };
    let (watched, paid_in) = tokio::join!(
        watch(
            &till,
            &chain,
            Some(&ws),
            &mut store,
            Commitment::Confirmed,
            std::time::Duration::from_secs(1),
            &go_on,
            &mut tell,
        ),
        cut,
    );
    watched.unwrap();
    assert_eq!(heard.first(), Some(&Watched::Live(true)), "{heard:?}");
    assert!(heard.contains(&Watched::Live(false)), "{heard:?}");
    assert!(
        matches!(heard.last(), Some(Watched::Paid(p)) if p.signature == paid_in),
        "{heard:?}"
    );
    // Both kept, once each.
    assert_eq!(store.online_payments().unwrap().len(), 2);
}

/// A token (6 decimals, the faucet its mint authority) with token
/// accounts for the customer, holding 10 of it, and the merchant.
async fn token(shop: &Shop) -> Pubkey {
    use solana_program::program_pack::Pack;
    let authority = shop.v.mint.pubkey();
    let mint = Keypair::new();
    let token = spl_token_interface::ID;
    let mint_len = spl_token_interface::state::Mint::LEN;
    let customer = shop.customer.pubkey();
    let setup = vec![
        solana_system_interface::instruction::create_account(
            &authority,
            &mint.pubkey(),
            10_000_000,
            mint_len as u64,
            &token,
        ),
        spl_token_interface::instruction::initialize_mint2(
            &token,
            &mint.pubkey(),
            &authority,
            None,
            6,
        )
        .unwrap(),
        toss_core::address::create_associated_token_account(&authority, &customer, &mint.pubkey()),
        toss_core::address::create_associated_token_account(
            &authority,
            &shop.merchant,
            &mint.pubkey(),
        ),
        spl_token_interface::instruction::mint_to(
            &token,
            &mint.pubkey(),
            &toss_core::address::associated_token_account(&customer, &mint.pubkey()),
            &authority,
            &[],
            10_000_000,
        )
        .unwrap(),
    ];
    send(&shop.client, &shop.v.mint, &setup, &[&mint]).await;
    mint.pubkey()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_in_another_token_is_refused_as_such() {
    let shop = Shop::open(1_000_000_000).await;
    let mint = token(&shop).await;
    let Shop {
        v: _validator, // kept running until the test ends
        rpc,
        customer,
        merchant,
        ..
    } = shop;

    // The till asks 2 SOL; the customer's wallet pays 2 of the token, with
    // the sale's reference.
    let mut request = PaymentRequest::new(merchant);
    request.amount = Some("2".into());
    request.references = vec![Pubkey::new_unique()];
    let mut in_tokens = request.clone();
    in_tokens.spl_token = Some(mint);
    let paid = wallet_pays(&rpc, &in_tokens.to_url(), &customer, None);
    let chain = RpcChain::new(&rpc);
    let Found::Refused(refused) = poll(&chain, &request, Commitment::Confirmed, &[]).await else {
        panic!("a payment in another token does not pay a SOL sale")
    };
    assert_eq!(
        refused,
        vec![(
            paid,
            Refusal::WrongToken {
                got: mint,
                wanted: "SOL".into()
            }
        )]
    );
}

/// A certificate authority and a certificate for 127.0.0.1 it signed, made
/// with openssl in `dir`: (authority, certificate, key) paths.
fn certificates(dir: &std::path::Path, name: &str) -> [std::path::PathBuf; 3] {
    let path = |f: &str| dir.join(format!("{name}-{f}"));
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl must be installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let s = |p: &std::path::PathBuf| p.to_str().unwrap().to_owned();
    let (ca, ca_key, csr, cert, key, ext) = (
        path("ca.pem"),
        path("ca.key"),
        path("leaf.csr"),
        path("leaf.pem"),
        path("leaf.key"),
        path("leaf.ext"),
    );
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &s(&ca_key),
        "-out",
        &s(&ca),
        "-days",
        "2",
        "-subj",
        "/CN=TOSS test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &s(&key),
        "-out",
        &s(&csr),
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        &s(&csr),
        "-CA",
        &s(&ca),
        "-CAkey",
        &s(&ca_key),
        "-CAcreateserial",
        "-out",
        &s(&cert),
        "-days",
        "2",
        "-extfile",
        &s(&ext),
    ]);
    [ca, cert, key]
}

/// A merchant's transaction-request server (wallet/merchant.mjs) in
/// `mode`, serving over HTTPS with `cert`; killed when dropped.
struct MerchantServer {
    child: std::process::Child,
    link: toss_core::transaction_request::Link,
}

impl MerchantServer {
    fn start(
        rpc: &str,
        [_, cert, key]: &[std::path::PathBuf; 3],
        mode: &str,
        recipient: &Pubkey,
        amount: &str,
        sponsor: Option<&Keypair>,
    ) -> Self {
        use std::io::BufRead;
        let npm = std::env::var("TOSS_NPM_DIR").expect("TOSS_NPM_DIR names the npm directory");
        let mut command = Command::new("node");
        command
            .arg(format!(
                "{}/wallet/merchant.mjs",
                env!("CARGO_MANIFEST_DIR")
            ))
            .args([mode, &recipient.to_string(), amount])
            .env("RPC_URL", rpc)
            .env("TOSS_NPM_DIR", npm)
            .env("CERT", cert)
            .env("KEY", key)
            .stdout(std::process::Stdio::piped());
        if let Some(s) = sponsor {
            command.env("MERCHANT_SECRET", format!("{:?}", s.to_bytes().to_vec()));
        }
        let mut child = command.spawn().expect("node must be installed");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let link = toss_core::transaction_request::Link::parse(&format!("solana:{}", line.trim()))
            .unwrap();
        MerchantServer { child, link }
    }
}

impl Drop for MerchantServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Trusts `ca` for HTTPS in this process, as a user's added authority
/// would be (the system store through `SSL_CERT_FILE`).
fn trust(ca: &std::path::Path) {
    // SAFETY: these tests run one at a time (scripts/test passes
    // --test-threads=1) and no other thread reads the environment now.
    unsafe { std::env::set_var("SSL_CERT_FILE", ca) };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchants_transaction_request_is_explained_then_signed_and_lands() {
    use toss_core::transaction_request::{Limits, http_client, merchant as label_of, offer, pay};
    let shop = Shop::open(1_000_000_000).await;
    let dir = tempfile::tempdir().unwrap();
    let certs = certificates(dir.path(), "shop");
    trust(&certs[0]);
    let limits = Limits::default();
    let http = http_client(&limits).unwrap();
    let chain = RpcChain::new(&shop.rpc);
    let backoff = toss_core::chain::Backoff::seconds(2);
    let key = ed25519_dalek::SigningKey::from_bytes(shop.customer.secret_bytes());
    let you = shop.customer.pubkey();
    let balance = |k: Pubkey| {
        let client = &shop.client;
        async move { client.get_balance(&k).await.unwrap() }
    };

    // The customer pays the fee: what was shown is exactly what left.
    let server = MerchantServer::start(&shop.rpc, &certs, "honest", &shop.merchant, "0.1", None);
    let named = label_of(&http, &server.link, &limits).await.unwrap();
    assert_eq!(named.label, "Test Café");
    assert!(
        named
            .icon
            .unwrap()
            .starts_with("data:image/svg+xml;base64,")
    );
    let offered = offer(&http, &chain, backoff, &server.link, &you, &limits)
        .await
        .unwrap();
    assert_eq!(offered.message.as_deref(), Some("Thanks for your order"));
    let shown = offered.explained;
    assert_eq!(
        (
            shown.payment.recipient,
            shown.payment.amount,
            shown.payment.mint
        ),
        (shop.merchant, 100_000_000, None)
    );
    assert_eq!(
        (shown.fee, shown.rent, shown.memos.clone()),
        (5_000, 0, vec!["order 42".to_owned()])
    );
    let (before, merchant_before) = (balance(you).await, balance(shop.merchant).await);
    let paid = pay(&http, &chain, backoff, &server.link, &shown, &key, &limits)
        .await
        .unwrap();
    assert_eq!(paid.explained, shown);
    assert_eq!(balance(you).await, before - 100_000_000 - 5_000);
    assert_eq!(balance(shop.merchant).await, merchant_before + 100_000_000);
    drop(server);

    // The merchant pays the fee and signs first: the customer pays the sale only.
    let sponsor = Keypair::new();
    send(
        &shop.client,
        &shop.v.mint,
        &[solana_system_interface::instruction::transfer(
            &shop.v.mint.pubkey(),
            &sponsor.pubkey(),
            100_000_000,
        )],
        &[],
    )
    .await;
    let server = MerchantServer::start(
        &shop.rpc,
        &certs,
        "sponsored",
        &shop.merchant,
        "0.1",
        Some(&sponsor),
    );
    let shown = offer(&http, &chain, backoff, &server.link, &you, &limits)
        .await
        .unwrap()
        .explained;
    assert_eq!((shown.fee_payer, shown.fee), (sponsor.pubkey(), 0));
    let before = balance(you).await;
    pay(&http, &chain, backoff, &server.link, &shown, &key, &limits)
        .await
        .unwrap();
    assert_eq!(balance(you).await, before - 100_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_merchant_server_is_refused_and_nothing_leaves_the_wallet() {
    use toss_core::transaction_request::{
        Limits, RequestError, Unexplained, http_client, offer, pay,
    };
    let shop = Shop::open(5_000_000_000).await;
    let dir = tempfile::tempdir().unwrap();
    let certs = certificates(dir.path(), "shop");
    trust(&certs[0]);
    let limits = Limits {
        timeout: std::time::Duration::from_secs(2),
        ..Limits::default()
    };
    let http = http_client(&limits).unwrap();
    let chain = RpcChain::new(&shop.rpc);
    let backoff = toss_core::chain::Backoff::seconds(2);
    let key = ed25519_dalek::SigningKey::from_bytes(shop.customer.secret_bytes());
    let you = shop.customer.pubkey();
    let start = shop.client.get_balance(&you).await.unwrap();
    let server = |mode| MerchantServer::start(&shop.rpc, &certs, mode, &shop.merchant, "0.1", None);

    // An extra instruction draining the account.
    let drain = server("drain");
    let err = offer(&http, &chain, backoff, &drain.link, &you, &limits)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RequestError::Refused(Unexplained::MoreThanOnePayment(_))
        ),
        "{err}"
    );
    // A recipient other than the one shown, swapped at payment time.
    let switch = server("switch");
    let shown = offer(&http, &chain, backoff, &switch.link, &you, &limits)
        .await
        .unwrap()
        .explained;
    assert_eq!(shown.payment.recipient, shop.merchant);
    let err = pay(&http, &chain, backoff, &switch.link, &shown, &key, &limits)
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::Changed { .. }), "{err}");
    // An answer too large, a refusal in the server's words, no answer.
    let huge = server("huge");
    let err = offer(&http, &chain, backoff, &huge.link, &you, &limits)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::TooLarge { limit: 65_536, .. }),
        "{err}"
    );
    let refuse = server("refuse");
    let err = offer(&http, &chain, backoff, &refuse.link, &you, &limits)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the merchant's server at 127.0.0.1 answered 400: out of stock"
    );
    let slow = server("slow");
    let err = offer(&http, &chain, backoff, &slow.link, &you, &limits)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no answer in time"), "{err}");
    // A server whose certificate no trusted authority signed.
    let stranger = certificates(dir.path(), "stranger");
    let impostor =
        MerchantServer::start(&shop.rpc, &stranger, "honest", &shop.merchant, "0.1", None);
    let err = offer(&http, &chain, backoff, &impostor.link, &you, &limits)
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::Unreachable { .. }), "{err}");

    assert_eq!(
        shop.client.get_balance(&you).await.unwrap(),
        start,
        "nothing was sent"
    );
}

/// The customer pays `request` with @solana/pay; the till finds it and
/// keeps it in a store in `dir`, as it does while a sale is shown: the
/// payment's signature, and the store.
async fn paid_and_kept(
    rpc: &str,
    request: &PaymentRequest,
    customer: &Keypair,
    dir: &std::path::Path,
) -> (String, toss_core::store::Store) {
    let paid_with = wallet_pays(rpc, &request.to_url(), customer, None);
    let chain = RpcChain::new(rpc);
    let Found::Paid(paid) = poll(&chain, request, Commitment::Confirmed, &[]).await else {
        panic!("the payment is found")
    };
    assert_eq!(paid.signature, paid_with);
    let mut store =
        toss_core::store::Store::open(&dir.join("toss.db"), &zeroize::Zeroizing::new([5; 32]))
            .unwrap();
    store
        .record_online(&paid, &request.recipient, &request.references[0], 0)
        .unwrap();
    (paid_with, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_lands_as_a_standard_transfer_and_never_exceeds_the_payment() {
    use toss_core::refund::{self, Cost, FEE_LAMPORTS, RefundError};
    use toss_core::store::RefundState;

    let Shop {
        v: _validator, // kept running until the test ends
        rpc,
        client,
        customer,
        merchant,
        merchant_key,
    } = Shop::open(2_000_000_000).await;
    let chain = RpcChain::new(&rpc);
    // A SOL refund costs its fee alone: what the merchant is shown.
    let shown = Cost {
        fee: FEE_LAMPORTS,
        rent: 0,
    };

    // The customer pays 0.5 SOL with @solana/pay; the till keeps it.
    let mut request = PaymentRequest::new(merchant);
    request.amount = Some("0.5".into());
    request.references = vec![Pubkey::new_unique()];
    let dir = tempfile::tempdir().unwrap();
    let (paid_with, mut store) = paid_and_kept(&rpc, &request, &customer, dir.path()).await;

    let ours = |k: &Pubkey| *k == merchant;
    let key = ed25519_dalek::SigningKey::from_bytes(merchant_key.secret_bytes());
    let words = |u: u64| format!("{u} lamports");
    let balance = |k: Pubkey| {
        let client = &client;
        async move { client.get_balance(&k).await.unwrap() }
    };
    let what = refund::refundable(&store, &paid_with, &ours).unwrap();
    assert_eq!(
        (what.to, what.received, what.left()),
        (customer.pubkey(), 500_000_000, 500_000_000)
    );

    // 0.2 SOL back: exactly that reaches the customer; the merchant pays it
    // and the fee it was shown, nothing else.
    let (customer_before, merchant_before) =
        (balance(customer.pubkey()).await, balance(merchant).await);
    let first = refund::refund(
        &chain,
        toss_core::chain::Backoff::seconds(3),
        &mut store,
        &what,
        200_000_000,
        shown,
        &key,
        &words,
    )
    .await
    .unwrap();
    assert_eq!(
        balance(customer.pubkey()).await,
        customer_before + 200_000_000
    );
    // Found under the sale's reference, as the sale's payment is.
    let mut with_sale = Vec::new();
    for _ in 0..40 {
        with_sale = chain
            .signatures_for(
                &request.references[0],
                solana_commitment_config::CommitmentConfig::confirmed(),
            )
            .await
            .unwrap();
        if with_sale.contains(&first.signature) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(with_sale.contains(&first.signature), "{with_sale:?}");
    assert_eq!(
        balance(merchant).await,
        merchant_before - 200_000_000 - FEE_LAMPORTS
    );

    // It is a standard Solana Pay transfer to the customer, carrying its
    // own reference, the sale's, and a memo naming the payment:
    // @solana/pay's own checks find and pass it.
    let mut refund_request = PaymentRequest::new(customer.pubkey());
    refund_request.amount = Some("0.2".into());
    refund_request.references = vec![first.reference, request.references[0]];
    refund_request.memo = Some(format!("TOSS refund of {paid_with}"));
    assert_eq!(
        validated(&rpc, &refund_request).await,
        Ok(first.signature.clone())
    );

    // More than is left is refused before anything is signed; the rest
    // goes; then nothing is left.
    let what = refund::refundable(&store, &paid_with, &ours).unwrap();
    assert_eq!(what.left(), 300_000_000);
    let backoff = toss_core::chain::Backoff::seconds(3);
    let too_much = refund::refund(
        &chain,
        backoff,
        &mut store,
        &what,
        300_000_001,
        shown,
        &key,
        &words,
    )
    .await;
    assert!(
        matches!(too_much, Err(RefundError::TooMuch { ref left }) if left == "300000000 lamports"),
        "{too_much:?}"
    );
    refund::refund(
        &chain,
        backoff,
        &mut store,
        &what,
        300_000_000,
        shown,
        &key,
        &words,
    )
    .await
    .unwrap();
    let what = refund::refundable(&store, &paid_with, &ours).unwrap();
    assert!(matches!(
        refund::refund(&chain, backoff, &mut store, &what, 1, shown, &key, &words).await,
        Err(RefundError::NothingLeft)
    ));
    let kept = store.refunds(Some(&paid_with)).unwrap();
    assert_eq!(kept.len(), 2);
    assert!(
        kept.iter()
            .all(|r| r.state == RefundState::Confirmed && r.signature.is_some())
    );
    assert_eq!(kept[0].signature.as_deref(), Some(first.signature.as_str()));

    // A refund the cluster refuses (more than the merchant holds) moves
    // nothing and frees its amount again.
    let mut big = PaymentRequest::new(merchant);
    big.amount = Some("1".into());
    big.references = vec![Pubkey::new_unique()];
    let big_paid = wallet_pays(&rpc, &big.to_url(), &customer, None);
    let Found::Paid(p) = poll(&chain, &big, Commitment::Confirmed, &[]).await else {
        panic!("the payment is found")
    };
    store
        .record_online(&p, &merchant, &big.references[0], 0)
        .unwrap();
    let drain = Keypair::new().pubkey();
    let left = balance(merchant).await;
    send(
        &client,
        &merchant_key,
        &[solana_system_interface::instruction::transfer(
            &merchant,
            &drain,
            left - 900_000_000,
        )],
        &[],
    )
    .await;
    let what = refund::refundable(&store, &big_paid, &ours).unwrap();
    let refused = refund::refund(
        &chain,
        backoff,
        &mut store,
        &what,
        1_000_000_000,
        shown,
        &key,
        &words,
    )
    .await;
    assert!(
        matches!(refused, Err(RefundError::Refused(_))),
        "{refused:?}"
    );
    assert_eq!(
        refund::refundable(&store, &big_paid, &ours).unwrap().left(),
        1_000_000_000
    );
    assert_eq!(
        store.refunds(Some(&big_paid)).unwrap()[0].state,
        RefundState::Failed
    );

    // Refunds the app lost track of while sending (it stopped, or the
    // cluster went away) are settled by asking the cluster: one that
    // landed is confirmed; one it does not know stays counted, however old;
    // one whose signature was never kept is found under its own reference.
    let now = i64::from(toss_core::session::unix_now());
    let lost = |amount, reference, at| toss_core::store::NewRefund {
        payment: &big_paid,
        recipient: customer.pubkey(),
        mint: None,
        reference,
        amount,
        fee: FEE_LAMPORTS,
        at,
    };
    let begin = |store: &mut toss_core::store::Store, refund| {
        store.begin_refund(&refund, 1_000_000_000).unwrap()
    };
    let landed = begin(&mut store, lost(1, Pubkey::new_unique(), now));
    store.refund_signed(landed, &first.signature).unwrap();
    let unknown = begin(&mut store, lost(2, Pubkey::new_unique(), 0));
    store
        .refund_signed(
            unknown,
            &solana_signature::Signature::from([3u8; 64]).to_string(),
        )
        .unwrap();
    begin(&mut store, lost(4, first.reference, now));
    begin(&mut store, lost(8, Pubkey::new_unique(), 0));
    begin(&mut store, lost(16, Pubkey::new_unique(), now));
    // The RPC's address index misses a transaction for some seconds while
    // its block is rooted (seen here): once it lists the first refund
    // finalized, that is past.
    let mut listed = Vec::new();
    for _ in 0..120 {
        listed = chain
            .signatures_for(
                &first.reference,
                solana_commitment_config::CommitmentConfig::finalized(),
            )
            .await
            .unwrap();
        if !listed.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(listed, vec![first.signature.clone()]);
    refund::resolve(&chain, &mut store).await.unwrap();
    let kept: Vec<_> = store
        .refunds(Some(&big_paid))
        .unwrap()
        .into_iter()
        .map(|r| (r.amount, r.state, r.signature))
        .collect();
    assert_eq!(
        kept,
        vec![
            (1_000_000_000, RefundState::Failed, kept[0].2.clone()),
            (1, RefundState::Confirmed, Some(first.signature.clone())),
            (
                2,
                RefundState::Sending,
                Some(solana_signature::Signature::from([3u8; 64]).to_string())
            ),
            (4, RefundState::Confirmed, Some(first.signature.clone())),
            (8, RefundState::Sending, None),
            (16, RefundState::Sending, None),
        ]
    );
    assert_eq!(
        refund::refundable(&store, &big_paid, &ours).unwrap().left(),
        1_000_000_000 - 1 - 2 - 4 - 8 - 16
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_refund_to_a_closed_account_opens_it_again_for_the_rent_it_showed() {
    use toss_core::address::associated_token_account;
    use toss_core::refund::{self, Cost, FEE_LAMPORTS, RefundError};
    use toss_core::store::RefundState;

    let shop = Shop::open(1_000_000_000).await;
    let mint = token(&shop).await;
    let Shop {
        v: _validator, // kept running until the test ends
        rpc,
        client,
        customer,
        merchant,
        merchant_key,
    } = shop;
    let chain = RpcChain::new(&rpc);
    let backoff = toss_core::chain::Backoff::seconds(3);

    // The customer pays 2 of the token with @solana/pay; the till keeps it.
    let mut request = PaymentRequest::new(merchant);
    request.amount = Some("2".into());
    request.spl_token = Some(mint);
    request.references = vec![Pubkey::new_unique()];
    let dir = tempfile::tempdir().unwrap();
    let (paid_with, mut store) = paid_and_kept(&rpc, &request, &customer, dir.path()).await;
    let ours = |k: &Pubkey| *k == merchant;
    let key = ed25519_dalek::SigningKey::from_bytes(merchant_key.secret_bytes());
    let words = |u: u64| format!("{u} units");
    let what = refund::refundable(&store, &paid_with, &ours).unwrap();
    assert_eq!((what.mint, what.received), (Some(mint), 2_000_000));

    // While the customer's token account is open, a refund costs the fee.
    assert_eq!(
        refund::cost(&chain, backoff, &what).await.unwrap(),
        Cost {
            fee: FEE_LAMPORTS,
            rent: 0
        }
    );

    // The customer burns the rest and closes the account.
    let customer_account = associated_token_account(&customer.pubkey(), &mint);
    let token = spl_token_interface::ID;
    send(
        &client,
        &customer,
        &[
            spl_token_interface::instruction::burn(
                &token,
                &customer_account,
                &mint,
                &customer.pubkey(),
                &[],
                8_000_000,
            )
            .unwrap(),
            spl_token_interface::instruction::close_account(
                &token,
                &customer_account,
                &customer.pubkey(),
                &customer.pubkey(),
                &[],
            )
            .unwrap(),
        ],
        &[],
    )
    .await;
    let rent = client
        .get_minimum_balance_for_rent_exemption(165)
        .await
        .unwrap();
    let cost = refund::cost(&chain, backoff, &what).await.unwrap();
    assert_eq!(
        cost,
        Cost {
            fee: FEE_LAMPORTS,
            rent
        }
    );

    // A refund whose quote did not show that rent is not made, nor kept.
    let shown_without_rent = Cost {
        fee: FEE_LAMPORTS,
        rent: 0,
    };
    let stale = refund::refund(
        &chain,
        backoff,
        &mut store,
        &what,
        500_000,
        shown_without_rent,
        &key,
        &words,
    )
    .await;
    assert!(
        matches!(stale, Err(RefundError::CostChanged { shown, now }) if shown == FEE_LAMPORTS && now == FEE_LAMPORTS + rent),
        "{stale:?}"
    );
    assert!(store.refunds(Some(&paid_with)).unwrap().is_empty());

    // Shown with it: the account is opened again and holds the refund; the
    // merchant pays the fee and the rent it was shown, nothing more, and
    // the store keeps both.
    let before = client.get_balance(&merchant).await.unwrap();
    let done = refund::refund(
        &chain, backoff, &mut store, &what, 500_000, cost, &key, &words,
    )
    .await
    .unwrap();
    assert_eq!(done.cost, cost);
    assert_eq!(
        client
            .get_token_account_balance(&customer_account)
            .await
            .unwrap()
            .amount,
        "500000"
    );
    assert_eq!(
        client.get_balance(&merchant).await.unwrap(),
        before - FEE_LAMPORTS - rent
    );
    let kept = store.refunds(Some(&paid_with)).unwrap();
    assert_eq!(
        (kept.len(), kept[0].fee, kept[0].state),
        (1, FEE_LAMPORTS + rent, RefundState::Confirmed)
    );

    // @solana/pay's own checks pass it as a standard token transfer.
    let mut refund_request = PaymentRequest::new(customer.pubkey());
    refund_request.amount = Some("0.5".into());
    refund_request.spl_token = Some(mint);
    refund_request.references = vec![done.reference, request.references[0]];
    refund_request.memo = Some(format!("TOSS refund of {paid_with}"));
    assert_eq!(
        validated(&rpc, &refund_request).await,
        Ok(done.signature.clone())
    );
}
