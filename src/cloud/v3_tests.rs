//! Unit tests of `v3.rs`.

use super::*;
use vpc_wire::domain::NextType;
use vpc_wire::v3::models::{ApiErrorBody, ROUTE_TYPE_NETD, ROUTE_TYPE_USER};

fn api(action: Action, code: &str) -> ApiError3 {
    let body = ApiErrorBody { code: code.into(), message: "msg".into(), request_id: "req-1".into() };
    ApiError3::api(action, body)
}

#[test]
fn every_code_of_the_contract_maps_to_its_class_and_reason() {
    use ErrorClass::{NotFound, Permanent, Retryable};
    let table: [(&str, ErrorClass, Reason); 30] = [
        (codes::AUTH_SIGNATURE_FAILURE, Permanent, Reason::AuthFailure),
        (codes::AUTH_SECRET_ID_NOT_FOUND, Permanent, Reason::AuthFailure),
        (codes::AUTH_SIGNATURE_EXPIRE, Permanent, Reason::AuthFailure),
        (codes::AUTH_TOKEN_FAILURE, Permanent, Reason::AuthFailure),
        (codes::AUTH_INVALID_AUTHORIZATION, Permanent, Reason::AuthFailure),
        (codes::AUTH_UNAUTHORIZED_OPERATION, Permanent, Reason::AuthFailure),
        (codes::INVALID_ACTION, Permanent, Reason::CloudRejected),
        (codes::NO_SUCH_VERSION, Permanent, Reason::CloudRejected),
        (codes::MISSING_PARAMETER, Permanent, Reason::CloudRejected),
        (codes::INVALID_PARAMETER, Permanent, Reason::InvalidRouteNextType),
        (codes::INVALID_PARAMETER_VALUE, Permanent, Reason::InvalidRouteNextType),
        (codes::INVALID_PARAMETER_VALUE_MALFORMED, Permanent, Reason::InvalidDestinationCidr),
        (codes::INVALID_PARAMETER_VALUE_VPC_CIDR_CONFLICT, Permanent, Reason::InvalidDestinationCidr),
        (codes::INVALID_PARAMETER_VALUE_ROUTE_NEXT_HOP_INVALID, Permanent, Reason::InvalidRouteNextHub),
        (codes::INVALID_PARAMETER_VALUE_DUPLICATE, Permanent, Reason::RouteAlreadyExists),
        (codes::UNKNOWN_PARAMETER, Permanent, Reason::CloudRejected),
        (codes::UNSUPPORTED_REGION, Permanent, Reason::CloudRejected),
        (codes::REQUEST_LIMIT_EXCEEDED, Retryable, Reason::Throttled),
        (codes::REQUEST_LIMIT_EXCEEDED_UIN, Retryable, Reason::Throttled),
        (codes::REQUEST_LIMIT_EXCEEDED_IP, Retryable, Reason::Throttled),
        (codes::INTERNAL_ERROR, Retryable, Reason::CloudUnavailable),
        (codes::RESOURCE_UNAVAILABLE, Retryable, Reason::CloudUnavailable),
        (codes::RESOURCE_IN_USE, Retryable, Reason::CloudUnavailable),
        (codes::FAILED_OPERATION, Retryable, Reason::CloudUnavailable),
        (codes::SERVICE_UNAVAILABLE, Retryable, Reason::CloudUnavailable),
        (codes::RESOURCE_NOT_FOUND, NotFound, Reason::InvalidRouteTableId),
        (codes::LIMIT_EXCEEDED, Permanent, Reason::RouteLimitExceeded),
        (codes::UNSUPPORTED_OPERATION_ECMP_WITH_USER_ROUTE, Permanent, Reason::RouteAlreadyExists),
        (codes::UNSUPPORTED_OPERATION_RECORD_NOT_EXISTS, NotFound, Reason::CloudRejected),
        (codes::UNSUPPORTED_OPERATION_SYSTEM_ROUTE, Permanent, Reason::CloudRejected),
    ];
    assert_eq!(table.map(|(c, _, _)| c), codes::ALL, "the table covers every code, in order");
    for (code, class, reason) in table {
        let e = classify(&api(Action::CreateRoutes, code));
        assert_eq!((e.class, e.reason), (class, reason), "{code}");
        assert_eq!((e.action, e.code.as_deref(), e.request_id.as_deref()), ("CreateRoutes", Some(code), Some("req-1")));
    }
}

