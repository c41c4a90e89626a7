//! TOSS settlement program and its client-side wire format.
//!
//! - [`intent`]: the signed payment intent, its canonical encoding and the
//!   conflict rule. Clients link it with the `no-entrypoint` feature.
//!
//! The program's `instruction` / `processor` / `state` / `error` modules
//! follow the SPL layout.

pub mod intent;
