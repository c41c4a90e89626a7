//! TOSS settlement program.
//!
//! This crate will hold the on-chain program (SPL-style `instruction` /
//! `processor` / `state` / `error` modules) and, behind the `no-entrypoint`
//! feature, the intent wire format and instruction builders that clients link.
//! It is empty until the settlement-protocol issue fills it; it is a workspace
//! member now so the workspace layout, lints and CI cover it from the start.
