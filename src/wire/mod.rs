//! The Tencent Cloud VPC API 2.0 wire format shared by the client and the emulator:
//! parameter encoding, signing and error codes. Pure functions; no I/O.

pub mod codes;
pub mod sign;
