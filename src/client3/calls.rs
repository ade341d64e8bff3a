//! The API 3.0 calls: one signed HTTPS request per `call`, paging, and the typed actions built
//! on it. Does network I/O; logs Tencent's request id and code, never keys, tokens or signatures.

use reqwest::StatusCode;
use reqwest::header::DATE;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::field::Empty;

use super::error::ApiError3;
use super::request::{Common, Params, Signed3Request, flatten_query, sign_request};
use super::{HttpMethod, VpcClient3};
use vpc_wire::domain::{self, Credentials};
use vpc_wire::v3::Action;
use vpc_wire::v3::codes;
use vpc_wire::v3::models::{
    CreateRoutesRequest, CreateRoutesResponse, DeleteRoutesRequest, DeleteRoutesResponse, DescribeRouteTablesRequest,
    DescribeRouteTablesResponse, DescribeVpcLimitsRequest, DescribeVpcLimitsResponse, DescribeVpcsRequest,
    DescribeVpcsResponse, EmptyResponse, EnableRoutesRequest, ReplaceRoutesRequest, ReplaceRoutesResponse, Route,
    RouteRef, RouteTable, Vpc, VpcLimit, parse_response,
};

/// Page size of every listing (the API's maximum), sent as the string `"100"`.
pub const PAGE_LIMIT: usize = 100;
/// Upper bound on pages read by one listing (100 × 100 = 10,000 items).
pub const MAX_PAGES: usize = 100;

/// A successful answer: Tencent's request id and the typed data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply3<T> {
    /// Tencent's `RequestId`.
    pub request_id: String,
    /// The action's data.
    pub data: T,
}

/// The reference to a route by id: its `RouteItemId` when known, else its `RouteId`; `None`
/// when it has neither (empty strings and 0 count as absent).
pub fn route_ref(route_item_id: Option<&str>, route_id: Option<u64>) -> Option<RouteRef> {
    match (route_item_id.filter(|s| !s.is_empty()), route_id.filter(|id| *id != 0)) {
        (Some(item), _) => Some(RouteRef { route_id: None, route_item_id: Some(item.to_owned()) }),
        (None, Some(id)) => Some(RouteRef { route_id: Some(id), route_item_id: None }),
        (None, None) => None,
    }
}

/// Whether a listing should ask for another page: the last page was not empty and fewer items
/// than `TotalCount` have been read.
pub fn wants_next_page(have: usize, page_len: usize, total_count: u64) -> bool {
    page_len > 0 && u64::try_from(have).unwrap_or(u64::MAX) < total_count
}

/// A paged `Describe*` request and its answer.
trait Paged: Serialize + Send + Sync {
    type Page: DeserializeOwned + Send;
    type Item: Send;
    const ACTION: Action;
    fn set_page(&mut self, offset: usize);
    fn split(page: Self::Page) -> (Vec<Self::Item>, u64);
}

impl Paged for DescribeRouteTablesRequest {
    type Page = DescribeRouteTablesResponse;
    type Item = RouteTable;
    const ACTION: Action = Action::DescribeRouteTables;
    fn set_page(&mut self, offset: usize) {
        (self.offset, self.limit) = (Some(offset.to_string()), Some(PAGE_LIMIT.to_string()));
    }
    fn split(page: Self::Page) -> (Vec<RouteTable>, u64) {
        (page.route_table_set, page.total_count)
    }
}

impl Paged for DescribeVpcsRequest {
    type Page = DescribeVpcsResponse;
    type Item = Vpc;
    const ACTION: Action = Action::DescribeVpcs;
    fn set_page(&mut self, offset: usize) {
        (self.offset, self.limit) = (Some(offset.to_string()), Some(PAGE_LIMIT.to_string()));
    }
    fn split(page: Self::Page) -> (Vec<Vpc>, u64) {
        (page.vpc_set, page.total_count)
    }
}

fn enable_request(route_table_id: &str, refs: &[RouteRef]) -> EnableRoutesRequest {
    let items: Vec<String> = refs.iter().filter_map(|r| r.route_item_id.clone()).collect();
    let ids: Vec<u64> = refs.iter().filter(|r| r.route_item_id.is_none()).filter_map(|r| r.route_id).collect();
    EnableRoutesRequest {
        route_table_id: route_table_id.to_owned(),
        route_ids: Some(ids).filter(|v| !v.is_empty()),
        route_item_ids: Some(items).filter(|v| !v.is_empty()),
    }
}

