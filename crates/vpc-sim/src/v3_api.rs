//! The Tencent API 3.0 endpoint `/` (TC3 JSON POST, TC3 GET, v1 GET or form POST), over the same
//! cloud as 2.0: decode, count, authenticate, check version and action, rate-limit, apply
//! faults (keyed by the 3.0 action name), run, answer. Its only I/O is closing the connection
//! when a fault says so (and waiting out injected latency).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use vpc_wire::v3::Action;
use vpc_wire::v3::codes;
use vpc_wire::v3::models::{CreateRoutesResponse, DeleteRoutesResponse, EmptyResponse, ReplaceRoutesResponse};
use vpc_wire::v3::sign::VERSION;

use crate::api::Outcome;
use crate::api::{HTML_500, HTML_503, drop_connection};
use crate::app::App;
use crate::faults::{FaultKind, Plan};
use crate::ledger::{Source, Write};
use crate::reply;
use crate::server::ConnHandle;
use crate::v3_reply::{self, V3Error, parse_input};
use crate::{sts, v3_auth, v3_describe, v3_routes};

/// The path API 3.0 answers on.
pub const V3_PATH: &str = "/";

/// A call that passed decoding, authentication and the rate limit, with its fault plan.
struct Admitted {
    secret_id: String,
    action: Action,
    region: String,
    input: Value,
    plan: Plan,
}

/// Handles one 3.0 call end to end.
pub async fn handle(
    State(app): State<Arc<App>>,
    conn: Option<Extension<ConnHandle>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let request_id = reply::request_id();
    if let Some(response) = sts::intercept(&app, &method, &headers, &uri, &body, &request_id) {
        return response;
    }
    let call = match admit(&app, &method, &headers, &uri, &body) {
        Ok(call) => call,
        Err((action_name, error)) => return answer(&request_id, &action_name, Err(error)),
    };
    // As on 2.0: an accepted call runs to its end on its own task, whatever happens to the
    // connection, so a write whose client gave up still lands.
    let work = tokio::spawn(carry_out(app, call, request_id.clone()));
    match work.await {
        Ok(Outcome::Answer(response)) => response,
        Ok(Outcome::Drop(name)) => drop_connection(conn, &request_id, &name).await,
        Err(error) => {
            tracing::error!(request_id, %error, "the call's task failed");
            (StatusCode::INTERNAL_SERVER_ERROR, HTML_500).into_response()
        }
    }
}

/// Waits out injected latency, then runs the action (or the fault that replaces it).
async fn carry_out(app: Arc<App>, call: Admitted, request_id: String) -> Outcome {
    if !call.plan.latency.is_zero() {
        tokio::time::sleep(call.plan.latency).await;
    }
    let Admitted { secret_id, action, region, input, plan } = call;
    let name = action.name();
    let request_id = request_id.as_str();
    let act = || run(&app, action, &secret_id, &region, input, request_id);
    let answer = |outcome| Outcome::Answer(answer(request_id, name, outcome));
    match plan.outcome {
        None | Some(FaultKind::Latency) => answer(act()),
        Some(FaultKind::InternalError) => answer(Err(V3Error::new(codes::INTERNAL_ERROR, "injected internal error"))),
        Some(FaultKind::RequestLimitExceeded) => answer(Err(rate_limited())),
        Some(FaultKind::Http500) => Outcome::Answer((StatusCode::INTERNAL_SERVER_ERROR, HTML_500).into_response()),
        Some(FaultKind::Http503) => Outcome::Answer((StatusCode::SERVICE_UNAVAILABLE, HTML_503).into_response()),
        Some(FaultKind::DropBeforeAction) => Outcome::Drop(name.to_string()),
        Some(FaultKind::ResponseLost) => {
            let code = act().err().map_or("Success", |e| e.code);
            tracing::info!(request_id, action = name, code, "action applied; dropping the response");
            Outcome::Drop(name.to_string())
        }
    }
}

fn rate_limited() -> V3Error {
    V3Error::new(codes::REQUEST_LIMIT_EXCEEDED, "request rate limit exceeded")
}

