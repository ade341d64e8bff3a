//! Request parameters of an API 2.0 call: decoding the query string and form body, lookups by
//! name (`_` in a name reads as `.`, as in signing), paging values and the flattened
//! `routeSet.n.*` array. No I/O.

use std::collections::BTreeMap;

use crate::reply::ApiError;

/// Default and largest page size of the Describe actions.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest `limit` the Describe actions accept.
pub const MAX_LIMIT: usize = 50;

/// The decoded parameters of one request, names as sent.
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// One `routeSet.n` entry, raw as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    /// `n`.
    pub index: usize,
    /// `routeSet.n.destinationCidrBlock`.
    pub destination: String,
    /// `routeSet.n.nextType`.
    pub next_type: String,
    /// `routeSet.n.nextHub`.
    pub next_hub: String,
}

/// Whether two parameter names are the same once `_` is read as `.`.
fn same_name(a: &str, b: &str) -> bool {
    let dot = |c: u8| if c == b'_' { b'.' } else { c };
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| dot(x) == dot(y))
}

impl Params {
    /// Decodes a query string and (for POST) a form body; a name given twice is refused.
    pub fn decode(query: Option<&str>, body: &[u8]) -> Result<Params, ApiError> {
        let query = query.map(|q| form_urlencoded::parse(q.as_bytes())).into_iter().flatten();
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in query.chain(form_urlencoded::parse(body)) {
            if name.is_empty() {
                continue;
            }
            if pairs.iter().any(|(n, _)| same_name(n, &name)) {
                return Err(ApiError::malformed(&name, "is given more than once"));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Params { pairs })
    }

    /// Every parameter as sent, for the signature check.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The value of a parameter, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(n, _)| same_name(n, name)).map(|(_, v)| v.as_str())
    }

    /// The value of a parameter that must be present and non-empty.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).filter(|v| !v.is_empty()).ok_or_else(|| ApiError::missing(name))
    }

    /// An optional, non-empty filter value.
    pub fn filter(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// `offset` (default 0) and `limit` (default 20, 1..=50).
    pub fn page(&self) -> Result<(usize, usize), ApiError> {
        let offset = self.number("offset", 0)?;
        let limit = self.number("limit", DEFAULT_LIMIT)?;
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::malformed("limit", &format!("must be between 1 and {MAX_LIMIT}")));
        }
        Ok((offset, limit))
    }

    fn number(&self, name: &str, default: usize) -> Result<usize, ApiError> {
        match self.filter(name) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| ApiError::malformed(name, "must be a non-negative integer")),
        }
    }

    /// The `routeSet.n.*` entries in index order; each needs all three fields.
    pub fn route_set(&self) -> Result<Vec<RouteEntry>, ApiError> {
        let mut slots: BTreeMap<usize, [Option<&str>; 3]> = BTreeMap::new();
        for (name, value) in &self.pairs {
            let dotted = name.replace('_', ".");
            let Some(rest) = dotted.strip_prefix("routeSet.") else { continue };
            let parsed = rest.split_once('.').and_then(|(i, f)| Some((i.parse::<usize>().ok()?, f)));
            let Some((index, field)) = parsed else {
                return Err(ApiError::malformed(name, "is not of the form routeSet.N.field"));
            };
            let slot = match field {
                "destinationCidrBlock" => 0,
                "nextType" => 1,
                "nextHub" => 2,
                _ => continue,
            };
            slots.entry(index).or_default()[slot] = Some(value.as_str());
        }
        if slots.is_empty() {
            return Err(ApiError::missing("routeSet"));
        }
        slots.into_iter().map(|(index, fields)| entry(index, fields)).collect()
    }
}

fn entry(index: usize, [destination, next_type, next_hub]: [Option<&str>; 3]) -> Result<RouteEntry, ApiError> {
    let need = |value: Option<&str>, field: &str| {
        value
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| ApiError::missing(&format!("routeSet.{index}.{field}")))
    };
    Ok(RouteEntry {
        index,
        destination: need(destination, "destinationCidrBlock")?,
        next_type: need(next_type, "nextType")?,
        next_hub: need(next_hub, "nextHub")?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn query_and_body_are_both_read_and_underscores_name_the_same_parameter() {
        let p = Params::decode(Some("Action=CreateRoute&a%2Bb=c%2Fd"), b"routeSet_0_nextHub=vpngw-1").unwrap();
        assert_eq!(p.get("Action"), Some("CreateRoute"));
        assert_eq!(p.get("a+b"), Some("c/d"));
        assert_eq!(p.get("routeSet.0.nextHub"), Some("vpngw-1"));
        assert!(Params::decode(Some("x.y=1"), b"x_y=2").is_err());
    }

    #[test]
    fn route_set_entries_come_in_numeric_order_and_each_field_is_required() {
        let q = "routeSet.10.destinationCidrBlock=1.0.0.0/8&routeSet.10.nextType=1&routeSet.10.nextHub=h\
                 &routeSet.2.destinationCidrBlock=2.0.0.0/8&routeSet.2.nextType=8&routeSet.2.nextHub=n";
        let entries = Params::decode(Some(q), b"").unwrap().route_set().unwrap();
        assert_eq!(entries.iter().map(|e| e.index).collect::<Vec<_>>(), vec![2, 10]);
        let missing = Params::decode(Some("routeSet.0.destinationCidrBlock=1.0.0.0/8&routeSet.0.nextType=1"), b"");
        let err = missing.unwrap().route_set().unwrap_err();
        assert!(err.message.contains("routeSet.0.nextHub"), "{err}");
    }

    #[test]
    fn paging_defaults_to_20_and_refuses_more_than_50() {
        assert_eq!(Params::default().page().unwrap(), (0, 20));
        assert!(Params::decode(Some("limit=51"), b"").unwrap().page().is_err());
        assert!(Params::decode(Some("offset=-1"), b"").unwrap().page().is_err());
    }
}
