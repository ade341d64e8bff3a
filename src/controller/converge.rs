//! Bringing the cloud to the desired route: settle a write left pending by a crash or a lost
//! response, then verify (drift), replace (hop changed) or create (with adoption). Each cloud
//! write is recorded in status before it is made. Does cloud and Kubernetes I/O.

use std::time::Duration;

use super::context::Context;
use super::desired::{Desired, located, record};
use super::errors::{Error, describe, is_retryable, readiness_for};
use super::report::{Progress, event};
use crate::client::{ApiError, ErrorClass};
use crate::cloud::{RouteApi, TableRef};
use crate::crd::{AdoptionPolicy, PendingWrite};
use crate::reasons;
use crate::status::{Readiness, ready_condition};
use vpc_wire::domain::{Credentials, NextType, Route};
use vpc_wire::v2::codes;

/// Pending operation names recorded in status.
pub const CREATE: &str = "Create";
/// See [`CREATE`].
pub const DELETE: &str = "Delete";

/// Why converging stopped short of a Ready route.
pub enum Stop {
    /// Nothing will change until the spec or the cloud does: retry after a long period.
    Permanent(Readiness),
    /// Recheck at the next resync (a conflict that someone else may resolve).
    Resync(Readiness),
    /// Retry with per-object backoff.
    Retry(Readiness, Error),
}

/// A failed cloud call as a stop, classified once.
pub fn stop(err: ApiError) -> Stop {
    let readiness = readiness_for(&err);
    if is_retryable(&err) { Stop::Retry(readiness, Error::Cloud(err)) } else { Stop::Permanent(readiness) }
}

fn kube_stop(err: Error) -> Stop {
    Stop::Retry(Readiness::not_ready(reasons::CLOUD_UNAVAILABLE, format!("could not record progress: {err}")), err)
}

/// Converges on `d`; `Ok` is the Ready=True readiness.
pub async fn converge<A: RouteApi>(
    p: &mut Progress,
    ctx: &Context<A>,
    d: &Desired,
    creds: &Credentials,
) -> Result<Readiness, Stop> {
    settle_pending(p, ctx, creds).await?;
    match p.owned().cloned() {
        Some(owned) if d.is(&owned) => verify(p, ctx, d, creds).await,
        Some(owned) => {
            let note = format!("replaced {} {} with the new next hop", NextType::from(owned.next_type), owned.next_hub);
            if let Some((table, old)) = located(&owned) {
                delete_recorded(p, ctx, creds, &table, &old, reasons::REPLACING).await?;
            }
            p.draft.route = None;
            event(ctx, p.obj(), false, "Replacing", format!("{note}: old route deleted, creating {}", d.route)).await;
            create(p, ctx, d, creds, Some(note)).await
        }
        None => create(p, ctx, d, creds, None).await,
    }
}

/// Resolves a write recorded as pending by reading the table: a create that landed is owned, a
/// delete that landed is forgotten. Re-reading before any retry is what makes creates safe to
/// repeat after a crash or a lost response.
pub async fn settle_pending<A: RouteApi>(p: &mut Progress, ctx: &Context<A>, creds: &Credentials) -> Result<(), Stop> {
    let Some(pending) = p.pending().cloned() else { return Ok(()) };
    if let Some((table, route)) = located(&pending.route) {
        let view = ctx.cloud.table(creds, &table, Duration::ZERO).await.map_err(stop)?;
        let present = view.routes.contains(&route);
        if pending.operation == CREATE && present {
            p.draft.route = Some(record(&table, &route, reasons::CREATED));
        }
        if pending.operation == DELETE && !present && p.owned() == Some(&pending.route) {
            p.draft.route = None;
        }
    }
    p.draft.pending = None;
    Ok(())
}

/// Checks an owned route against the table (read at most once per resync) and repairs drift.
async fn verify<A: RouteApi>(
    p: &mut Progress,
    ctx: &Context<A>,
    d: &Desired,
    creds: &Credentials,
) -> Result<Readiness, Stop> {
    let view = ctx.cloud.table(creds, &d.table, ctx.config.resync()).await.map_err(stop)?;
    let found = view.routes.iter().find(|r| r.destination == d.route.destination).cloned();
    let note = match found {
        Some(r) if r == d.route => return Ok(still_ready(p, d)),
        None => "drift corrected: the route had been deleted outside the operator; recreated".to_string(),
        Some(other) => {
            let note = format!(
                "drift corrected: the next hop had been changed outside the operator to {} {}; restored",
                other.next_type, other.next_hub
            );
            delete_recorded(p, ctx, creds, &d.table, &other, reasons::CREATING).await?;
            note
        }
    };
    ctx.metrics.drift_corrected();
    event(ctx, p.obj(), false, "DriftCorrected", format!("{}: {note}", d.route)).await;
    p.draft.route = None;
    create(p, ctx, d, creds, Some(note)).await
}

