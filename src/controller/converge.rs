//! Carrying out the decisions of `decide.rs`: settle a write left pending by a crash or a lost
//! response, then create, adopt, replace, repair or stay, and report. Each cloud write is
//! recorded in status before it is made. Does cloud and Kubernetes I/O; decides nothing itself.

use std::time::Duration;

use vpc_wire::domain::{Credentials, Route};

use super::context::Context;
use super::decide::{Step, decide, needs_fresh_view, settle};
use super::desired::{Desired, ids_of, record};
use super::errors::Error;
use super::report::{Progress, event};
use crate::cloud::{CloudError, RouteApi, RouteIds};
use crate::crd::{Origin, OwnedRoute, PendingOperation, PendingWrite};
use crate::reasons::Reason;
use crate::status::{Readiness, Synced, ready_condition};

/// Why converging stopped short of a Ready route.
pub enum Stop {
    /// Nothing will change until the spec or the cloud does: retry after a long period.
    Permanent(Readiness),
    /// Recheck at the next resync (a conflict that someone else may resolve).
    Resync(Readiness),
    /// Retry with per-object backoff.
    Retry(Readiness, Error),
    /// Writing status failed: a Kubernetes failure, retried with backoff; nothing to report.
    Kube(Error),
}

/// A failed cloud call as a stop, classified once (by the backend).
pub fn stop(err: CloudError) -> Stop {
    let readiness = Readiness::not_ready(err.reason, err.describe());
    if err.is_retryable() { Stop::Retry(readiness, Error::Cloud(err)) } else { Stop::Permanent(readiness) }
}

/// How many times one reconcile looks at the table again after learning something new.
const MAX_LOOKS: usize = 3;

/// Converges on `d`; `Ok` is the Ready=True readiness.
pub async fn converge<A: RouteApi>(
    p: &mut Progress,
    ctx: &Context<A>,
    d: &Desired,
    creds: &Credentials,
) -> Result<Readiness, Stop> {
    // A create this resource recorded may still land after the read that settles it (a real
    // cloud finishes an accepted write even when its caller died): an identical route found
    // later is then this resource's own, not one to adopt.
    let intended = p.pending().is_some_and(|w| w.operation == PendingOperation::Create && d.is(&w.route));
    settle_pending(p, ctx, creds).await?;
    let mut max_age = ctx.config.resync();
    for _ in 0..MAX_LOOKS {
        let view = match read(ctx, creds, &d.table, max_age).await {
            Err(Stop::Retry(r, e)) => return Err(check_failed(p, r, e)),
            other => other?,
        };
        let step = decide(d, p.owned(), &view);
        if !max_age.is_zero() && needs_fresh_view(&step, p.owned()) {
            max_age = Duration::ZERO;
            continue;
        }
        let drifted_attrs = view.attrs_of(&d.route.destination).filter(|have| **have != d.attrs).cloned();
        // Not held across the writes below: each answered create makes a new version of the
        // table's view, and a thousand reconciles holding old ones kept that many copies alive.
        drop(view);
        match step {
            Step::InPlace(ids) => return in_place_unless_a_write_may_land(p, ctx, d, &ids),
            Step::Update { ids, have } => return Box::pin(update(p, ctx, d, creds, &ids, &have)).await,
            Step::Create { drift } => match create(p, ctx, d, creds, drift).await {
                Err(Stop::Resync(r)) if r.reason == Reason::RouteAlreadyExists => max_age = Duration::ZERO,
                outcome => return outcome,
            },
            Step::Adopt(ids) if intended => return own_late_create(p, ctx, d, &ids).await,
            Step::Adopt(ids) => {
                let ready = adopt(p, ctx, d, &ids).await;
                return match drifted_attrs {
                    Some(have) => Box::pin(update(p, ctx, d, creds, &ids, &have)).await,
                    None => Ok(ready),
                };
            }
            Step::Conflict { found, identical } => return Err(conflict(p, d, &found, identical)),
            Step::Replace { old, ids, drift } => return Box::pin(replace(p, ctx, d, creds, &old, &ids, drift)).await,
        }
    }
    Err(Stop::Retry(
        Readiness::not_ready(Reason::CloudUnavailable, "the route table kept changing while being read; retrying"),
        Error::Inconsistent(format!("{} in {} did not settle", d.route.destination, d.table.route_table_id)),
    ))
}

