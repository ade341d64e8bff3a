//! Lenient deserialisers for the 3.0 models: `null` reads as the default, numbers may come as
//! numeric strings (and strings as numbers), flags as booleans, 0/1 or "true"/"false". Pure.

use serde::Deserialize;
use serde::de::{self, Deserializer};

/// `null` (documented "may return null" for many 3.0 fields) reads as `T::default()`.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Str(String),
}

fn to_u64<E: de::Error>(s: Scalar) -> Result<u64, E> {
    match s {
        Scalar::Unsigned(n) => Ok(n),
        Scalar::Str(t) => t.trim().parse().map_err(|_| E::custom(format!("not an unsigned integer: {t:?}"))),
        Scalar::Signed(n) => Err(E::custom(format!("not an unsigned integer: {n}"))),
        Scalar::Float(f) => Err(E::custom(format!("not an unsigned integer: {f}"))),
        Scalar::Bool(b) => Err(E::custom(format!("not an unsigned integer: {b}"))),
    }
}

/// A `u64` sent as a number or a numeric string; `null` is 0.
pub(crate) fn u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Option::<Scalar>::deserialize(d)?.map_or(Ok(0), to_u64)
}

/// An optional `u64` sent as a number or a numeric string; `null` and `""` are `None`.
pub(crate) fn opt_u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<Scalar>::deserialize(d)? {
        None => Ok(None),
        Some(Scalar::Str(s)) if s.trim().is_empty() => Ok(None),
        Some(s) => to_u64(s).map(Some),
    }
}

/// An optional list of `u64`, each a number or a numeric string.
pub(crate) fn opt_u64_vec_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u64>>, D::Error> {
    match Option::<Vec<Scalar>>::deserialize(d)? {
        None => Ok(None),
        Some(items) => items.into_iter().map(to_u64).collect::<Result<Vec<_>, _>>().map(Some),
    }
}

/// An optional string that may come as a number (`Offset`/`Limit`: strings on the wire, integers
/// from lenient callers); `null` is `None`.
pub(crate) fn opt_string_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Scalar>::deserialize(d)? {
        None => None,
        Some(Scalar::Str(s)) => Some(s),
        Some(Scalar::Unsigned(n)) => Some(n.to_string()),
        Some(Scalar::Signed(n)) => Some(n.to_string()),
        Some(Scalar::Float(f)) => Some(f.to_string()),
        Some(Scalar::Bool(b)) => Some(b.to_string()),
    })
}

/// A flag sent as a boolean, 0/1 or a string; `null` is false.
pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Option::<Scalar>::deserialize(d)? {
        None => Ok(false),
        Some(Scalar::Bool(b)) => Ok(b),
        Some(Scalar::Unsigned(n)) => Ok(n != 0),
        Some(Scalar::Signed(n)) => Ok(n != 0),
        Some(Scalar::Str(s)) => match s.trim() {
            "true" | "True" | "TRUE" | "1" => Ok(true),
            "false" | "False" | "FALSE" | "0" | "" => Ok(false),
            other => Err(de::Error::custom(format!("not a flag: {other:?}"))),
        },
        Some(Scalar::Float(f)) => Err(de::Error::custom(format!("not a flag: {f}"))),
    }
}

/// Default for flags that are on unless said otherwise (`Enabled`).
pub(crate) fn yes() -> bool {
    true
}

/// Whether a `u64` is 0 (skip it when serialising a request).
pub(crate) fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Whether a flag is false (skip it when serialising a request).
pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}
