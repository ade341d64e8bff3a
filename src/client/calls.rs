//! The cloud calls: one signed HTTPS request per `call`, and the four actions built on it.
//! Does network I/O; logs Tencent's request id and code, never keys, tokens or signatures.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, DATE};
use serde::de::{DeserializeOwned, IgnoredAny};
use tracing::field::Empty;

use super::VpcClient;
use super::actions::{self, RouteTable, Vpc};
use super::error::{Action, ApiError, ApiErrorKind};
use super::request::{HttpMethod, SignedRequest, Signing, sign_request};
use vpc_wire::domain::{Credentials, Route};
use vpc_wire::v2::codes;
use vpc_wire::v2::models::{RouteTableItem, RouteTablePage, VpcPage, parse_data, parse_head};

/// Upper bound on pages read by one listing (50 × 200 = 10,000 tables).
const MAX_PAGES: usize = 200;

/// A successful answer: Tencent's request id and the typed data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply<T> {
    /// Tencent's `requestId`, when sent.
    pub request_id: Option<String>,
    /// The action's data.
    pub data: T,
}

impl VpcClient {
    /// Adds a batch of routes to one table (atomic on the API side). Not idempotent: after a
    /// transport error read the table before sending again.
    #[tracing::instrument(skip_all, fields(action = "CreateRoute", region = %region, vpc_id = %vpc_id,
        route_table_id = %route_table_id, routes = routes.len(), request_id = Empty))]
    pub async fn create_routes(
        &self,
        creds: &Credentials,
        region: &str,
        vpc_id: &str,
        route_table_id: &str,
        routes: &[Route],
    ) -> Result<(), ApiError> {
        let params = actions::route_batch_params(vpc_id, route_table_id, routes);
        self.call::<IgnoredAny>(creds, region, Action::CreateRoute, params).await.map(drop)
    }

    /// Removes a batch of routes, each matching an existing route exactly. A route that is
    /// already gone fails with class `NotFound`.
    #[tracing::instrument(skip_all, fields(action = "DeleteRoute", region = %region, vpc_id = %vpc_id,
        route_table_id = %route_table_id, routes = routes.len(), request_id = Empty))]
    pub async fn delete_routes(
        &self,
        creds: &Credentials,
        region: &str,
        vpc_id: &str,
        route_table_id: &str,
        routes: &[Route],
    ) -> Result<(), ApiError> {
        let params = actions::route_batch_params(vpc_id, route_table_id, routes);
        self.call::<IgnoredAny>(creds, region, Action::DeleteRoute, params).await.map(drop)
    }

    /// Reads one route table (every page), `Local` dropped and destinations normalised.
    /// A table missing from the answer fails with class `NotFound`.
    #[tracing::instrument(skip_all, fields(action = "DescribeRouteTable", region = %region,
        vpc_id = vpc_id.unwrap_or(""), route_table_id = %route_table_id, request_id = Empty))]
    pub async fn describe_route_table(
        &self,
        creds: &Credentials,
        region: &str,
        vpc_id: Option<&str>,
        route_table_id: &str,
    ) -> Result<RouteTable, ApiError> {
        let items = self.list_route_tables(creds, region, vpc_id, Some(route_table_id)).await?;
        match items.into_iter().find(|t| t.route_table_id == route_table_id) {
            Some(item) => Ok(actions::route_table_from_item(item)),
            None => Err(ApiError::absent(Action::DescribeRouteTable, format!("route table {route_table_id}"), None)),
        }
    }

    /// Reads every route table matching the filters (every page).
    #[tracing::instrument(skip_all, fields(action = "DescribeRouteTable", region = %region,
        vpc_id = vpc_id.unwrap_or(""), route_table_id = route_table_id.unwrap_or(""), request_id = Empty))]
    pub async fn describe_route_tables(
        &self,
        creds: &Credentials,
        region: &str,
        vpc_id: Option<&str>,
        route_table_id: Option<&str>,
    ) -> Result<Vec<RouteTable>, ApiError> {
        let items = self.list_route_tables(creds, region, vpc_id, route_table_id).await?;
        Ok(items.into_iter().map(actions::route_table_from_item).collect())
    }

    /// Reads one VPC. A VPC missing from the answer fails with class `NotFound`.
    #[tracing::instrument(skip_all, fields(action = "DescribeVpcEx", region = %region, vpc_id = %vpc_id,
        request_id = Empty))]
    pub async fn describe_vpc(&self, creds: &Credentials, region: &str, vpc_id: &str) -> Result<Vpc, ApiError> {
        let reply = self.call::<VpcPage>(creds, region, Action::DescribeVpcEx, actions::vpc_params(vpc_id, 0)).await?;
        match reply.data.data.into_iter().find(|v| v.vpc_id == vpc_id) {
            Some(item) => Ok(actions::vpc_from_item(item)),
            None => Err(ApiError::absent(Action::DescribeVpcEx, format!("vpc {vpc_id}"), reply.request_id)),
        }
    }

    async fn list_route_tables(
        &self,
        creds: &Credentials,
        region: &str,
        vpc_id: Option<&str>,
        route_table_id: Option<&str>,
    ) -> Result<Vec<RouteTableItem>, ApiError> {
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let offset = i64::try_from(items.len()).unwrap_or(i64::MAX);
            let params = actions::route_table_params(vpc_id, route_table_id, offset);
            let page = self.call::<RouteTablePage>(creds, region, Action::DescribeRouteTable, params).await?.data;
            let page_len = page.data.len();
            items.extend(page.data);
            if !actions::wants_next_page(items.len(), page_len, page.total_count) {
                return Ok(items);
            }
        }
        tracing::warn!(tables = items.len(), "stopped listing route tables after {MAX_PAGES} pages");
        Ok(items)
    }

    /// Sends one signed request for `action` with already-flattened action parameters and
    /// parses the answer. The building block of the typed calls, public for callers (and tests)
    /// that need a parameter the typed calls never send.
    pub async fn call<T: DeserializeOwned>(
        &self,
        creds: &Credentials,
        region: &str,
        action: Action,
        params: Vec<(String, String)>,
    ) -> Result<Reply<T>, ApiError> {
        let signed = self.sign(creds, region, action.name(), params);
        let result = self.exchange(action, signed).await;
        match &result {
            Ok(reply) => tracing::debug!(
                action = action.name(),
                request_id = reply.request_id.as_deref(),
                code = 0,
                "api call succeeded"
            ),
            Err(err) => log_failure(err),
        }
        result
    }

    async fn exchange<T: DeserializeOwned>(&self, action: Action, signed: SignedRequest) -> Result<Reply<T>, ApiError> {
        let timestamp = signed.timestamp;
        let response = self.send(signed).await.map_err(|e| ApiError::from_reqwest(action, e))?;
        let status = response.status();
        let server_date = response.headers().get(DATE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        if status != StatusCode::OK {
            return Err(ApiError::transport(action, ApiErrorKind::HttpStatus(status.as_u16())));
        }
        let body = response.bytes().await.map_err(|e| ApiError::from_reqwest(action, e))?;
        let head = parse_head(&body).map_err(|e| ApiError::transport(action, ApiErrorKind::Decode(e)))?;
        tracing::Span::current().record("request_id", head.request_id.as_deref().unwrap_or(""));
        if head.code != codes::OK {
            let (desc, message) = (head.code_desc.as_deref().unwrap_or(""), head.message.as_deref().unwrap_or(""));
            let err = ApiError::api(action, head.code, desc, message, head.request_id);
            if err.is_replay() {
                log_clock_skew(&err, timestamp, server_date.as_deref());
            }
            return Err(err);
        }
        match parse_data::<T>(&body) {
            Ok(data) => Ok(Reply { request_id: head.request_id, data }),
            Err(e) => {
                let mut err = ApiError::transport(action, ApiErrorKind::Decode(e));
                err.request_id = head.request_id;
                Err(err)
            }
        }
    }

    pub(super) fn sign(
        &self,
        creds: &Credentials,
        region: &str,
        action: &str,
        params: Vec<(String, String)>,
    ) -> SignedRequest {
        let cfg = &self.inner.config;
        let signing = Signing {
            credentials: creds,
            http_method: cfg.http_method,
            signature_method: cfg.signature_method,
            region,
            timestamp: (self.inner.clock)(),
            nonce: (self.inner.nonce)(),
        };
        sign_request(&self.inner.endpoint, &signing, action, params)
    }

    async fn send(&self, signed: SignedRequest) -> Result<reqwest::Response, reqwest::Error> {
        let http = &self.inner.http;
        let request = match signed.method {
            HttpMethod::Get => http.get(signed.url),
            HttpMethod::Post => http
                .post(signed.url)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(signed.body.unwrap_or_default()),
        };
        request.send().await
    }
}

/// Logs a failed call with Tencent's request id and code; never the request itself.
fn log_failure(err: &ApiError) {
    tracing::warn!(
        action = err.action.name(),
        request_id = err.request_id.as_deref(),
        code = err.code(),
        code_desc = err.code_desc().unwrap_or(""),
        class = err.class.as_str(),
        error = %err.kind,
        "api call failed"
    );
}

/// On a replay rejection, logs how far our clock is from the server's `Date`, when it sent one.
fn log_clock_skew(err: &ApiError, timestamp: i64, server_date: Option<&str>) {
    let server_time = server_date.and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok()).map(|d| d.timestamp());
    tracing::warn!(
        action = err.action.name(),
        request_id = err.request_id.as_deref(),
        local_timestamp = timestamp,
        server_date,
        clock_skew_seconds = server_time.map(|t| t - timestamp),
        "api rejected the request as a replay (stale Timestamp or reused Nonce); check this host's clock"
    );
}