impl VpcClient3 {
    /// Adds routes to one table in one atomic `CreateRoutes`, with their description and `Enabled`. Not
    /// idempotent: after a transport error read the table before sending again.
    #[tracing::instrument(skip_all, fields(action = "CreateRoutes", region = %region,
        route_table_id = %route_table_id, routes = routes.len(), request_id = Empty))]
    pub async fn create_routes(
        &self,
        creds: &Credentials,
        region: &str,
        route_table_id: &str,
        routes: &[(domain::Route, domain::RouteAttrs)],
    ) -> Result<Reply3<CreateRoutesResponse>, ApiError3> {
        let routes =
            routes.iter().map(|(r, a)| Route { enabled: a.enabled, ..Route::from_domain(r, &a.description) }).collect();
        let req = CreateRoutesRequest { route_table_id: route_table_id.to_owned(), routes };
        self.call(creds, region, Action::CreateRoutes, &req).await
    }

    /// Removes routes by id (see [`route_ref`]). An unknown id fails with class `NotFound`.
    #[tracing::instrument(skip_all, fields(action = "DeleteRoutes", region = %region,
        route_table_id = %route_table_id, routes = refs.len(), request_id = Empty))]
    pub async fn delete_routes(
        &self,
        creds: &Credentials,
        region: &str,
        route_table_id: &str,
        refs: &[RouteRef],
    ) -> Result<Reply3<DeleteRoutesResponse>, ApiError3> {
        let req = DeleteRoutesRequest { route_table_id: route_table_id.to_owned(), routes: refs.to_vec() };
        self.call(creds, region, Action::DeleteRoutes, &req).await
    }

    /// Changes routes in place (their ids are kept): each named by id, with its new destination,
    /// hop and description.
    #[tracing::instrument(skip_all, fields(action = "ReplaceRoutes", region = %region,
        route_table_id = %route_table_id, routes = routes.len(), request_id = Empty))]
    pub async fn replace_routes(
        &self,
        creds: &Credentials,
        region: &str,
        route_table_id: &str,
        routes: &[(RouteRef, domain::Route, String)],
    ) -> Result<Reply3<ReplaceRoutesResponse>, ApiError3> {
        let routes = routes
            .iter()
            .map(|(id, r, description)| Route {
                route_id: id.route_id.unwrap_or(0),
                route_item_id: id.route_item_id.clone().unwrap_or_default(),
                ..Route::from_domain(r, description)
            })
            .collect();
        let req = ReplaceRoutesRequest { route_table_id: route_table_id.to_owned(), routes };
        self.call(creds, region, Action::ReplaceRoutes, &req).await
    }

    /// Enables routes (by `RouteItemIds`, or `RouteIds` for those without one).
    #[tracing::instrument(skip_all, fields(action = "EnableRoutes", region = %region,
        route_table_id = %route_table_id, routes = refs.len(), request_id = Empty))]
    pub async fn enable_routes(
        &self,
        creds: &Credentials,
        region: &str,
        route_table_id: &str,
        refs: &[RouteRef],
    ) -> Result<Reply3<EmptyResponse>, ApiError3> {
        self.call(creds, region, Action::EnableRoutes, &enable_request(route_table_id, refs)).await
    }

    /// Disables routes (by `RouteItemIds`, or `RouteIds` for those without one).
    #[tracing::instrument(skip_all, fields(action = "DisableRoutes", region = %region,
        route_table_id = %route_table_id, routes = refs.len(), request_id = Empty))]
    pub async fn disable_routes(
        &self,
        creds: &Credentials,
        region: &str,
        route_table_id: &str,
        refs: &[RouteRef],
    ) -> Result<Reply3<EmptyResponse>, ApiError3> {
        self.call(creds, region, Action::DisableRoutes, &enable_request(route_table_id, refs)).await
    }

    /// Reads route tables by id, every page (`Offset`/`Limit "100"` until `TotalCount`).
    #[tracing::instrument(skip_all, fields(action = "DescribeRouteTables", region = %region,
        route_table_ids = ?route_table_ids, request_id = Empty))]
    pub async fn describe_route_tables(
        &self,
        creds: &Credentials,
        region: &str,
        route_table_ids: &[String],
    ) -> Result<Vec<RouteTable>, ApiError3> {
        let req = DescribeRouteTablesRequest { route_table_ids: Some(route_table_ids.to_vec()), ..Default::default() };
        self.list(creds, region, req).await
    }

    /// Reads VPCs by id (every VPC of the region when `vpc_ids` is empty), every page.
    #[tracing::instrument(skip_all, fields(action = "DescribeVpcs", region = %region, vpc_ids = ?vpc_ids,
        request_id = Empty))]
    pub async fn describe_vpcs(
        &self,
        creds: &Credentials,
        region: &str,
        vpc_ids: &[String],
    ) -> Result<Vec<Vpc>, ApiError3> {
        let vpc_ids = Some(vpc_ids.to_vec()).filter(|v| !v.is_empty());
        self.list(creds, region, DescribeVpcsRequest { vpc_ids, ..Default::default() }).await
    }

    /// Reads quotas, e.g. `route-table-max-policies`.
    #[tracing::instrument(skip_all, fields(action = "DescribeVpcLimits", region = %region, request_id = Empty))]
    pub async fn describe_vpc_limits(
        &self,
        creds: &Credentials,
        region: &str,
        limit_types: &[String],
    ) -> Result<Vec<VpcLimit>, ApiError3> {
        let req = DescribeVpcLimitsRequest { limit_types: limit_types.to_vec() };
        let reply: Reply3<DescribeVpcLimitsResponse> =
            self.call(creds, region, Action::DescribeVpcLimits, &req).await?;
        Ok(reply.data.vpc_limit_set)
    }

    async fn list<P: Paged>(&self, creds: &Credentials, region: &str, mut req: P) -> Result<Vec<P::Item>, ApiError3> {
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            req.set_page(items.len());
            let page: Reply3<P::Page> = self.call(creds, region, P::ACTION, &req).await?;
            let (page, total) = P::split(page.data);
            let page_len = page.len();
            items.extend(page);
            if !wants_next_page(items.len(), page_len, total) {
                return Ok(items);
            }
        }
        tracing::warn!(action = P::ACTION.name(), items = items.len(), "stopped listing after {MAX_PAGES} pages");
        Ok(items)
    }

    /// Sends one TC3-signed request for `action` and parses the envelope: the data and
    /// `RequestId`, or a typed error (non-200, connection, timeout and undecodable bodies are
    /// `Transport`). The building block of the typed calls.
    pub async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        creds: &Credentials,
        region: &str,
        action: Action,
        request: &Req,
    ) -> Result<Reply3<Resp>, ApiError3> {
        let result = match self.sign(creds, region, action, request) {
            Ok(signed) => self.exchange(action, signed).await,
            Err(e) => Err(e),
        };
        match &result {
            Ok(reply) => tracing::debug!(action = action.name(), request_id = %reply.request_id, "api call succeeded"),
            Err(err) => tracing::warn!(
                action = action.name(),
                request_id = err.request_id.as_deref(),
                code = err.code.as_deref(),
                class = err.class.as_str(),
                error = %err.message,
                "api call failed"
            ),
        }
        result
    }

    pub(super) fn sign<Req: Serialize>(
        &self,
        creds: &Credentials,
        region: &str,
        action: Action,
        request: &Req,
    ) -> Result<Signed3Request, ApiError3> {
        let params = match self.inner.config.http_method {
            HttpMethod::Post => {
                Params::Json(serde_json::to_vec(request).map_err(|e| ApiError3::local(action, e.to_string()))?)
            }
            HttpMethod::Get => Params::Query(flatten_query(request).map_err(|e| ApiError3::local(action, e))?),
        };
        Ok(self.sign_params(creds, region, action.name(), params))
    }

    pub(super) fn sign_params(
        &self,
        creds: &Credentials,
        region: &str,
        action: &str,
        params: Params,
    ) -> Signed3Request {
        let common = Common {
            credentials: creds,
            action,
            region,
            timestamp: (self.inner.clock)(),
            language: self.inner.config.language.as_deref(),
            service: self.inner.service,
        };
        sign_request(&self.inner.endpoint, &common, params)
    }

    async fn exchange<Resp: DeserializeOwned>(
        &self,
        action: Action,
        signed: Signed3Request,
    ) -> Result<Reply3<Resp>, ApiError3> {
        let timestamp = signed.timestamp;
        let response = self.send(signed).await.map_err(|e| ApiError3::from_reqwest(action, e))?;
        let status = response.status();
        let server_date = response.headers().get(DATE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        if status != StatusCode::OK {
            return Err(ApiError3::transport(action, format!("endpoint answered http status {}", status.as_u16())));
        }
        let body = response.bytes().await.map_err(|e| ApiError3::from_reqwest(action, e))?;
        match parse_response::<Resp>(&body) {
            Ok(Ok((data, request_id))) => {
                tracing::Span::current().record("request_id", request_id.as_str());
                Ok(Reply3 { request_id, data })
            }
            Ok(Err(body)) => {
                tracing::Span::current().record("request_id", body.request_id.as_str());
                let err = ApiError3::api(action, body);
                if err.has_code(codes::AUTH_SIGNATURE_EXPIRE) {
                    log_clock_skew(&err, timestamp, server_date.as_deref());
                }
                Err(err)
            }
            Err(reason) => Err(ApiError3::transport(action, format!("response body did not parse: {reason}"))),
        }
    }

    async fn send(&self, signed: Signed3Request) -> Result<reqwest::Response, reqwest::Error> {
        self.request_builder(signed).send().await
    }

    pub(super) fn request_builder(&self, signed: Signed3Request) -> reqwest::RequestBuilder {
        let http = &self.inner.http;
        let mut request = match signed.method {
            HttpMethod::Get => http.get(signed.url),
            HttpMethod::Post => http.post(signed.url).body(signed.body),
        };
        // Host and Content-Type are sent exactly as signed (Host is set explicitly so a non-443
        // port or an IPv6 literal can never differ from what reqwest would derive).
        for (name, value) in signed.headers {
            request = request.header(name, value);
        }
        request
    }
}

/// On `AuthFailure.SignatureExpire`, logs how far our clock is from the server's `Date`.
fn log_clock_skew(err: &ApiError3, timestamp: i64, server_date: Option<&str>) {
    let server_time = server_date.and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok()).map(|d| d.timestamp());
    tracing::warn!(
        action = err.action.name(),
        request_id = err.request_id.as_deref(),
        local_timestamp = timestamp,
        server_date,
        clock_skew_seconds = server_time.map(|t| t - timestamp),
        "api rejected the request timestamp (more than 300 s away); check this host's clock"
    );
}

#[cfg(test)]
#[path = "calls_tests.rs"]
mod tests;
