//! The ledger of successful writes: one entry per route that a successful API write or console
//! edit created, deleted, replaced, enabled or disabled, in the order the changes were applied.
//! Entries come from comparing the cloud's routes (by `RouteId`, unique across the cloud) before
//! and after a change, so a write that failed, or never ran, leaves none, and a write whose
//! answer was lost leaves its entries. A write that changed nothing (replacing a route by itself)
//! leaves none either. With `--state FILE` the ledger is also appended to `FILE.ledger.jsonl`
//! (one JSON object a line) and read back at start: that append and read are its only I/O.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::model::{Cloud, StoredRoute};
use crate::persist::PersistError;

/// Who made a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// A signed API call (2.0 or 3.0).
    Api,
    /// `POST /_sim/edit`: a change "by hand in the console".
    Console,
}

/// What a write did to one route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    /// The route is new.
    Created,
    /// The route is gone.
    Deleted,
    /// Its destination, next hop or description changed (its ids did not).
    Replaced,
    /// It was enabled.
    Enabled,
    /// It was disabled.
    Disabled,
}

/// The write a change belongs to, as the handler knows it.
#[derive(Clone, Copy, Debug)]
pub struct Write<'a> {
    /// The API action (`CreateRoutes`, `DeleteRoute`, …) or `ConsolePut` / `ConsoleDelete`.
    pub action: &'a str,
    /// Who made it.
    pub source: Source,
    /// The request id the answer carries (empty for console edits).
    pub request_id: &'a str,
}

/// A route's destination and next hop, as the wire shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hop {
    /// The destination, in network form.
    pub destination_cidr_block: String,
    /// The 2.0 next-type code.
    pub next_type: u32,
    /// The next hop.
    pub next_hub: String,
}

/// One change to one route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// 1, 2, 3, … in the order the changes were applied.
    pub seq: u64,
    /// When, in milliseconds since the Unix epoch.
    pub unix_ms: u64,
    /// The write's action.
    pub action: String,
    /// Who made it.
    pub source: Source,
    /// What it did to the route.
    pub change: Change,
    /// The account the table belongs to.
    pub secret_id: String,
    /// The region, long form.
    pub region: String,
    /// The table.
    pub route_table_id: String,
    /// The route after the change (before it, for `deleted`).
    #[serde(flatten)]
    pub hop: Hop,
    /// For `replaced`: the route before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Hop>,
    /// `RouteId`.
    pub route_id: u64,
    /// `RouteItemId`.
    pub route_item_id: String,
    /// The answer's request id (empty for console edits).
    #[serde(default)]
    pub request_id: String,
}

/// A route and the table it is in.
#[derive(Clone, Debug)]
pub struct Placed {
    secret_id: String,
    region: String,
    table: String,
    route: StoredRoute,
}

/// Every route of the cloud, by `RouteId`.
pub type Index = BTreeMap<u64, Placed>;

/// Every route of the cloud by `RouteId`.
pub fn index(cloud: &Cloud) -> Index {
    let mut index = Index::new();
    for account in &cloud.accounts {
        for (region, r) in &account.regions {
            for table in r.vpcs.iter().flat_map(|v| &v.tables) {
                for route in &table.routes {
                    let placed = Placed {
                        secret_id: account.secret_id.clone(),
                        region: region.clone(),
                        table: table.id.clone(),
                        route: route.clone(),
                    };
                    index.insert(route.id, placed);
                }
            }
        }
    }
    index
}

fn hop(route: &StoredRoute) -> Hop {
    Hop {
        destination_cidr_block: route.route.destination.to_string(),
        next_type: route.route.next_type.code(),
        next_hub: route.route.next_hub.clone(),
    }
}

/// How a route that is in both indexes changed, if it did.
fn change_of(before: &StoredRoute, after: &StoredRoute) -> Option<(Change, Option<Hop>)> {
    if before.route != after.route || before.description != after.description {
        Some((Change::Replaced, Some(hop(before))))
    } else if before.enabled != after.enabled {
        Some((if after.enabled { Change::Enabled } else { Change::Disabled }, None))
    } else {
        None
    }
}

/// What changed between two indexes, as entries without `seq` and time (both 0): deletions
/// first, then creations and changes, each in `RouteId` order.
pub fn diff(write: Write<'_>, before: &Index, after: &Index) -> Vec<Entry> {
    let removed = before.iter().filter(|(id, _)| !after.contains_key(id)).map(|(_, b)| (b, Change::Deleted, None));
    let changed = after.iter().filter_map(|(id, a)| match before.get(id) {
        None => Some((a, Change::Created, None)),
        Some(b) => change_of(&b.route, &a.route).map(|(change, previous)| (a, change, previous)),
    });
    let entry = |(placed, change, previous): (&Placed, Change, Option<Hop>)| Entry {
        seq: 0,
        unix_ms: 0,
        action: write.action.to_string(),
        source: write.source,
        change,
        secret_id: placed.secret_id.clone(),
        region: placed.region.clone(),
        route_table_id: placed.table.clone(),
        hop: hop(&placed.route),
        previous,
        route_id: placed.route.id,
        route_item_id: placed.route.item_id.clone(),
        request_id: write.request_id.to_string(),
    };
    removed.chain(changed).map(entry).collect()
}

