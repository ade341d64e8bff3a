//! vpcroute-operator: manages Tencent Cloud VPC routes as Kubernetes `VpcRoute` resources.

pub mod domain;
pub mod wire;
