//! The API 2.0 backend of [`RouteApi`]: the 2.0 client's calls, and the one place where 2.0
//! answers are classified into the product's reasons. Does network I/O through the client.

use vpc_wire::domain::{Credentials, Route};
use vpc_wire::v2::codes::{self, desc};

use super::{CloudError, ErrorClass, Operation, RouteApi, RouteAttrs, RouteIds, TableRef, TableView, unsupported};
use crate::client::{ApiError, ApiErrorKind, VpcClient};
use crate::reasons::Reason;

impl RouteApi for VpcClient {
    fn action_name(&self, op: Operation) -> &'static str {
        match op {
            Operation::Describe => "DescribeRouteTable",
            Operation::Create => "CreateRoute",
            Operation::Delete | Operation::Replace => "DeleteRoute",
            Operation::SetDescription | Operation::SetEnabled => "CreateRoute",
        }
    }

    fn supports_attributes(&self) -> bool {
        false
    }

    async fn route_quota(&self, _: &Credentials, _: &str) -> Option<usize> {
        None
    }

    async fn describe_table(&self, creds: &Credentials, table: &TableRef) -> Result<TableView, CloudError> {
        let t = self
            .describe_route_table(creds, &table.region, Some(&table.vpc_id), &table.route_table_id)
            .await
            .map_err(|e| classify(&e))?;
        Ok(TableView { routes: t.routes, ..TableView::default() })
    }

    async fn create_routes(
        &self,
        creds: &Credentials,
        table: &TableRef,
        routes: &[(Route, RouteAttrs)],
    ) -> Result<Vec<RouteIds>, CloudError> {
        let routes: Vec<Route> = routes.iter().map(|(r, _)| r.clone()).collect();
        VpcClient::create_routes(self, creds, &table.region, &table.vpc_id, &table.route_table_id, &routes)
            .await
            .map_err(|e| classify(&e))?;
        Ok(vec![RouteIds::default(); routes.len()])
    }

    async fn delete_route(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        _: &RouteIds,
    ) -> Result<(), CloudError> {
        let routes = std::slice::from_ref(route);
        VpcClient::delete_routes(self, creds, &table.region, &table.vpc_id, &table.route_table_id, routes)
            .await
            .map_err(|e| classify(&e))
    }

    async fn replace_route(
        &self,
        creds: &Credentials,
        table: &TableRef,
        old: &Route,
        ids: &RouteIds,
        new: &(Route, RouteAttrs),
    ) -> Result<RouteIds, CloudError> {
        match self.delete_route(creds, table, old, ids).await {
            Err(e) if !e.is_not_found() => return Err(e),
            _ => {}
        }
        let mut created = RouteApi::create_routes(self, creds, table, std::slice::from_ref(new)).await?;
        Ok(created.pop().unwrap_or_default())
    }

    async fn set_description(
        &self,
        _: &Credentials,
        _: &TableRef,
        _: &Route,
        _: &RouteIds,
        _: &str,
    ) -> Result<(), CloudError> {
        Err(unsupported("CreateRoute", "a route description"))
    }

    async fn set_enabled(
        &self,
        _: &Credentials,
        _: &TableRef,
        _: &Route,
        _: &RouteIds,
        _: bool,
    ) -> Result<(), CloudError> {
        Err(unsupported("CreateRoute", "enabling or disabling a route"))
    }
}

/// Classifies a 2.0 failure once: its class and the condition reason it maps to.
pub fn classify(err: &ApiError) -> CloudError {
    let class = err.class;
    let (code, message) = match &err.kind {
        ApiErrorKind::Api { code, code_desc, message } => (Some(format!("{code} {code_desc}")), message.clone()),
        other => (None, other.to_string()),
    };
    CloudError {
        action: err.action.name(),
        class,
        reason: reason_for(err),
        code,
        message,
        request_id: err.request_id.clone(),
    }
}

