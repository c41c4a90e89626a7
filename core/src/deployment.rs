//! The program build the wallet carries (`program/deploy/toss_program.so`,
//! the reproducible SBF build docs/program.md names): deploying it to a
//! cluster the way `solana program deploy` does, and telling whether the
//! program at an address is exactly this build.
//!
//! Deploying goes through the upgradeable BPF loader over JSON-RPC: a buffer
//! account is created and the build written into it in chunks, then
//! `DeployWithMaxDataLen` turns it into the program (its data account sized
//! to this build) and returns the buffer's rent. The costs (rent of the
//! program and its data account, one fee per transaction, the buffer's rent
//! held meanwhile) are worked out before anything is sent ([`cost`]).

use solana_keypair::Keypair;
use solana_program::instruction::{AccountMeta, Instruction};
use solana_program::pubkey::Pubkey;
use solana_signer::Signer;

use crate::chain::{Backoff, Chain, SendError, Unreachable};

/// Why a deployment or a verification did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeployError {
    /// A transaction did not go through.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The cluster stayed out of reach.
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
    /// The cluster refused a read, in its words.
    #[error("the cluster refused to read an account: {0}")]
    Read(String),
}

/// The build the wallet carries.
pub const BUILD: &[u8] = include_bytes!("../../program/deploy/toss_program.so");

/// The upgradeable BPF loader (loader v3).
pub const LOADER: Pubkey = solana_program::pubkey!("BPFLoaderUpgradeab1e11111111111111111111111");

/// Bytes before a buffer's program bytes: state tag, authority option.
const BUFFER_METADATA: usize = 4 + 1 + 32;
/// Bytes before a program data account's program bytes: tag, slot, authority option.
const PROGRAMDATA_METADATA: usize = 4 + 8 + 1 + 32;
/// A program account: tag and its data account's address.
const PROGRAM_LEN: usize = 4 + 32;
/// Program bytes per `Write` transaction (one signature, four accounts).
const CHUNK: usize = 900;
/// Lamports per signature.
const SIGNATURE_FEE: u64 = 5_000;

/// The SHA-256 of [`BUILD`], hex: what docs/program.md names.
pub fn build_sha256() -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(BUILD))
}

/// What deploying [`BUILD`] costs, in lamports, before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Cost {
    /// Rent kept in the program account.
    pub program_rent: u64,
    /// Rent kept in the program data account.
    pub data_rent: u64,
    /// Rent held in the buffer while the build is written, returned when
    /// the program is deployed.
    pub buffer_rent: u64,
    /// Transactions sent: the buffer, the chunks, the deployment, and the
    /// authority's change when asked.
    pub transactions: u64,
    /// Their fees.
    pub fees: u64,
}

impl Cost {
    /// What the payer spends for good: both rents and the fees.
    pub fn spent(&self) -> u64 {
        self.program_rent + self.data_rent + self.fees
    }

    /// What the payer must hold to start: also the buffer's rent.
    pub fn needed(&self) -> u64 {
        self.spent() + self.buffer_rent
    }
}

/// The cost of deploying [`BUILD`] on `chain` with `authority`.
pub async fn cost<C: Chain>(
    chain: &C,
    backoff: Backoff,
    authority: Authority,
) -> Result<Cost, DeployError> {
    let writes = BUILD.len().div_ceil(CHUNK) as u64;
    let change = u64::from(authority != Authority::Payer);
    Ok(Cost {
        program_rent: rent(chain, backoff, PROGRAM_LEN).await?,
        data_rent: rent(chain, backoff, PROGRAMDATA_METADATA + BUILD.len()).await?,
        buffer_rent: rent(chain, backoff, BUFFER_METADATA + BUILD.len()).await?,
        transactions: writes + 2 + change,
        // The buffer's and the program's creation carry two signatures each.
        fees: (writes + 2 * 2 + change) * SIGNATURE_FEE,
    })
}

async fn rent<C: Chain>(chain: &C, backoff: Backoff, len: usize) -> Result<u64, DeployError> {
    crate::chain::read(backoff, || chain.rent_exemption(len))
        .await?
        .map_err(DeployError::Read)
}

impl DeployError {
    /// The cluster being out of reach, when that is what this is.
    pub fn unreachable(&self) -> Option<&Unreachable> {
        match self {
            DeployError::Send(e) => e.unreachable(),
            DeployError::Unreachable(u) => Some(u),
            DeployError::Read(_) => None,
        }
    }
}

/// A deployed program.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Deployed {
    /// The program's address (the new `TOSS_PROGRAM_ID`).
    #[serde(serialize_with = "crate::address::serialize_pubkey")]
    pub program_id: Pubkey,
    /// Who may upgrade it; `None`: nobody, it is final.
    pub upgrade_authority: Option<String>,
    /// What it cost.
    pub cost: Cost,
}

/// Who may upgrade the program once deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    /// The paying wallet account.
    Payer,
    /// Another address (a multisig, a cold wallet).
    Other(Pubkey),
    /// Nobody: the program can never change.
    Final,
}

