//! A real local validator (solana-test-validator 3.1, used as a library) with
//! the TOSS program registered as a native builtin, for tests that settle
//! through JSON-RPC exactly as the app does.
//!
//! The program cannot be built for SBF here, so it runs natively: its id is
//! an executable account owned by the native loader in genesis, and its
//! processor is added to the validator's banks. New banks copy the set of
//! builtins from their parent, so once every bank in the fork graph has it,
//! every later bank does too; `start` registers it and then watches several
//! new slots to make sure no bank slipped through while it was registering.
//!
//! The validator's RPC listens on 0.0.0.0 (not configurable in 3.1), so
//! `scripts/test` runs these tests inside a private network namespace whose
//! only interface is loopback.

use std::time::{Duration, Instant};

use solana_account::{Account, AccountSharedData};
use solana_program_runtime::invoke_context::BuiltinFunctionWithContext;
use solana_program_runtime::loaded_programs::ProgramCacheEntry;
use solana_program_test::processor;
use solana_test_validator::{TestValidator, TestValidatorGenesis};
use toss_program::intent::cluster;

pub use solana_keypair::Keypair;
pub use solana_program::pubkey::Pubkey;

const NAME: &str = "toss_program";

/// A running validator; it stops when dropped.
pub struct LocalValidator {
    validator: TestValidator,
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
        install_syscall_stubs().await;
        let program_id = Pubkey::new_unique();
        let mut genesis = TestValidatorGenesis::default();
        genesis.add_account(
            program_id,
            AccountSharedData::from(Account {
                lamports: 1_000_000_000,
                data: NAME.as_bytes().to_vec(),
                owner: solana_sdk_ids::native_loader::ID,
                executable: true,
                rent_epoch: 0,
            }),
        );
        // Transaction history, as an RPC provider keeps it: a till looks
        // online payments up by their reference (getSignaturesForAddress).
        genesis.rpc_config(solana_rpc::rpc::JsonRpcConfig {
            enable_rpc_transaction_history: true,
            ..solana_rpc::rpc::JsonRpcConfig::default_for_test()
        });
        let (validator, mint) = genesis.start_async().await;
        register_builtin(&validator, program_id);
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

/// A natively run program reads sysvars (`Clock::get()`, `Rent::get()`)
/// through syscall stubs that solana-program-test installs, process-wide,
/// when it first starts a bank; they answer from the invoke context of the
/// instruction being run, whichever runtime runs it. Starting one small
/// throwaway test bank is the supported way to install them.
async fn install_syscall_stubs() {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| async {
        let _ = solana_program_test::ProgramTest::default().start().await;
    })
    .await;
}

/// Adds the program to every bank in the fork graph, and keeps adding it
/// to each bank that appears until 8 more slots have passed: a bank created
/// from a parent just before that parent got the builtin, but inserted just
/// after, is caught this way; every bank after those inherits it. Adding
/// twice is harmless (the program cache replaces a builtin with itself).
fn register_builtin(validator: &TestValidator, program_id: Pubkey) {
    // The annotation makes the adapter closure a higher-ranked fn pointer.
    let adapter: Option<BuiltinFunctionWithContext> =
        processor!(toss_program::processor::process_instruction);
    let adapter = adapter.unwrap_or_else(|| panic!("the processor adapter exists"));
    let entry = || ProgramCacheEntry::new_builtin(0, NAME.len(), adapter);
    let forks = validator.bank_forks();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut done = std::collections::HashSet::new();
    let mut first_pass: Option<u64> = None;
    loop {
        // Take the banks under the fork graph's lock, add outside it:
        // `add_builtin` takes the program cache's lock, which the replay
        // stage may hold while it waits for the fork graph (a deadlock
        // seen here when both were held at once).
        let (new, highest) = {
            let guard = forks.read().unwrap_or_else(|e| e.into_inner());
            let new: Vec<_> = guard
                .banks()
                .iter()
                .filter(|(slot, _)| !done.contains(*slot))
                .map(|(slot, bank)| (*slot, bank.clone_without_scheduler()))
                .collect();
            (new, guard.highest_slot())
        };
        for (slot, bank) in new {
            done.insert(slot);
            bank.add_builtin(program_id, NAME, entry());
        }
        let since = *first_pass.get_or_insert(highest);
        if highest >= since + 8 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the validator stopped making slots"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
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