#[test]
fn sub_codes_follow_their_family_and_vpc_reads_name_the_vpc() {
    let cases = [
        ("InternalError.DbError", ErrorClass::Retryable, Reason::CloudUnavailable),
        ("FailedOperation.RouteBusy", ErrorClass::Retryable, Reason::CloudUnavailable),
        ("LimitExceeded.RouteTable", ErrorClass::Permanent, Reason::RouteLimitExceeded),
        ("ResourceNotFound.RouteTable", ErrorClass::NotFound, Reason::InvalidRouteTableId),
        ("InvalidParameterValue.Range", ErrorClass::Permanent, Reason::CloudRejected),
        ("SomethingNew", ErrorClass::Permanent, Reason::CloudRejected),
    ];
    for (code, class, reason) in cases {
        let e = classify(&api(Action::DeleteRoutes, code));
        assert_eq!((e.class, e.reason), (class, reason), "{code}");
    }
    assert_eq!(classify(&api(Action::DescribeVpcs, codes::RESOURCE_NOT_FOUND)).reason, Reason::InvalidVpc);
}

#[test]
fn transport_and_missing_answers_have_no_code() {
    let t = classify(&ApiError3::transport(Action::CreateRoutes, "request timed out"));
    assert_eq!((t.class, t.reason, t.code), (ErrorClass::Transport, Reason::CloudUnavailable, None));
    let a = classify(&ApiError3::absent(Action::DescribeRouteTables, "route table rtb-1", None));
    assert_eq!((a.class, a.reason), (ErrorClass::NotFound, Reason::InvalidRouteTableId));
    let l = classify(&ApiError3::local(Action::CreateRoutes, "bad"));
    assert_eq!((l.class, l.reason), (ErrorClass::Permanent, Reason::CloudRejected));
}

fn wire_route(cidr: &str, gateway_type: &str, hop: &str, route_type: &str, id: u64) -> wire::Route {
    wire::Route {
        destination_cidr_block: cidr.into(),
        gateway_type: gateway_type.into(),
        gateway_id: hop.into(),
        route_id: id,
        route_item_id: if id == 0 { String::new() } else { format!("rti-{id}") },
        route_type: route_type.into(),
        ..wire::Route::default()
    }
}

#[test]
fn the_view_keeps_user_routes_with_known_types_normalised_and_their_ids() {
    let table = wire::RouteTable {
        route_table_id: "rtb-1".into(),
        route_set: vec![
            wire_route("10.0.0.0/16", "LOCAL", "Local", ROUTE_TYPE_NETD, 1),
            wire_route("10.8.1.7/24", "VPN", "vpngw-1", ROUTE_TYPE_USER, 2),
            wire_route("10.9.0.0/24", "CCN", "ccn-1", ROUTE_TYPE_USER, 3),
            wire_route("not-a-cidr", "NAT", "nat-1", ROUTE_TYPE_USER, 4),
            wire_route("10.8.1.0/24", "NAT", "nat-1", ROUTE_TYPE_USER, 5),
            wire_route("10.7.0.0/24", "NAT", "nat-1", ROUTE_TYPE_USER, 0),
        ],
        ..wire::RouteTable::default()
    };
    let view = view_of(&table);
    let vpn = Route::new("10.8.1.0/24", NextType::VpnGateway, "vpngw-1").unwrap();
    let nat = Route::new("10.7.0.0/24", NextType::NatGateway, "nat-1").unwrap();
    assert_eq!(view.routes, [vpn.clone(), nat.clone()]);
    assert_eq!(view.ids_of(&vpn.destination), RouteIds { route_item_id: Some("rti-2".into()), route_id: Some(2) });
    assert!(view.ids_of(&nat.destination).is_empty());
}

#[test]
fn created_ids_are_mapped_back_to_the_input_order_by_destination() {
    let a = Route::new("10.1.0.0/24", NextType::VpnGateway, "vpngw-1").unwrap();
    let b = Route::new("10.2.0.0/24", NextType::NatGateway, "nat-1").unwrap();
    let c = Route::new("10.3.0.0/24", NextType::NatGateway, "nat-1").unwrap();
    let rb = wire_route("10.2.0.0/24", "NAT", "nat-1", ROUTE_TYPE_USER, 20);
    let ra = wire_route("10.1.0.0/24", "VPN", "vpngw-1", ROUTE_TYPE_USER, 10);
    let ids = ids_in_order(&[a, b, c], &[&rb, &ra]);
    assert_eq!(ids.iter().map(|i| i.route_id).collect::<Vec<_>>(), [Some(10), Some(20), None]);
}

#[test]
fn the_action_names_are_the_api_3_ones() {
    let client = VpcClient3::new(crate::client3::Client3Config::default()).unwrap();
    let names = [Operation::Describe, Operation::Create, Operation::Delete, Operation::Replace]
        .map(|op| client.action_name(op));
    assert_eq!(names, ["DescribeRouteTables", "CreateRoutes", "DeleteRoutes", "ReplaceRoutes"]);
}
