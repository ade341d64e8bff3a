//! The unsigned JSON control API under `/_sim/`: state, the ledger of successful writes, call
//! counts, faults, rate limits and edits "by hand in the console". No I/O beyond saving the state file after an edit.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use vpc_wire::domain::{NextType, Route};

use crate::app::{App, NotSaved};
use crate::faults::FaultSpec;
use crate::ledger::{Source, Write};
use crate::model::StoredRoute;
use crate::persist;

/// `GET /_sim/state`: every account's routes (no secrets).
pub async fn state(State(app): State<Arc<App>>) -> Response {
    let snap = persist::snapshot(&app.cloud());
    Json(snap).into_response()
}

/// `GET /_sim/ledger[?since=N]`: `{"entries": [...]}`, every ledger entry numbered above N
/// (default 0: all of them).
pub async fn ledger(State(app): State<Arc<App>>, uri: Uri) -> Response {
    let query = uri.query().unwrap_or_default().as_bytes();
    let since = form_urlencoded::parse(query).find(|(k, _)| k == "since").map(|(_, v)| v.parse::<u64>());
    let since = match since {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return bad_request("since must be a whole number"),
    };
    Json(json!({ "entries": app.ledger().since(since) })).into_response()
}

/// `GET /_sim/calls`: requests per `Action` value.
pub async fn calls(State(app): State<Arc<App>>) -> Response {
    Json(app.control().calls.clone()).into_response()
}

/// `POST /_sim/calls/reset`: zeroes the call counts.
pub async fn reset_calls(State(app): State<Arc<App>>) -> Response {
    app.control().calls.clear();
    Json(json!({})).into_response()
}

/// `POST /_sim/faults`: adds a fault, answers `{"id": N}`.
pub async fn add_fault(State(app): State<Arc<App>>, Json(spec): Json<FaultSpec>) -> Response {
    tracing::info!(?spec, "fault added");
    match app.control().faults.add(spec) {
        Ok(id) => Json(json!({ "id": id })).into_response(),
        Err(error) => bad_request(&error.to_string()),
    }
}

/// `GET /_sim/faults`: ids of the active faults.
pub async fn list_faults(State(app): State<Arc<App>>) -> Response {
    Json(json!({ "ids": app.control().faults.ids() })).into_response()
}

/// `DELETE /_sim/faults`: removes every fault.
pub async fn clear_faults(State(app): State<Arc<App>>) -> Response {
    app.control().faults.clear();
    tracing::info!("faults cleared");
    Json(json!({})).into_response()
}

/// `PUT /_sim/rate-limits`: replaces every per-action limit (requests per second).
pub async fn rate_limits(State(app): State<Arc<App>>, Json(limits): Json<BTreeMap<String, u32>>) -> Response {
    tracing::info!(?limits, "rate limits set");
    app.control().rates.set(limits);
    Json(json!({})).into_response()
}

/// What `POST /_sim/edit` changes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EditOp {
    /// Adds the route, or repoints an existing one for the same destination.
    Put,
    /// Removes the route for the destination, whatever its next hop.
    Delete,
}

/// A change made "by hand in the console", bypassing the API's rules on next hops.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Edit {
    op: EditOp,
    secret_id: String,
    region: String,
    route_table_id: String,
    destination_cidr_block: String,
    #[serde(default)]
    next_type: Option<u32>,
    #[serde(default)]
    next_hub: Option<String>,
}

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The table or route does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The edit is malformed.
    #[error("{0}")]
    Invalid(&'static str),
    /// The state file could not be written.
    #[error(transparent)]
    NotSaved(#[from] NotSaved),
}

/// `POST /_sim/edit`.
pub async fn edit(State(app): State<Arc<App>>, Json(edit): Json<Edit>) -> Response {
    tracing::info!(?edit, "edit by hand");
    let action = match edit.op {
        EditOp::Put => "ConsolePut",
        EditOp::Delete => "ConsoleDelete",
    };
    let outcome = app.mutate(Write { action, source: Source::Console, request_id: "" }, |cloud| {
        let (region, ids) = cloud.region_and_ids(&edit.secret_id, &edit.region);
        let table = region.and_then(|r| r.table_mut(&edit.route_table_id)).ok_or_else(|| {
            EditError::NotFound(format!("no route table {} for that account and region", edit.route_table_id))
        })?;
        let route = edited_route(&edit)?;
        let existing = table.routes.iter().position(|r| r.route.destination == route.destination);
        match (&edit.op, existing) {
            (EditOp::Put, Some(i)) => table.routes[i].route = route,
            (EditOp::Put, None) => table.routes.push(StoredRoute::new(route, ids)),
            (EditOp::Delete, Some(i)) => drop(table.routes.remove(i)),
            (EditOp::Delete, None) => return Err(EditError::NotFound("no route for that destination".into())),
        }
        Ok(())
    });
    let status = match &outcome {
        Ok(()) => return Json(json!({})).into_response(),
        Err(EditError::NotFound(_)) => StatusCode::NOT_FOUND,
        Err(EditError::Invalid(_)) => StatusCode::BAD_REQUEST,
        Err(EditError::NotSaved(_)) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let message = outcome.err().map(|e| e.to_string()).unwrap_or_default();
    (status, Json(json!({ "error": message }))).into_response()
}

/// The route an edit names; a delete needs only the destination.
fn edited_route(edit: &Edit) -> Result<Route, EditError> {
    const NEEDS_HOP: &str = "put needs nextType and nextHub";
    let next_type = match (&edit.op, edit.next_type) {
        (_, Some(code)) => NextType::from_code(code).ok_or(EditError::Invalid("nextType is not one the API knows"))?,
        (EditOp::Delete, None) => NextType::VpnGateway,
        (EditOp::Put, None) => return Err(EditError::Invalid(NEEDS_HOP)),
    };
    let hub = match (&edit.op, &edit.next_hub) {
        (_, Some(hub)) => hub.clone(),
        (EditOp::Delete, None) => String::new(),
        (EditOp::Put, None) => return Err(EditError::Invalid(NEEDS_HOP)),
    };
    Route::new(&edit.destination_cidr_block, next_type, hub)
        .ok_or(EditError::Invalid("destinationCidrBlock is not an IPv4 CIDR"))
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}
