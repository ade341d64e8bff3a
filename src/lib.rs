//! vpcroute-operator: manages Tencent Cloud VPC routes as Kubernetes `VpcRoute` resources.

pub mod check;
pub mod client;
pub mod client3;
pub mod cloud;
pub mod config;
pub mod controller;
pub mod crd;
pub use vpc_wire::domain;
pub mod identity;
pub mod import;
pub mod kube_client;
pub mod leader;
pub mod metrics;
pub mod reasons;
pub mod server;
pub mod status;
