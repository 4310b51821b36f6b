//! The `random` source: emits one record per `interval` ms built from `pattern`, a
//! JSON object whose numeric fields are upper bounds of random integers (eKuiper's
//! random source) and whose other fields are copied. Props:
//! `{"interval": 1000, "pattern": {"temp": 100}, "seed": 1, "count": 0}`;
//! `count` > 0 ends the source after that many records. Record `n` is drawn from a
//! generator seeded with `seed` and `n`, so a run is reproducible and the source can
//! rewind: its offset is the number of records it has handed over, and after a
//! rewind it hands over the same records again from there (a rule under `qos` >= 1
//! resumes from its checkpoint without losing or changing a row).

use std::cell::{Cell, RefCell};
use tributary_guest::*;

struct Random;

impl SourcePlugin for Random {
    type Instance = RandomSource;

    fn describe() -> SourceInfo {
        SourceInfo {
            rewindable: true,
            lookup: false,
        }
    }
}

enum Gen {
    Below(i64),
    Fixed(Value),
}

struct RandomSource {
    fields: RefCell<Vec<(String, Gen)>>,
    interval: Cell<u32>,
    count: Cell<u64>,
    sent: Cell<u64>,
    seed: u64,
    state: Cell<u64>,
    error: RefCell<Option<String>>,
}

/// The few props this source reads, without a JSON crate: numbers and a flat object
/// of numbers or strings.
fn number_after(props: &str, key: &str) -> Option<i64> {
    let at = props.find(&format!("\"{key}\""))?;
    let rest = &props[at + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '-'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn pattern(props: &str) -> Result<Vec<(String, Gen)>, String> {
    let at = props
        .find("\"pattern\"")
        .ok_or("random source needs a pattern prop")?;
    let rest = &props[at + 9..];
    let open = rest.find('{').ok_or("pattern must be an object")?;
    let close = rest[open..]
        .find('}')
        .ok_or("pattern must be a flat object")?
        + open;
    let body = &rest[open + 1..close];
    let mut out = Vec::new();
    for part in body.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part
            .split_once(':')
            .ok_or("pattern entries are \"key\": value")?;
        let k = k.trim().trim_matches('"').to_string();
        let v = v.trim();
        let gen = match v.parse::<i64>() {
            Ok(n) if n > 0 => Gen::Below(n),
            _ => Gen::Fixed(Value::Str(v.trim_matches('"').to_string())),
        };
        out.push((k, gen));
    }
    Ok(out)
}

impl RandomSource {
    /// Seeds the generator for record `n` (splitmix64 of the seed and `n`).
    fn start_record(&self, n: u64) {
        let mut z = self.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        self.state.set((z ^ (z >> 31)) | 1);
    }

    fn next(&self) -> u64 {
        let mut x = self.state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state.set(x);
        x
    }
}

impl SourceInstance for RandomSource {
    fn new(_datasource: String, props: String) -> Self {
        let (fields, error) = match pattern(&props) {
            Ok(f) => (f, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        let seed = number_after(&props, "seed").unwrap_or(1).max(1) as u64;
        RandomSource {
            fields: RefCell::new(fields),
            interval: Cell::new(number_after(&props, "interval").unwrap_or(1000).max(0) as u32),
            count: Cell::new(number_after(&props, "count").unwrap_or(0).max(0) as u64),
            sent: Cell::new(0),
            seed,
            state: Cell::new(1),
            error: RefCell::new(error),
        }
    }

    fn open(&self) -> Result<(), String> {
        match self.error.borrow().as_ref() {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn pull(&self, _max: u32) -> Result<Pulled, String> {
        let count = self.count.get();
        if count > 0 && self.sent.get() >= count {
            return Ok(Pulled {
                messages: vec![],
                done: true,
                wait_ms: 0,
            });
        }
        self.start_record(self.sent.get());
        let fields = self
            .fields
            .borrow()
            .iter()
            .map(|(k, g)| Field {
                name: k.clone(),
                value: match g {
                    Gen::Below(n) => Value::Int((self.next() % (*n as u64)) as i64),
                    Gen::Fixed(v) => v.clone(),
                },
            })
            .collect();
        self.sent.set(self.sent.get() + 1);
        let done = count > 0 && self.sent.get() >= count;
        Ok(Pulled {
            messages: vec![Message {
                payload: Payload::Fields(fields),
                meta: vec![],
            }],
            done,
            wait_ms: self.interval.get(),
        })
    }

    fn close(&self) {}

    fn offset(&self) -> Option<String> {
        Some(self.sent.get().to_string())
    }

    fn rewind(&self, offset: String) -> Result<(), String> {
        let n = offset
            .parse::<u64>()
            .map_err(|_| format!("random: offset {offset:?} is not a record count"))?;
        self.sent.set(n);
        Ok(())
    }

    fn lookup(
        &self,
        _fields: Vec<String>,
        _keys: Vec<String>,
        _values: Vec<Value>,
    ) -> Result<Vec<Vec<Field>>, String> {
        no_lookup("random")
    }
}

tributary_guest::export_source_plugin!(Random);
