//! A real local validator (solana-test-validator 3.1, used as a library)
//! running the TOSS program's SBF build (scripts/sbf/build, found through
//! SBF_OUT_DIR) in its VM, for tests that settle through JSON-RPC exactly as
//! the app does.
//!
//! The validator's RPC listens on 0.0.0.0 (not configurable in 3.1), so
//! `scripts/test` runs these tests inside a private network namespace whose
//! only interface is loopback.

use std::time::Duration;

use solana_test_validator::TestValidatorGenesis;
use toss_program::intent::cluster;

pub use solana_keypair::Keypair;
pub use solana_program::pubkey::Pubkey;

/// A running validator; it stops when dropped.
pub struct LocalValidator {
    validator: solana_test_validator::TestValidator,
    /// Funded with the genesis mint's SOL.
    pub mint: Keypair,
    pub program_id: Pubkey,
}

impl std::fmt::Debug for LocalValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalValidator")
            .field("rpc", &self.validator.rpc_url())
            .field("program_id", &self.program_id)
            .finish()
    }
}

impl LocalValidator {
    pub async fn start() -> Self {
        Self::start_with(Vec::new()).await
    }

    /// A validator whose ledger starts with `accounts` as well (accounts
    /// other programs own, such as Pyth's price updates).
    pub async fn start_with(accounts: Vec<(Pubkey, solana_account::AccountSharedData)>) -> Self {
        let program_id = Pubkey::new_unique();
        let mut genesis = TestValidatorGenesis::default();
        genesis.add_accounts(accounts);
        genesis.add_program("toss_program", program_id);
        // Transaction history, as an RPC provider keeps it: a till looks
        // online payments up by their reference (getSignaturesForAddress).
        genesis.rpc_config(solana_rpc::rpc::JsonRpcConfig {
            enable_rpc_transaction_history: true,
            ..solana_rpc::rpc::JsonRpcConfig::default_for_test()
        });
        let (validator, mint) = genesis.start_async().await;
        Self {
            validator,
            mint,
            program_id,
        }
    }

    pub fn rpc_url(&self) -> String {
        self.validator.rpc_url()
    }

    /// The validator's websocket (`logsSubscribe` and the like).
    pub fn pubsub_url(&self) -> String {
        self.validator.rpc_pubsub_url()
    }

    /// The genesis prefix intents for this validator carry.
    pub async fn cluster(&self) -> [u8; 8] {
        let hash = self
            .validator
            .get_async_rpc_client()
            .get_genesis_hash()
            .await
            .unwrap_or_else(|e| panic!("the validator has no genesis hash: {e}"));
        cluster::from_genesis_hash(&hash.to_bytes())
    }
}

/// Runs `script` (in wallet/: the ecosystem's own libraries, from node)
/// with `args`, the npm packages (TOSS_NPM_DIR) and the cluster `rpc`; its
/// output, or its failure.
pub fn node(script: &str, rpc: &str, args: &[String]) -> Result<String, String> {
    let npm = std::env::var("TOSS_NPM_DIR")
        .expect("TOSS_NPM_DIR names the npm directory holding @solana/pay (scripts/test sets it)");
    let out = std::process::Command::new("node")
        .arg(format!("{}/wallet/{script}", env!("CARGO_MANIFEST_DIR")))
        .args(args)
        .env("RPC_URL", rpc)
        .env("TOSS_NPM_DIR", npm)
        .output()
        .expect("node must be installed");
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_owned();
    match out.status.success() {
        true => Ok(text(&out.stdout)),
        false => Err(text(&out.stderr)),
    }
}

/// Runs the `toss` CLI `bin` as `toss --json <args>` in `home` with `env`
/// and `stdin` as its standard input; (success, stdout as JSON or text,
/// stderr).
pub fn run_toss(
    bin: &std::path::Path,
    home: &std::path::Path,
    env: &[(&str, String)],
    args: &[&str],
    stdin: &str,
) -> (bool, serde_json::Value, String) {
    use std::io::Write as _;
    let mut child = std::process::Command::new(bin)
        .arg("--json")
        .args(args)
        .env("TOSS_HOME", home)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env_remove("TOSS_FEE_PAYER")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the toss CLI runs");
    // A command that does not read stdin may have exited already.
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("the toss CLI ends");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::String(stdout));
    (out.status.success(), json, stderr)
}

/// The `toss` CLI the main workspace built (`TOSS_BIN`, or
/// `$CARGO_TARGET_DIR/debug/toss`).
pub fn toss_bin() -> std::path::PathBuf {
    std::env::var_os("TOSS_BIN")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(|d| std::path::Path::new(&d).join("debug/toss"))
        })
        .filter(|p| p.exists())
        .expect("build the CLI first and set TOSS_BIN (scripts/test does)")
}

/// A TCP relay in front of the validator's RPC port that can be cut and
/// restored: the engine sees the endpoint go away (connections refused
/// and reset, as when a node is restarted) and come back at the same URL.
///
/// Why not restart the validator itself: our program is registered as a
/// builtin after the validator has loaded its ledger, so a restarted
/// validator would replay earlier TOSS transactions without the program
/// and diverge from the first run. The relay changes nothing but the
/// reachability the engine sees.
pub struct Relay {
    url: String,
    up: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
}

impl Relay {
    /// Relays 127.0.0.1:<random port> to the validator's RPC.
    pub async fn start(target: &str) -> Self {
        let target = target
            .trim_start_matches("http://")
            .trim_start_matches("ws://")
            .trim_end_matches('/')
            .to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("cannot bind the relay: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the relay has no address: {e}"))
            .port();
        let (up, _) = tokio::sync::watch::channel(true);
        let up = std::sync::Arc::new(up);
        let shared = up.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut state = shared.subscribe();
                if !*state.borrow() {
                    continue; // dropped: the client sees a reset
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = state.wait_for(|up| !*up) => {} // cut: both ends close
                    }
                });
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            up,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Cuts (`false`) or restores (`true`) the endpoint.
    pub fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }

    /// Restores the endpoint after `delay`, while the caller goes on.
    pub fn restore_after(&self, delay: Duration) {
        let up = self.up.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            up.send_replace(true);
        });
    }
}