/// The entries so far, and the file they are appended to.
#[derive(Debug, Default)]
pub struct Ledger {
    entries: Vec<Entry>,
    file: Option<PathBuf>,
}

/// The ledger file beside a state file: `FILE.ledger.jsonl`.
pub fn file_for(state: &Path) -> PathBuf {
    let mut name = state.as_os_str().to_os_string();
    name.push(".ledger.jsonl");
    PathBuf::from(name)
}

impl Ledger {
    /// A ledger appended to `file`: with `keep`, the entries already in it are read back;
    /// without, it is emptied (a fresh cloud starts a fresh ledger).
    pub fn open(file: PathBuf, keep: bool) -> Result<Ledger, PersistError> {
        let io = |source| PersistError::Io { path: file.clone(), source };
        let entries = match std::fs::read_to_string(&file) {
            Ok(text) if keep => parse_lines(&file, &text)?,
            Ok(_) => Vec::new(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(e)),
        };
        if !keep {
            std::fs::write(&file, b"").map_err(io)?;
        }
        Ok(Ledger { entries, file: Some(file) })
    }

    /// Numbers and timestamps `entries`, appends them to the file (when there is one) and keeps
    /// them. The entries are kept even when the file cannot be written.
    pub fn record(&mut self, entries: Vec<Entry>) -> Result<(), PersistError> {
        let unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let first = self.entries.last().map_or(1, |e| e.seq + 1);
        let mut lines = Vec::new();
        for (n, mut entry) in (first..).zip(entries) {
            (entry.seq, entry.unix_ms) = (n, u64::try_from(unix_ms).unwrap_or(u64::MAX));
            serde_json::to_writer(&mut lines, &entry).map_err(|source| self.parse_error(source))?;
            lines.push(b'\n');
            self.entries.push(entry);
        }
        let Some(path) = &self.file else { return Ok(()) };
        let io = |source| PersistError::Io { path: path.clone(), source };
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(io)?;
        file.write_all(&lines).map_err(io)
    }

    fn parse_error(&self, source: serde_json::Error) -> PersistError {
        PersistError::Parse { path: self.file.clone().unwrap_or_default(), source }
    }

    /// The entries numbered above `seq`, in order.
    pub fn since(&self, seq: u64) -> &[Entry] {
        let start = self.entries.partition_point(|e| e.seq <= seq);
        &self.entries[start..]
    }
}

/// Reads JSON lines; a last line cut short (the process died while appending) is dropped.
fn parse_lines(path: &Path, text: &str) -> Result<Vec<Entry>, PersistError> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut entries = Vec::with_capacity(lines.len());
    for (n, line) in lines.iter().enumerate() {
        match serde_json::from_str(line) {
            Ok(entry) => entries.push(entry),
            Err(_) if n + 1 == lines.len() && !text.ends_with('\n') => {
                tracing::warn!(path = %path.display(), "the ledger's last line is incomplete; dropped");
            }
            Err(source) => return Err(PersistError::Parse { path: path.into(), source }),
        }
    }
    Ok(entries)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"seq":1,"unixMs":5,"action":"CreateRoute","source":"api","change":"created","secretId":"A","region":"ap-guangzhou","routeTableId":"rtb-1","destinationCidrBlock":"1.0.0.0/8","nextType":1,"nextHub":"vpngw-1","routeId":7,"routeItemId":"rti-1"}"#;

    #[test]
    fn a_last_line_cut_short_is_dropped_and_a_bad_line_before_it_is_an_error() {
        let path = Path::new("ledger.jsonl");
        let torn = format!("{LINE}\n{}", &LINE[..40]);
        assert_eq!(parse_lines(path, &torn).unwrap().len(), 1);
        let bad = format!("{}\n{LINE}\n", &LINE[..40]);
        assert!(parse_lines(path, &bad).is_err());
    }

    #[test]
    fn since_answers_the_entries_numbered_above_it() {
        let mut ledger = Ledger::default();
        let entry: Entry = serde_json::from_str(LINE).unwrap();
        ledger.record(vec![entry.clone(), entry.clone(), entry]).unwrap();
        let seqs = |since| ledger.since(since).iter().map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!((seqs(0), seqs(2), seqs(9)), (vec![1, 2, 3], vec![3], vec![]));
    }
}
