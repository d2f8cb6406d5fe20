//! SQL text built once per statement shape. The hot writes (an insert, a de-duplication
//! check, an audit entry's snapshot) differ from call to call only in their values, so the
//! query builder, a few microseconds each time in profiles, runs once per shape: its text
//! is kept when it bound the caller's values first and in the caller's order, with
//! whatever constants it bound after them (PostgreSQL's LIMIT and OFFSET).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};

use sea_query::{Value, Values};

use crate::unit::Sql;

/// A statement's text and the values bound after the caller's.
type Kept = (Arc<str>, Vec<Value>);

/// The most shapes kept per kind and table. Shapes come from the manifest and from which
/// fields a client sends (a PATCH may set any subset of them), so a client could otherwise
/// grow a cache without end; past this, new shapes are built every time.
const MAX_SHAPES: usize = 1024;

/// Statements of one kind on one table, by shape.
#[derive(Debug)]
pub(crate) struct Statements<K>(RwLock<HashMap<K, Kept>>);

impl<K> Default for Statements<K> {
    fn default() -> Self {
        Statements(RwLock::new(HashMap::new()))
    }
}

impl<K: Hash + Eq> Statements<K> {
    /// The statement of shape `key` binding `values`: the cached text, or the one `build`
    /// makes from them (cached when it binds `values` first, in order).
    pub(crate) fn get_or_build<E>(
        &self,
        key: K,
        values: Vec<Value>,
        build: impl FnOnce(&[Value]) -> Result<Sql, E>,
    ) -> Result<Sql, E> {
        self.kept_or_built(key, values, true, build)
    }

    /// [`Statements::get_or_build`] for a statement that binds nothing but `values`: its
    /// text is kept only when it binds exactly those, in that order.
    pub(crate) fn get_or_build_exact<E>(
        &self,
        key: K,
        values: Vec<Value>,
        build: impl FnOnce(&[Value]) -> Result<Sql, E>,
    ) -> Result<Sql, E> {
        self.kept_or_built(key, values, false, build)
    }

    fn kept_or_built<E>(
        &self,
        key: K,
        mut values: Vec<Value>,
        constants_after: bool,
        build: impl FnOnce(&[Value]) -> Result<Sql, E>,
    ) -> Result<Sql, E> {
        if let Some((sql, tail)) = self.0.read().ok().and_then(|c| c.get(&key).cloned()) {
            values.extend(tail);
            return Ok((sql.to_string(), Values(values)));
        }
        let built = build(&values)?;
        let tail = built.1 .0.strip_prefix(values.as_slice());
        if let Some(tail) = tail.filter(|t| constants_after || t.is_empty()) {
            if let Ok(mut c) = self.0.write() {
                if c.len() < MAX_SHAPES {
                    c.insert(key, (built.0.as_str().into(), tail.to_vec()));
                }
            }
        }
        Ok(built)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreError;

    #[test]
    fn text_is_kept_only_when_the_callers_values_come_first() {
        let cache: Statements<&str> = Statements::default();
        let v = |n: i64| Value::from(n);
        let built = |sql: &str, vals: Vec<Value>| {
            let sql = sql.to_owned();
            move |_: &[Value]| Ok::<_, StoreError>((sql, Values(vals)))
        };
        // Built and kept, with the constant bound after the caller's value.
        let first = cache.get_or_build("page", vec![v(1)], built("A", vec![v(1), v(20)]));
        assert_eq!(
            first.expect("built"),
            ("A".to_owned(), Values(vec![v(1), v(20)]))
        );
        let again = cache.get_or_build("page", vec![v(2)], |_| Err(StoreError::Config("x".into())));
        assert_eq!(
            again.expect("cached"),
            ("A".to_owned(), Values(vec![v(2), v(20)]))
        );
        // The builder bound something before the caller's values: built every time.
        let odd = cache.get_or_build("odd", vec![v(1)], built("B", vec![v(9), v(1)]));
        assert_eq!(odd.expect("built").0, "B");
        let odd = cache.get_or_build("odd", vec![v(1)], built("C", vec![v(9), v(1)]));
        assert_eq!(odd.expect("built again").0, "C");
        // Exact: a value bound after the caller's is not taken for a constant.
        let exact = cache.get_or_build_exact("exact", vec![v(1)], built("D", vec![v(1), v(5)]));
        assert_eq!(exact.expect("built").0, "D");
        let exact = cache.get_or_build_exact("exact", vec![v(2)], built("E", vec![v(2), v(6)]));
        assert_eq!(exact.expect("built again").0, "E");
        let kept = cache.get_or_build_exact("kept", vec![v(1)], built("F", vec![v(1)]));
        assert_eq!(kept.expect("built").0, "F");
        let kept =
            cache.get_or_build_exact("kept", vec![v(3)], |_| Err(StoreError::Config("x".into())));
        assert_eq!(kept.expect("cached"), ("F".to_owned(), Values(vec![v(3)])));
    }

    #[test]
    fn shapes_past_the_limit_are_built_every_time() {
        let cache: Statements<usize> = Statements::default();
        let built = |_: &[Value]| Ok::<_, StoreError>(("T".to_owned(), Values(Vec::new())));
        for key in 0..MAX_SHAPES {
            cache.get_or_build(key, Vec::new(), built).expect("built");
        }
        let fail = |_: &[Value]| Err(StoreError::Config("built".into()));
        // The last shape kept is served from the cache; the next one is not kept.
        assert!(cache.get_or_build(MAX_SHAPES - 1, Vec::new(), fail).is_ok());
        cache
            .get_or_build(MAX_SHAPES, Vec::new(), built)
            .expect("built");
        assert!(cache.get_or_build(MAX_SHAPES, Vec::new(), fail).is_err());
    }
}
