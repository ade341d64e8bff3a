//! Tests of [`super`]: the published rates, the `NAME=RATE` parser, the bucket arithmetic on a
//! synthetic clock, and the decorator over the in-memory double on tokio time.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, timeout};
use vpc_wire::domain::{Credentials, NextType, Route, RouteAttrs};

use super::*;
use crate::cloud::ErrorClass;
use crate::cloud::memory::{self, MemoryApi, sample_credentials, sample_table};

fn limits(specs: &[&str]) -> RateLimits {
    RateLimits::new(specs.iter().map(|s| s.parse::<RateLimit>().unwrap()), 1.0).unwrap()
}

fn limited(api: ApiVersion, specs: &[&str]) -> RateLimited<MemoryApi> {
    RateLimited::new(MemoryApi::with_table(&sample_table()), api, limits(specs)).unwrap()
}

fn key(action: &'static str) -> RateKey {
    RateKey::new(&sample_credentials(), &sample_table(), action)
}

fn route() -> Route {
    Route::new("10.1.0.0/16", NextType::VpnGateway, "vpngw-1").unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn published_rates_follow_the_contract_and_2_0_is_20_per_second() {
    for (action, rate) in [
        ("CreateRoutes", 100.0),
        ("DescribeRouteTables", 100.0),
        ("DeleteRoutes", 50.0),
        ("ReplaceRoutes", 20.0),
        ("EnableRoutes/DisableRoutes", 20.0),
        ("SomethingNew", 20.0),
    ] {
        assert_eq!(published_rate(ApiVersion::V3, action), rate, "{action}");
    }
    for action in ["CreateRoute", "DeleteRoute", "DescribeRouteTable", "CreateRoutes"] {
        assert_eq!(published_rate(ApiVersion::V2, action), 20.0, "{action}");
    }
}

#[test]
fn explicit_rates_win_and_the_scale_applies_to_the_published_ones() {
    let specs = ["CreateRoutes=50", "EnableRoutes=5", "CreateRoutes=60"].map(|s| s.parse::<RateLimit>().unwrap());
    let l = RateLimits::new(specs, 0.5).unwrap();
    assert_eq!(l.rate_for(ApiVersion::V3, "CreateRoutes"), 60.0, "the later setting wins, unscaled");
    assert_eq!(l.rate_for(ApiVersion::V3, "DeleteRoutes"), 25.0);
    assert_eq!(l.rate_for(ApiVersion::V3, "EnableRoutes/DisableRoutes"), 5.0, "a part of a combined name");
    assert_eq!(l.rate_for(ApiVersion::V2, "DeleteRoute"), 10.0);
    assert_eq!(RateLimits::default().rate_for(ApiVersion::V3, "DescribeRouteTables"), 100.0);
    for scale in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = RateLimits::new([], scale).unwrap_err();
        assert!(err.contains("must be a positive number"), "{err}");
    }
}

#[test]
fn the_parser_accepts_good_specs_and_rejects_bad_ones_clearly() {
    let ok = |s: &str| s.parse::<RateLimit>().unwrap();
    assert_eq!(ok("CreateRoutes=50"), RateLimit { action: "CreateRoutes".into(), rate: 50.0 });
    assert_eq!(ok(" DescribeRouteTables = 80 "), RateLimit { action: "DescribeRouteTables".into(), rate: 80.0 });
    assert_eq!(ok("EnableRoutes/DisableRoutes=0.5").rate, 0.5);
    for (spec, says) in [
        ("", "empty rate limit; expected NAME=RATE"),
        ("CreateRoutes", "`CreateRoutes` has no `=`; expected NAME=RATE, e.g. CreateRoutes=50"),
        ("=50", "names no action"),
        ("Create Routes=5", "`Create Routes` is not an action name"),
        ("CreateRoutes=fast", "`fast` is not a number of calls per second"),
        ("CreateRoutes=", "`` is not a number"),
        ("CreateRoutes=0", "the rate must be a positive number"),
        ("CreateRoutes=-3", "the rate must be a positive number"),
        ("CreateRoutes=inf", "the rate must be a positive number"),
    ] {
        let err = spec.parse::<RateLimit>().unwrap_err();
        assert!(err.contains(says), "{spec:?}: {err}");
    }
}

