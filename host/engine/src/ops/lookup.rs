//! Lookup tables backed by their source (eKuiper's `LookupSource`): a JOIN step that
//! asks the table's source for the rows matching each stream row's key, instead of
//! holding the table's rows.
//!
//! The key comes from ON, which must be `table.field = expression` equalities joined
//! by AND (the expression over the other streams). eKuiper's optional cache (the
//! source conf's `lookup: {cache, cacheTtl, cacheMissingKey}`) keeps each key's
//! answer for `cacheTtl` seconds, and, with `cacheMissingKey`, also the keys that
//! matched nothing. Within one batch each distinct key is asked once, cache or not.

use crate::decode::Decoder;
use crate::eval::{Evaluator, RowErrors};
use crate::ops::accumulate::{key_part, KeyPart};
use std::collections::HashMap;
use std::sync::Arc;
use tributary_core::connector::{LookupSource, Payload, Props, SourceMessage};
use tributary_core::hidden::HiddenCol;
use tributary_core::{Clock, Error, Row, Value};
use tributary_sql::{BinOp, Expr};

/// The most keys a cache holds before it is cleared, so a table keyed by something
/// unbounded (a timestamp) cannot grow a rule's memory without limit.
const CACHE_MAX_KEYS: usize = 100_000;

/// eKuiper's `lookup` conf.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheConf {
    pub ttl_ms: i64,
    pub missing_keys: bool,
}

/// The `lookup` entry of a source conf: `None` when caching is off. Unknown keys and
/// values of the wrong type are refused, naming them.
pub fn cache_conf(props: &Props) -> Result<Option<CacheConf>, Error> {
    let Some(v) = props.get("lookup") else {
        return Ok(None);
    };
    let Value::Object(o) = v else {
        return Err(Error::user(format!(
            "lookup must be an object with cache, cacheTtl and cacheMissingKey, not {}",
            v.type_name()
        )));
    };
    let (mut on, mut ttl_s, mut missing) = (false, 600i64, false);
    for (k, v) in o.iter() {
        match (k.as_str(), v) {
            ("cache", Value::Bool(b)) => on = *b,
            ("cacheMissingKey", Value::Bool(b)) => missing = *b,
            ("cacheTtl", Value::Int(n)) if *n > 0 => ttl_s = *n,
            ("cache" | "cacheMissingKey", v) => {
                return Err(Error::user(format!(
                    "lookup.{k} must be true or false, not {}",
                    tributary_core::json::to_json_string(v)
                )))
            }
            ("cacheTtl", v) => {
                return Err(Error::user(format!(
                    "lookup.cacheTtl must be a positive number of seconds, not {}",
                    tributary_core::json::to_json_string(v)
                )))
            }
            (other, _) => {
                return Err(Error::user(format!(
                    "unknown lookup option {other:?} (expected cache, cacheTtl, cacheMissingKey)"
                )))
            }
        }
    }
    Ok(on.then_some(CacheConf {
        ttl_ms: ttl_s.saturating_mul(1000),
        missing_keys: missing,
    }))
}

/// ON split into the table's key fields and the expressions giving their values.
/// `table` is the table's stream name; every conjunct must be an equality between a
/// field of the table and an expression that does not read the table.
pub fn keys_of(on: Option<&Expr>, table: &str) -> Result<(Vec<String>, Vec<Expr>), Error> {
    let refuse = || {
        Error::user(format!(
            "a join with lookup table {table} needs ON to be {table}.field = expression equalities joined by AND"
        ))
    };
    let on = on.ok_or_else(refuse)?;
    let mut conjuncts = Vec::new();
    split_and(on, &mut conjuncts);
    let (mut keys, mut probes) = (Vec::new(), Vec::new());
    for c in conjuncts {
        let Expr::Binary {
            op: BinOp::Eq,
            left,
            right,
        } = c
        else {
            return Err(refuse());
        };
        let (field, probe) = match (table_field(left, table), table_field(right, table)) {
            (Some(f), None) => (f, right),
            (None, Some(f)) => (f, left),
            _ => return Err(refuse()),
        };
        if reads_table(probe, table) {
            return Err(refuse());
        }
        keys.push(field);
        probes.push(probe.as_ref().clone());
    }
    Ok((keys, probes))
}

fn split_and<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match e {
        Expr::Binary {
            op: BinOp::And,
            left,
            right,
        } => {
            split_and(left, out);
            split_and(right, out);
        }
        other => out.push(other),
    }
}

fn table_field(e: &Expr, table: &str) -> Option<String> {
    match e {
        Expr::Hidden(HiddenCol::Qualified { stream, field }) if stream.as_ref() == table => {
            Some(field.to_string())
        }
        _ => None,
    }
}

fn reads_table(e: &Expr, table: &str) -> bool {
    let mut found = false;
    e.walk(&mut |n| found |= table_field(n, table).is_some());
    found
}

/// Each key's answer and when it was asked (engine clock, ms).
type Cache = HashMap<Vec<KeyPart>, (i64, Arc<Vec<Row>>)>;

/// A JOIN step's lookups: the source, the key, the table's decoder and the cache.
pub struct Lookup {
    source: Box<dyn LookupSource>,
    keys: Vec<String>,
    probes: Vec<Expr>,
    decoder: Decoder,
    cache: Option<(CacheConf, Cache)>,
    clock: Arc<dyn Clock>,
}

impl Lookup {
    pub fn new(
        source: Box<dyn LookupSource>,
        (keys, probes): (Vec<String>, Vec<Expr>),
        decoder: Decoder,
        cache: Option<CacheConf>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Lookup {
            source,
            keys,
            probes,
            decoder,
            cache: cache.map(|c| (c, HashMap::new())),
            clock,
        }
    }

