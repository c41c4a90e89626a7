//! A local validator with the TOSS program, for the app's end-to-end
//! tests: starts with the accounts given (`ADDRESS=OWNER:BASE64DATA`
//! arguments: other programs' accounts, such as Pyth's price updates),
//! funds the addresses given (`ADDRESS=LAMPORTS` arguments) from the
//! genesis mint, prints one JSON line
//! (`{"rpc_url", "program_id", "genesis_hash"}`) and runs until its
//! standard input closes. Run it inside a private network namespace, as
//! the validator's RPC listens on every interface (see the crate's docs).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test tool: fail loudly

use std::io::Read;

use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use solana_transaction::Transaction;
use toss_validator_tests::{LocalValidator, Pubkey};

#[tokio::main]
async fn main() {
    let mut funds: Vec<(Pubkey, u64)> = Vec::new();
    let mut accounts = Vec::new();
    for arg in std::env::args().skip(1) {
        let (address, value) = arg
            .split_once('=')
            .expect("ADDRESS=LAMPORTS or ADDRESS=OWNER:DATA");
        let address: Pubkey = address.parse().expect("an address");
        match value.split_once(':') {
            None => funds.push((address, value.parse().expect("lamports"))),
            Some((owner, data)) => {
                use base64::Engine;
                let data = base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .expect("base64 account data");
                let owner: Pubkey = owner.parse().expect("an owner");
                let mut account =
                    solana_account::AccountSharedData::new(1_000_000_000, data.len(), &owner);
                account.set_data_from_slice(&data);
                accounts.push((address, account));
            }
        }
    }
    let v = LocalValidator::start_with(accounts).await;
    let client = RpcClient::new_with_commitment(
        v.rpc_url(),
        solana_commitment_config::CommitmentConfig::confirmed(),
    );
    for (to, lamports) in funds {
        let t = solana_system_interface::instruction::transfer(&v.mint.pubkey(), &to, lamports);
        let blockhash = client.get_latest_blockhash().await.unwrap();
        let tx =
            Transaction::new_signed_with_payer(&[t], Some(&v.mint.pubkey()), &[&v.mint], blockhash);
        client.send_and_confirm_transaction(&tx).await.unwrap();
    }
    let genesis_hash = client.get_genesis_hash().await.unwrap();
    println!(
        "{}",
        serde_json::json!({
            "rpc_url": v.rpc_url(),
            "program_id": v.program_id.to_string(),
            "genesis_hash": genesis_hash.to_string(),
        })
    );
    // Until the test is done with it.
    tokio::task::spawn_blocking(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    })
    .await
    .unwrap();
    drop(v);
}
