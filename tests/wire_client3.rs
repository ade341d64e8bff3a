//! The API 3.0 client and its `RouteApi` backend against the real vpc-sim emulator's 3.0
//! endpoint (path `/` of the same listener) over loopback HTTPS: the route lifecycle by id, the
//! business errors as reasons, authentication, GET, temporary credentials, VPCs and quotas.
//! Spawns vpc-sim; network I/O on loopback only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::sim::{self, Sim};
use vpc_wire::domain::{Credentials, NextType, Route, Secret};
use vpcroute_operator::client3::{Client3Config, ErrorClass as ClientClass, HttpMethod, VpcClient3};
use vpcroute_operator::cloud::{ErrorClass, RouteApi, RouteAttrs, RouteIds, TableRef};
use vpcroute_operator::reasons::Reason;

fn client_with(sim: &Sim, change: impl FnOnce(&mut Client3Config)) -> VpcClient3 {
    let mut cfg = Client3Config {
        endpoint: format!("{}/", sim.base),
        ca_file: Some(sim.ca_file.clone()),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(10),
        ..Client3Config::default()
    };
    change(&mut cfg);
    VpcClient3::new(cfg).unwrap()
}

fn client(sim: &Sim) -> VpcClient3 {
    client_with(sim, |_| {})
}

fn table() -> TableRef {
    TableRef { region: sim::TEST_REGION.into(), vpc_id: sim::TEST_VPC.into(), route_table_id: sim::TEST_TABLE.into() }
}

fn vpn_route(destination: &str) -> Route {
    Route::new(destination, NextType::VpnGateway, sim::TEST_VPN).unwrap()
}

fn preexisting() -> Route {
    let (destination, _, hub) = sim::PREEXISTING_ROUTE;
    Route::new(destination, NextType::NatGateway, hub).unwrap()
}

async fn create_reason(sim: &Sim, table: &TableRef, routes: &[Route]) -> (ErrorClass, Reason) {
    let planned: Vec<(Route, RouteAttrs)> = routes.iter().map(|r| (r.clone(), RouteAttrs::default())).collect();
    let err = RouteApi::create_routes(&client(sim), &sim::credentials(), table, &planned).await.unwrap_err();
    assert_eq!(err.action, "CreateRoutes");
    assert!(err.code.is_some() && err.request_id.is_some(), "{err}");
    (err.class, err.reason)
}

#[tokio::test]
async fn a_route_is_created_described_with_ids_replaced_in_place_and_deleted() {
    let sim = Sim::start(sim::WORLD);
    let (c, creds, t) = (client(&sim), sim::credentials(), table());
    let (a, b) = (vpn_route("172.30.1.0/24"), vpn_route("172.30.2.9/24"));
    let ids = RouteApi::create_routes(
        &c,
        &creds,
        &t,
        &[(a.clone(), RouteAttrs::default()), (b.clone(), RouteAttrs::default())],
    )
    .await
    .unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids.iter().all(|i| i.route_item_id.is_some() && i.route_id.is_some()), "{ids:?}");
    assert_ne!(ids[0], ids[1]);

    let view = c.describe_table(&creds, &t).await.unwrap();
    assert_eq!(view.at(&a.destination), Some(&a));
    assert_eq!(view.at(&b.destination), Some(&b), "the destination is normalised");
    assert_eq!(view.ids_of(&a.destination), ids[0]);
    assert_eq!(view.at(&preexisting().destination), Some(&preexisting()), "routes made through 2.0 are seen");
    assert_eq!(view.routes.len(), 3, "the system route is left out");

    let to_nat = Route::new("172.30.1.0/24", NextType::NatGateway, sim::TEST_NAT).unwrap();
    let kept = c.replace_route(&creds, &t, &a, &ids[0], &(to_nat.clone(), RouteAttrs::default())).await.unwrap();
    assert_eq!(kept, ids[0], "ReplaceRoutes keeps the ids");
    let view = c.describe_table(&creds, &t).await.unwrap();
    assert_eq!((view.at(&a.destination), view.ids_of(&a.destination)), (Some(&to_nat), ids[0].clone()));

    c.delete_route(&creds, &t, &to_nat, &ids[0]).await.unwrap();
    let again = c.delete_route(&creds, &t, &to_nat, &ids[0]).await.unwrap_err();
    assert!(again.is_not_found(), "a second delete finds it gone: {again}");
    let view = c.describe_table(&creds, &t).await.unwrap();
    assert_eq!(view.at(&a.destination), None);
}

