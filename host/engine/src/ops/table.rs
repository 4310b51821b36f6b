//! The rows a table holds for joins.
//!
//! - A **scan** table (`KIND="scan"`, the default) keeps the rows its source delivers,
//!   the last `RETAIN_SIZE` of them when that is set.
//! - A **lookup** table (`KIND="lookup"`) keeps the latest row per key: the message's
//!   `key` metadata (an updatable memory sink sets it, with `rowkind`), else the field
//!   the DDL's `KEY` names. `rowkind` `delete` removes the key; `insert`, `update` and
//!   `upsert` replace its row. Rows without a key are kept as a scan table keeps them.

use crate::ops::accumulate::{key_part, KeyPart};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tributary_core::{Row, Value};

/// How a table keeps its rows.
#[derive(Debug, Clone, PartialEq)]
pub enum TableMode {
    Scan { retain: Option<usize> },
    Lookup { key: Option<Arc<str>> },
}

#[derive(Debug, Clone)]
pub struct TableRows {
    mode: TableMode,
    /// In arrival order; a deleted or replaced keyed row leaves a `None`.
    rows: VecDeque<Option<Row>>,
    /// Lookup tables: key → position in `rows` (offset by `dropped`).
    index: HashMap<KeyPart, usize>,
    /// Rows removed from the front of `rows` so far (positions in `index` are absolute).
    dropped: usize,
    holes: usize,
}

impl TableRows {
    pub fn new(mode: TableMode) -> Self {
        TableRows {
            mode,
            rows: VecDeque::new(),
            index: HashMap::new(),
            dropped: 0,
            holes: 0,
        }
    }

    /// The rows, in arrival order.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().flatten()
    }

    pub fn len(&self) -> usize {
        self.rows.len() - self.holes
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn apply(&mut self, row: Row) {
        match self.mode.clone() {
            TableMode::Scan { retain } => {
                self.rows.push_back(Some(row));
                if let Some(n) = retain {
                    while self.rows.len() > n {
                        self.rows.pop_front();
                        self.dropped += 1;
                    }
                }
            }
            TableMode::Lookup { key } => {
                let k = row
                    .meta
                    .get("key")
                    .cloned()
                    .or_else(|| key.as_ref().and_then(|k| row.get_interned(k).cloned()));
                let Some(k) = k.filter(|k| !k.is_null()) else {
                    self.rows.push_back(Some(row));
                    return;
                };
                let k = key_part(&k);
                let delete =
                    matches!(row.meta.get("rowkind"), Some(Value::String(s)) if &**s == "delete");
                if let Some(pos) = self.index.remove(&k) {
                    if let Some(slot) = self.rows.get_mut(pos - self.dropped) {
                        *slot = None;
                        self.holes += 1;
                    }
                }
                if !delete {
                    self.index.insert(k, self.dropped + self.rows.len());
                    self.rows.push_back(Some(row));
                }
                self.compact();
            }
        }
    }

    /// Drops the holes once they are half of the rows, so memory follows the keys.
    fn compact(&mut self) {
        while matches!(self.rows.front(), Some(None)) {
            self.rows.pop_front();
            self.dropped += 1;
            self.holes -= 1;
        }
        if self.holes * 2 <= self.rows.len() {
            return;
        }
        let rows: VecDeque<Option<Row>> = self.rows.drain(..).flatten().map(Some).collect();
        self.dropped = 0;
        self.holes = 0;
        self.rows = rows;
        self.index.clear();
        let key = match &self.mode {
            TableMode::Lookup { key } => key.clone(),
            TableMode::Scan { .. } => None,
        };
        for (i, r) in self.rows.iter().flatten().enumerate() {
            let k = r
                .meta
                .get("key")
                .cloned()
                .or_else(|| key.as_ref().and_then(|k| r.get_interned(k).cloned()));
            if let Some(k) = k.filter(|k| !k.is_null()) {
                self.index.insert(key_part(&k), i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_core::Object;

    fn row(id: i64, name: &str, kind: Option<&str>) -> Row {
        let mut meta = Object::new();
        if let Some(k) = kind {
            meta.insert("rowkind".into(), Value::str(k));
        }
        Row::new(
            vec![
                (Arc::from("id"), Value::Int(id)),
                (Arc::from("name"), Value::str(name)),
            ],
            Arc::new(meta),
            0,
        )
    }

    fn names(t: &TableRows) -> Vec<String> {
        t.rows()
            .map(|r| {
                r.get("name")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn scan_tables_keep_the_last_retain_size_rows() {
        let mut t = TableRows::new(TableMode::Scan { retain: Some(2) });
        for (i, n) in ["a", "b", "c"].iter().enumerate() {
            t.apply(row(i as i64, n, None));
        }
        assert_eq!(names(&t), ["b", "c"]);
    }

    #[test]
    fn lookup_tables_keep_the_latest_row_per_key() {
        let mut t = TableRows::new(TableMode::Lookup {
            key: Some(Arc::from("id")),
        });
        t.apply(row(1, "a", None));
        t.apply(row(2, "b", None));
        t.apply(row(1, "a2", Some("update")));
        assert_eq!(names(&t), ["b", "a2"]);
        t.apply(row(2, "", Some("delete")));
        assert_eq!(names(&t), ["a2"]);
        for i in 0..100 {
            t.apply(row(3, &format!("c{i}"), Some("upsert")));
        }
        assert_eq!(names(&t), ["a2", "c99"]);
        assert!(t.rows.len() <= 4, "holes are compacted: {}", t.rows.len());
    }
}
