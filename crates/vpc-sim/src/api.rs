//! The Tencent API endpoint `/v2/index.php` (GET query or POST form): decode, count, authenticate,
//! rate-limit, apply faults, run the action, answer. Its only I/O is closing the connection
//! when a fault says so (and waiting out injected latency).

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use vpc_wire::v2::codes::{self, desc};

use crate::actions::{self, Target};
use crate::app::App;
use crate::auth::{self, Signed};
use crate::describe;
use crate::faults::{FaultKind, Plan};
use crate::ledger::{Source, Write};
use crate::params::Params;
use crate::reply::{self, ApiError, Empty};
use crate::server::ConnHandle;

/// The path the API answers on.
pub const API_PATH: &str = "/v2/index.php";
/// Bodies of the `http500` and `http503` faults: not an API envelope.
pub(crate) const HTML_500: &str = "<html><body>500 Internal Server Error</body></html>";
pub(crate) const HTML_503: &str = "<html><body>503 Service Unavailable</body></html>";

/// The actions the emulator implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    CreateRoute,
    DeleteRoute,
    DescribeRouteTable,
    DescribeVpcEx,
}

impl Action {
    fn parse(name: &str) -> Result<Action, ApiError> {
        match name {
            "CreateRoute" => Ok(Action::CreateRoute),
            "DeleteRoute" => Ok(Action::DeleteRoute),
            "DescribeRouteTable" => Ok(Action::DescribeRouteTable),
            "DescribeVpcEx" => Ok(Action::DescribeVpcEx),
            other => Err(ApiError::business(desc::INVALID_ACTION, format!("action {other} does not exist"))),
        }
    }
}

/// A call that passed decoding, authentication and the rate limit, with its fault plan.
struct Admitted {
    params: Params,
    secret_id: String,
    action: Action,
    action_name: String,
    plan: Plan,
}

/// Handles one API call end to end.
pub async fn handle(
    State(app): State<Arc<App>>,
    conn: Option<Extension<ConnHandle>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let request_id = reply::request_id();
    let call = match admit(&app, &method, &headers, &uri, &body) {
        Ok(call) => call,
        Err((action_name, error)) => return answer(&request_id, &action_name, Err(error)),
    };
    // An accepted call runs to its end on its own task, whatever happens to the connection: a
    // client that gives up (or dies) while a slow write is under way does not undo the write,
    // as with a real cloud.
    let work = tokio::spawn(carry_out(app, call, request_id.clone()));
    match work.await {
        Ok(Outcome::Answer(response)) => response,
        Ok(Outcome::Drop(action_name)) => drop_connection(conn, &request_id, &action_name).await,
        Err(error) => {
            tracing::error!(request_id, %error, "the call's task failed");
            (StatusCode::INTERNAL_SERVER_ERROR, HTML_500).into_response()
        }
    }
}

/// What an accepted call ends in.
pub enum Outcome {
    /// Send this answer.
    Answer(Response),
    /// Close the connection without an answer (for the action named).
    Drop(String),
}

/// Waits out injected latency, then runs the action (or the fault that replaces it).
async fn carry_out(app: Arc<App>, call: Admitted, request_id: String) -> Outcome {
    if !call.plan.latency.is_zero() {
        tokio::time::sleep(call.plan.latency).await;
    }
    let Admitted { params, secret_id, action, action_name, plan } = call;
    let request_id = request_id.as_str();
    let act = || run(&app, action, &secret_id, &params, request_id);
    let answer = |outcome| Outcome::Answer(answer(request_id, &action_name, outcome));
    match plan.outcome {
        None | Some(FaultKind::Latency) => answer(act()),
        Some(FaultKind::InternalError) => {
            answer(Err(ApiError::new(codes::INTERNAL_ERROR, desc::INTERNAL_ERROR, "injected internal error")))
        }
        Some(FaultKind::RequestLimitExceeded) => answer(Err(rate_limited())),
        Some(FaultKind::Http500) => Outcome::Answer((StatusCode::INTERNAL_SERVER_ERROR, HTML_500).into_response()),
        Some(FaultKind::Http503) => Outcome::Answer((StatusCode::SERVICE_UNAVAILABLE, HTML_503).into_response()),
        Some(FaultKind::DropBeforeAction) => Outcome::Drop(action_name),
        Some(FaultKind::ResponseLost) => {
            let code = act().map_or_else(|e| e.code, |_| codes::OK);
            tracing::info!(request_id, action = action_name, code, "action applied; dropping the response");
            Outcome::Drop(action_name)
        }
    }
}