/// Resolves a write recorded as pending by reading the table afresh. Re-reading before any
/// retry is what makes creates safe to repeat after a crash or a lost response.
/// A write not in the table that may still land keeps its record (see [`landing_left`]).
pub async fn settle_pending<A: RouteApi>(p: &mut Progress, ctx: &Context<A>, creds: &Credentials) -> Result<(), Stop> {
    let Some(pending) = p.pending().cloned() else { return Ok(()) };
    let mut unresolved = false;
    if let Some((table, _)) = super::desired::located(&pending.route) {
        let view = read(ctx, creds, &table, Duration::ZERO).await?;
        let may_land = landing_left(&pending, ctx.config.write_landing()).is_some();
        let settled = settle(&pending, p.owned(), &view, may_land);
        (p.draft.route, unresolved) = (settled.owned, settled.unresolved);
    }
    if !unresolved {
        p.draft.pending = None;
    }
    Ok(())
}

/// How much longer the cloud may still apply a pending write whose answer never came
/// (`--write-landing-seconds` after it was recorded); `None` once that has passed, or for a
/// record without a time (written by an older version).
pub fn landing_left(pending: &PendingWrite, window: Duration) -> Option<Duration> {
    let started = chrono::DateTime::parse_from_rfc3339(pending.started_at.as_deref()?).ok()?;
    let age = chrono::Utc::now().signed_duration_since(started).to_std().unwrap_or(Duration::ZERO);
    window.checked_sub(age).filter(|left| !left.is_zero())
}

/// A failed read of the table. A route that was in place stays `Ready=True` (nothing says it is
/// gone): only `Synced=False` reports the failed check, retried with backoff.
fn check_failed(p: &Progress, r: Readiness, e: Error) -> Stop {
    let in_place = ready_condition(p.obj().status.as_ref()).filter(|c| c.status == "True" && p.owned().is_some());
    match in_place {
        Some(c) => {
            let reason = reason_of(p.owned().map_or(Origin::Created, |o| o.origin));
            let still = Readiness::ready(reason, c.message.clone()).with_synced(Synced::Failed(r.message));
            Stop::Retry(still, e)
        }
        None => Stop::Retry(r, e),
    }
}

/// A view of the table no older than `max_age`. A table the cloud does not show reads as empty:
/// the create that follows gets the cloud's own precise answer (`InvalidVpc`,
/// `InvalidRouteTableId`, …) instead of a guess made from a listing.
pub async fn read<A: RouteApi>(
    ctx: &Context<A>,
    creds: &Credentials,
    table: &crate::cloud::TableRef,
    max_age: Duration,
) -> Result<std::sync::Arc<crate::cloud::TableView>, Stop> {
    match ctx.cloud.table(creds, table, max_age).await {
        Ok(view) => Ok(view),
        Err(e) if e.is_not_found() => Ok(std::sync::Arc::default()),
        Err(e) => Err(stop(e)),
    }
}

/// How often a resource with an unanswered write that may still land looks at its table again.
pub const LANDING_RECHECK: Duration = Duration::from_secs(3);

/// The route is as desired; but while an earlier write whose answer never came may still land
/// (a 2.0 hop change's delete, say, after the spec went back), that can change: Ready stays
/// True, `Synced=False` says why, the record stays, and the table is looked at again shortly.
#[allow(clippy::result_large_err, reason = "the Result every converge step returns (the async ones are not linted)")]
fn in_place_unless_a_write_may_land<A>(
    p: &mut Progress,
    ctx: &Context<A>,
    d: &Desired,
    ids: &RouteIds,
) -> Result<Readiness, Stop> {
    let ready = still_ready(p, d, ids);
    unless_a_write_may_land(p, ctx, ready)
}

