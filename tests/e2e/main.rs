//! The end-to-end suite in one test binary (each binary links kube, so one is cheaper than
//! seven): the real kube-apiserver, vpc-sim over HTTPS and the real operator binary. The
//! backend-dependent modules run on API 3.0 by default and on 2.0 with `VPCROUTE_TEST_API=2.0`
//! (`tests/run.sh` runs both).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod admission;
mod chart;
mod cluster_real;
mod controller;
mod day2;
mod import;
mod journal;
mod lifecycle;
mod operate;
mod reliability;
mod restarts;
mod secrets;
mod writes;
