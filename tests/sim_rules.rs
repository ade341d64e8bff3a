//! The emulator's rules, driven over real HTTPS with raw requests signed by `wire::sign`:
//! signatures and authentication, every business error, batches, paging, isolation, faults,
//! rate limits, the control API and persistence. Spawns vpc-sim; network and file I/O.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/sim.rs"]
#[allow(dead_code)]
mod sim;

mod sim_rules {
    pub mod auth;
    pub mod control;
    pub mod describe;
    pub mod faults;
    pub mod lifecycle;
    pub mod routes;
    pub mod signer;
}
