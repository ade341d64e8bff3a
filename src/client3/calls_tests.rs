//! Tests of the API 3.0 calls that need no server: signing through the client with an injected
//! clock, the request as handed to reqwest, id references and paging decisions. No I/O.

use std::sync::Arc;

use super::*;
use crate::client3::request::Params;
use crate::client3::{Client3Config, HttpMethod, VpcClient3};
use vpc_wire::domain::{Credentials, Secret};
use vpc_wire::v3::sign::header;

const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const POST_BODY: &str = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

fn creds(token: Option<&str>) -> Credentials {
    Credentials { secret_id: ID.into(), secret_key: Secret::new(KEY), token: token.map(Secret::new) }
}

fn client(endpoint: &str, method: HttpMethod, ts: i64) -> VpcClient3 {
    let cfg = Client3Config { endpoint: endpoint.into(), http_method: method, ..Client3Config::default() };
    VpcClient3::new(cfg).unwrap().with_clock(Arc::new(move || ts))
}

#[test]
fn the_official_post_vector_is_reproduced_through_the_client_with_an_injected_clock() {
    let c = client("https://cvm.tencentcloudapi.com/", HttpMethod::Post, 1551113065).with_service("cvm");
    let req = c.sign_params(&creds(None), "ap-guangzhou", "DescribeInstances", Params::Json(POST_BODY.into()));
    assert_eq!(req.signature, "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
    assert_eq!(req.header(header::TIMESTAMP), Some("1551113065"));
}

#[test]
fn the_official_get_vector_is_reproduced_from_a_flattened_request() {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Page {
        limit: u32,
        offset: u32,
    }
    let c = client("https://cvm.tencentcloudapi.com/", HttpMethod::Get, 1539084154).with_service("cvm");
    let req = c.sign(&creds(None), "ap-guangzhou", Action::DescribeVpcs, &Page { limit: 10, offset: 0 }).unwrap();
    assert_eq!(req.url.query(), Some("Limit=10&Offset=0"));
    assert_eq!(req.signature, "5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474");
}

#[test]
fn the_request_handed_to_reqwest_carries_the_signed_host_and_every_tc_header() {
    let c = client("https://127.0.0.1:8443/", HttpMethod::Post, 1_700_000_000);
    let req = DescribeVpcLimitsRequest { limit_types: vec!["route-table-max-policies".into()] };
    let signed = c.sign(&creds(Some("tok")), "ap-guangzhou", Action::DescribeVpcLimits, &req).unwrap();
    let built = c.request_builder(signed).build().unwrap();
    let h = built.headers();
    let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(get("host"), Some("127.0.0.1:8443"));
    assert_eq!(get("content-type"), Some("application/json; charset=utf-8"));
    assert_eq!(get("x-tc-action"), Some("DescribeVpcLimits"));
    assert_eq!(get("x-tc-version"), Some("2017-03-12"));
    assert_eq!(get("x-tc-timestamp"), Some("1700000000"));
    assert_eq!(get("x-tc-region"), Some("ap-guangzhou"));
    assert_eq!(get("x-tc-token"), Some("tok"));
    assert!(get("x-tc-requestclient").unwrap().starts_with("vpcroute-operator/"));
    assert!(get("authorization").unwrap().contains("/2023-11-14/vpc/tc3_request, SignedHeaders=content-type;host"));
    let body = built.body().and_then(|b| b.as_bytes()).unwrap();
    assert_eq!(body, br#"{"LimitTypes":["route-table-max-policies"]}"#);
}

#[test]
fn a_get_client_sends_the_flattened_query_and_the_form_content_type() {
    let c = client("https://vpc.tencentcloudapi.com/", HttpMethod::Get, 1_700_000_000);
    let req = DescribeRouteTablesRequest { route_table_ids: Some(vec!["rtb-1".into()]), ..Default::default() };
    let signed = c.sign(&creds(None), "ap-guangzhou", Action::DescribeRouteTables, &req).unwrap();
    assert_eq!(signed.header(header::TOKEN), None);
    let built = c.request_builder(signed).build().unwrap();
    assert_eq!(built.url().query(), Some("RouteTableIds.0=rtb-1"));
    assert_eq!(built.headers().get("content-type").unwrap(), "application/x-www-form-urlencoded");
    assert!(built.body().is_none());
}

#[test]
fn a_configured_language_is_sent() {
    let cfg = Client3Config { language: Some("en-US".into()), ..Client3Config::default() };
    let c = VpcClient3::new(cfg).unwrap();
    let signed = c.sign(&creds(None), "ap-guangzhou", Action::DescribeVpcs, &DescribeVpcsRequest::default()).unwrap();
    assert_eq!(signed.header(header::LANGUAGE), Some("en-US"));
}

#[test]
fn routes_are_referenced_by_item_id_first_then_by_route_id() {
    let item = route_ref(Some("rti-1"), Some(5)).unwrap();
    assert_eq!((item.route_item_id.as_deref(), item.route_id), (Some("rti-1"), None));
    let id = route_ref(Some(""), Some(5)).unwrap();
    assert_eq!((id.route_item_id, id.route_id), (None, Some(5)));
    assert_eq!(route_ref(None, Some(0)), None);
}

#[test]
fn enable_and_disable_name_routes_by_item_id_or_else_route_id() {
    let refs = [route_ref(Some("rti-1"), Some(1)).unwrap(), route_ref(None, Some(2)).unwrap()];
    let req = enable_request("rtb-1", &refs);
    assert_eq!((req.route_item_ids, req.route_ids), (Some(vec!["rti-1".to_owned()]), Some(vec![2])));
    let only_items = enable_request("rtb-1", &refs[..1]);
    assert_eq!(only_items.route_ids, None);
}

#[test]
fn paging_continues_until_total_count_or_an_empty_page() {
    assert!(wants_next_page(100, 100, 250));
    assert!(!wants_next_page(250, 50, 250));
    assert!(!wants_next_page(100, 0, 250), "an empty page ends the listing even if TotalCount says more");
    assert!(!wants_next_page(3, 3, 1), "more than TotalCount ends the listing");
    let mut req = DescribeRouteTablesRequest::default();
    req.set_page(200);
    assert_eq!((req.offset.as_deref(), req.limit.as_deref()), (Some("200"), Some("100")));
}