/// Deploys [`BUILD`] to a new address, `payer` paying and signing; the
/// upgrade authority is then set as asked. `progress` hears each chunk
/// written (written, of how many).
pub async fn deploy<C: Chain>(
    chain: &C,
    backoff: Backoff,
    payer: &Keypair,
    authority: Authority,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Deployed, DeployError> {
    let cost = cost(chain, backoff, authority).await?;
    let buffer = Keypair::new();
    let program = Keypair::new();
    let me = payer.pubkey();
    let buffer_rent = cost.buffer_rent;
    let create_buffer = [
        solana_system_interface::instruction::create_account(
            &me,
            &buffer.pubkey(),
            buffer_rent,
            (BUFFER_METADATA + BUILD.len()) as u64,
            &LOADER,
        ),
        loader_ix(
            vec![0, 0, 0, 0],
            vec![
                AccountMeta::new(buffer.pubkey(), false),
                AccountMeta::new_readonly(me, false),
            ],
        ),
    ];
    crate::chain::send(chain, backoff, &create_buffer, &[payer, &buffer], None).await?;
    let chunks = BUILD.chunks(CHUNK);
    let total = chunks.len() as u64;
    for (i, chunk) in chunks.enumerate() {
        // Write { offset: u32, bytes: Vec<u8> } (bincode: u32 tag, u32, u64 length).
        let mut data = vec![1, 0, 0, 0];
        data.extend_from_slice(&((i * CHUNK) as u32).to_le_bytes());
        data.extend_from_slice(&(chunk.len() as u64).to_le_bytes());
        data.extend_from_slice(chunk);
        let write = loader_ix(
            data,
            vec![
                AccountMeta::new(buffer.pubkey(), false),
                AccountMeta::new_readonly(me, true),
            ],
        );
        crate::chain::send(chain, backoff, &[write], &[payer], None).await?;
        progress(i as u64 + 1, total);
    }
    let programdata = program_data_address(&program.pubkey());
    // DeployWithMaxDataLen { max_data_len: u64 }: sized to this build.
    let mut data = vec![2, 0, 0, 0];
    data.extend_from_slice(&(BUILD.len() as u64).to_le_bytes());
    let deploy = [
        solana_system_interface::instruction::create_account(
            &me,
            &program.pubkey(),
            cost.program_rent,
            PROGRAM_LEN as u64,
            &LOADER,
        ),
        loader_ix(
            data,
            vec![
                AccountMeta::new(me, true),
                AccountMeta::new(programdata, false),
                AccountMeta::new(program.pubkey(), false),
                AccountMeta::new(buffer.pubkey(), false),
                AccountMeta::new_readonly(solana_program::sysvar::rent::ID, false),
                AccountMeta::new_readonly(solana_program::sysvar::clock::ID, false),
                AccountMeta::new_readonly(solana_system_interface::program::ID, false),
                AccountMeta::new_readonly(me, true),
            ],
        ),
    ];
    crate::chain::send(chain, backoff, &deploy, &[payer, &program], None).await?;
    let upgrade_authority = match authority {
        Authority::Payer => Some(me.to_string()),
        Authority::Other(to) => {
            set_authority(chain, backoff, payer, &programdata, Some(&to)).await?;
            Some(to.to_string())
        }
        Authority::Final => {
            set_authority(chain, backoff, payer, &programdata, None).await?;
            None
        }
    };
    Ok(Deployed {
        program_id: program.pubkey(),
        upgrade_authority,
        cost,
    })
}

/// The loader's `SetAuthority` (tag 4): the new authority, or none.
async fn set_authority<C: Chain>(
    chain: &C,
    backoff: Backoff,
    payer: &Keypair,
    programdata: &Pubkey,
    to: Option<&Pubkey>,
) -> Result<(), DeployError> {
    let mut accounts = vec![
        AccountMeta::new(*programdata, false),
        AccountMeta::new_readonly(payer.pubkey(), true),
    ];
    accounts.extend(to.map(|t| AccountMeta::new_readonly(*t, false)));
    let ix = loader_ix(vec![4, 0, 0, 0], accounts);
    crate::chain::send(chain, backoff, &[ix], &[payer], None).await?;
    Ok(())
}

fn loader_ix(data: Vec<u8>, accounts: Vec<AccountMeta>) -> Instruction {
    Instruction {
        program_id: LOADER,
        accounts,
        data,
    }
}

/// Where the loader keeps `program`'s bytes.
pub fn program_data_address(program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[program.as_ref()], &LOADER).0
}