/// `ready`, unless the pending record is of a write that may still land: then Ready stays as
/// it is, `Synced=False` says why, and the table is looked at again shortly.
#[allow(clippy::result_large_err, reason = "the Result every converge step returns (the async ones are not linted)")]
fn unless_a_write_may_land<A>(p: &Progress, ctx: &Context<A>, ready: Readiness) -> Result<Readiness, Stop> {
    match p.pending().and_then(|w| landing_left(w, ctx.config.write_landing())) {
        Some(left) => {
            let wait = left.min(LANDING_RECHECK);
            let why = "an earlier write whose answer never came may still land; checking the table again";
            Err(Stop::Retry(ready.with_synced(Synced::Failed(why.into())), Error::WriteMayLand(wait)))
        }
        None => Ok(ready),
    }
}

/// The pending create or replace a new attempt replaces (on 2.0 a hop change's create is
/// retried as a create, so a pending replace counts too).
fn earlier_attempt(p: &Progress) -> Option<PendingWrite> {
    p.pending().filter(|w| w.operation != PendingOperation::Delete).cloned()
}

/// A write was answered (or its route found): the resource owns `route`, and reports `ready`.
/// An `earlier` attempt whose answer never came may still be queued in the cloud: the cloud
/// refuses it while the route is there, but a delete within its window would let it land and
/// leave an orphan (seen in the soak: the retry answered, the resource deleted, the first
/// attempt landed). So its record stays until the window ends.
#[allow(clippy::result_large_err, reason = "the Result every converge step returns (the async ones are not linted)")]
fn answered<A>(
    p: &mut Progress,
    ctx: &Context<A>,
    earlier: Option<PendingWrite>,
    route: OwnedRoute,
    ready: Readiness,
) -> Result<Readiness, Stop> {
    p.draft.pending = earlier.filter(|w| landing_left(w, ctx.config.write_landing()).is_some()).map(Box::new);
    p.draft.route = Some(route);
    unless_a_write_may_land(p, ctx, ready)
}

fn still_ready(p: &mut Progress, d: &Desired, ids: &RouteIds) -> Readiness {
    let origin = p.owned().map_or(Origin::Created, |o| o.origin);
    if p.owned().is_none_or(|o| !d.is(o) || (!ids.is_empty() && ids_of(o) != *ids)) {
        p.draft.route = Some(d.owned(origin, ids));
    }
    let reason = reason_of(origin);
    match ready_condition(Some(&p.draft)) {
        Some(c) if c.status == "True" && c.reason == reason.as_str() => Readiness::ready(reason, c.message.clone()),
        _ => Readiness::ready(reason, in_place(d, origin)),
    }
}

fn reason_of(origin: Origin) -> Reason {
    match origin {
        Origin::Created => Reason::Created,
        Origin::Adopted => Reason::Adopted,
    }
}

fn in_place(d: &Desired, origin: Origin) -> String {
    let how = if origin == Origin::Adopted { "adopted" } else { "created" };
    format!("route {} in {} is in place ({how} by this resource)", d.route, d.table.route_table_id)
}

/// Records the pending write, then says what is happening.
async fn record_pending<A>(
    p: &mut Progress,
    ctx: &Context<A>,
    pending: PendingWrite,
    r: Readiness,
) -> Result<(), Stop> {
    p.draft.pending = Some(Box::new(pending));
    p.save(ctx, &r).await.map(drop).map_err(Stop::Kube)
}

/// Records a create as pending in the table's journal; the batch that carries it writes the
/// journal before it is sent (shared by the batch: about one API-server write per batch, not one
/// per route). The draft holds it too, so the next status write keeps it while it is unresolved.
fn journal_pending<A>(p: &mut Progress, ctx: &Context<A>, table: &crate::cloud::TableRef, pending: PendingWrite) {
    let uid = p.obj().metadata.uid.clone().unwrap_or_default();
    let resource = super::reconcile::key_of(p.obj());
    ctx.journal.stage(table, &uid, &resource, &pending);
    p.draft.pending = Some(Box::new(pending));
}

/// How long a create may take before its resource shows `Creating` (one more status write,
/// which a create answered in time does without). Longer than a batch waits to fill
/// (`--batch-max-wait-ms`, 4 s by default), so a burst of creates answered in full batches
/// costs one status write per route.
const SHOW_CREATING_AFTER: Duration = Duration::from_secs(5);