/// Decodes and counts the call, authenticates it, checks version, action and region and the rate
/// limit, and asks the faults what happens to it. On refusal: the action name and the error.
fn admit(
    app: &App,
    method: &Method,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Result<Admitted, (String, V3Error)> {
    let incoming = v3_auth::decode(method, headers, uri, body).map_err(|e| ("?".to_string(), e))?;
    let action_name = incoming.action.clone().unwrap_or_else(|| "?".to_string());
    if incoming.action.is_some() {
        *app.control().calls.entry(action_name.clone()).or_default() += 1;
    }
    let refused = |error| (action_name.clone(), error);
    let secret_id = v3_auth::authenticate(app, &incoming, method, headers, uri, body).map_err(refused)?;
    match incoming.version.as_deref() {
        None => return Err(refused(V3Error::missing("X-TC-Version (or Version)"))),
        Some(VERSION) => {}
        Some(other) => {
            let message = format!("version {other} does not exist for vpc; use {VERSION}");
            return Err(refused(V3Error::new(codes::NO_SUCH_VERSION, message)));
        }
    }
    let name = incoming.action.as_deref().ok_or_else(|| refused(V3Error::missing("X-TC-Action (or Action)")))?;
    let action = Action::parse(name).ok_or_else(|| {
        refused(V3Error::new(codes::INVALID_ACTION, format!("action {name} does not exist for vpc {VERSION}")))
    })?;
    let region = incoming.region.clone().ok_or_else(|| refused(V3Error::missing("X-TC-Region (or Region)")))?;
    let plan = {
        let mut control = app.control();
        if !control.rates.admit(&action_name, Instant::now()) {
            return Err(refused(rate_limited()));
        }
        control.faults.plan(&action_name, rand::random::<f64>)
    };
    Ok(Admitted { secret_id, action, region, input: incoming.input, plan })
}

/// Runs an authenticated action for the account `secret_id` in `region`.
fn run(
    app: &App,
    action: Action,
    secret_id: &str,
    region: &str,
    input: Value,
    request_id: &str,
) -> Result<Response, V3Error> {
    let write = Write { action: action.name(), source: Source::Api, request_id };
    match action {
        Action::CreateRoutes => {
            let request = parse_input(input)?;
            let table = app.mutate(write, |cloud| {
                let quota = cloud.route_quota;
                let (region, ids) = cloud.region_and_ids(secret_id, region);
                v3_routes::create(region, ids, quota, &request)
            })?;
            let items: Vec<&str> = table.route_set.iter().map(|r| r.route_item_id.as_str()).collect();
            tracing::info!(request_id, %action, secret_id, table = table.route_table_id, ?items, "routes created");
            let response = CreateRoutesResponse { total_count: 1, route_table_set: vec![table] };
            Ok(v3_reply::success(request_id, &response))
        }
        Action::DeleteRoutes => {
            let request = parse_input(input)?;
            let route_set =
                app.mutate(write, |cloud| v3_routes::delete(cloud.region_and_ids(secret_id, region).0, &request))?;
            tracing::info!(request_id, %action, secret_id, deleted = route_set.len(), "routes deleted");
            Ok(v3_reply::success(request_id, &DeleteRoutesResponse { route_set }))
        }
        Action::ReplaceRoutes => {
            let request = parse_input(input)?;
            let (old_route_set, new_route_set) =
                app.mutate(write, |cloud| v3_routes::replace(cloud.region_and_ids(secret_id, region).0, &request))?;
            tracing::info!(request_id, %action, secret_id, replaced = new_route_set.len(), "routes replaced");
            Ok(v3_reply::success(request_id, &ReplaceRoutesResponse { old_route_set, new_route_set }))
        }
        Action::EnableRoutes | Action::DisableRoutes => {
            let request = parse_input(input)?;
            let enabled = action == Action::EnableRoutes;
            app.mutate(write, |cloud| {
                v3_routes::set_enabled(cloud.region_and_ids(secret_id, region).0, &request, enabled)
            })?;
            Ok(v3_reply::success(request_id, &EmptyResponse {}))
        }
        Action::DescribeRouteTables => {
            let request = parse_input(input)?;
            let cloud = app.cloud();
            Ok(v3_reply::success(
                request_id,
                &v3_describe::route_tables(cloud.account(secret_id).and_then(|a| a.region(region)), &request)?,
            ))
        }
        Action::DescribeVpcs => {
            let request = parse_input(input)?;
            let cloud = app.cloud();
            Ok(v3_reply::success(
                request_id,
                &v3_describe::vpcs(cloud.account(secret_id).and_then(|a| a.region(region)), &request)?,
            ))
        }
        Action::DescribeVpcLimits => {
            let request = parse_input(input)?;
            Ok(v3_reply::success(request_id, &v3_describe::limits(app.cloud().route_quota, &request)))
        }
    }
}

/// The envelope for an outcome, logged with its request id.
fn answer(request_id: &str, action: &str, outcome: Result<Response, V3Error>) -> Response {
    match outcome {
        Ok(response) => {
            tracing::debug!(request_id, action, "answered");
            response
        }
        Err(error) => {
            tracing::info!(request_id, action, code = error.code, detail = %error.message, "refused");
            v3_reply::failure(request_id, &error)
        }
    }
}
