//! Checks a scenario against vpc-sim's ledger of successful writes (`/_sim/ledger`) and its final
//! routes: duplicates, orphans, missing routes, wrong hops and deleted routes still there. The
//! walk over the ledger and the comparison are pure; [`LedgerWalk::catch_up`] and [`verify`]
//! read the emulator over HTTPS.
//!
//! A table holds one route per destination, so the emulator itself refuses a second create while
//! the first route is there; a duplicate is therefore a create that should not have happened: a
//! create through the API of a (table, destination) created before, where the route was removed
//! in between by the API with the same hop it is now created with (a route deleted and made again
//! as it was), or not removed at all. A console edit of that route since the earlier create
//! explains a re-create (drift correction), and so does a removal with another hop (on API 2.0 a
//! hop change is a delete, then a create), or with the same hop after the spec asked for another
//! one (2.0, a hop change reverted before its create: [`LedgerWalk::hop_change_asked`]).
//! Scenarios never reuse a destination for a new resource.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use ipnet::Ipv4Net;
use vpc_sim::ledger::{Change, Entry, Hop as WireHop, Source};

use super::sim::Sim;

/// A route's place: (route table, destination in network form).
pub type Key = (String, String);
/// A next hop: (2.0 next-type code, hub).
pub type Hop = (u32, String);

/// The tables and destinations a scenario owns; routes elsewhere are not its business.
#[derive(Clone, Debug)]
pub struct Scope {
    /// The route tables.
    pub tables: BTreeSet<String>,
    /// The destinations (a route is in scope when its destination lies inside this).
    pub range: Ipv4Net,
}

impl Scope {
    /// Whether a route in `table` for `destination` belongs to the scenario.
    pub fn contains(&self, table: &str, destination: &str) -> bool {
        self.tables.contains(table) && destination.parse::<Ipv4Net>().is_ok_and(|d| self.range.contains(&d))
    }
}

/// What the scenario wants at the end (or now).
#[derive(Clone, Debug, Default)]
pub struct Desired {
    /// Routes that a live resource owns, with the hop it wants.
    pub live: BTreeMap<Key, Hop>,
    /// Routes of resources that were deleted.
    pub deleted: BTreeSet<Key>,
}

/// What the ledger says about one (table, destination) so far.
#[derive(Debug, Default)]
struct History {
    /// Every in-scope entry about it, one line each.
    lines: Vec<String>,
    created: bool,
    console_since_create: bool,
    last_removal: Option<(Source, Hop)>,
    /// When it was last created (ledger time, Unix ms).
    created_ms: u64,
}

/// The ledger read so far, and the duplicates found in it.
#[derive(Debug, Default)]
pub struct LedgerWalk {
    keys: BTreeMap<Key, History>,
    last_seq: u64,
    /// In-scope entries read.
    pub writes: usize,
    /// One line per duplicate create: seq, time, key, hop, request id.
    pub duplicates: Vec<String>,
    /// When (Unix ms) a scenario asked for another next hop, per route, where the API makes a
    /// hop change a delete and a create (2.0): see [`LedgerWalk::hop_change_asked`].
    hop_changes: BTreeMap<Key, Vec<u64>>,
    /// Re-creates of a removed hop that a hop change asked after the last create explains.
    pub reverted_hop_changes: usize,
}

/// One entry as a line of evidence.
fn evidence(entry: &Entry) -> String {
    let hop = &entry.hop;
    let was =
        entry.previous.as_ref().map(|p| format!(" (was {} {}:{})", p.destination_cidr_block, p.next_type, p.next_hub));
    format!(
        "seq {} at {} ms: {:?} by {} ({:?}) {} {}:{}{} route {} request {}",
        entry.seq,
        entry.unix_ms,
        entry.change,
        entry.action,
        entry.source,
        hop.destination_cidr_block,
        hop.next_type,
        hop.next_hub,
        was.unwrap_or_default(),
        entry.route_item_id,
        entry.request_id
    )
}

fn hop_of(hop: &WireHop) -> Hop {
    (hop.next_type, hop.next_hub.clone())
}