/// Waits for `call`; if it takes longer than [`SHOW_CREATING_AFTER`], the resource says
/// `doing` meanwhile (with its pending record). The call goes on whatever that write does: it
/// may be carrying a whole batch.
async fn shown_while_slow<A, T>(
    p: &mut Progress,
    ctx: &Context<A>,
    doing: &Readiness,
    call: impl std::future::Future<Output = T>,
) -> T {
    tokio::pin!(call);
    tokio::select! {
        answer = &mut call => answer,
        () = tokio::time::sleep(SHOW_CREATING_AFTER) => {
            // Both are polled: the call never waits for the status write, and the write is
            // never cut short (a write cut short could still land after the outcome's).
            let show = async {
                if let Err(e) = Box::pin(p.save(ctx, doing)).await {
                    tracing::debug!(error = %e, "could not show Creating; the create goes on");
                }
            };
            futures::join!(call, show).0
        }
    }
}

/// Creates the route, recording it as pending first. `RouteAlreadyExists` comes back as a
/// `Resync` stop with that reason so the caller reads the table again; a transport failure keeps
/// the pending record so the next try settles it by reading.
async fn create<A: RouteApi>(
    p: &mut Progress,
    ctx: &Context<A>,
    d: &Desired,
    creds: &Credentials,
    drift: bool,
) -> Result<Readiness, Stop> {
    let note = drift.then_some("drift corrected: the route had been deleted outside the operator; recreated");
    let pending = PendingWrite {
        operation: PendingOperation::Create,
        route: d.owned(Origin::Created, &RouteIds::default()),
        previous: None,
        started_at: Some(super::report::now()),
    };
    let doing = Readiness::not_ready(Reason::Creating, with_note(format!("creating route {}", d.route), note));
    // An earlier attempt whose answer never came may still land: neither an answer nor a
    // refusal of this one may make it forgotten (it would be Adopted, or left behind).
    let earlier = earlier_attempt(p);
    // Announced first (the quota may still be asked before it joins), so the table's next
    // batch waits for it.
    let intent = ctx.cloud.intend_create(creds, &d.table).recorded_by(ctx.journal.recorder(&d.table));
    journal_pending(p, ctx, &d.table, pending);
    let planned = d.planned();
    let call = ctx.cloud.create(creds, &d.table, &planned, Some(intent));
    match shown_while_slow(p, ctx, &doing, call).await {
        Ok(ids) => {
            if let Some(note) = note {
                ctx.metrics.drift_corrected();
                event(ctx, p.obj(), false, Reason::DriftCorrected, format!("{}: {note}", d.route));
            }
            event(ctx, p.obj(), false, Reason::Created, format!("created route {}", d.route));
            let ready = Readiness::ready(Reason::Created, with_note(in_place(d, Origin::Created), note));
            answered(p, ctx, earlier, d.owned(Origin::Created, &ids), ready)
        }
        Err(e) => {
            if !e.is_transport() {
                p.draft.pending = earlier.map(Box::new);
            }
            if e.reason == Reason::RouteAlreadyExists {
                return Err(Stop::Resync(Readiness::not_ready(e.reason, e.describe())));
            }
            Err(stop(e))
        }
    }
}

/// The route this resource tried to create is there after all (it landed late): it is owned as
/// `Created`. Another attempt of it may still be on its way: then its record stays.
async fn own_late_create<A>(
    p: &mut Progress,
    ctx: &Context<A>,
    d: &Desired,
    ids: &RouteIds,
) -> Result<Readiness, Stop> {
    event(ctx, p.obj(), false, Reason::Created, format!("created route {} (its create landed late)", d.route));
    let ready = Readiness::ready(Reason::Created, in_place(d, Origin::Created));
    answered(p, ctx, earlier_attempt(p), d.owned(Origin::Created, ids), ready)
}

async fn adopt<A>(p: &mut Progress, ctx: &Context<A>, d: &Desired, ids: &RouteIds) -> Readiness {
    p.draft.route = Some(d.owned(Origin::Adopted, ids));
    event(ctx, p.obj(), false, Reason::Adopted, format!("adopted existing identical route {}", d.route));
    Readiness::ready(Reason::Adopted, in_place(d, Origin::Adopted))
}

