//! The two ways a resource asks the operator to hold back: the `vpc.qcloud.dev/paused`
//! annotation (no cloud call at all, deletion included) and `managementPolicy: ObserveOnly`
//! (read and report, never write). Does Kubernetes and cloud-read I/O through the context.

use std::sync::Arc;

use kube::runtime::controller::Action;
use vpc_wire::domain::Credentials;

use super::context::Context;
use super::converge::{Stop, read};
use super::decide::{Observation, observe};
use super::desired::Desired;
use super::errors::Error;
use super::report::Progress;
use crate::cloud::RouteApi;
use crate::crd::VpcRoute;
use crate::reasons::Reason;
use crate::status::{Readiness, Synced, ready_condition};

/// A paused resource: `Ready` keeps what it said, `Synced=False` (`ReconcilePaused`) says why
/// nothing happens; no cloud call, no finalizer change. Removing the annotation resumes.
pub async fn paused<A>(obj: Arc<VpcRoute>, ctx: &Context<A>) -> Result<Action, Error> {
    let mut p = Progress::new(obj.clone(), ctx);
    let known = ready_condition(obj.status.as_ref()).and_then(|c| {
        let reason = Reason::parse(&c.reason)?;
        Some(Readiness { ready: c.status == "True", reason, message: c.message.clone(), synced: Synced::Paused })
    });
    let waiting = if obj.metadata.deletion_timestamp.is_some() { "; deletion waits until it is removed" } else { "" };
    let r = known.unwrap_or_else(|| {
        Readiness::not_ready(Reason::Paused, format!("paused by the vpc.qcloud.dev/paused annotation{waiting}"))
            .with_synced(Synced::Paused)
    });
    p.save(ctx, &r).await?;
    Ok(Action::await_change())
}

/// `managementPolicy: ObserveOnly`: reads the table (the shared, resync-bounded view) and
/// reports whether the route is there as specified; writes nothing to the cloud.
pub async fn observe_only<A: RouteApi>(ctx: &Context<A>, d: &Desired, creds: &Credentials) -> Result<Readiness, Stop> {
    let view = read(ctx, creds, &d.table, ctx.config.resync()).await?;
    let place = format!("{} in {}", d.route.destination, d.table.route_table_id);
    match observe(d, &view) {
        Observation::Matches => Ok(Readiness::ready(
            Reason::Observed,
            format!(
                "route {} in {} exists as specified (observe only: never written)",
                d.route, d.table.route_table_id
            ),
        )),
        Observation::Missing => Err(Stop::Resync(Readiness::not_ready(
            Reason::RouteMissing,
            format!("{place}: no such route (observe only: not created); rechecked at each resync"),
        ))),
        Observation::Differs(why) => Err(Stop::Resync(Readiness::not_ready(
            Reason::RouteDiffers,
            format!("{place}: {why} (observe only: left as it is); rechecked at each resync"),
        ))),
    }
}