impl LedgerWalk {
    /// Reads `entries` (in order, after those already read); returns how many new duplicates
    /// they hold.
    pub fn feed(&mut self, entries: &[Entry], scope: &Scope) -> usize {
        let before = self.duplicates.len();
        let read = self.last_seq;
        for entry in entries.iter().filter(|e| e.seq > read) {
            self.last_seq = entry.seq;
            let moved =
                entry.previous.as_ref().filter(|p| p.destination_cidr_block != entry.hop.destination_cidr_block);
            let left = match entry.change {
                Change::Deleted => Some(&entry.hop),
                Change::Replaced => moved,
                _ => None,
            };
            let in_scope = |hop: &&WireHop| scope.contains(&entry.route_table_id, &hop.destination_cidr_block);
            let mut touched = false;
            if let Some(hop) = left.filter(in_scope) {
                touched = true;
                let history = self.history_mut(&entry.route_table_id, hop);
                history.lines.push(evidence(entry));
                history.last_removal = Some((entry.source, hop_of(hop)));
                history.console_since_create |= entry.source == Source::Console;
            }
            if entry.change != Change::Deleted && in_scope(&&entry.hop) {
                touched = true;
                self.arrive_or_change(entry, entry.change == Change::Created || moved.is_some());
            }
            self.writes += usize::from(touched);
        }
        self.duplicates.len() - before
    }

    /// Records that the spec of `key` asked for another next hop at `unix_ms`, on an API where a
    /// hop change is a delete, then a create (2.0). A spec that goes from A to B and back to A
    /// while the delete of A has landed but the create of B has not leaves the destination empty
    /// with A wanted again: creating A once more is then right, not a duplicate. So a re-create
    /// with the removed hop is explained when a hop change was asked after the last create.
    pub fn hop_change_asked(&mut self, key: Key, unix_ms: u64) {
        self.hop_changes.entry(key).or_default().push(unix_ms);
    }

    fn history_mut(&mut self, table: &str, hop: &WireHop) -> &mut History {
        self.keys.entry((table.to_string(), hop.destination_cidr_block.clone())).or_default()
    }

    /// A route arrived at its destination (`arrived`), or changed there.
    fn arrive_or_change(&mut self, entry: &Entry, arrived: bool) {
        let console = entry.source == Source::Console;
        let key = (entry.route_table_id.clone(), entry.hop.destination_cidr_block.clone());
        let asked = self.hop_changes.get(&key).map_or(&[][..], |t| t.as_slice());
        let history = self.keys.entry(key).or_default();
        history.lines.push(evidence(entry));
        if !arrived {
            history.console_since_create |= console;
            return;
        }
        let hop = hop_of(&entry.hop);
        let unexplained = match &history.last_removal {
            None => true,
            Some((source, removed)) => {
                let same = *source == Source::Api && *removed == hop;
                let reverted = same && asked.iter().any(|t| *t >= history.created_ms);
                self.reverted_hop_changes += usize::from(reverted);
                same && !reverted
            }
        };
        let duplicate = !console && history.created && !history.console_since_create && unexplained;
        (history.created, history.console_since_create, history.last_removal) = (true, console, None);
        history.created_ms = entry.unix_ms;
        if duplicate {
            let (table, destination) = (&entry.route_table_id, &entry.hop.destination_cidr_block);
            let line = format!(
                "duplicate: seq {} at {} ms: {table} {destination} created again by {} with hop {}:{} (request {}); ledger: {}",
                entry.seq,
                entry.unix_ms,
                entry.action,
                hop.0,
                hop.1,
                entry.request_id,
                history.lines.join("; ")
            );
            self.duplicates.push(line);
        }
    }

    /// The ledger's entries about `key` so far, one line each.
    pub fn history(&self, key: &Key) -> &[String] {
        self.keys.get(key).map_or(&[], |h| &h.lines)
    }

    /// Reads the entries the emulator recorded since the last call.
    pub async fn catch_up(&mut self, sim: &Sim, scope: &Scope) -> usize {
        let entries = sim.ledger(self.last_seq).await;
        self.feed(&entries, scope)
    }
}

