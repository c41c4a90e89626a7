#![warn(missing_docs)]
#![cfg_attr(target_os = "solana", no_std)]

//! TOSS settlement program and its client-side wire format.
//!
//! - [`intent`]: the signed payment intent, its canonical encoding and the
//!   conflict rule (docs/intent.md).
//! - [`instruction`], [`state`], [`error`]: the instruction data, the
//!   account layouts and the error codes, shared by the program and its
//!   clients; the instruction builders are the clients' side.
//! - `processor`: the program itself, built only for the chain
//!   (`scripts/sbf/build`): pinocchio, `core` and `alloc`, in the SPL
//!   layout (docs/program.md). Clients link the crate with `no-entrypoint`.

extern crate alloc;

pub mod ed25519;
#[cfg(all(target_os = "solana", not(feature = "no-entrypoint")))]
mod entrypoint;
pub mod error;
pub mod ids;
pub mod instruction;
pub mod intent;
#[cfg(target_os = "solana")]
mod processor;
pub mod state;

/// A public key: the SDK's type for clients, pinocchio's on chain.
#[cfg(target_os = "solana")]
pub use pinocchio::Address as Pubkey;
/// A public key: the SDK's type for clients, pinocchio's on chain (the same
/// 32 bytes, and the same methods the shared code uses).
#[cfg(not(target_os = "solana"))]
pub use solana_program::pubkey::Pubkey;

/// What an instruction ends with.
#[cfg(target_os = "solana")]
pub use pinocchio::error::ProgramError;
/// What an instruction ends with.
#[cfg(not(target_os = "solana"))]
pub use solana_program::program_error::ProgramError;