    /// The expressions the step evaluates: bind them with the join's evaluator.
    pub fn probes(&self) -> &[Expr] {
        &self.probes
    }

    /// The table rows for each of `left`, or the first row's error.
    pub fn rows_for(
        &mut self,
        eval: &mut Evaluator,
        left: &[Row],
    ) -> Result<Vec<Arc<Vec<Row>>>, String> {
        let mut errs = RowErrors::new(left.len());
        eval.set_now(left);
        let cols: Vec<_> = self
            .probes
            .iter()
            .map(|p| eval.eval(p, left, &mut errs))
            .collect();
        let mut out = Vec::with_capacity(left.len());
        // The batch's answers: a key that recurs in the batch is asked once.
        let mut asked: HashMap<Vec<KeyPart>, Arc<Vec<Row>>> = HashMap::new();
        for i in 0..left.len() {
            if let Some(e) = errs.get(i) {
                return Err(format!("run Join error: {e}"));
            }
            let values: Vec<Value> = cols.iter().map(|c| c.get(i).clone()).collect();
            // A null never equals anything: no row matches, and nothing is asked.
            if values.iter().any(Value::is_null) {
                out.push(Arc::default());
                continue;
            }
            let key: Vec<KeyPart> = values.iter().map(key_part).collect();
            let rows = match asked.get(&key) {
                Some(rows) => rows.clone(),
                None => {
                    let rows = self.rows_of(&key, &values)?;
                    asked.insert(key, rows.clone());
                    rows
                }
            };
            out.push(rows);
        }
        Ok(out)
    }

    /// The rows of one key: from the cache while fresh, else asked of the source.
    fn rows_of(&mut self, key: &[KeyPart], values: &[Value]) -> Result<Arc<Vec<Row>>, String> {
        let now = self.clock.now_ms();
        if let Some((conf, map)) = &self.cache {
            if let Some((at, rows)) = map.get(key) {
                if now - at < conf.ttl_ms {
                    return Ok(rows.clone());
                }
            }
        }
        // The rule's reads are not narrowed: every field of the matching rows.
        let objects = self
            .source
            .lookup(&[], &self.keys, values)
            .map_err(|e| format!("run Join error: {e}"))?;
        let msgs = objects
            .into_iter()
            .map(|o| SourceMessage::new(Payload::Object(Arc::new(o)), Arc::default(), now))
            .collect();
        let chunk = self.decoder.decode(msgs);
        if let Some((_, e)) = chunk.errors.first() {
            return Err(format!("run Join error: lookup row: {e}"));
        }
        let rows = Arc::new(chunk.rows);
        if let Some((conf, map)) = &mut self.cache {
            if !rows.is_empty() || conf.missing_keys {
                if map.len() >= CACHE_MAX_KEYS {
                    map.clear();
                }
                map.insert(key.to_vec(), (now, rows.clone()));
            }
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(json: &str) -> Props {
        let v = tributary_core::json::parse(json).expect("json");
        let Value::Object(o) = v else { panic!() };
        o.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    #[test]
    fn the_cache_conf_is_ekuipers_and_refuses_what_it_does_not_know() {
        assert_eq!(cache_conf(&props("{}")).expect("none"), None);
        assert_eq!(
            cache_conf(&props(r#"{"lookup":{"cache":false,"cacheTtl":5}}"#)).expect("off"),
            None
        );
        assert_eq!(
            cache_conf(&props(
                r#"{"lookup":{"cache":true,"cacheTtl":5,"cacheMissingKey":true}}"#
            ))
            .expect("on"),
            Some(CacheConf {
                ttl_ms: 5000,
                missing_keys: true
            })
        );
        for bad in [
            r#"{"lookup":{"cache":"yes"}}"#,
            r#"{"lookup":{"cacheTtl":-1}}"#,
            r#"{"lookup":{"cacheTTL":5}}"#,
            r#"{"lookup":3}"#,
        ] {
            let e = cache_conf(&props(bad)).expect_err(bad).to_string();
            assert!(e.contains("lookup"), "{bad}: {e}");
        }
    }

    fn field(stream: &str, name: &str) -> Expr {
        Expr::Hidden(HiddenCol::Qualified {
            stream: Arc::from(stream),
            field: Arc::from(name),
        })
    }

    fn eq(l: Expr, r: Expr) -> Expr {
        Expr::Binary {
            op: BinOp::Eq,
            left: Box::new(l),
            right: Box::new(r),
        }
    }

    #[test]
    fn keys_come_from_on_equalities_either_way_round() {
        let on = Expr::Binary {
            op: BinOp::And,
            left: Box::new(eq(field("s", "kind"), field("t", "id"))),
            right: Box::new(eq(field("t", "zone"), field("s", "zone"))),
        };
        let (keys, probes) = keys_of(Some(&on), "t").expect("keys");
        assert_eq!(keys, vec!["id".to_string(), "zone".to_string()]);
        assert_eq!(probes, vec![field("s", "kind"), field("s", "zone")]);
        for bad in [
            None,
            Some(field("t", "id")),
            Some(eq(field("t", "id"), field("t", "other"))),
            Some(Expr::Binary {
                op: BinOp::Gt,
                left: Box::new(field("t", "id")),
                right: Box::new(field("s", "id")),
            }),
        ] {
            let e = keys_of(bad.as_ref(), "t").expect_err("refused").to_string();
            assert!(e.contains("lookup table t"), "{e}");
        }
    }
}
