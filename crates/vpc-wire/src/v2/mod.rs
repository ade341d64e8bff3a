//! API 2.0 (`https://vpc.api.qcloud.com/v2/index.php`): signing, codes, actions and the typed
//! response models. Pure; no I/O.

pub mod codes;
pub mod models;
pub mod sign;

pub use models::Action;
