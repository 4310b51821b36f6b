//! The accumulators of incremental aggregation (`ops::incremental`): one per group and
//! aggregate, folded a value at a time and mergeable (hopping windows are merged from
//! panes), and the hashable keys groups (and lookup-table rows) are filed under.

use std::hash::Hasher;
use std::sync::Arc;
use tributary_core::Value;
use tributary_sql::Expr;

/// The aggregates that fold one value at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccKind {
    /// `count(*)`: every row.
    CountAll,
    Count,
    Sum,
    Avg,
    Max,
    Min,
    /// stddev, stddevs, var, vars: (square root?, sample?).
    Spread {
        sqrt: bool,
        sample: bool,
    },
    /// `last_value(col, ignoreNull)`.
    Last {
        ignore_null: bool,
    },
}

impl AccKind {
    /// The incremental form of the aggregate `name(args)`, if it has one.
    pub fn of(name: &str, args: &[Expr]) -> Option<AccKind> {
        Some(match (name, args) {
            ("count", [Expr::Wildcard]) => AccKind::CountAll,
            ("count", [_]) => AccKind::Count,
            ("sum", [_]) => AccKind::Sum,
            ("avg", [_]) => AccKind::Avg,
            ("max", [_]) => AccKind::Max,
            ("min", [_]) => AccKind::Min,
            ("stddev", [_]) => AccKind::Spread {
                sqrt: true,
                sample: false,
            },
            ("stddevs", [_]) => AccKind::Spread {
                sqrt: true,
                sample: true,
            },
            ("var", [_]) => AccKind::Spread {
                sqrt: false,
                sample: false,
            },
            ("vars", [_]) => AccKind::Spread {
                sqrt: false,
                sample: true,
            },
            ("last_value", [_, Expr::Literal(Value::Bool(b))]) => AccKind::Last { ignore_null: *b },
            _ => return None,
        })
    }
}

/// One accumulator.
#[derive(Debug, Clone)]
pub(crate) enum Acc {
    Count(i64),
    /// sum and avg: the total and the number of values.
    Sum(f64, u64),
    /// max / min: the best value so far.
    Best(Value),
    Spread(tributary_functions::stats::Welford),
    /// last_value: the last value (and whether one was seen).
    Last(Option<Value>),
}

impl Acc {
    pub(crate) fn new(k: AccKind) -> Acc {
        match k {
            AccKind::CountAll | AccKind::Count => Acc::Count(0),
            AccKind::Sum | AccKind::Avg => Acc::Sum(0.0, 0),
            AccKind::Max | AccKind::Min => Acc::Best(Value::Null),
            AccKind::Spread { .. } => Acc::Spread(Default::default()),
            AccKind::Last { .. } => Acc::Last(None),
        }
    }

    pub(crate) fn add(&mut self, k: AccKind, v: &Value) -> Result<(), String> {
        match (self, k) {
            (Acc::Count(n), AccKind::CountAll) => *n += 1,
            (Acc::Count(n), _) => *n += i64::from(!v.is_null()),
            (Acc::Sum(total, n), _) => match v {
                Value::Null => {}
                Value::Int(i) => {
                    *total += *i as f64;
                    *n += 1;
                }
                Value::Float(f) => {
                    *total += f;
                    *n += 1;
                }
                other => return Err(format!("requires number but found {}", other.describe())),
            },
            (Acc::Spread(w), _) => match v {
                Value::Null => {}
                Value::Int(_) | Value::Float(_) => w.add(v.as_f64().unwrap_or(0.0)),
                other => return Err(format!("requires number but found {}", other.describe())),
            },
            (Acc::Last(last), AccKind::Last { ignore_null }) => {
                if !(ignore_null && v.is_null()) {
                    *last = Some(v.clone());
                }
            }
            (Acc::Last(_), _) => return Err("mismatched accumulators".to_string()),
            (Acc::Best(best), k) => {
                if v.is_null() {
                    return Ok(());
                }
                let better = match (&*best, v) {
                    (Value::Null, _) => true,
                    (Value::Int(a), Value::Int(b)) => (k == AccKind::Max) == (b > a),
                    (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                        let (a, b) = (best.as_f64().unwrap_or(0.0), v.as_f64().unwrap_or(0.0));
                        (k == AccKind::Max) == (b > a)
                    }
                    (Value::String(a), Value::String(b)) => (k == AccKind::Max) == (b > a),
                    (Value::Datetime(a), Value::Datetime(b)) => (k == AccKind::Max) == (b > a),
                    (a, b) => {
                        return Err(format!(
                            "requires values of one comparable type but found {} and {}",
                            a.describe(),
                            b.describe()
                        ))
                    }
                };
                if better && best != v {
                    *best = v.clone();
                }
            }
        }
        Ok(())
    }

    /// Folds another accumulator of the same kind into this one (hopping windows are
    /// merged from panes).
    pub(crate) fn merge(&mut self, k: AccKind, other: &Acc) -> Result<(), String> {
        match (self, other) {
            (Acc::Count(a), Acc::Count(b)) => *a += b,
            (Acc::Sum(t, n), Acc::Sum(t2, n2)) => {
                *t += t2;
                *n += n2;
            }
            (best @ Acc::Best(_), Acc::Best(v)) => return best.add(k, v),
            (Acc::Spread(a), Acc::Spread(b)) => a.merge(b),
            (Acc::Last(a), Acc::Last(b)) => {
                if b.is_some() {
                    *a = b.clone();
                }
            }
            _ => return Err("mismatched accumulators".to_string()),
        }
        Ok(())
    }

    pub(crate) fn result(&self, k: AccKind) -> Value {
        match (self, k) {
            (Acc::Count(n), _) => Value::Int(*n),
            (Acc::Sum(_, 0), _) => Value::Null,
            (Acc::Sum(t, _), AccKind::Sum) => Value::Float(*t),
            (Acc::Sum(t, n), _) => Value::Float(*t / *n as f64),
            (Acc::Best(v), _) => v.clone(),
            (Acc::Spread(w), AccKind::Spread { sqrt, sample }) => match w.variance(sample) {
                None => Value::Null,
                Some(v) if sqrt => Value::Float(v.sqrt()),
                Some(v) => Value::Float(v),
            },
            (Acc::Spread(_), _) => Value::Null,
            (Acc::Last(v), _) => v.clone().unwrap_or(Value::Null),
        }
    }
}

/// A group key part: hashable values (floats by their bits, other kinds as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum KeyPart {
    Null,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(Arc<str>),
    Other(String),
}

/// A group's key: one part (the common single-dimension case, no allocation) or many.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum GroupKey {
    One(KeyPart),
    Many(Vec<KeyPart>),
}

/// Firefox's hash (as rustc's `FxHasher`): group keys are short and not attacker-chosen
/// in a way that matters for a per-window map, and SipHash showed in profiles.
#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(b));
        }
        for &b in chunks.remainder() {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) fn key_part(v: &Value) -> KeyPart {
    match v {
        Value::Null => KeyPart::Null,
        Value::Bool(b) => KeyPart::Bool(*b),
        Value::Int(i) => KeyPart::Int(*i),
        Value::Float(f) => KeyPart::Float(f.to_bits()),
        Value::String(s) => KeyPart::Str(s.clone()),
        other => KeyPart::Other(format!(
            "{}:{}",
            other.type_name(),
            tributary_core::json::to_json_string(other)
        )),
    }
}