#[tokio::test]
async fn a_route_recorded_without_ids_is_found_in_the_table_to_delete_or_replace_it() {
    let sim = Sim::start(sim::WORLD);
    let (c, creds, t) = (client(&sim), sim::credentials(), table());
    let old = preexisting();
    let to_vpn = Route { next_type: NextType::VpnGateway, next_hub: sim::TEST_VPN.into(), ..old.clone() };
    let ids = c
        .replace_route(&creds, &t, &old, &RouteIds::default(), &(to_vpn.clone(), RouteAttrs::default()))
        .await
        .unwrap();
    assert!(!ids.is_empty());
    let stale = c.delete_route(&creds, &t, &old, &RouteIds::default()).await.unwrap_err();
    assert!(stale.is_not_found(), "the old hop is no longer in the table: {stale}");
    c.delete_route(&creds, &t, &to_vpn, &RouteIds::default()).await.unwrap();
    assert!(sim.routes(sim::TEST_TABLE).await.is_empty());
}

#[tokio::test]
async fn business_errors_map_to_their_reasons() {
    let sim = Sim::start(sim::WORLD);
    let unknown = TableRef { route_table_id: "rtb-nosuch01".into(), ..table() };
    let cases = [
        (unknown.clone(), vec![vpn_route("172.30.0.0/24")], ErrorClass::NotFound, Reason::InvalidRouteTableId),
        (table(), vec![vpn_route("10.0.5.0/24")], ErrorClass::Permanent, Reason::InvalidDestinationCidr),
        (table(), vec![preexisting()], ErrorClass::Permanent, Reason::RouteAlreadyExists),
        (
            table(),
            vec![Route { next_hub: "vpngw-nosuch01".into(), ..vpn_route("172.30.0.0/24") }],
            ErrorClass::Permanent,
            Reason::InvalidRouteNextHub,
        ),
    ];
    for (t, routes, class, reason) in cases {
        assert_eq!(create_reason(&sim, &t, &routes).await, (class, reason), "{routes:?}");
    }
    let err = client(&sim).describe_table(&sim::credentials(), &unknown).await.unwrap_err();
    assert_eq!((err.class, err.reason), (ErrorClass::NotFound, Reason::InvalidRouteTableId));
    assert_eq!(sim.routes(sim::TEST_TABLE).await.len(), 1, "nothing was created");
}

#[tokio::test]
async fn a_batch_beyond_the_quota_is_route_limit_exceeded_and_the_quota_is_readable() {
    let sim = Sim::start(&sim::WORLD.replace("routeQuota: 50", "routeQuota: 3"));
    let batch = [vpn_route("172.30.1.0/24"), vpn_route("172.30.2.0/24"), vpn_route("172.30.3.0/24")];
    assert_eq!(create_reason(&sim, &table(), &batch).await, (ErrorClass::Permanent, Reason::RouteLimitExceeded));
    let kinds = ["route-table-max-policies".to_owned()];
    let limits = client(&sim).describe_vpc_limits(&sim::credentials(), sim::TEST_REGION, &kinds).await.unwrap();
    assert_eq!(limits.iter().map(|l| (l.limit_type.as_str(), l.limit_value)).collect::<Vec<_>>(), [(&*kinds[0], 3)]);
}

#[tokio::test]
async fn a_wrong_key_is_an_auth_failure_and_no_secret_is_shown() {
    let sim = Sim::start(sim::WORLD);
    let wrong = Credentials { secret_key: Secret::new("wrongKeyValue0000"), ..sim::credentials() };
    let err = client(&sim).describe_table(&wrong, &table()).await.unwrap_err();
    assert_eq!((err.class, err.reason), (ErrorClass::Permanent, Reason::AuthFailure), "{err}");
    assert_eq!(err.code.as_deref(), Some("AuthFailure.SignatureFailure"));
    assert!(!err.describe().contains("wrongKeyValue0000"));
}

#[tokio::test]
async fn get_requests_and_temporary_credentials_work() {
    let sim = Sim::start(sim::WORLD);
    let get = client_with(&sim, |cfg| cfg.http_method = HttpMethod::Get);
    let view = get.describe_table(&sim::credentials(), &table()).await.unwrap();
    assert_eq!(view.routes, [preexisting()]);
    let vpcs = get.describe_vpcs(&sim::credentials(), sim::TEST_REGION, &[sim::TEST_VPC.into()]).await.unwrap();
    assert_eq!(vpcs.iter().map(|v| v.cidr_block.as_str()).collect::<Vec<_>>(), ["10.0.0.0/16"]);

    let sts = |token: Option<&str>| Credentials {
        secret_id: sim::STS_SECRET_ID.into(),
        secret_key: Secret::new(sim::STS_SECRET_KEY),
        token: token.map(Secret::new),
    };
    let ok = client(&sim).describe_vpcs(&sts(Some(sim::STS_TOKEN)), sim::TEST_REGION, &[]).await;
    assert!(ok.is_ok(), "{ok:?}");
    let err = client(&sim).describe_vpcs(&sts(None), sim::TEST_REGION, &[]).await.unwrap_err();
    assert_eq!((err.class, err.code.as_deref()), (ClientClass::Permanent, Some("AuthFailure.TokenFailure")));
}
