//! vpc-wire: the Tencent Cloud VPC route API contract, written once and shared by the operator's
//! client (which parses with it) and the vpc-sim emulator (which builds with it).
//!
//! It owns the domain types (routes, next-hop kinds, CIDR normalisation, credentials with a
//! redacting `Debug`) and, per API generation, signing, codes and the typed request and response
//! models: [`v2`] (`/v2/index.php`, HmacSHA1/HmacSHA256) and [`v3`] (`vpc.tencentcloudapi.com`,
//! TC3-HMAC-SHA256). Pure data and functions: no kube, no HTTP server, no I/O.

pub mod domain;
pub mod v2;
pub mod v3;

/// Compares two byte strings in constant time (for signatures and tokens).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
