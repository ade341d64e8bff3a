//! Shared helpers for integration tests: the real control plane and the real emulator.
#![allow(dead_code)]
// Harness code fails a test by panicking, like the tests it serves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod backend;
pub mod cluster;
pub mod ledger;
pub mod operator;
pub mod policy;
pub mod routes;
pub mod sim;
