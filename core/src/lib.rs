#![warn(missing_docs)]

//! The TOSS wallet core.
//!
//! Everything a TOSS wallet does lives here, free of any UI: the desktop app
//! (`src-tauri`) and the `toss` CLI are thin adapters over this crate, so what
//! they do is what its tests exercise.

pub mod address;
pub mod airgap;
pub mod amount;
pub mod chain;
pub mod close;
pub mod confidential;
pub mod config;
pub mod currency;
pub mod deployment;
pub mod escrow;
mod fsutil;
pub mod fuzzing;
pub mod handover;
pub mod home;
pub mod intent;
pub mod keyfile;
pub mod logging;
pub mod noise;
pub mod nonce;
pub mod payment;
pub mod price;
pub mod receipt;
pub mod refund;
pub mod request;
pub mod sale;
pub mod scanned;
pub mod sealed;
pub mod session;
pub mod settle;
pub mod solana_pay;
pub mod store;
pub mod transaction_request;
pub mod transport;
pub mod vault;
pub mod wallet;
pub mod words;

/// This build's version, as the app and CLI report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
