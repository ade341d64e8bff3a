//! Shared helpers for integration tests: the real control plane and the real emulator.
#![allow(dead_code)]

pub mod cluster;
pub mod operator;
pub mod routes;
pub mod sim;
