#![warn(missing_docs)]

//! TOSS settlement program and its client-side wire format.
//!
//! - [`intent`]: the signed payment intent, its canonical encoding and the
//!   conflict rule (docs/intent.md).
//! - [`instruction`], [`processor`], [`state`], [`error`]: the program, in
//!   the SPL layout (docs/program.md). Clients use the instruction builders
//!   and link the crate with the `no-entrypoint` feature.

// Clippy checks the entrypoint even in workspace builds, where the core's
// dependency turns on `no-entrypoint`; checking never links, so no clash.
#[cfg(any(not(feature = "no-entrypoint"), clippy))]
mod entrypoint;
pub mod error;
pub mod instruction;
pub mod intent;
pub mod processor;
pub mod state;