fn still_ready(p: &Progress, d: &Desired) -> Readiness {
    let reason = match p.owned() {
        Some(o) if o.origin == reasons::ADOPTED => reasons::ADOPTED,
        _ => reasons::CREATED,
    };
    match ready_condition(Some(&p.draft)) {
        Some(c) if c.status == "True" && c.reason == reason => Readiness::ready(reason, c.message.clone()),
        _ => Readiness::ready(reason, in_place(d, reason)),
    }
}

fn in_place(d: &Desired, reason: &str) -> String {
    let how = if reason == reasons::ADOPTED { "adopted" } else { "created" };
    format!("route {} in {} is in place ({how} by this resource)", d.route, d.table.route_table_id)
}

/// Deletes a route, recording the delete as pending first; "not found" counts as done.
async fn delete_recorded<A: RouteApi>(
    p: &mut Progress,
    ctx: &Context<A>,
    creds: &Credentials,
    table: &TableRef,
    route: &Route,
    reason: &'static str,
) -> Result<(), Stop> {
    let rec = record(table, route, reasons::CREATED);
    p.draft.pending = Some(PendingWrite { operation: DELETE.into(), route: rec });
    p.save(ctx, &Readiness::not_ready(reason, format!("deleting route {route} (replace: delete, then create)")))
        .await
        .map_err(kube_stop)?;
    ctx.cloud.delete(creds, table, route).await.map_err(stop)?;
    p.draft.pending = None;
    Ok(())
}

/// Creates the route, recording it as pending first. `RouteAlreadyExists` leads to adoption or
/// a conflict report; a transport failure keeps the pending record so the next try re-reads.
async fn create<A: RouteApi>(
    p: &mut Progress,
    ctx: &Context<A>,
    d: &Desired,
    creds: &Credentials,
    note: Option<String>,
) -> Result<Readiness, Stop> {
    p.draft.pending = Some(PendingWrite { operation: CREATE.into(), route: d.owned(reasons::CREATED) });
    p.save(ctx, &Readiness::not_ready(reasons::CREATING, with_note(format!("creating route {}", d.route), &note)))
        .await
        .map_err(kube_stop)?;
    match ctx.cloud.create(creds, &d.table, &d.route).await {
        Ok(()) => {
            p.draft.pending = None;
            p.draft.route = Some(d.owned(reasons::CREATED));
            event(ctx, p.obj(), false, reasons::CREATED, format!("created route {}", d.route)).await;
            Ok(Readiness::ready(reasons::CREATED, with_note(in_place(d, reasons::CREATED), &note)))
        }
        Err(e) if e.code_desc() == Some(codes::desc::ROUTE_ALREADY_EXISTS) => {
            p.draft.pending = None;
            existing(p, ctx, d, creds, &e).await
        }
        Err(e) => {
            if e.class != ErrorClass::Transport {
                p.draft.pending = None;
            }
            Err(annotate(stop(e), &note))
        }
    }
}

/// After `RouteAlreadyExists`: adopt an identical route (if allowed) or report what holds it.
async fn existing<A: RouteApi>(
    p: &mut Progress,
    ctx: &Context<A>,
    d: &Desired,
    creds: &Credentials,
    err: &ApiError,
) -> Result<Readiness, Stop> {
    let view = ctx.cloud.table(creds, &d.table, Duration::ZERO).await.map_err(stop)?;
    let Some(found) = view.routes.iter().find(|r| r.destination == d.route.destination) else {
        return Err(Stop::Retry(
            Readiness::not_ready(
                reasons::CLOUD_UNAVAILABLE,
                format!("{}; but the table no longer holds it", describe(err)),
            ),
            Error::Inconsistent(format!("{} vanished after RouteAlreadyExists", d.route.destination)),
        ));
    };
    if *found == d.route && d.adoption == AdoptionPolicy::IfIdentical {
        p.draft.route = Some(d.owned(reasons::ADOPTED));
        event(ctx, p.obj(), false, reasons::ADOPTED, format!("adopted existing identical route {}", d.route)).await;
        return Ok(Readiness::ready(reasons::ADOPTED, in_place(d, reasons::ADOPTED)));
    }
    let why = if *found == d.route { " (identical, but adoptionPolicy is Never)" } else { "" };
    Err(Stop::Resync(Readiness::not_ready(
        reasons::ROUTE_ALREADY_EXISTS,
        format!(
            "{}; {} already routes {} to {} {}{why}; left untouched, rechecked at each resync",
            describe(err),
            d.table.route_table_id,
            found.destination,
            found.next_type,
            found.next_hub
        ),
    )))
}

fn with_note(message: String, note: &Option<String>) -> String {
    match note {
        Some(n) => format!("{message}; {n}"),
        None => message,
    }
}

fn annotate(stop: Stop, note: &Option<String>) -> Stop {
    let Some(n) = note else { return stop };
    let add = |r: Readiness| Readiness {
        message: format!("{}; {n}, but creating the new route failed, retrying", r.message),
        ..r
    };
    match stop {
        Stop::Permanent(r) => Stop::Permanent(add(r)),
        Stop::Resync(r) => Stop::Resync(add(r)),
        Stop::Retry(r, e) => Stop::Retry(add(r), e),
    }
}