/// Decodes and counts the call, authenticates it, checks its action and rate limit, and asks
/// the faults what happens to it. On refusal: the action name (for the log) and the error.
fn admit(
    app: &App,
    method: &Method,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Result<Admitted, (String, ApiError)> {
    let body: &[u8] = if method == Method::POST { body } else { &[] };
    let params = Params::decode(uri.query(), body).map_err(|e| ("?".to_string(), e))?;
    let action_name = params.get("Action").unwrap_or("?").to_string();
    if params.get("Action").is_some() {
        *app.control().calls.entry(action_name.clone()).or_default() += 1;
    }
    let refused = |error| (action_name.clone(), error);
    let host = host(headers, uri);
    let signed = Signed { http_method: method.as_str(), host: &host, path: uri.path() };
    let secret_id = authenticate(app, &signed, &params).map_err(refused)?.to_string();
    let action = params.required("Action").and_then(Action::parse).map_err(refused)?;
    let plan = {
        let mut control = app.control();
        if !control.rates.admit(&action_name, Instant::now()) {
            return Err(refused(rate_limited()));
        }
        control.faults.plan(&action_name, rand::random::<f64>)
    };
    Ok(Admitted { params, secret_id, action, action_name, plan })
}

fn rate_limited() -> ApiError {
    ApiError::new(codes::REQUEST_LIMIT_EXCEEDED, desc::REQUEST_LIMIT_EXCEEDED, "request rate limit exceeded")
}

/// The host the client signed: the `Host` header, else the request target's authority.
pub(crate) fn host(headers: &HeaderMap, uri: &Uri) -> String {
    let header = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    header.map(str::to_string).or_else(|| uri.authority().map(|a| a.to_string())).unwrap_or_default()
}

pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Checks SecretId (4104), signature (4100), token (4105), timestamp and nonce (4500).
fn authenticate<'p>(app: &App, request: &Signed<'_>, params: &'p Params) -> Result<&'p str, ApiError> {
    let common = auth::common(params)?;
    let (key, token) = {
        let cloud = app.cloud();
        let account = cloud.account(common.secret_id).ok_or_else(|| {
            let message = format!("SecretId {} does not exist", common.secret_id);
            ApiError::new(codes::AUTH_SECRET_ID_NOT_FOUND, desc::SECRET_ID_NOT_FOUND, message)
        })?;
        (account.secret_key.clone(), account.token.clone())
    };
    auth::verify(request, params, &common, &key, token.as_ref())?;
    app.replay().check(&common, now())?;
    Ok(common.secret_id)
}

/// Runs an authenticated action for the account `secret_id`.
fn run(app: &App, action: Action, secret_id: &str, params: &Params, request_id: &str) -> Result<Response, ApiError> {
    let region = params.required("Region")?;
    match action {
        Action::CreateRoute | Action::DeleteRoute => {
            let target = Target { vpc_id: params.required("vpcId")?, table_id: params.required("routeTableId")? };
            let entries = params.route_set()?;
            let write = Write { action: params.required("Action")?, source: Source::Api, request_id };
            let routes = app.mutate(write, |cloud| {
                let quota = cloud.route_quota;
                let (region, ids) = cloud.region_and_ids(secret_id, region);
                match action {
                    Action::CreateRoute => actions::create_routes(region, ids, quota, target, &entries),
                    _ => actions::delete_routes(region, target, &entries),
                }
            })?;
            let routes: Vec<String> = routes.iter().map(ToString::to_string).collect();
            tracing::info!(request_id, ?action, secret_id, table = target.table_id, ?routes, "routes changed");
            Ok(reply::success(request_id, Empty {}))
        }
        Action::DescribeRouteTable => {
            let cloud = app.cloud();
            let page = describe::route_tables(cloud.account(secret_id).and_then(|a| a.region(region)), params)?;
            Ok(reply::success(request_id, page))
        }
        Action::DescribeVpcEx => {
            let cloud = app.cloud();
            let page = describe::vpcs(cloud.account(secret_id).and_then(|a| a.region(region)), params)?;
            Ok(reply::success(request_id, page))
        }
    }
}

/// The envelope for an outcome, logged with its request id.
fn answer(request_id: &str, action: &str, outcome: Result<Response, ApiError>) -> Response {
    match outcome {
        Ok(response) => {
            tracing::debug!(request_id, action, code = codes::OK, "answered");
            response
        }
        Err(error) => {
            tracing::info!(request_id, action, code = error.code, code_desc = error.code_desc, detail = %error.message, "refused");
            reply::failure(request_id, &error)
        }
    }
}

/// Closes the connection without an answer; the handler never completes.
pub(crate) async fn drop_connection(conn: Option<Extension<ConnHandle>>, request_id: &str, action: &str) -> Response {
    tracing::info!(request_id, action, "dropping the connection (injected fault)");
    match conn {
        Some(Extension(handle)) => {
            handle.close();
            std::future::pending().await
        }
        None => (StatusCode::INTERNAL_SERVER_ERROR, "connection cannot be dropped").into_response(),
    }
}