#[test]
fn clap_takes_repeated_and_comma_separated_flags() {
    #[derive(clap::Parser)]
    struct Flags {
        #[arg(long = "rate-limit", value_delimiter = ',')]
        rate_limit: Vec<RateLimit>,
    }
    let args = ["op", "--rate-limit", "CreateRoutes=50", "--rate-limit", "DescribeRouteTables=80,DeleteRoutes=9"];
    let flags = <Flags as clap::Parser>::try_parse_from(args).unwrap();
    let names: Vec<(&str, f64)> = flags.rate_limit.iter().map(|l| (l.action.as_str(), l.rate)).collect();
    assert_eq!(names, [("CreateRoutes", 50.0), ("DescribeRouteTables", 80.0), ("DeleteRoutes", 9.0)]);
    let err = <Flags as clap::Parser>::try_parse_from(["op", "--rate-limit", "CreateRoutes"]).err().unwrap();
    assert!(err.to_string().contains("has no `=`"), "{err}");
}

#[test]
fn a_bucket_paces_calls_1_over_rate_apart_with_a_burst_of_one() {
    let t0 = Instant::now();
    let mut b = Bucket::new(10.0, t0);
    let waits: Vec<f64> = (0..30).map(|_| b.reserve(t0).0.as_secs_f64()).collect();
    assert_eq!(waits[0], 0.0, "{waits:?}");
    for (i, w) in waits.iter().enumerate() {
        assert!(close(*w, i as f64 / 10.0), "call {}: {w}", i + 1);
    }
    // No sliding one-second window holds more than the rate: call k goes at k/10 s.
    let in_first_second = waits.iter().filter(|w| **w < 1.0).count();
    assert_eq!(in_first_second, 10);
    // After the debt is paid and a quiet second, one call at once again, then pacing.
    let later = t0 + Duration::from_secs(4);
    assert!(b.reserve(later).0.is_zero());
    assert!(close(b.reserve(later).0.as_secs_f64(), 0.1));
}

#[test]
fn a_throttle_halves_the_rate_once_per_cut_and_it_recovers_linearly() {
    let t0 = Instant::now();
    let mut b = Bucket::new(10.0, t0);
    let (_, early) = b.reserve(t0);
    let (_, also_early) = b.reserve(t0);
    assert!(b.throttled(early, t0));
    assert!(close(b.rate, 5.0));
    assert!(!b.throttled(also_early, t0), "a call reserved before the cut does not cut again");
    assert!(close(b.rate, 5.0));
    assert!(close(b.reserve(t0).0.as_secs_f64(), 0.4), "behind the two earlier calls, at the halved rate");
    b.advance(t0 + Duration::from_secs(1));
    assert!(close(b.rate, 6.0), "+10% of the default per second: {}", b.rate);
    b.advance(t0 + Duration::from_secs(10));
    assert!(close(b.rate, 10.0), "never above the default: {}", b.rate);
    let mut now = t0 + Duration::from_secs(10);
    for _ in 0..10 {
        let (_, ticket) = b.reserve(now);
        b.throttled(ticket, now);
        now += Duration::from_millis(1);
    }
    assert!(b.rate >= MIN_RATE && b.rate < 1.01, "floor of 1/s: {}", b.rate);
    let mut slow = Bucket::new(0.5, t0);
    let (_, ticket) = slow.reserve(t0);
    slow.throttled(ticket, t0);
    assert!(close(slow.rate, 0.5), "a default under the floor is its own floor");
}

#[tokio::test(start_paused = true)]
async fn concurrent_calls_share_the_bucket_and_go_out_at_the_limit() {
    // 75 calls at 50/s with a burst of one: one per 20 ms, so the last goes out at 1.48 s (on
    // tokio's paused clock, so a busy machine cannot stretch it).
    let api = Arc::new(limited(ApiVersion::V3, &["Describe=50"]));
    let start = Instant::now();
    let calls = (0..75).map(|_| {
        let api = api.clone();
        tokio::spawn(async move { api.describe_table(&sample_credentials(), &sample_table()).await.map(|_| ()) })
    });
    for call in futures::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    assert!((1.47..1.5).contains(&elapsed), "{elapsed}");
    assert_eq!(api.inner().calls(Operation::Describe), 75);
    assert!(close(api.limiter().current_rate(&key("Describe")).unwrap(), 50.0));
}

