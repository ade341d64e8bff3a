//! What the emulator's own tests share: the shipped demo world and its account.
#![allow(dead_code)]

/// The shipped example world.
pub const WORLD: &str = include_str!("../../../../deploy/world.yaml");
/// The demo account in [`WORLD`].
pub const TEST_SECRET_ID: &str = "AKIDdemoVpcSimPrimary0000000000000001";
/// The demo account's key.
pub const TEST_SECRET_KEY: &str = "demoKeyNotARealSecretPrimary0001";
/// The demo region and table.
pub const TEST_REGION: &str = "ap-guangzhou";
pub const TEST_TABLE: &str = "rtb-4ahe1qy2";