/// What is at a program address, compared with [`BUILD`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Verdict {
    /// Exactly the build this wallet carries.
    Bundled {
        /// Who may upgrade it; `None`: it is final.
        upgrade_authority: Option<String>,
    },
    /// A program, but other bytes (another version or another program).
    Different {
        /// The SHA-256 of the deployed bytes, hex.
        sha256: String,
        /// Who may upgrade it.
        upgrade_authority: Option<String>,
    },
    /// Nothing is deployed there, or not through the upgradeable loader.
    NotAProgram,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let authority = |a: &Option<String>| match a {
            Some(a) => format!("upgradable by {a}"),
            None => "final: it can never change".to_owned(),
        };
        match self {
            Verdict::Bundled { upgrade_authority } => write!(
                f,
                "the program is exactly this wallet's build ({}); {}",
                build_sha256(),
                authority(upgrade_authority)
            ),
            Verdict::Different {
                sha256,
                upgrade_authority,
            } => write!(
                f,
                "the program there is NOT this wallet's build (its bytes hash to {sha256}, this \
                 build to {}); {}",
                build_sha256(),
                authority(upgrade_authority)
            ),
            Verdict::NotAProgram => write!(
                f,
                "no program is deployed there through the upgradeable loader"
            ),
        }
    }
}

/// Whether the program at `program_id` on `chain` holds exactly [`BUILD`].
pub async fn verify<C: Chain>(
    chain: &C,
    backoff: Backoff,
    program_id: &Pubkey,
) -> Result<Verdict, DeployError> {
    let read = |key: Pubkey| async move {
        crate::chain::read(backoff, || chain.account(key))
            .await?
            .map_err(DeployError::Read)
    };
    let Some(program) = read(*program_id).await? else {
        return Ok(Verdict::NotAProgram);
    };
    let programdata = match program.data.as_slice() {
        [2, 0, 0, 0, rest @ ..] if program.owner == LOADER && rest.len() == 32 => {
            Pubkey::new_from_array(rest.try_into().unwrap_or([0; 32]))
        }
        _ => return Ok(Verdict::NotAProgram),
    };
    let Some(data) = read(programdata).await? else {
        return Ok(Verdict::NotAProgram);
    };
    Ok(judge(&data.data))
}

/// A program data account's bytes compared with [`BUILD`]: its program
/// bytes are the build followed only by zeros (an account sized for
/// upgrades is longer than the build).
fn judge(data: &[u8]) -> Verdict {
    let Some(header) = data.get(..PROGRAMDATA_METADATA) else {
        return Verdict::NotAProgram;
    };
    if header[..4] != [3, 0, 0, 0] {
        return Verdict::NotAProgram;
    }
    let upgrade_authority = match header[12] {
        1 => Some(bs58::encode(&header[13..45]).into_string()),
        _ => None,
    };
    let bytes = &data[PROGRAMDATA_METADATA..];
    let same = bytes.len() >= BUILD.len()
        && bytes[..BUILD.len()] == *BUILD
        && bytes[BUILD.len()..].iter().all(|b| *b == 0);
    match same {
        true => Verdict::Bundled { upgrade_authority },
        false => {
            use sha2::Digest;
            let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
            Verdict::Different {
                sha256: hex::encode(sha2::Sha256::digest(&bytes[..end])),
                upgrade_authority,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(authority: Option<[u8; 32]>, program: &[u8], spare: usize) -> Vec<u8> {
        let mut data = vec![3, 0, 0, 0];
        data.extend_from_slice(&7u64.to_le_bytes());
        match authority {
            Some(a) => {
                data.push(1);
                data.extend_from_slice(&a);
            }
            None => data.extend_from_slice(&[0; 33]),
        }
        data.extend_from_slice(program);
        data.extend(std::iter::repeat_n(0, spare));
        data
    }

    #[test]
    fn a_program_is_the_bundled_build_only_byte_for_byte() {
        let key = [9u8; 32];
        assert_eq!(
            judge(&account(Some(key), BUILD, 0)),
            Verdict::Bundled {
                upgrade_authority: Some(bs58::encode(key).into_string())
            }
        );
        // Room left for upgrades is zeros: still this build, and final.
        assert_eq!(
            judge(&account(None, BUILD, 4096)),
            Verdict::Bundled {
                upgrade_authority: None
            }
        );
        // One byte changed, or a shorter program: not this build.
        let mut other = BUILD.to_vec();
        other[100] ^= 1;
        assert!(matches!(
            judge(&account(None, &other, 0)),
            Verdict::Different { .. }
        ));
        assert!(matches!(
            judge(&account(None, &BUILD[..BUILD.len() - 1], 0)),
            Verdict::Different { .. }
        ));
        // Not a program data account at all.
        assert_eq!(judge(&[1, 0, 0, 0]), Verdict::NotAProgram);
        assert_eq!(judge(&account(None, BUILD, 0)[1..]), Verdict::NotAProgram);
    }

    #[test]
    fn the_carried_build_is_an_sbf_elf_and_the_documented_one() {
        assert_eq!(&BUILD[..4], b"\x7fELF");
        let docs = include_str!("../../docs/program.md");
        assert!(
            docs.contains(&build_sha256()),
            "docs/program.md names the carried build"
        );
    }
}