#[tokio::test]
async fn a_throttled_answer_is_passed_on_and_slows_its_key_which_recovers() {
    let api = limited(ApiVersion::V3, &["Describe=10"]);
    let throttled = memory::error(Operation::Describe, ErrorClass::Retryable, Reason::Throttled);
    api.inner().fail_next(Operation::Describe, throttled.clone());
    let err = api.describe_table(&sample_credentials(), &sample_table()).await.unwrap_err();
    assert_eq!(err, throttled);
    let limiter = api.limiter();
    let rate = limiter.current_rate(&key("Describe")).unwrap();
    assert!((5.0..5.1).contains(&rate), "{rate}");
    // A non-throttling failure changes nothing.
    api.inner().fail_next(
        Operation::Create,
        memory::error(Operation::Create, ErrorClass::Retryable, Reason::CloudUnavailable),
    );
    let _ = api.create_routes(&sample_credentials(), &sample_table(), &[(route(), RouteAttrs::default())]).await;
    let rates = limiter.rates();
    assert_eq!(rates.iter().map(|(k, _)| k.action).collect::<Vec<_>>(), ["Create", "Describe"]);
    assert!(close(rates[0].1, 20.0) && rates[1].1 < 5.1, "{rates:?}");
    let now = Instant::now();
    let in_2s = limiter.rate_at(&key("Describe"), now + Duration::from_secs(2)).unwrap();
    assert!((rate + 2.0..rate + 2.01).contains(&in_2s), "+10% of the default per second: {in_2s}");
    assert!(close(limiter.rate_at(&key("Describe"), now + Duration::from_secs(60)).unwrap(), 10.0));
}

#[tokio::test]
async fn keys_differing_in_account_region_or_action_do_not_share_a_bucket() {
    let api = limited(ApiVersion::V3, &["Describe=1", "Delete=1"]);
    let (creds, table) = (sample_credentials(), sample_table());
    let other_account = Credentials { secret_id: "AKID2".into(), ..sample_credentials() };
    let other_region = TableRef { region: "ap-shanghai".into(), ..sample_table() };
    let quick = Duration::from_millis(300);
    timeout(quick, api.describe_table(&creds, &table)).await.unwrap().unwrap();
    let throttled = memory::error(Operation::Describe, ErrorClass::Retryable, Reason::Throttled);
    api.inner().fail_next(Operation::Describe, throttled);
    assert!(timeout(quick, api.describe_table(&other_account, &table)).await.unwrap().is_err());
    let _ = timeout(quick, api.describe_table(&creds, &other_region)).await.unwrap();
    let _ = timeout(quick, api.delete_route(&creds, &table, &route(), &RouteIds::default())).await.unwrap();
    assert!(timeout(quick, api.describe_table(&creds, &table)).await.is_err(), "the first key is empty");
    let limiter = api.limiter();
    let rate =
        |creds: &Credentials, table: &TableRef, action| limiter.current_rate(&RateKey::new(creds, table, action));
    assert_eq!(rate(&other_account, &table, "Describe"), Some(1.0), "throttled at the floor");
    assert_eq!(rate(&creds, &table, "Describe"), Some(1.0));
    assert_eq!(rate(&creds, &other_region, "Describe"), Some(1.0));
    assert_eq!(limiter.rates().len(), 4);
}

#[tokio::test]
async fn a_2_0_replace_takes_a_create_token_too_and_unsupported_changes_take_none() {
    let api = limited(ApiVersion::V2, &["Replace=1", "Create=1", "SetDescription=1", "SetEnabled=1"]);
    let (creds, table, ids) = (sample_credentials(), sample_table(), RouteIds::default());
    let quick = Duration::from_millis(200);
    let new = (route(), RouteAttrs::default());
    let _ = timeout(quick, api.replace_route(&creds, &table, &route(), &ids, &new)).await.unwrap();
    for _ in 0..3 {
        assert!(timeout(quick, api.set_description(&creds, &table, &route(), &ids, "x")).await.unwrap().is_err());
        assert!(timeout(quick, api.set_enabled(&creds, &table, &route(), &ids, false)).await.unwrap().is_err());
    }
    assert!(timeout(quick, api.create_routes(&creds, &table, std::slice::from_ref(&new))).await.is_err());
    assert_eq!(api.limiter().rates().iter().map(|(k, _)| k.action).collect::<Vec<_>>(), ["Create", "Replace"]);
}

#[test]
fn a_rate_for_a_call_the_backend_never_makes_is_refused() {
    let err = RateLimited::new(MemoryApi::default(), ApiVersion::V3, limits(&["CreateRoutes=5"])).err().unwrap();
    assert!(err.starts_with("rate limit for CreateRoutes: API 3.0 makes no such call (its calls: "), "{err}");
    assert!(err.contains("Create, Delete, Describe"), "{err}");
}
