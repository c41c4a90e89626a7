//! TOSS settlement program and its client-side wire format.
//!
//! - [`intent`]: the signed payment intent, its canonical encoding and the
//!   conflict rule (docs/intent.md).
//! - [`instruction`], [`processor`], [`state`], [`error`]: the program, in
//!   the SPL layout (docs/program.md). Clients use the instruction builders
//!   and link the crate with the `no-entrypoint` feature.

#[cfg(not(feature = "no-entrypoint"))]
mod entrypoint;
pub mod error;
pub mod instruction;
pub mod intent;
pub mod processor;
pub mod state;
