//! The ledger checker can fail: hand-made ledgers with and without duplicates, and a real
//! emulator where a duplicate create, an orphan, a missing route, a wrong hop and a deleted route
//! still present are planted through the API and the console. No cluster; loopback HTTPS only.

use std::collections::BTreeMap;

use vpc_sim::ledger::{Change, Entry, Hop as WireHop, Source};
use vpc_wire::domain::{NextType, Route};
use vpcroute_operator::client::{ClientConfig, VpcClient};

use super::{Fleet, destination, hop};
use crate::support::ledger::{Desired, LedgerWalk, verify};
use crate::support::sim::{self, Sim, TEST_NAT, TEST_VPC, TEST_VPN};

fn entry(seq: u64, source: Source, change: Change, destination: &str, hub: &str) -> Entry {
    let next_type = if hub == TEST_VPN { 1 } else { 8 };
    let hop = WireHop { destination_cidr_block: destination.into(), next_type, next_hub: hub.into() };
    Entry {
        seq,
        unix_ms: seq,
        action: "test".into(),
        source,
        change,
        secret_id: sim::TEST_SECRET_ID.into(),
        region: sim::TEST_REGION.into(),
        route_table_id: "rtb-rel00".into(),
        hop,
        previous: None,
        route_id: seq,
        route_item_id: format!("rti-{seq}"),
        request_id: String::new(),
    }
}

fn duplicates(entries: &[Entry]) -> usize {
    let mut walk = LedgerWalk::default();
    walk.feed(entries, &Fleet::new(4, 1).scope())
}

#[test]
fn a_route_deleted_and_made_again_as_it_was_by_the_api_is_a_duplicate() {
    let d = destination(0);
    let (api, console) = (Source::Api, Source::Console);
    let again = [entry(1, api, Change::Created, &d, TEST_VPN), entry(2, api, Change::Deleted, &d, TEST_VPN)];
    let again = [&again[..], &[entry(3, api, Change::Created, &d, TEST_VPN)]].concat();
    assert_eq!(duplicates(&again), 1);
    let hop_change = [&again[..2], &[entry(3, api, Change::Created, &d, TEST_NAT)]].concat();
    assert_eq!(duplicates(&hop_change), 0, "a 2.0 hop change is a delete, then a create with the new hop");
    let mut drift = again.clone();
    drift[1].source = console;
    assert_eq!(duplicates(&drift), 0, "re-creating a route deleted in the console corrects drift");
    let mut elsewhere = again;
    elsewhere.iter_mut().for_each(|e| e.route_table_id = "rtb-other".into());
    assert_eq!(duplicates(&elsewhere), 0, "routes outside the scope are not the scenario's");
}

#[test]
fn re_creating_the_removed_hop_is_explained_only_by_a_hop_change_asked_after_the_last_create() {
    let (d, api) = (destination(0), Source::Api);
    let key = Fleet::new(4, 1).key(0);
    let ledger = [
        entry(10, api, Change::Created, &d, TEST_VPN),
        entry(20, api, Change::Deleted, &d, TEST_VPN),
        entry(30, api, Change::Created, &d, TEST_VPN),
    ];
    let walk_with = |asked: &[u64]| {
        let mut walk = LedgerWalk::default();
        asked.iter().for_each(|t| walk.hop_change_asked(key.clone(), *t));
        walk.feed(&ledger, &Fleet::new(4, 1).scope())
    };
    assert_eq!(walk_with(&[15]), 0, "2.0: VPN → NAT asked, the delete landed, then back to VPN before the create");
    assert_eq!(walk_with(&[5]), 1, "a hop change asked before the last create explains nothing after it");
    assert_eq!(walk_with(&[]), 1);
}

fn client(sim: &Sim) -> VpcClient {
    let config =
        ClientConfig { endpoint: sim.endpoint.clone(), ca_file: Some(sim.ca_file.clone()), ..Default::default() };
    VpcClient::new(config).unwrap()
}

async fn console(sim: &Sim, op: &str, table: &str, destination: &str, next_type: u32, hub: &str) {
    sim.edit(serde_json::json!({"op": op, "secretId": sim::TEST_SECRET_ID, "region": sim::TEST_REGION,
        "routeTableId": table, "destinationCidrBlock": destination, "nextType": next_type, "nextHub": hub}))
        .await;
}

#[tokio::test]
async fn the_checker_finds_each_planted_fault_in_a_real_emulator() {
    let fleet = Fleet::new(7, 1);
    let sim = Sim::start(&fleet.world());
    let (vpn, table) = (|d: &str| Route::new(d, NextType::VpnGateway, TEST_VPN).unwrap(), fleet.table(0));
    let (client, creds) = (client(&sim), sim::credentials());
    let write = async |create: bool, i: usize| {
        let routes = [vpn(&destination(i))];
        let call = if create {
            client.create_routes(&creds, sim::TEST_REGION, TEST_VPC, table, &routes).await
        } else {
            client.delete_routes(&creds, sim::TEST_REGION, TEST_VPC, table, &routes).await
        };
        call.unwrap();
    };
    for i in 0..5 {
        write(true, i).await;
    }
    // 0: fine. 1: made, deleted and made again by the API (duplicate). 2: deleted in the console
    // and made again (drift corrected, fine). 3: deleted in the console (missing). 4: repointed
    // in the console (wrong hop). 5: a deleted resource's route still there. 6: an orphan.
    write(false, 1).await;
    write(true, 1).await;
    console(&sim, "delete", table, &destination(2), 1, TEST_VPN).await;
    write(true, 2).await;
    console(&sim, "delete", table, &destination(3), 1, TEST_VPN).await;
    console(&sim, "put", table, &destination(4), 8, TEST_NAT).await;
    write(true, 5).await;
    console(&sim, "put", table, &destination(6), 1, TEST_VPN).await;
    let live: BTreeMap<_, _> = (0..5).map(|i| (fleet.key(i), hop(0))).collect();
    let desired = Desired { live, deleted: [fleet.key(5)].into() };
    let findings = verify(&sim, &desired, &fleet.scope()).await;
    println!("checker on planted faults: {findings}\n{}", findings.details());
    assert_eq!(findings.duplicates.len(), 1, "{}", findings.details());
    assert!(findings.duplicates[0].contains(&destination(1)), "{}", findings.duplicates[0]);
    let keys = |list: &[(String, String)]| list.iter().map(|k| k.1.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&findings.missing), [destination(3)]);
    assert_eq!(keys(&findings.wrong_hop), [destination(4)]);
    assert_eq!(keys(&findings.not_gone), [destination(5)]);
    assert_eq!(keys(&findings.orphans), [destination(6)]);
    assert!(!findings.is_clean());
}