/// What a check found. `Display` is one line; [`Findings::details`] names what is wrong.
#[derive(Debug, Default)]
pub struct Findings {
    /// Duplicate creates (see the module doc).
    pub duplicates: Vec<String>,
    /// Routes in scope that no live resource wants.
    pub orphans: Vec<Key>,
    /// Live resources' routes that are absent.
    pub missing: Vec<Key>,
    /// Live resources' routes present with another hop.
    pub wrong_hop: Vec<Key>,
    /// Deleted resources' routes still present.
    pub not_gone: Vec<Key>,
    /// How many resources are live and deleted.
    pub live: usize,
    /// How many were deleted.
    pub deleted: usize,
    /// In-scope ledger entries.
    pub writes: usize,
    /// The ledger's history of the first few keys found wrong.
    pub evidence: Vec<String>,
}

impl Findings {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.duplicates.is_empty() && self.mismatches().is_empty()
    }

    /// Every difference between the emulator and the desired set, as (what, key).
    pub fn mismatches(&self) -> Vec<(&'static str, &Key)> {
        let kinds = [("orphan", &self.orphans), ("missing", &self.missing), ("wrong hop", &self.wrong_hop)];
        let all = kinds.into_iter().chain([("deleted, not gone", &self.not_gone)]);
        all.flat_map(|(what, keys)| keys.iter().map(move |k| (what, k))).collect()
    }

    /// Up to 20 lines naming what is wrong, then the ledger's history of the first few.
    pub fn details(&self) -> String {
        let mismatches = self.mismatches().into_iter().map(|(what, (t, d))| format!("{what}: {t} {d}"));
        let lines: Vec<String> = self.duplicates.iter().cloned().chain(mismatches).take(20).collect();
        [lines, self.evidence.clone()].concat().join("\n")
    }
}

impl fmt::Display for Findings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gone = self.deleted - self.not_gone.len();
        write!(
            f,
            "{} duplicates, {} orphans, {} missing, {} wrong hop, {gone}/{} deleted routes gone ({} ledger writes)",
            self.duplicates.len(),
            self.orphans.len(),
            self.missing.len(),
            self.wrong_hop.len(),
            self.deleted,
            self.writes
        )
    }
}

/// Compares the routes in scope (`routes`: table → (destination, nextType, hub)) with `desired`;
/// `walk` gives the duplicates.
pub fn compare(
    walk: &LedgerWalk,
    routes: &BTreeMap<String, Vec<(String, u32, String)>>,
    desired: &Desired,
    scope: &Scope,
) -> Findings {
    let present: BTreeMap<Key, Hop> = routes
        .iter()
        .flat_map(|(t, rs)| rs.iter().map(move |(d, n, h)| ((t.clone(), d.clone()), (*n, h.clone()))))
        .filter(|((t, d), _)| scope.contains(t, d))
        .collect();
    let mut findings = Findings {
        duplicates: walk.duplicates.clone(),
        live: desired.live.len(),
        deleted: desired.deleted.len(),
        writes: walk.writes,
        ..Findings::default()
    };
    for (key, hop) in &desired.live {
        match present.get(key) {
            None => findings.missing.push(key.clone()),
            Some(actual) if actual != hop => findings.wrong_hop.push(key.clone()),
            Some(_) => {}
        }
    }
    for key in present.keys().filter(|k| !desired.live.contains_key(*k)) {
        let list = if desired.deleted.contains(key) { &mut findings.not_gone } else { &mut findings.orphans };
        list.push(key.clone());
    }
    let flagged: Vec<Key> = findings.mismatches().into_iter().map(|(_, k)| k.clone()).take(5).collect();
    for key in flagged {
        findings.evidence.push(format!("ledger of {} {}:", key.0, key.1));
        findings.evidence.extend(walk.history(&key).iter().map(|l| format!("  {l}")));
    }
    findings
}

/// The routes of every table in scope, as the emulator has them now.
pub async fn routes_in(sim: &Sim, scope: &Scope) -> BTreeMap<String, Vec<(String, u32, String)>> {
    let mut routes = BTreeMap::new();
    for table in &scope.tables {
        routes.insert(table.clone(), sim.routes(table).await);
    }
    routes
}

/// Reads the whole ledger and the final routes, and compares them with `desired`.
pub async fn verify(sim: &Sim, desired: &Desired, scope: &Scope) -> Findings {
    let mut walk = LedgerWalk::default();
    walk.catch_up(sim, scope).await;
    compare(&walk, &routes_in(sim, scope).await, desired, scope)
}