fn conflict(p: &mut Progress, d: &Desired, found: &Route, identical: bool) -> Stop {
    p.draft.route = None;
    let why = if identical { " (identical, but adoptionPolicy is Never)" } else { "" };
    Stop::Resync(Readiness::not_ready(
        Reason::RouteAlreadyExists,
        format!(
            "{} already routes {} to {} {}{why}; left untouched, rechecked at each resync",
            d.table.route_table_id, found.destination, found.next_type, found.next_hub
        ),
    ))
}

/// Points our route at the desired hop, recording the replace as pending first.
async fn replace<A: RouteApi>(
    p: &mut Progress,
    ctx: &Context<A>,
    d: &Desired,
    creds: &Credentials,
    old: &Route,
    ids: &RouteIds,
    drift: bool,
) -> Result<Readiness, Stop> {
    let origin = p.owned().map_or(Origin::Created, |o| o.origin);
    let note = if drift {
        format!(
            "drift corrected: the next hop had been changed outside the operator to {} {}; restored",
            old.next_type, old.next_hub
        )
    } else {
        format!("replaced {} {} with the new next hop", old.next_type, old.next_hub)
    };
    let pending = PendingWrite {
        operation: PendingOperation::Replace,
        route: d.owned(Origin::Created, ids),
        previous: Some(record(&d.table, old, origin, ids)),
        started_at: Some(super::report::now()),
    };
    let doing = Readiness::not_ready(Reason::Replacing, format!("replacing route {old} with {}", d.route));
    // On 2.0 a replace is a delete and a create: an earlier attempt may still be on its way.
    let earlier = earlier_attempt(p);
    record_pending(p, ctx, pending, doing).await?;
    match ctx.cloud.replace(creds, &d.table, old, ids, &d.planned()).await {
        Ok(new_ids) => {
            let reason = if drift { Reason::DriftCorrected } else { Reason::Replacing };
            if drift {
                ctx.metrics.drift_corrected();
            }
            event(ctx, p.obj(), false, reason, format!("{}: {note}", d.route));
            let ready = Readiness::ready(Reason::Created, format!("{}; {note}", in_place(d, Origin::Created)));
            answered(p, ctx, earlier, d.owned(Origin::Created, &new_ids), ready)
        }
        // The pending record stays: the next attempt reads the table to learn what happened.
        Err(e) => Err(annotate(stop(e), &note)),
    }
}

/// Sets the description and `Enabled` of our route in place (no pending record: these writes
/// are idempotent and a lost answer is simply checked again at the next look).
async fn update<A: RouteApi>(
    p: &mut Progress,
    ctx: &Context<A>,
    d: &Desired,
    creds: &Credentials,
    ids: &RouteIds,
    have: &vpc_wire::domain::RouteAttrs,
) -> Result<Readiness, Stop> {
    ctx.cloud.set_attributes(creds, &d.table, &d.route, ids, &d.attrs, have).await.map_err(stop)?;
    let mut changed = Vec::new();
    if d.attrs.description != have.description {
        changed.push(format!("description set to {:?}", d.attrs.description));
    }
    if d.attrs.enabled != have.enabled {
        changed.push(if d.attrs.enabled { "enabled".to_string() } else { "disabled".to_string() });
    }
    let note = changed.join(", ");
    event(ctx, p.obj(), false, Reason::Updated, format!("{}: {note}", d.route));
    let mut ready = still_ready(p, d, ids);
    ready.message = format!("{}; {note}", in_place(d, p.owned().map_or(Origin::Created, |o| o.origin)));
    Ok(ready)
}

fn with_note(message: String, note: Option<&str>) -> String {
    match note {
        Some(n) => format!("{message}; {n}"),
        None => message,
    }
}

fn annotate(stop: Stop, note: &str) -> Stop {
    let add = |r: Readiness, then: &str| Readiness { message: format!("{}; {note} failed; {then}", r.message), ..r };
    match stop {
        Stop::Permanent(r) => Stop::Permanent(add(r, "waiting for a spec change or the long retry")),
        Stop::Resync(r) => Stop::Resync(add(r, "rechecked at the next resync")),
        Stop::Retry(r, e) => Stop::Retry(add(r, "retrying with backoff"), e),
        Stop::Kube(e) => Stop::Kube(e),
    }
}