fn reason_for(err: &ApiError) -> Reason {
    match &err.kind {
        ApiErrorKind::Api { code, code_desc, .. } => match *code {
            codes::REQUEST_LIMIT_EXCEEDED => Reason::Throttled,
            4100..=4199 | codes::ACCESS_DENIED => Reason::AuthFailure,
            codes::INVALID_PARAMETER => business_reason(code_desc),
            _ if err.is_retryable() => Reason::CloudUnavailable,
            _ => Reason::CloudRejected,
        },
        _ if err.class == ErrorClass::Permanent => Reason::CloudRejected,
        _ => Reason::CloudUnavailable,
    }
}

fn business_reason(code_desc: &str) -> Reason {
    match code_desc {
        desc::ROUTE_ALREADY_EXISTS => Reason::RouteAlreadyExists,
        desc::INVALID_ROUTE_NEXT_HUB => Reason::InvalidRouteNextHub,
        desc::INVALID_ROUTE_NEXT_TYPE => Reason::InvalidRouteNextType,
        desc::INVALID_DESTINATION_CIDR => Reason::InvalidDestinationCidr,
        desc::ROUTE_LIMIT_EXCEEDED => Reason::RouteLimitExceeded,
        desc::INVALID_VPC => Reason::InvalidVpc,
        desc::INVALID_ROUTE_TABLE => Reason::InvalidRouteTableId,
        _ => Reason::CloudRejected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Action;

    fn api(code: i64, desc: &str) -> ApiError {
        ApiError::api(Action::CreateRoute, code, desc, "msg", Some("req-1".into()))
    }

    #[test]
    fn each_business_code_maps_to_its_reason_without_the_not_found_suffix() {
        let cases = [
            (desc::ROUTE_ALREADY_EXISTS, Reason::RouteAlreadyExists),
            (desc::INVALID_ROUTE_NEXT_HUB, Reason::InvalidRouteNextHub),
            (desc::INVALID_ROUTE_NEXT_TYPE, Reason::InvalidRouteNextType),
            (desc::INVALID_DESTINATION_CIDR, Reason::InvalidDestinationCidr),
            (desc::ROUTE_LIMIT_EXCEEDED, Reason::RouteLimitExceeded),
            (desc::INVALID_VPC, Reason::InvalidVpc),
            (desc::INVALID_ROUTE_TABLE, Reason::InvalidRouteTableId),
            ("SomethingNew", Reason::CloudRejected),
        ];
        for (code_desc, reason) in cases {
            let e = classify(&api(4000, code_desc));
            assert_eq!((e.reason, e.class), (reason, ErrorClass::Permanent), "{code_desc}");
            assert_eq!(e.code.as_deref(), Some(format!("4000 {code_desc}").as_str()));
            assert!(e.describe().contains("req-1"), "{}", e.describe());
        }
    }

    #[test]
    fn throttling_auth_server_and_transport_errors_have_their_own_reasons() {
        assert_eq!(classify(&api(4400, "RequestLimitExceeded")).reason, Reason::Throttled);
        for code in [4100, 4101, 4104, 4105, 4300] {
            assert_eq!(classify(&api(code, "AuthFailure")).reason, Reason::AuthFailure, "{code}");
        }
        for code in [5100, 6000, 6200, 4500] {
            let e = classify(&api(code, ""));
            assert_eq!((e.reason, e.class), (Reason::CloudUnavailable, ErrorClass::Retryable), "{code}");
        }
        assert_eq!(classify(&api(4600, "HttpsOnly")).reason, Reason::CloudRejected);
        let nf = classify(&api(5000, desc::INVALID_ROUTE));
        assert!(nf.is_not_found() && !nf.is_retryable());
        let t = classify(&ApiError::transport(Action::CreateRoute, ApiErrorKind::Timeout));
        assert_eq!((t.reason, t.class, t.code), (Reason::CloudUnavailable, ErrorClass::Transport, None));
    }
}
