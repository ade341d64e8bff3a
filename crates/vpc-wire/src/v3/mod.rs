//! API 3.0 (`https://vpc.tencentcloudapi.com/`, version 2017-03-12): TC3-HMAC-SHA256 signing,
//! error codes and the typed request and response models. Pure; no I/O.

pub mod codes;
pub mod models;
pub mod sign;

pub use models::Action;
